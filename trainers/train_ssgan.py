r"""Trains a semi-supervised K+1-class GAN (Salimans et al., 2016) on a label budget.

    python -m trainers.train_ssgan --exp_dir=exp/mnist_ssgan      # configs/mnist_ssgan.py
    python -m trainers.train_ssgan --config=configs/mnist_ssgan.py:network=mlp
    python -m trainers.train_ssgan --config=configs/svhn_ssgan.py
    python -m trainers.train_ssgan --config=configs/cifar10_ssgan.py
    python -m trainers.train_ssgan --config.data.source=hdf5 --config.data.root=datasets/X
    python -m trainers.train_ssgan --config.model.unsupervised_weight=0   # supervised only

The experiment is an `SSGANExperimentConfig` (sections `run`, `model`, `data`
and `labels_per_class`, `epochs`, `labelled_batch_size`), every setting a
`--config.PATH` flag; the former flags (`--network`, `--labels_per_class`,
`--epochs`, `--latent_dim`, ...) still work as aliases. Every evaluation
prints the test accuracy (ACC) under the cost line and writes it to
TensorBoard and metrics.jsonl; sample grids, checkpoints and --resume work as
in train_mnist. The labelled subset is balanced per class and drawn with
`run.seed`. `data.source=hdf5` reads the SSGAN-TensorFlow format (data.hdf5 +
id.txt) and holds out 10% of it as the test set.
"""

from __future__ import annotations

import dataclasses

from absl import app, flags

from trainers import config_flags, training_flags
from trainers.cli import run_main, strategy_from_flags
from trainers.config_flags import FLAGS, define_config_flags, experiment_from_flags

# The former flags, as settings of the SSGAN experiment.
LEGACY_FLAGS = {
    "network": "arg:network",
    "labels_per_class": "labels_per_class",
    "epochs": "epochs",
    "labelled_batch_size": "labelled_batch_size",
    "batch_size": "run.batch_size",
    "seed": "run.seed",
    "disp_interval": "run.disp_interval",
    "save_interval": "run.save_interval",
    "keep_checkpoints": "run.keep_checkpoints",
    "dataset": "data.source",
    "data_dir": "data.root",
    "max_train_images": "data.max_train_images",
    **{
        name: f"model.{name}"
        for name in (
            "latent_dim",
            "learning_rate",
            "generator_lr_mult",
            "beta_1",
            "generator_updates",
            "label_smoothing",
            "clip_norm",
            "feature_matching",
            "reference_batch_norm",
            "classifier_norm",
            "reconstruction_weight",
            "reconstruction_anneal_steps",
            "unsupervised_weight",
        )
    },
}


def _define_flags():
    from bigan_tf.config import SSGANExperimentConfig

    define_config_flags(
        "configs/mnist_ssgan.py", legacy=LEGACY_FLAGS, experiment_class=SSGANExperimentConfig
    )


_define_flags()
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(training_flags)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    experiment = experiment_from_flags()
    if FLAGS.print_config:
        config_flags.print_config(experiment)
        return 0
    import bigan_tf
    from bigan_tf.data import load
    from bigan_tf.run_dir import check_writable

    strategy = strategy_from_flags("train_ssgan", FLAGS.strategy, FLAGS.cpu_replicas)
    check_writable(experiment.run.exp_dir)  # before the data is loaded
    data = load(experiment.data)
    if "model.num_classes" not in config_flags.given_settings():
        # K is the data's class count unless set.
        experiment = dataclasses.replace(
            experiment, model=dataclasses.replace(experiment.model, num_classes=data.num_classes)
        )
    result = bigan_tf.train(experiment, strategy=strategy, data=data)
    print(
        f"Done: epoch {result['epoch']}, test accuracy {result['metrics'].get('ACC', 0):.2f}%; "
        f"outputs in {experiment.run.exp_dir}"
    )
    return 0


def run():
    run_main(main, "train_ssgan", rewrite_argv=config_flags.rewrite_argv_or_exit)


if __name__ == "__main__":
    run()
