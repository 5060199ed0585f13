r"""Trains a BiGAN (or one of the paper's baselines) from a config file: by default the
permutation-invariant MNIST BiGAN of `configs/mnist_bigan.py`.

    python -m trainers.train_mnist --exp_dir=exp/mnist_bigan
    python -m trainers.train_mnist --config=configs/mnist_bigan.py:objective=latent_regressor
    python -m trainers.train_mnist --config.optimizer.epochs=10 --config.optimizer.decay_epochs=0
    python -m trainers.train_mnist --config.network.conditional=simple --exp_dir=exp/mnist_cbigan
    python -m trainers.train_mnist --config=exp/mnist_bigan/config.json --exp_dir=exp/replay

Every setting is `--config.SECTION.FIELD` (see --helpfull, or --print_config
for the values a command would train with); the flags of earlier versions
(`--epochs`, `--objective`, `--dataset`, ...) still work as aliases
(`trainers.config_flags`). Every evaluation prints the original's two lines
(losses, then metrics) and writes them to TensorBoard and `metrics.jsonl`.
"""

from __future__ import annotations

from absl import app, flags

from trainers import config_flags, training_flags
from trainers.cli import run_main
from trainers.config_flags import define_config_flags, train_from_flags

define_config_flags("configs/mnist_bigan.py")
# --help lists the config settings and run flags as this program's own.
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(training_flags)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    result = train_from_flags("train_mnist")
    if result is not None:
        print(f"Done: epoch {result['epoch']}; outputs in {result['experiment'].run.exp_dir}")
    return 0


def run():
    run_main(main, "train_mnist", rewrite_argv=config_flags.rewrite_argv_or_exit)


if __name__ == "__main__":
    run()
