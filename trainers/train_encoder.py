r"""Trains an encoder for a trained generator, after the fact (the DIGITS method).

    python -m trainers.train_mnist --objective=gan --exp_dir=exp/mnist_gan
    python -m trainers.train_encoder --gan_dir=exp/mnist_gan --exp_dir=exp/mnist_gan_encoder
    python -m trainers.train_encoder --gan_dir=exp/mnist_gan --encode_weight=1 ...

The generator of --gan_dir (any run: a plain GAN, a BiGAN, a conditional
model) is copied and frozen (inference mode); a fresh encoder E minimises the
image reconstruction error mean_p (x − G(E(x)))² on the real training images,
plus, with --encode_weight > 0, the latent regression loss on generated
images (E(G(z)) ≈ z). This is the `posthoc_encoder` objective of the one
BiGAN model and the same training loop as train_mnist: the same evaluation
lines (NNC_e, CLS_e-, EGr, ... of the new encoder), checkpoints, resume and
exports. Not in the original code.
"""

from __future__ import annotations

from absl import app, flags

from trainers.cli import run_main
from trainers.training_flags import define_training_flags, train_from_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("gan_dir", None, "Training run whose generator to invert (config.json + "
                    "checkpoints/).", required=True)
flags.DEFINE_string("gan_epoch", "latest", "Checkpoint of --gan_dir: an epoch or 'latest'.")
flags.DEFINE_float("reconstruct_weight", 1.0,
                   "Weight of the image reconstruction loss mean (x - G(E(x)))^2 on real data.")
flags.DEFINE_float("encode_weight", 0.0,
                   "Weight of the latent regression loss on generated data (E(G(z)) ~ z).")
define_training_flags()
# An encoder against a fixed G converges far sooner than a GAN trains.
FLAGS.set_default("exp_dir", "exp/mnist_posthoc_encoder")
FLAGS.set_default("epochs", 10)
FLAGS.set_default("decay_epochs", 10)
FLAGS.set_default("disp_interval", 5)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.config import objective_from_preset
    from bigan_tf.training import copy_generator

    gan = load_trained_model(FLAGS.gan_dir, FLAGS.gan_epoch)
    objective = objective_from_preset("posthoc_encoder",
                                      reconstruct_weight=FLAGS.reconstruct_weight,
                                      encode_weight=FLAGS.encode_weight)
    print(f"Training an encoder for the generator of {gan.checkpoint_path} (epoch {gan.epoch}).")
    result = train_from_flags("train_encoder", gan.network, objective,
                              initialize=lambda model: copy_generator(gan.model, model))
    print(f"Done: epoch {result['epoch']}; outputs in {FLAGS.exp_dir}")
    return 0


def run():
    run_main(main, "train_encoder")


if __name__ == "__main__":
    run()
