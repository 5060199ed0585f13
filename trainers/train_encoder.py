r"""Trains an encoder for a trained generator, after the fact (the DIGITS method).

    python -m trainers.train_mnist --config=configs/mnist_bigan.py:objective=gan \
        --exp_dir=exp/mnist_gan
    python -m trainers.train_encoder --gan_dir=exp/mnist_gan --exp_dir=exp/mnist_gan_encoder
    python -m trainers.train_encoder --gan_dir=exp/mnist_gan --config.objective.encode_weight=1

The generator of --gan_dir (any run: a plain GAN, a BiGAN, a conditional
model) is copied and frozen (inference mode); a fresh encoder E minimises the
image reconstruction error mean_p (x − G(E(x)))² on the real training images,
plus, with `objective.encode_weight` > 0, the latent regression loss on
generated images (E(G(z)) ≈ z). The networks are --gan_dir's; the rest is the
config (`configs/posthoc_encoder.py`). This is the `posthoc_encoder`
objective of the one BiGAN model and the same training loop as train_mnist:
the same evaluation lines (NNC_e, CLS_e-, EGr, ... of the new encoder),
checkpoints, resume and exports. Not in the original code.
"""

from __future__ import annotations

import dataclasses

from absl import app, flags

from trainers import config_flags, training_flags
from trainers.cli import run_main
from trainers.config_flags import FLAGS, define_config_flags, train_from_flags

flags.DEFINE_string(
    "gan_dir",
    None,
    "Training run whose generator to invert (config.json + checkpoints/).",
    required=True,
)
flags.DEFINE_string("gan_epoch", "latest", "Checkpoint of --gan_dir: an epoch or 'latest'.")
define_config_flags("configs/posthoc_encoder.py")
# --help lists the config settings and run flags as this program's own.
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(training_flags)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.training import copy_generator

    gan = load_trained_model(FLAGS.gan_dir, FLAGS.gan_epoch)
    print(f"Training an encoder for the generator of {gan.checkpoint_path} (epoch {gan.epoch}).")
    result = train_from_flags(
        "train_encoder",
        transform=lambda config: dataclasses.replace(config, network=gan.network),
        initialize=lambda model: copy_generator(gan.model, model),
    )
    if result is not None:
        print(f"Done: epoch {result['epoch']}; outputs in {result['experiment'].run.exp_dir}")
    return 0


def run():
    run_main(main, "train_encoder", rewrite_argv=config_flags.rewrite_argv_or_exit)


if __name__ == "__main__":
    run()
