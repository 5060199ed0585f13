"""Experiments as config files: overrides by path, every config file, the trainers' flags."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import subprocess
import sys

import pytest

from bigan_tf.config import (
    DataConfig,
    ExperimentConfig,
    OptimizerConfig,
    Preprocessing,
    RunConfig,
    SSGANExperimentConfig,
)
from bigan_tf.config.files import load_config, parse_config_arg, split_spec
from bigan_tf.config.overrides import apply_overrides, field_doc, override, parse_value, settings
from bigan_tf.errors import ConfigError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_FILES = sorted(
    os.path.relpath(p, REPO_ROOT)
    for p in glob.glob(os.path.join(REPO_ROOT, "configs", "*.py"))
    if not p.endswith("__init__.py")
)
BIGAN_PROGRAMS = ("train_mnist", "train_imagenet")


def _experiment():
    return ExperimentConfig(run=RunConfig(exp_dir="x"), data=DataConfig())


def test_values_are_parsed_by_the_field_type():
    from typing import Optional, Tuple, Union

    assert parse_value("3", int) == 3
    assert parse_value("1e-4", float) == 1e-4
    assert parse_value("False", bool) is False and parse_value("yes", bool) is True
    assert parse_value("none", Optional[int]) is None
    assert parse_value("7", Optional[Union[int, str]]) == 7
    assert parse_value("latest", Optional[Union[int, str]]) == "latest"
    assert parse_value("auto", Union[bool, str]) == "auto"
    assert parse_value("true", Union[bool, str]) is True
    assert parse_value("32,32,3", Tuple[int, int, int]) == (32, 32, 3)
    assert parse_value("0, 0.9", Optional[Tuple[float, float]]) == (0.0, 0.9)
    assert parse_value("1,4,7", Optional[Tuple[int, ...]]) == (1, 4, 7)
    with pytest.raises(ConfigError, match=r"x: 'ten' is not an int"):
        parse_value("ten", int, "x")
    with pytest.raises(ConfigError, match="not 3 comma-separated ints"):
        parse_value("3,3", Tuple[int, int, int])


def test_override_replaces_one_setting_and_keeps_the_rest():
    config = _experiment()
    changed = apply_overrides(
        config,
        {
            "optimizer.learning_rate": "1e-4",
            "data.preprocessing.crop_size": "32",
            "network.image_shape": "32,32,3",
        },
    )
    assert changed.optimizer == dataclasses.replace(config.optimizer, learning_rate=1e-4)
    # A None section is created with its class's defaults, then changed.
    assert changed.data.preprocessing == Preprocessing(crop_size=32)
    assert changed.network.image_shape == (32, 32, 3)
    assert changed.run == config.run and changed.objective == config.objective
    # Values a config file gives as Python values pass through.
    assert override(config, "run.seed", 5).run.seed == 5


@pytest.mark.parametrize(
    "path, message",
    [
        (
            "optimizer.lerning_rate",
            r"optimizer.lerning_rate: no such setting. Did you mean "
            r"optimizer.learning_rate\? \(optimizer has: learning_rate, ",
        ),
        ("netwrk.latent_dim", r"Did you mean network.latent_dim\? \(the sections are: data, "),
        ("data.preprocessing.crop_sze", r"Did you mean data.preprocessing.crop_size\?"),
        ("network", r"network: no such setting"),
    ],
)
def test_an_unknown_setting_names_the_valid_ones(path, message):
    with pytest.raises(ConfigError, match=message):
        override(_experiment(), path, "1")


def test_a_wrong_type_names_the_full_path():
    with pytest.raises(ConfigError, match=r"^optimizer.epochs: 'ten' is not an int"):
        override(_experiment(), "optimizer.epochs", "ten")


def test_settings_cover_every_field_with_its_default_and_doc():
    found = {s.path: s for s in settings(ExperimentConfig)}
    assert found["optimizer.learning_rate"].default == OptimizerConfig().learning_rate
    assert found["data.preprocessing.crop_size"].default == Preprocessing().crop_size
    assert found["run.exp_dir"].default is dataclasses.MISSING
    for path in (
        "optimizer.learning_rate",
        "optimizer.epochs",
        "run.batch_size",
        "network.latent_dim",
        "objective.unary_weight",
        "evaluation.num_val",
        "data.source",
    ):
        assert found[path].doc, f"{path} has no documentation in its dataclass docstring"
    assert "Adam's learning rate" in field_doc(OptimizerConfig, "learning_rate")
    # Every leaf of every section is listed once.
    assert (
        len(found)
        == sum(
            len(dataclasses.fields(c))
            for c in (
                RunConfig,
                type(_experiment().network),
                type(_experiment().objective),
                OptimizerConfig,
                type(_experiment().evaluation),
                DataConfig,
                Preprocessing,
            )
        )
        - 1
    )  # preprocessing itself


def test_config_arguments_are_typed_and_checked():
    assert split_spec("configs/a.py:x=1,y=b") == ("configs/a.py", "x=1,y=b")
    assert split_spec("run/config.json") == ("run/config.json", "")
    assert parse_config_arg("epochs=3,quick=true", recipe="baseline", epochs=6, quick=False) == {
        "recipe": "baseline",
        "epochs": 3,
        "quick": True,
    }
    assert parse_config_arg("gan", objective="bigan") == {"objective": "gan"}
    with pytest.raises(ConfigError, match="its keys: objective"):
        parse_config_arg("objectiv=gan", objective="bigan")
    with pytest.raises(ConfigError, match="'x' is not an int"):
        parse_config_arg("epochs=x", epochs=6)


@pytest.mark.parametrize("path", CONFIG_FILES)
def test_every_config_file_loads_and_validates(path):
    from bigan_tf.config import TransferExperimentConfig

    expected = (
        SSGANExperimentConfig
        if "ssgan" in path
        else TransferExperimentConfig
        if "finetune" in path
        else ExperimentConfig
    )
    config = load_config(path, search_dirs=(REPO_ROOT,), expected=expected)
    if config.data.source in ("list", "folder"):
        # Image-file sources need their folder, which only the user can name.
        with pytest.raises(ConfigError, match="needs its folder: --config.data.root"):
            config.validate()
        config = override(config, "data.root", "/data/imagenet")
    config.validate()
    # Every run folder of a config is under exp/ (a transfer run's is named by the trainer).
    assert config.run.exp_dir.startswith("exp/") or expected is TransferExperimentConfig
    # config.json round trip: what a run records reads back as the same experiment.
    assert expected.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_config_file_arguments_select_the_experiment():
    def load(spec):
        return load_config(spec, search_dirs=(REPO_ROOT,))

    assert load("configs/mnist_bigan.py:objective=gan").objective.discrim_weight == 1
    assert load("configs/imagenet_generalized.py").network.is_generalized
    from configs.feature_study import RECIPES, recipe_config

    for recipe in RECIPES:
        loaded = load(f"configs/feature_study.py:recipe={recipe}")
        assert loaded == recipe_config(recipe, loaded.run.exp_dir)
    assert load("configs/feature_study.py:recipe=resnet,quick=true").data.max_train_images == 256


def test_each_feature_study_recipe_is_its_parent_plus_one_lever():
    from configs.feature_study import PARENTS, describe, lineage, recipe_config

    assert lineage("d_steps") == (
        "d_steps",
        "ttur",
        "resnet",
        "unary",
        "spectral_norm",
        "hinge",
        "baseline",
    )
    for recipe, parent in PARENTS.items():
        if parent is None:
            assert describe(recipe) == {}
            continue
        changes = describe(recipe)
        assert changes, f"{recipe} changes nothing from {parent}"
        # Applying the listed changes to the parent gives the recipe.
        this, base = recipe_config(recipe, "").to_dict(), recipe_config(parent, "").to_dict()
        for key, value in changes.items():
            section, field = key.split(".")
            base[section][field] = value
        assert base == this
    assert describe("reconstruct") == {"objective.reconstruct_weight": 1.0}
    # The ablations take one BigBiGAN lever away from the residual recipe.
    assert describe("resnet_bce") == {"objective.adversarial_loss": "bce"}
    assert describe("resnet_no_spectral_norm") == {"network.spectral_norm": ""}
    assert describe("resnet_joint_only") == {"objective.unary_weight": 0.0}
    assert recipe_config("resnet_joint_only", "").network.joint_discriminator == "scores"
    assert recipe_config("reconstruct", "").objective.augment == ""
    assert recipe_config("d_steps", "").optimizer.discriminator_learning_rate == 4e-4


def test_a_bad_config_path_says_what_to_give(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(str(tmp_path / "nope.py"))
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(ConfigError, match="defines no get_config"):
        load_config(str(tmp_path / "empty.py"))
    with pytest.raises(ConfigError, match="not a run folder"):
        load_config(str(tmp_path))


def _program(name, *args, cwd=REPO_ROOT):
    module = name if "." in name else f"trainers.{name}"
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )


def _printed_config(name, *args):
    result = _program(name, "--print_config", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_former_flags_are_aliases_of_config_settings():
    old = _printed_config(
        "train_mnist",
        "--epochs=3",
        "--decay_epochs",
        "0",
        "--objective=gan",
        "--nouse_test_set",
        "--hidden_units=64",
        "--num_val=100",
    )
    new = _printed_config(
        "train_mnist",
        "--config=configs/mnist_bigan.py:objective=gan",
        "--config.optimizer.epochs=3",
        "--config.optimizer.decay_epochs=0",
        "--config.data.use_test_set=false",
        "--config.network.hidden_units=64",
        "--config.evaluation.num_val=100",
    )
    assert old == new
    assert new["optimizer"]["epochs"] == 3 and new["objective"]["discrim_weight"] == 1
    # The data folder is resolved once, to an absolute path.
    assert new["data"]["root"] is None or os.path.isabs(new["data"]["root"])


def test_the_originals_crop_flags_make_a_generalized_bigan():
    printed = _printed_config(
        "train_imagenet",
        "--raw_size=72",
        "--crop_size=64",
        "--crop_resize=32",
        "--config.data.root=/data/x",
    )
    assert printed["network"]["image_shape"] == [32, 32, 3]
    assert printed["network"]["encoder_size"] == 64
    assert printed["data"]["preprocessing"] == {
        "raw_size": 72,
        "crop_size": 64,
        "channels": 3,
        "flip": False,
    }
    same = _printed_config(
        "train_imagenet", "--crop_size=32", "--crop_resize=32", "--config.data.root=/data/x"
    )
    assert same["network"]["encoder_size"] == 0


def test_a_run_replays_from_its_config_json(tmp_path):
    printed = _printed_config(
        "train_imagenet",
        "--config=configs/fashion_conv.py",
        "--config.optimizer.epochs=7",
        "--exp_dir=" + str(tmp_path / "a"),
    )
    run = tmp_path / "a"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({**printed, "data": {"config": printed["data"]}}))
    replayed = _printed_config("train_imagenet", f"--config={run}", f"--exp_dir={tmp_path / 'b'}")
    assert replayed["run"].pop("exp_dir") == str(tmp_path / "b")
    printed["run"].pop("exp_dir")
    assert replayed == printed


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--config.optimizer.epochs=ten",),
            "train_mnist: error: --config.optimizer.epochs: 'ten' is not an int.",
        ),
        (
            ("--config=configs/nope.py",),
            "train_mnist: error: --config=configs/nope.py: no such file.",
        ),
        (("--crop_resize=64",), "train_mnist: error: --crop_resize needs --crop_size beside it"),
        (
            ("--config=configs/mnist_bigan.py:objective=foo",),
            "train_mnist: error: Unknown objective",
        ),
    ],
)
def test_bad_settings_are_one_line_without_a_traceback(args, message):
    result = _program("train_mnist", "--print_config", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr


def test_a_misspelt_setting_gets_absl_suggestion():
    result = _program("train_mnist", "--config.optimizer.lerning_rate=1")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Did you mean: config.optimizer.learning_rate" in result.stderr


@pytest.mark.parametrize(
    "name",
    BIGAN_PROGRAMS
    + (
        "train_encoder",
        "train_ssgan",
        "benchmarks.bench_mnist",
        "benchmarks.bench_ssgan",
        "benchmarks.bench_conditional",
        "benchmarks.bench_checkpoint",
        "benchmarks.bench_conv",
    ),
)
def test_help_lists_the_settings_and_no_setting_is_a_flag_twice(name):
    result = _program(name, "--helpfull")
    # absl's help exits with status 1.
    assert "config.run.batch_size" in result.stdout, result.stderr
    flags_listed = {
        line.split(":")[0].strip()[2:].removeprefix("[no]")
        for line in result.stdout.splitlines()
        if line.startswith("  --")
    }
    assert "config.run.batch_size" in flags_listed
    # Defaults once: an experiment setting is only ever --config.PATH, derived from its
    # dataclass field; no other flag of the program has a setting's name.
    experiment = SSGANExperimentConfig if "ssgan" in name else ExperimentConfig
    fields = {s.path.split(".")[-1] for s in settings(experiment)}
    driver = {"exp_dir", "resume", "overwrite", "branch", "verbose"}
    own = {f for f in flags_listed if not f.startswith("config.")}
    assert not (own & fields) - driver, f"flags that duplicate a config setting: {own & fields}"
    assert "[int; default 128 unless the config sets it]" in " ".join(result.stdout.split())


def _benchmark_config(name, *args):
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--print_config", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "name, old_args, new_args, expected",
    [
        (
            "bench_mnist",
            ("--epochs=3", "--jit_compile", "--batch_size=64"),
            (
                "--config.optimizer.epochs=3",
                "--config.run.jit_compile=true",
                "--config.run.batch_size=64",
            ),
            {
                ("optimizer", "decay_epochs"): 0,
                ("evaluation", "deploy_iters"): 1000,
                ("run", "disp_interval"): 5,
                ("run", "exp_dir"): "/tmp/bigan_bench",
            },
        ),
        (
            "bench_ssgan",
            ("--network=mlp", "--epochs=3", "--learning_rate=3e-4", "--seed=2"),
            (
                "--config=configs/mnist_ssgan.py:network=mlp",
                "--config.epochs=3",
                "--config.model.learning_rate=3e-4",
                "--config.run.seed=2",
            ),
            {("run", "disp_interval"): 2, ("labels_per_class",): 10, ("model", "latent_dim"): 100},
        ),
        (
            "bench_conditional",
            ("--epochs=4", "--nojit_compile", "--seed=1"),
            (
                "--config.optimizer.epochs=4",
                "--config.run.jit_compile=false",
                "--config.run.seed=1",
            ),
            {
                ("run", "disp_interval"): 4,
                ("evaluation", "num_generated"): 10000,
                ("evaluation", "deploy_iters"): 100,
            },
        ),
    ],
)
def test_benchmarks_take_a_config_with_their_protocol_on_top(name, old_args, new_args, expected):
    old, new = _benchmark_config(name, *old_args), _benchmark_config(name, *new_args)
    assert old == new
    for path, value in expected.items():
        node = new
        for key in path:
            node = node[key]
        assert node == value, (path, node)


def test_the_ssgan_trainer_takes_the_same_config_system(tmp_path):
    old = _printed_config(
        "train_ssgan",
        "--network=mlp",
        "--labels_per_class=5",
        "--epochs=3",
        "--nofeature_matching",
        "--latent_dim=20",
        "--batch_size=50",
    )
    new = _printed_config(
        "train_ssgan",
        "--config=configs/mnist_ssgan.py:network=mlp",
        "--config.labels_per_class=5",
        "--config.epochs=3",
        "--config.model.feature_matching=false",
        "--config.model.latent_dim=20",
        "--config.run.batch_size=50",
    )
    assert old == new
    assert new["model"]["network"] == "mlp" and new["model"]["learning_rate"] == 3e-4
    assert new["data"]["use_test_set"] is True
    # A finished SSGAN run's config.json (as bigan_tf.ssgan.train_ssgan writes it) replays.
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps(
            {
                "model": "ssgan",
                "ssgan": new["model"],
                "epochs": 3,
                "labels_per_class": 5,
                "labelled_batch_size": 100,
                "labelled_index": [1, 2, 3],
                "run": {**new["run"], "jit_compile": False},
                "data": {"config": new["data"]},
            }
        )
    )
    replayed = _printed_config("train_ssgan", f"--config={run}", f"--exp_dir={tmp_path / 'b'}")
    assert replayed["model"] == new["model"] and replayed["labels_per_class"] == 5
    assert replayed["run"]["batch_size"] == 50
    # A BiGAN trainer refuses an SSGAN run's record with the fix.
    refused = _program("train_mnist", "--print_config", f"--config={run}")
    assert refused.returncode == 2
    assert "a semi-supervised GAN run's: replay it with trainers.train_ssgan" in refused.stderr


def test_the_transfer_trainer_takes_the_same_config_system(tmp_path):
    old = _printed_config(
        "finetune",
        "--hub_module=/m/enc",
        "--mode=finetune",
        "--labels_per_class=100",
        "--steps=500",
        "--raw_size=72",
        "--dataset=folder",
        f"--data_dir={tmp_path}",
    )
    new = _printed_config(
        "finetune",
        "--config=configs/finetune.py:mode=finetune,labels_per_class=100",
        "--config.transfer.hub_module=/m/enc",
        "--config.transfer.steps=500",
        "--config.data.preprocessing.raw_size=72",
        "--config.data.source=folder",
        f"--config.data.root={tmp_path}",
    )
    assert old == new
    assert new["transfer"] == {
        "hub_module": "/m/enc",
        "mode": "finetune",
        "init": "pretrained",
        "labels_per_class": 100,
        "steps": 500,
        "steps_per_epoch": 250,
        "learning_rate": 1e-3,
    }
    # What train_classifier records reads back as the experiment (a replay).
    from bigan_tf.config import TransferExperimentConfig

    record = {
        "model": "transfer",
        "transfer": {
            **new["transfer"],
            "num_labelled": 1000,
            "batch_size": 100,
            "seed": 3,
            "dataset": "x",
        },
        "data": {"config": new["data"]},
    }
    replayed = TransferExperimentConfig.from_record(record)
    assert replayed.transfer.mode == "finetune" and replayed.run.seed == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (("--steps=300",), "--steps (300) must be a multiple of --steps_per_epoch (250)"),
        (("--labels_per_class=0",), "--labels_per_class must be >= 1"),
        (("--mode=half",), "--mode must be linear, finetune or freeze:K"),
        (("--config.transfer.init=fresh",), "init must be one of ('pretrained', 'random')"),
        ((), "--hub_module is required"),
    ],
)
def test_transfer_settings_are_checked_before_the_module_is_read(args, message):
    result = _program("finetune", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert message in result.stderr


def test_one_driver_trains_a_config_file_into_a_workdir(small_mnist, tmp_path):
    """bigan_tf.train(config, workdir, data=...): the config's type picks what trains."""
    import bigan_tf

    config = apply_overrides(
        load_config("configs/mnist_bigan.py:objective=latent_regressor", search_dirs=(REPO_ROOT,)),
        {
            "network.hidden_units": "16",
            "network.latent_dim": "4",
            "optimizer.epochs": "1",
            "optimizer.decay_epochs": "0",
            "run.batch_size": "128",
            "run.verbose": "0",
            "evaluation.num_val": "100",
            "evaluation.num_train_reference": "200",
            "evaluation.num_generated": "100",
            "evaluation.cls_steps": "2",
            "evaluation.num_sample_images": "10",
        },
    )
    result = bigan_tf.train(
        config, str(tmp_path / "run"), data=small_mnist, print_fn=lambda line: None
    )
    assert result["epoch"] == 1 and result["experiment"].run.exp_dir == str(tmp_path / "run")
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (
        recorded["objective"]["discrim_weight"] == 1 and recorded["network"]["hidden_units"] == 16
    )
    with pytest.raises(ConfigError, match="takes an ExperimentConfig, SSGANExperimentConfig"):
        bigan_tf.train(config.optimizer, str(tmp_path / "x"), data=small_mnist)


def test_config_files_load_without_tensorflow():
    # --help and --print_config stay instant: no config file pulls in TensorFlow.
    script = (
        "import glob, os, sys\n"
        "from bigan_tf.config.files import load_config\n"
        "for path in sorted(glob.glob('configs/*.py')):\n"
        "    if not os.path.basename(path).startswith('_'):\n"
        "        load_config(path, expected=object)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
