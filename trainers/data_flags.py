"""The data flags, defined once, and the `DataConfig` they make.

Every program that reads a data set defines its data flags here (with its own
defaults) and turns them into one `bigan_tf.data.DataConfig`, which
`bigan_tf.data.load` reads and config.json records.
"""

from __future__ import annotations

import os
from typing import Optional

from absl import flags

from trainers.data_paths import find_data_dir

FLAGS = flags.FLAGS

SOURCES = ("mnist, fashion_mnist, idx (IDX files in --data_dir), hdf5 (SSGAN format: "
           "data.hdf5 + id.txt), list (Caffe-style train.txt/val.txt 'relative/path label' "
           "lines under --data_dir), folder (class sub-folders: --data_dir/train/<class>/..., "
           "optional --data_dir/val/<class>/...; without val/ 10% is held out), or tfds:NAME "
           "(imagenet2012, cifar10, svhn_cropped, celeb_a, ...; needs a network or a prepared "
           "--data_dir)")


def define_data_flags(dataset: str = "mnist", use_test_set: Optional[bool] = False,
                      image_files: bool = False, raw_size: Optional[int] = 72,
                      crop_size: Optional[int] = 64) -> None:
    """--dataset, --data_dir, --max_train_images; the others on request.

    `use_test_set`: the default of --use_test_set, or None for a program that
    always uses its own protocol (no flag). `image_files` adds the
    preprocessing and selection flags of the ImageNet setting (--raw_size,
    --crop_size, --flip, --max_labels, --include_labels, --image_check,
    --bad_images, and --max_images as the original's name of --max_train_images),
    with `raw_size` and `crop_size` as defaults (None: the model's input size).
    """
    flags.DEFINE_string("dataset", dataset, SOURCES + ".")
    flags.DEFINE_string("data_dir", None,
                        "The data's folder (IDX files in either MNIST naming, the HDF5 folder, "
                        "the image root) or the TFDS data folder for tfds:NAME; default for "
                        "mnist and fashion_mnist: the shared copy, ../shared/data/<dataset>.")
    if use_test_set is not None:
        flags.DEFINE_boolean("use_test_set", use_test_set,
                             "Train on every training image and evaluate on the test split; "
                             "otherwise 10k training images are held out for evaluation, as "
                             "in the original.")
    flags.DEFINE_integer("max_train_images", None,
                         "Use at most N training images (the first ones of in-memory data, a "
                         "seeded subset of image files); default: all.")
    if not image_files:
        return
    flags.DEFINE_alias("max_images", "max_train_images")
    model_size = " (default: the model's input size)"
    flags.DEFINE_integer("raw_size", raw_size,
                         "Resize each image's short edge to this (antialiased) before cropping; "
                         "72 for the BiGAN, 128 for the generalized BiGAN"
                         + (model_size.replace("input", "crop") if raw_size is None else "") + ".")
    flags.DEFINE_integer("crop_size", crop_size,
                         "Crop size: random crops for training, centre crops for evaluation. "
                         "This is the encoder's input size; in-memory images are resized to it"
                         + (model_size if crop_size is None else "") + ".")
    flags.DEFINE_boolean("flip", False, "Random horizontal flips in training (the original: none).")
    flags.DEFINE_integer("max_labels", None, "Keep only labels 0..N-1.")
    flags.DEFINE_string("include_labels", None, "Keep only these labels (comma-separated).")
    flags.DEFINE_enum("image_check", "header", ("header", "full", "none"),
                      "Before training, open every file: header (fast: missing, non-image and "
                      "garbage files), full (decode every pixel: also truncated files), none.")
    flags.DEFINE_enum("bad_images", "fail", ("fail", "skip"),
                      "Unreadable images: fail (name them and stop) or skip (name them, count "
                      "them, train without them).")


def data_config_from_flags(use_test_set: bool = False, channels: int = 3,
                           num_val: Optional[int] = None, num_reference: int = 50000,
                           model_image_shape=None):
    """The `DataConfig` of the flags `define_data_flags` defined.

    `use_test_set` applies where the program has no --use_test_set flag;
    `channels` is the model's, for the image-file flags; `num_val` and
    `num_reference` size the in-memory parts of streamed sources.
    `model_image_shape` (a callable returning (H, W, C), asked only when
    needed) supplies an unset --crop_size and the channels. With image-file
    flags whose sizes default to None, images are preprocessed only for a file
    source or when --raw_size or --crop_size is given; otherwise in-memory
    data keeps its own size.
    """
    from bigan_tf.data import DataConfig
    from bigan_tf.data.config import FILE_SOURCES
    from bigan_tf.data.image_sources import parse_label_list
    from bigan_tf.data.preprocessing import Preprocessing
    from bigan_tf.errors import ConfigError

    values = FLAGS.flag_values_dict()
    selection = {}
    if FLAGS.dataset in FILE_SOURCES and "raw_size" not in values:
        raise ConfigError(f"--dataset={FLAGS.dataset} (image files) is read by "
                          "trainers.train_imagenet and trainers.finetune; this program reads "
                          "mnist, fashion_mnist, idx, hdf5 or tfds:NAME.")
    if "raw_size" in values:
        labels = parse_label_list(FLAGS.include_labels)
        selection = dict(max_labels=FLAGS.max_labels,
                         include_labels=tuple(labels) if labels else None,
                         image_check=FLAGS.image_check, bad_images=FLAGS.bad_images)
        if FLAGS.raw_size or FLAGS.crop_size or FLAGS.dataset in FILE_SOURCES:
            crop_size = FLAGS.crop_size
            if model_image_shape is not None:
                shape = model_image_shape()
                channels = shape[2] if shape else channels
                crop_size = crop_size or (shape[0] if shape else None)
            if not crop_size:
                raise ConfigError("The model does not say its input size: give --crop_size.")
            selection["preprocessing"] = Preprocessing(FLAGS.raw_size or crop_size, crop_size,
                                                       channels, FLAGS.flip)
    root = find_data_dir(FLAGS.dataset, FLAGS.data_dir)
    return DataConfig(
        # Absolute: config.json must name the same folder from any working directory.
        source=FLAGS.dataset, root=os.path.abspath(root) if root else None,
        use_test_set=values.get("use_test_set", use_test_set), num_val=num_val,
        max_train_images=FLAGS.max_train_images, num_reference=num_reference,
        seed=values.get("seed", 0), **selection).validate()
