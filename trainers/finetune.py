r"""Trains a classifier on top of an exported BiGAN encoder and reports test accuracy.

    python -m trainers.finetune --hub_module=exports/mnist_encoder        # linear, all labels
    python -m trainers.finetune --hub_module=exports/mnist_encoder \
        --config=configs/finetune.py:mode=finetune,labels_per_class=100
    python -m trainers.finetune --hub_module=exports/mnist_encoder --config.transfer.mode=freeze:1
    python -m trainers.finetune --hub_module=exports/mnist_encoder --config.transfer.init=random
    # The paper's Table 2 protocol: an ImageNet encoder with its first K layers fixed,
    # the rest trained on every labelled image (class folders, list files or TFDS):
    python -m trainers.finetune --hub_module=exports/imagenet_encoder \
        --config.transfer.mode=freeze:2 --config.data.source=folder \
        --config.data.root=data/imagenet --config.data.preprocessing.raw_size=72 \
        --config.transfer.steps=100000

The experiment is a `TransferExperimentConfig` (`configs/finetune.py`: sections
`run`, `transfer`, `data`), every setting a `--config.PATH` flag; the former
flags (`--hub_module`, `--mode`, `--labels_per_class`, `--steps`, `--dataset`,
`--raw_size`, ...) still work as aliases. `transfer.labels_per_class`
labelled training images per class are drawn with the run's seed (balanced);
accuracy is measured on the dataset's test set. Image files (data.source
folder or list) and TFDS with preprocessing stream through the ImageNet
preprocessing (resize the short edge to `raw_size`, crop to the module's input
size unless `data.preprocessing.crop_size` is given) and train on all their
labelled images. `transfer.init=random` is the baseline: the same
architecture (read from the module's bigan_tf.json), freshly initialised, its
batch-norm statistics set by a deploy pass over training images (as the
trained encoder's were; a streamed source lends 1,280 of them), exported and
loaded the same way.

The run is a run folder like the GAN trainers' (`--exp_dir`, by default one
named after the module and the settings under exp/finetune/): a checkpoint
after every epoch of `transfer.steps_per_epoch` steps, a clean stop on Ctrl-C
or SIGTERM, and the same command continues it.
"""

from __future__ import annotations

import dataclasses
import json
import os

from absl import app, flags

from trainers import config_flags, training_flags
from trainers.cli import run_main
from trainers.config_flags import FLAGS, define_config_flags, experiment_from_flags

# The former flags, as settings of the transfer experiment.
LEGACY_FLAGS = {
    **{
        name: f"transfer.{name}"
        for name in (
            "hub_module",
            "mode",
            "init",
            "labels_per_class",
            "steps",
            "steps_per_epoch",
            "learning_rate",
        )
    },
    "batch_size": "run.batch_size",
    "seed": "run.seed",
    "keep_checkpoints": "run.keep_checkpoints",
    "dataset": "data.source",
    "data_dir": "data.root",
    "num_val": "data.num_val",
    "max_train_images": "data.max_train_images",
    "max_images": "data.max_train_images",
    "max_labels": "data.max_labels",
    "include_labels": "data.include_labels",
    "image_check": "data.image_check",
    "bad_images": "data.bad_images",
    "raw_size": "data.preprocessing.raw_size",
    "crop_size": "data.preprocessing.crop_size",
    "flip": "data.preprocessing.flip",
}


def _define_flags():
    from bigan_tf.config import TransferExperimentConfig

    define_config_flags(
        "configs/finetune.py",
        legacy=LEGACY_FLAGS,
        experiment_class=TransferExperimentConfig,
        exp_dir_help="Run folder (config.json, metrics.jsonl, checkpoints/, "
        "results.json); default: "
        "exp/finetune/MODULE-INIT-MODE-LABELS-sSEED.",
    )
    flags.DEFINE_string("output_dir", None, "If set, results.json is also written there.")


_define_flags()
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(training_flags)


def default_exp_dir(experiment) -> str:
    """exp/finetune/MODULE-INIT-MODE-LABELS-sSEED: the same settings, the same folder."""
    transfer = experiment.transfer
    module = os.path.basename(os.path.normpath(transfer.hub_module)) or "module"
    labels = f"{transfer.labels_per_class}pc" if transfer.labels_per_class else "all"
    return os.path.join(
        "exp",
        "finetune",
        f"{module}-{transfer.init}-"
        f"{transfer.mode.replace(':', '')}-{labels}-s{experiment.run.seed}",
    )


def _with_module_inputs(experiment):
    """The experiment checked, then fitted to its module (`bigan_tf.transfer.fit_to_module`)
    and given its default run folder."""
    from bigan_tf.errors import ConfigError
    from bigan_tf.hub import resolve_handle
    from bigan_tf.transfer import fit_to_module

    experiment.transfer.validate()  # the settings first, before any file is opened
    if not experiment.transfer.hub_module:
        raise ConfigError(
            "--hub_module is required: an encoder exported by export.export_hub "
            "(or a TF-Hub handle); also --config.transfer.hub_module."
        )
    resolve_handle(experiment.transfer.hub_module)  # the inputs before any output is made
    experiment = fit_to_module(experiment, config_flags.given_settings())
    if not experiment.run.exp_dir:
        experiment = dataclasses.replace(
            experiment, run=dataclasses.replace(experiment.run, exp_dir=default_exp_dir(experiment))
        )
    return experiment


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.print_config:
        config_flags.print_config(experiment_from_flags())
        return 0
    experiment = experiment_from_flags(finish=_with_module_inputs)
    import bigan_tf
    from bigan_tf.data import load
    from bigan_tf.distribute import make_strategy
    from bigan_tf.run_dir import RESULTS_FILE, atomic_write_text, check_writable

    transfer, run = experiment.transfer, experiment.run
    strategy = make_strategy(FLAGS.strategy, cpu_replicas=FLAGS.cpu_replicas)
    data = load(experiment.data)
    # Outputs once the inputs are known good (a failed start leaves no empty folder),
    # and before training (a folder that cannot be written is found now).
    check_writable(run.exp_dir, "--exp_dir")
    if FLAGS.output_dir:
        check_writable(FLAGS.output_dir, "--output_dir")
    print(f"Run folder: {run.exp_dir}")
    result = bigan_tf.train(experiment, strategy=strategy, data=data)
    result.pop("model")
    result = {
        "hub_module": transfer.hub_module,
        "init": transfer.init,
        "dataset": experiment.data.source,
        **result,
    }
    print(
        f"test accuracy {100 * result['test_accuracy']:.2f}% ({transfer.mode}, "
        f"init={transfer.init}, {result['num_labelled']} labelled images)"
    )
    text = json.dumps(result, indent=2) + "\n"
    for folder in filter(None, (run.exp_dir, FLAGS.output_dir)):
        atomic_write_text(os.path.join(folder, RESULTS_FILE), text)
    return 0


def run():
    run_main(main, "finetune", rewrite_argv=config_flags.rewrite_argv_or_exit)


if __name__ == "__main__":
    run()
