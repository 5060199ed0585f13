r"""Trains a permutation-invariant BiGAN (or a baseline) on MNIST-format data.

    python -m trainers.train_mnist --exp_dir=exp/mnist_bigan
    python -m trainers.train_mnist --objective=latent_regressor --exp_dir=exp/mnist_lr
    python -m trainers.train_mnist --exp_dir=exp/mnist_bigan --resume=latest
    python -m trainers.train_mnist --conditional=simple --exp_dir=exp/mnist_cbigan

Flags are named as in the original `train_gan.py` where they mean the same.
Every evaluation prints the original's two lines (losses, then metrics) and
writes them to TensorBoard and `metrics.jsonl` in --exp_dir.
"""

from __future__ import annotations

from absl import app, flags

from trainers.cli import run_main
from trainers.training_flags import (define_objective_flags, define_training_flags,
                                     objective_from_flags, train_from_flags)

FLAGS = flags.FLAGS
define_objective_flags()
# Model.
flags.DEFINE_integer("latent_dim", 50, "Size of z ~ U(-1, 1)^latent_dim (the original's u-50).")
flags.DEFINE_integer("hidden_units", 1024, "Width of every hidden layer of E, G and D.")
flags.DEFINE_enum("conditional", "none", ("none", "simple", "extended"),
                  "Class-conditional G(z, c) and D(x, z, c) (the encoder never sees labels): "
                  "simple concatenates one-hot labels to z and to D's inputs; extended first "
                  "passes x, z and c each through a learned projection + LeakyReLU.")
flags.DEFINE_integer("condition_units", 256, "Width of each projection of --conditional=extended.")
define_training_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Import after flag parsing: --helpfull must not pay for TensorFlow's start-up.
    from bigan_tf import NetworkConfig

    objective = objective_from_flags()
    network = NetworkConfig(latent_dim=FLAGS.latent_dim, hidden_units=FLAGS.hidden_units,
                            conditional=FLAGS.conditional,
                            condition_units=FLAGS.condition_units)
    result = train_from_flags("train_mnist", network, objective)
    print(f"Done: epoch {result['epoch']}; outputs in {FLAGS.exp_dir}")
    return 0


def run():
    run_main(main, "train_mnist")


if __name__ == "__main__":
    run()
