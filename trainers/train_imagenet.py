r"""Trains a convolutional BiGAN (or a baseline) on natural images: the ImageNet setting.

    # The original's layout: train.txt / val.txt under --data_dir (images in
    # <data_dir><raw_size> when trainers.resize_imageset made it):
    python -m trainers.train_imagenet --dataset=list --data_dir=data/imagenet \
        --raw_size=72 --crop_size=64 --max_labels=100 --exp_dir=exp/imagenet_bigan
    # The generalized BiGAN: E sees 112-px crops of 128-px images, G and D 64 px:
    python -m trainers.train_imagenet --dataset=list --data_dir=data/imagenet \
        --raw_size=128 --crop_size=112 --crop_resize=64 --exp_dir=exp/imagenet_gbigan
    # A folder of class sub-folders, or TFDS by name (needs a network or --data_dir):
    python -m trainers.train_imagenet --dataset=folder --data_dir=my_images
    python -m trainers.train_imagenet --dataset=tfds:cifar10 --raw_size=32 --crop_size=32
    # Quick, offline: Fashion-MNIST from ../shared/data resized to 32 px RGB.
    python -m trainers.train_imagenet --dataset=fashion_mnist --crop_size=32 --raw_size=32

Flags are named as in the original `train_gan.py` (`--raw_size`,
`--crop_size`, `--crop_resize`, `--max_labels`, `--include_labels`,
`--max_images`, `--noise` as `--latent_dim`). Every evaluation prints the
original's loss and metric lines; outputs go to --exp_dir as for MNIST.
"""

from __future__ import annotations

from absl import app, flags

from trainers.cli import run_main
from trainers.data_flags import data_config_from_flags, define_data_flags
from trainers.training_flags import (define_objective_flags, define_training_flags,
                                     objective_from_flags, train_from_flags)

FLAGS = flags.FLAGS
define_objective_flags()
define_data_flags(dataset="list", use_test_set=None, image_files=True)
# Model.
flags.DEFINE_integer("crop_resize", None,
                     "G's output and D's input size (32 or 64); unset = --crop_size. Smaller "
                     "than --crop_size makes the generalized BiGAN.")
flags.DEFINE_integer("latent_dim", 200, "Size of z ~ U(-1, 1)^latent_dim (the original's u-200).")
flags.DEFINE_integer("base_width", 64,
                     "Base width of G and D (the original's gen/feat_net_size): D has 1, 2, 4, "
                     "8 times it channels at 64 px.")
flags.DEFINE_enum("mixed_precision", "none", ("none", "bfloat16", "float16"),
                  "Compute in 16 bits with float32 variables (float16 with dynamic loss "
                  "scaling). Resume with the same setting.")
define_training_flags(data_flags=False, num_val=5000, num_train_reference=20000,
                      num_generated=10000, exp_dir="exp/imagenet_bigan")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Import after flag parsing: --helpfull must not pay for TensorFlow's start-up.
    from bigan_tf import NetworkConfig
    from bigan_tf.config import check_objective_fits

    crop_resize = FLAGS.crop_resize or FLAGS.crop_size
    network = NetworkConfig(
        family="dcgan", latent_dim=FLAGS.latent_dim, base_width=FLAGS.base_width,
        image_shape=(crop_resize, crop_resize, 3),
        encoder_size=FLAGS.crop_size if crop_resize != FLAGS.crop_size else 0)
    objective = objective_from_flags()
    # Checked before any image is read: a bad size or source fails at once.
    data_config = data_config_from_flags(num_val=FLAGS.num_val,
                                         num_reference=FLAGS.num_train_reference)
    check_objective_fits(network.validate(), objective)
    if network.is_generalized:
        print(f"Note: generalized BiGAN (E reads {FLAGS.crop_size} px, G and D work at "
              f"{crop_resize} px): EGg and the regen sample grid are unavailable, since E "
              "cannot read G's images.")
    result = train_from_flags("train_imagenet", network, objective, data_config=data_config,
                              mixed_precision=FLAGS.mixed_precision)
    print(f"Done: epoch {result['epoch']}; outputs in {FLAGS.exp_dir}")
    return 0


def run():
    run_main(main, "train_imagenet")


if __name__ == "__main__":
    run()
