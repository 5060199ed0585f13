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

from trainers.cli import default_data_dir, run_main
from trainers.training_flags import (define_objective_flags, define_training_flags,
                                     objective_from_flags, train_from_flags)

FLAGS = flags.FLAGS
define_objective_flags()
# Data.
flags.DEFINE_string("dataset", "list",
                    "list: Caffe-style train.txt/val.txt ('relative/path label' lines) under "
                    "--data_dir; folder: class sub-folders (--data_dir/train/<class>/..., "
                    "optional --data_dir/val/<class>/...; without val/ 10% is held out); "
                    "tfds:NAME (imagenet2012, imagenet_resized/64x64, cifar10, svhn_cropped, "
                    "celeb_a, ...); mnist / fashion_mnist (IDX files, resized in memory).")
flags.DEFINE_string("data_dir", None,
                    "Root of the list or folder data, or the TFDS data folder; default for "
                    "mnist/fashion_mnist: ../shared/data/<name>.")
flags.DEFINE_integer("raw_size", 72,
                     "Resize each image's short edge to this (antialiased) before cropping; "
                     "72 for the BiGAN, 128 for the generalized BiGAN.")
flags.DEFINE_integer("crop_size", 64,
                     "Crop size: random crops for training, centre crops for evaluation. This "
                     "is the encoder's input size.")
flags.DEFINE_integer("crop_resize", None,
                     "G's output and D's input size (32 or 64); unset = --crop_size. Smaller "
                     "than --crop_size makes the generalized BiGAN.")
flags.DEFINE_boolean("flip", False, "Random horizontal flips in training (the original: none).")
flags.DEFINE_integer("max_labels", None, "Keep only labels 0..N-1.")
flags.DEFINE_string("include_labels", None, "Keep only these labels (comma-separated).")
flags.DEFINE_integer("max_images", None, "Use at most N training images (a seeded subset).")
flags.DEFINE_enum("image_check", "header", ("header", "full", "none"),
                  "Before training, open every file: header (fast: missing, non-image and "
                  "garbage files), full (decode every pixel: also truncated files), none.")
flags.DEFINE_enum("bad_images", "fail", ("fail", "skip"),
                  "Unreadable images: fail (name them and stop) or skip (name them, count "
                  "them, train without them).")
# Model.
flags.DEFINE_integer("latent_dim", 200, "Size of z ~ U(-1, 1)^latent_dim (the original's u-200).")
flags.DEFINE_integer("base_width", 64,
                     "Base width of G and D (the original's gen/feat_net_size): D has 1, 2, 4, "
                     "8 times it channels at 64 px.")
flags.DEFINE_enum("mixed_precision", "none", ("none", "bfloat16", "float16"),
                  "Compute in 16 bits with float32 variables (float16 with dynamic loss "
                  "scaling). Resume with the same setting.")
define_training_flags(data_flags=False, num_val=5000, num_train_reference=20000,
                      num_generated=10000, exp_dir="exp/imagenet_bigan")


def load_data():
    """The data flags -> an `ImageData` (in memory) or `StreamedImageData`."""
    from bigan_tf.data import ImageData, load_image_data
    from bigan_tf.data.image_files import (load_image_folder_data, load_tfds_image_data,
                                           resize_image_data)
    from bigan_tf.data.image_sources import label_mask, parse_label_list
    from bigan_tf.data.preprocessing import Preprocessing
    from bigan_tf.errors import ConfigError

    preprocessing = Preprocessing(FLAGS.raw_size, FLAGS.crop_size, 3, FLAGS.flip).validate()
    include = parse_label_list(FLAGS.include_labels)
    select = dict(max_labels=FLAGS.max_labels, include_labels=include,
                  max_images=FLAGS.max_images)
    sizes = dict(num_val=FLAGS.num_val, num_reference=FLAGS.num_train_reference,
                 seed=FLAGS.seed)
    dataset = FLAGS.dataset
    if dataset in ("list", "folder"):
        if not FLAGS.data_dir:
            raise ConfigError(f"--dataset={dataset} needs --data_dir (the image root).")
        data = load_image_folder_data(dataset, FLAGS.data_dir, preprocessing,
                                      image_check=FLAGS.image_check, on_bad=FLAGS.bad_images,
                                      **select, **sizes)
        for note in data.notes:
            print(f"Note: {note}")
        return data
    if dataset.startswith("tfds:"):
        return load_tfds_image_data(dataset[len("tfds:"):], preprocessing, FLAGS.data_dir,
                                    **select, **sizes)
    if dataset in ("mnist", "fashion_mnist"):
        data = load_image_data(dataset, FLAGS.data_dir or default_data_dir(dataset))
        if FLAGS.max_labels or include:
            train = label_mask(data.train_labels, FLAGS.max_labels, include)
            val = label_mask(data.val_labels, FLAGS.max_labels, include)
            data = ImageData(data.train_images[train], data.train_labels[train],
                             data.val_images[val], data.val_labels[val], data.source)
        data = data.take(num_train=FLAGS.max_images)
        return resize_image_data(data, FLAGS.crop_size, channels=3)
    raise ConfigError(f"Unknown --dataset {dataset!r}; expected list, folder, tfds:NAME, mnist "
                      "or fashion_mnist.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Import after flag parsing: --helpfull must not pay for TensorFlow's start-up.
    from bigan_tf import NetworkConfig

    crop_resize = FLAGS.crop_resize or FLAGS.crop_size
    network = NetworkConfig(
        family="dcgan", latent_dim=FLAGS.latent_dim, base_width=FLAGS.base_width,
        image_shape=(crop_resize, crop_resize, 3),
        encoder_size=FLAGS.crop_size if crop_resize != FLAGS.crop_size else 0)
    objective = objective_from_flags()
    network.validate()  # before loading data: a bad size fails at once
    from bigan_tf.networks import build_networks
    build_networks(network, objective)  # checks objective against the generalized setting
    if network.is_generalized:
        print(f"Note: generalized BiGAN (E reads {FLAGS.crop_size} px, G and D work at "
              f"{crop_resize} px): EGg and the regen sample grid are unavailable, since E "
              "cannot read G's images.")
    result = train_from_flags("train_imagenet", network, objective, load_data=load_data,
                              mixed_precision=FLAGS.mixed_precision)
    print(f"Done: epoch {result['epoch']}; outputs in {FLAGS.exp_dir}")
    return 0


def run():
    run_main(main, "train_imagenet")


if __name__ == "__main__":
    run()
