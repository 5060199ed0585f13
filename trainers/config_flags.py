r"""`--config` and `--config.SECTION.FIELD`: the training programs' experiment settings.

    python -m trainers.train_mnist                                   # configs/mnist_bigan.py
    python -m trainers.train_mnist --config=configs/mnist_bigan.py:objective=gan
    python -m trainers.train_mnist --config.optimizer.epochs=10 --config.optimizer.decay_epochs=0
    python -m trainers.train_mnist --config=exp/mnist_bigan/config.json --exp_dir=exp/replay
    python -m trainers.train_mnist --print_config                     # the config, as JSON

`--config` names a config file (`bigan_tf.config.files`); every setting of the
experiment is then a flag `--config.SECTION.FIELD`, derived here from the
config dataclasses (their defaults and docstrings are the flags' help; nothing
is written twice). The other flags say where and how a run happens, not what
it is: `--exp_dir`, `--resume`, `--overwrite`, `--branch`, `--verbose`, the
strategy flags.

Older command lines keep working: each program lists its former flags in
`LEGACY_FLAGS` (e.g. `--epochs=10` is `--config.optimizer.epochs=10`,
`--objective=gan` the config file's argument `objective=gan`, "--exp_dir" a
renamed flag), and
`rewrite_legacy_flags` turns them into the new spelling before absl parses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Dict, List, Mapping, Optional, Sequence, Set

from absl import flags

from trainers.cli import strategy_from_flags
from trainers.data_paths import find_data_dir, repo_root

FLAGS = flags.FLAGS
PREFIX = "config."

# RunConfig fields that are flags of their own (where and how, not what).
_DRIVER_FIELDS = (
    "run.exp_dir",
    "run.resume",
    "run.overwrite",
    "run.branch",
    "run.verbose",
    "run.handle_signals",
)

# The training flags of earlier versions, as paths of the config (or "arg:KEY", a
# config-file argument). Program-specific ones are added by each program.
TRAINING_LEGACY_FLAGS = {
    "batch_size": "run.batch_size",
    "seed": "run.seed",
    "disp_interval": "run.disp_interval",
    "save_interval": "run.save_interval",
    "jit_compile": "run.jit_compile",
    "keep_worker_checkpoints": "run.keep_worker_checkpoints",
    "keep_checkpoints": "run.keep_checkpoints",
    "mixed_precision": "run.mixed_precision",
    "learning_rate": "optimizer.learning_rate",
    "beta_1": "optimizer.beta_1",
    "weight_decay": "optimizer.weight_decay",
    "epochs": "optimizer.epochs",
    "decay_epochs": "optimizer.decay_epochs",
    "deploy_iters": "evaluation.deploy_iters",
    "num_val": "evaluation.num_val",
    "num_train_reference": "evaluation.num_train_reference",
    "num_generated": "evaluation.num_generated",
    "cls_steps": "evaluation.cls_steps",
    "disp_samples": "evaluation.num_sample_images",
    "dataset": "data.source",
    "data_dir": "data.root",
    "max_train_images": "data.max_train_images",
    "max_images": "data.max_train_images",
    "use_test_set": "data.use_test_set",
    "latent_dim": "network.latent_dim",
    "hidden_units": "network.hidden_units",
    "base_width": "network.base_width",
    "conditional": "network.conditional",
    "condition_units": "network.condition_units",
    "raw_size": "data.preprocessing.raw_size",
    "crop_size": "data.preprocessing.crop_size",
    "flip": "data.preprocessing.flip",
    "max_labels": "data.max_labels",
    "include_labels": "data.include_labels",
    "image_check": "data.image_check",
    "bad_images": "data.bad_images",
    "objective": "arg:objective",
    "joint_discrim_weight": "objective.joint_discrim_weight",
    "discrim_weight": "objective.discrim_weight",
    "encode_weight": "objective.encode_weight",
    "encode_gen_weight": "objective.encode_gen_weight",
    "reconstruct_weight": "objective.reconstruct_weight",
    "crop_resize": "crop_resize",
}
_legacy: Dict[str, str] = {}
# The former flags that were booleans (--flag / --noflag).
_legacy_booleans: Set[str] = set()
_experiment_class: List[type] = []


def define_config_flags(
    default_config: str,
    legacy: Optional[Mapping[str, str]] = None,
    experiment_class: Optional[type] = None,
    exp_dir_help: str = "",
    setting_defaults: Optional[Mapping[str, object]] = None,
    run_control: bool = True,
) -> None:
    """--config, one --config.PATH flag per setting, --exp_dir, --print_config, and (with
    `run_control`) the run control and strategy flags.

    `experiment_class` is the config the program trains (default `ExperimentConfig`);
    `legacy` maps this program's former flags to setting paths (default
    `TRAINING_LEGACY_FLAGS`). `setting_defaults` ({path: value}) are a program's
    own protocol on top of the config file, e.g. a benchmark's shorter schedule:
    each becomes its flag's default (shown by --help, changed like any override).
    `run_control=False` is for programs that run the experiment their own way
    (the benchmarks): no resume, overwrite, branch, verbosity or strategy flags.
    """
    import typing

    from bigan_tf.config import ExperimentConfig
    from bigan_tf.config.overrides import settings

    experiment_class = experiment_class or ExperimentConfig
    _experiment_class[:] = [experiment_class]
    flags.DEFINE_string(
        "config",
        default_config,
        "The experiment: a config file (configs/*.py, optionally FILE.py:key=value,... for its "
        "argument), or a run's config.json or folder to replay it. Change single settings "
        "with --config.SECTION.FIELD=VALUE (listed below; VALUE 'none' unsets an optional "
        "one).",
    )
    found = settings(experiment_class)
    own_defaults = {path: str(value) for path, value in (setting_defaults or {}).items()}
    unknown = set(own_defaults) - {s.path for s in found if s.path not in _DRIVER_FIELDS}
    if unknown:
        raise ValueError(f"setting_defaults names no --config flag: {sorted(unknown)}")
    for setting in found:
        if setting.path in _DRIVER_FIELDS:
            continue
        default = "" if setting.default is dataclasses.MISSING else f"; default {setting.default!r}"
        doc = f"{setting.doc} " if setting.doc else ""
        if setting.path in own_defaults:
            help_text = f"{doc}[{setting.type_name}; this program's protocol]"
        else:
            help_text = f"{doc}[{setting.type_name}{default} unless the config sets it]"
        flags.DEFINE_string(PREFIX + setting.path, own_defaults.get(setting.path), help_text)
    flags.DEFINE_string(
        "exp_dir",
        None,
        exp_dir_help
        or "Run folder: samples/, tensorboard/, checkpoints/, metrics.jsonl, "
        "config.json (default: the config's run.exp_dir).",
    )
    flags.DEFINE_boolean(
        "print_config",
        False,
        "Print the experiment's config (after the overrides) as JSON and exit.",
    )
    if run_control:
        _define_run_control_flags()
    legacy = TRAINING_LEGACY_FLAGS if legacy is None else legacy
    paths = {s.path: s for s in found}
    _legacy.clear()
    _legacy.update(
        {
            name: target
            for name, target in legacy.items()
            if target in paths or target.startswith("hint:") or not target.partition(".")[2]
        }
    )
    _legacy_booleans.clear()
    _legacy_booleans.update(
        name
        for name, target in _legacy.items()
        if target in paths
        and (paths[target].type_hint is bool or bool in typing.get_args(paths[target].type_hint))
    )


def _define_run_control_flags() -> None:
    from trainers.training_flags import define_run_control_flags, define_strategy_flags

    define_run_control_flags()
    define_strategy_flags(multi_worker=True)
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --strategy=tpu.")
    flags.DEFINE_float(
        "cluster_timeout",
        120.0,
        "Seconds to wait for every multi-worker task to start before failing.",
    )
    flags.DEFINE_float(
        "collective_timeout",
        None,
        "Seconds after which a multi-worker collective fails (a dead peer becomes "
        "an error, not a hang); unset: no limit.",
    )


class LegacyFlagError(ValueError):
    """A former flag that has no new spelling as a single setting."""


def rewrite_legacy_flags(argv: Sequence[str]) -> List[str]:
    """`argv` with this program's former flags in their new spelling (see the module doc).

    `--name=value`, `--name value`, and for booleans `--name`/`--noname`, become
    `--config.PATH=value`; config-file arguments are appended to --config's
    argument. Raises `LegacyFlagError` for a former flag without a new spelling.
    """
    if not _legacy:
        return list(argv)
    out: List[str] = [argv[0]] if argv else []
    config_args: List[str] = []
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            out += args[i - 1 :]
            break
        if not arg.startswith("--") or arg.startswith("--" + PREFIX):
            out.append(arg)
            continue
        name, has_value, value = arg[2:].partition("=")
        if (
            name not in _legacy
            and name.startswith("no")
            and name[2:] in _legacy_booleans
            and name[2:] in _legacy
            and not has_value
        ):
            name, has_value, value = name[2:], True, "false"
        if name not in _legacy:
            out.append(arg)
            continue
        if not has_value:
            if name in _legacy_booleans:
                value = "true"
            elif i < len(args):
                value, i = args[i], i + 1
            else:
                out.append(arg)  # absl reports the missing value
                continue
        target = _legacy[name]
        if target == "crop_resize":
            out += _crop_resize(value, args)
        elif target.startswith("arg:"):
            config_args.append(f"{target[4:]}={value}")
        elif target.startswith("--"):  # a flag that was renamed (e.g. --out_dir → --exp_dir)
            out.append(f"{target}={value}")
        elif target.startswith("hint:"):  # no single new spelling: say what to write instead
            raise LegacyFlagError(f"--{name} is gone: {target[len('hint:') :]}")
        else:
            out.append(f"--{PREFIX}{target}={value}")
    if config_args:
        out = _with_config_args(out, config_args)
    return out


def _crop_resize(value: str, args: Sequence[str]) -> List[str]:
    """The original's --crop_resize=N: G and D at N px; with a different --crop_size the
    encoder keeps reading crop_size px crops (a generalized BiGAN)."""
    crop = None
    for i, arg in enumerate(args):
        for name in ("--crop_size", "--config.data.preprocessing.crop_size"):
            if arg.startswith(name + "="):
                crop = arg.split("=", 1)[1]
            elif arg == name and i + 1 < len(args):
                crop = args[i + 1]
    if crop is None:
        raise LegacyFlagError(
            "--crop_resize needs --crop_size beside it (the encoder's input "
            "size); or use --config=configs/imagenet_generalized.py."
        )
    out = [f"--{PREFIX}network.image_shape={value},{value},3"]
    if crop.strip() != value.strip():
        out.append(f"--{PREFIX}network.encoder_size={crop}")
    return out


def _with_config_args(argv: List[str], config_args: List[str]) -> List[str]:
    """`argv` whose --config (the default one if absent) carries `config_args` too."""
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            spec = arg[len("--config=") :]
            sep = "," if spec.partition(".py:")[2] else (":" if spec.endswith(".py") else None)
            if sep is None:
                raise LegacyFlagError(
                    f"{', '.join('--' + a for a in config_args)} cannot "
                    f"change --config={spec}; set its settings with "
                    "--config.SECTION.FIELD=VALUE."
                )
            argv[i] = f"--config={spec}{sep}{','.join(config_args)}"
            return argv
    return argv + [f"--config={FLAGS['config'].default}:{','.join(config_args)}"]


def overrides_from_flags() -> Dict[str, str]:
    """{path: text} of every --config.PATH flag given, in flag order."""
    return {
        name[len(PREFIX) :]: FLAGS[name].value
        for name in FLAGS
        if name.startswith(PREFIX) and FLAGS[name].value is not None
    }


def _is_replay(spec: str) -> bool:
    return spec.endswith(".json") or os.path.isdir(spec)


def experiment_from_flags(transform=None, finish=None, need_data: bool = True):
    """The `ExperimentConfig` of --config, its overrides and the run flags, checked.

    `transform(config)` (optional) adapts the loaded config before the
    overrides (e.g. the networks of another run). The data folder is resolved
    here, in one place (`trainers.data_paths.find_data_dir`); the data's seed
    follows the run's unless set, and a streamed source reads the images the
    evaluation uses. `finish(config)` (optional) completes the config before it
    is checked (e.g. sizes that come from a model file). With `need_data=False`
    (a benchmark on random images) the experiment has no data section.
    """
    from bigan_tf.config import DataConfig
    from bigan_tf.config.files import load_config
    from bigan_tf.config.overrides import apply_overrides
    from bigan_tf.errors import ConfigError, DataError

    spec = FLAGS.config
    config = load_config(spec, search_dirs=(repo_root(),), expected=_experiment_class[0])
    replay = _is_replay(spec.partition(".py:")[0])
    if transform is not None:
        config = transform(config)
    overrides = overrides_from_flags()
    recorded_root = config.data.root if config.data is not None else None
    try:
        config = apply_overrides(config, overrides)
    except ConfigError as e:
        raise ConfigError(f"--{PREFIX}{e}") from None
    data = config.data or DataConfig()
    if not replay:
        if "data.seed" not in overrides:
            data = dataclasses.replace(data, seed=config.run.seed)
        evaluation = getattr(config, "evaluation", None)
        if data.is_streamed and evaluation is not None:
            if "data.num_val" not in overrides and data.num_val is None:
                data = dataclasses.replace(data, num_val=evaluation.num_val)
            if "data.num_reference" not in overrides:
                data = dataclasses.replace(data, num_reference=evaluation.num_train_reference)
    run = dataclasses.replace(config.run, exp_dir=FLAGS.exp_dir or config.run.exp_dir)
    if "resume" in FLAGS:  # a trainer's run control (a benchmark has none)
        run = dataclasses.replace(
            run, resume=FLAGS.resume, overwrite=FLAGS.overwrite, branch=FLAGS.branch
        )
    if "verbose" in FLAGS and FLAGS["verbose"].present:
        run = dataclasses.replace(
            run, verbose=FLAGS.verbose if FLAGS.verbose == "auto" else int(FLAGS.verbose)
        )
    config = dataclasses.replace(config, run=run, data=data)
    if finish is not None:
        config = finish(config)
    if not need_data:
        return dataclasses.replace(config, data=None).validate(network=False)
    # Every setting is checked before the data folder is looked for: a bad setting is
    # named even on a machine without the data.
    config = config.validate(network=False)
    given_root = overrides.get("data.root")
    try:
        root = find_data_dir(
            config.data.source,
            given_root if given_root not in (None, "none") else None,
            recorded_root if replay else None,
        )
    except DataError:
        if not FLAGS.print_config:
            raise
        root = None  # --print_config shows the experiment even where its data is not
    # Absolute: config.json must name the same folder from any working directory.
    return dataclasses.replace(
        config, data=dataclasses.replace(config.data, root=os.path.abspath(root) if root else None)
    )


def print_config(config) -> None:
    print(json.dumps(config.to_dict(), indent=2, sort_keys=False))


def given_settings() -> Set[str]:
    """The paths set on the command line."""
    return set(overrides_from_flags())


def train_from_flags(program: str, transform=None, initialize=None, before_data=None):
    """Builds the experiment from the flags, the strategy, loads the data and trains.

    `transform(config)` adapts the loaded config (see `experiment_from_flags`);
    `before_data(config)` runs once the config is checked (notes, checks that
    need no images); `initialize(model)` goes to `bigan_tf.training.train`.
    Returns `train`'s result dict; with --print_config prints and returns None.
    """
    experiment = experiment_from_flags(transform)
    if FLAGS.print_config:
        print_config(experiment)
        return None
    import keras

    import bigan_tf
    from bigan_tf.data import load
    from bigan_tf.errors import ConfigError
    from bigan_tf.run_dir import check_writable

    from bigan_tf.config import check_objective_fits

    # What the networks cannot train is refused before any image is read.
    check_objective_fits(experiment.network, experiment.objective)
    if before_data is not None:
        before_data(experiment)
    keras.utils.set_random_seed(experiment.run.seed)
    strategy = strategy_from_flags(
        program,
        FLAGS.strategy,
        FLAGS.cpu_replicas,
        FLAGS.tpu,
        FLAGS.cluster_timeout,
        FLAGS.collective_timeout,
    )
    # A bad --exp_dir costs nothing: it is checked before the data is loaded.
    check_writable(experiment.run.exp_dir)
    data = load(experiment.data)
    for note in getattr(data, "notes", ()):
        print(f"Note: {note}")
    num_val = experiment.evaluation.num_val
    if "evaluation.num_val" in given_settings() and num_val > len(data.val_images):
        raise ConfigError(
            f"--config.evaluation.num_val {num_val} is more than the "
            f"{len(data.val_images)} evaluation images the data has: use "
            f"{len(data.val_images)} or fewer."
        )
    return bigan_tf.train(experiment, strategy=strategy, data=data, initialize=initialize)


def rewrite_argv_or_exit(program: str, argv: Sequence[str]) -> List[str]:
    """`rewrite_legacy_flags`, with a former flag that has no new spelling as one error line."""
    try:
        return rewrite_legacy_flags(argv)
    except LegacyFlagError as e:
        print(f"{program}: error: {e}", file=sys.stderr)
        sys.exit(2)
