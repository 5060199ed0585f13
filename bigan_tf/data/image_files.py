"""Natural-image data sets as `tf.data` pipelines: file lists, class folders, TFDS.

The examples of a source (`bigan_tf.data.image_sources` for files, a
TensorFlow Datasets image data set by name: `imagenet2012`,
`imagenet_resized/64x64`, `cifar10`, `svhn_cropped`, `celeb_a`, ...; sets
without a "label" feature, like celeb_a, get label 0, so their NNC/CLS
figures mean nothing) are preprocessed as the original's data provider does
(`bigan_tf.data.preprocessing`) and reach the model as float32 in [0, 1]
(the networks map them to [−1, 1] inside).

Training streams from the files with parallel decoding and prefetching; the
order of every epoch and every random crop are pure functions of (seed,
epoch, position), so a resumed run sees the batches an uninterrupted one
would (file sources; a TFDS stream is reshuffled with a seeded buffer and is
not replayed exactly on resume). Evaluation sets (validation images and the
kNN reference images) are decoded once into memory with centre crops.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.data.image_sources import (
    ImageList,
    check_images,
    label_predicate,
    presized_root,
    read_list_file,
    scan_class_folders,
    select_images,
)
from bigan_tf.data.pipeline import ImageData, epoch_permutation, to_model_range
from bigan_tf.data.preprocessing import Preprocessing, decode, preprocess, with_channels
from bigan_tf.data.tfds_source import tfds_pairs
from bigan_tf.errors import ConfigError, DataError


def _file_examples(images: ImageList, config: Preprocessing, training: bool):
    """A function (index, seed) -> (uint8 crop, label) reading images.paths[index]."""
    paths = tf.constant(images.paths)
    labels = tf.constant(images.labels, tf.int32)

    def load(index, seed):
        image = decode(tf.io.read_file(paths[index]), config.channels)
        return preprocess(image, config, training, seed), labels[index]

    return load


def _to_batch(images, labels):
    return to_model_range(images), labels


def _distribution_options() -> tf.data.Options:
    options = tf.data.Options()
    # Every worker reads the same (seeded) order and takes its own slice of each batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def file_training_dataset(
    images: ImageList,
    config: Preprocessing,
    batch_size: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
) -> tf.data.Dataset:
    """Batches of (x float32 [B, crop, crop, C] in [0, 1], labels) for [first, last) epochs.

    Epoch e visits the files in `epoch_permutation(n, seed, e)` order (the
    remainder of a whole number of batches is left out, as `fit`'s
    steps_per_epoch = n // batch_size does); the crop of the file at position p
    is keyed by (seed, e·n + p). Decoding runs in
    parallel (AUTOTUNE) and batches are prefetched.
    """
    n = len(images)
    if n < batch_size:
        raise ConfigError(
            f"--batch_size {batch_size} is larger than the training set ({n} images)."
        )
    load = _file_examples(images, config, training=True)
    base_seed = tf.constant(seed, tf.int64)

    used = (n // batch_size) * batch_size  # whole batches per epoch, as steps_per_epoch counts

    def epoch_examples(epoch: int):
        order = tf.cast(epoch_permutation(n, seed, epoch), tf.int64)[:used]
        keys = tf.cast(epoch, tf.int64) * n + tf.range(used, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((order, keys))

    def example(index, key):
        return load(index, tf.stack([base_seed, key]))

    dataset = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(epoch_examples)
    dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.map(_to_batch)
    return dataset.with_options(_distribution_options()).prefetch(tf.data.AUTOTUNE)


def load_file_images(
    images: ImageList, config: Preprocessing, limit: Optional[int] = None, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, crop, crop, C] centre crops, int32 labels) of up to `limit` files.

    With a limit below the list's length, a seeded random subset (in list order).
    """
    index = np.arange(len(images))
    if limit and limit < len(images):
        index = np.sort(np.random.RandomState(seed).choice(index, limit, replace=False))
    load = _file_examples(images, config, training=False)
    dataset = (
        tf.data.Dataset.from_tensor_slices(index)
        .map(
            lambda i: load(i, tf.zeros([2], tf.int64)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        .batch(256)
        .prefetch(tf.data.AUTOTUNE)
    )
    return _collect(dataset, images.source)


def _collect(dataset: tf.data.Dataset, source: str) -> Tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    try:
        for x, y in dataset.as_numpy_iterator():
            xs.append(x)
            ys.append(y)
    except tf.errors.InvalidArgumentError as e:
        raise DataError(
            f"An image of {source} could not be decoded ({e.message.splitlines()[0]}); "
            "run with --image_check=full to find it by name."
        ) from None
    if not xs:
        raise DataError(f"{source} gave no images.")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


# -------------------------------------------------------------------- TFDS
def _tfds_selected(
    dataset: tf.data.Dataset, channels: int, max_labels, include_labels, max_images
) -> tf.data.Dataset:
    def to_channels(image, label):
        return with_channels(tf.cast(image, tf.uint8), channels), tf.cast(label, tf.int32)

    keep = label_predicate(max_labels, include_labels)
    if keep is not None:
        dataset = dataset.filter(lambda image, label: keep(label))
    if max_images:
        dataset = dataset.take(max_images)
    return dataset.map(to_channels)


def _count_tfds(name: str, split: str, data_dir, max_labels, include_labels, max_images) -> int:
    """Examples of a TFDS split after selection, counted without decoding any image."""
    import tensorflow_datasets as tfds

    labels = tfds_pairs(name, split, data_dir, decoders={"image": tfds.decode.SkipDecoding()})
    labels = labels.map(lambda _, y: y)
    keep = label_predicate(max_labels, include_labels)
    if keep is not None:
        labels = labels.filter(keep)
    if max_images:
        labels = labels.take(max_images)
    return int(labels.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))


# -------------------------------------------------------------- data sets
@dataclasses.dataclass
class StreamedImageData(ImageData):
    """An `ImageData` whose training examples stream from files (or TFDS).

    `train_images` holds only the in-memory kNN reference / deploy images
    (centre crops of training images); `num_train` counts the whole training
    stream and `training_dataset` reads it.
    """

    stream: Optional[Callable[..., tf.data.Dataset]] = None
    num_stream: int = 0
    label_count: int = 0
    notes: List[str] = dataclasses.field(default_factory=list)

    @property
    def num_train(self) -> int:
        return self.num_stream

    @property
    def num_classes(self) -> int:
        return max(self.label_count, super().num_classes)

    def training_dataset(
        self, batch_size: int, seed: int, first_epoch: int, last_epoch: int
    ) -> tf.data.Dataset:
        if self.stream is None:
            raise ValueError("A StreamedImageData needs its stream function.")
        return self.stream(batch_size, seed, first_epoch, last_epoch)


def load_image_folder_data(
    source: str,
    root: str,
    config: Preprocessing,
    max_labels: Optional[int] = None,
    include_labels: Optional[Sequence[int]] = None,
    max_images: Optional[int] = None,
    num_val: int = 10000,
    num_reference: int = 50000,
    image_check: str = "header",
    on_bad: str = "fail",
    seed: int = 0,
) -> StreamedImageData:
    """Training + validation images from files.

    `source` is "list" (root/train.txt and root/val.txt, images under
    `presized_root(root, raw_size)`) or "folder" (root/train/<class>/... and
    root/val/<class>/...; without a val/ folder a fixed-seed 10% of train/
    validates).
    """
    config.validate()
    train: ImageList
    val: Optional[ImageList]
    if source == "list":
        image_root = presized_root(root, config.raw_size)
        train = read_list_file(os.path.join(root, "train.txt"), image_root)
        val = read_list_file(os.path.join(root, "val.txt"), image_root)
    elif source == "folder":
        train_dir = os.path.join(root, "train")
        if os.path.isdir(train_dir):
            train = scan_class_folders(train_dir)
            val_dir = os.path.join(root, "val")
            val = scan_class_folders(val_dir) if os.path.isdir(val_dir) else None
        else:
            train, val = scan_class_folders(root), None
        if val is None:
            order = np.random.RandomState(seed).permutation(len(train))
            held = max(1, min(num_val, len(train) // 10))
            val = train.subset(np.sort(order[:held]))
            train = train.subset(np.sort(order[held:]))
        elif val.class_names != train.class_names:
            raise DataError(
                f"The class folders of {val.source} ({len(val.class_names or [])}) "
                f"differ from those of {train.source} "
                f"({len(train.class_names or [])})."
            )
    else:
        raise ConfigError(f"Unknown image source {source!r}; expected list or folder.")
    if val is None:  # a list file always names its validation images
        raise DataError(f"{root} has no validation images.")
    train = check_images(
        select_images(train, max_labels, include_labels, max_images, seed), image_check, on_bad
    )
    val = check_images(
        select_images(val, max_labels, include_labels, None, seed), image_check, on_bad
    )
    val_images, val_labels = load_file_images(val, config, num_val, seed)
    reference_images, reference_labels = load_file_images(train, config, num_reference, seed)
    label_count = int(max(train.labels.max(), val.labels.max())) + 1
    if train.class_names:
        label_count = max(label_count, min(len(train.class_names), max_labels or 1 << 30))

    def stream(batch_size, run_seed, first_epoch, last_epoch):
        return file_training_dataset(train, config, batch_size, run_seed, first_epoch, last_epoch)

    return StreamedImageData(
        reference_images,
        reference_labels,
        val_images,
        val_labels,
        source=f"{source}:{root}",
        stream=stream,
        num_stream=len(train),
        label_count=label_count,
        notes=train.notes + val.notes,
    )


def load_tfds_image_data(
    name: str,
    config: Preprocessing,
    data_dir: Optional[str] = None,
    max_labels: Optional[int] = None,
    include_labels: Optional[Sequence[int]] = None,
    max_images: Optional[int] = None,
    num_val: int = 10000,
    num_reference: int = 50000,
    train_split: str = "train",
    val_split: Optional[str] = None,
    shuffle_buffer: int = 10000,
    seed: int = 0,
) -> StreamedImageData:
    """A TFDS image data set streamed through the same preprocessing.

    `val_split` defaults to "validation" when the data set has one, else "test".
    The number of training examples is counted once, reading the labels only
    (no image is decoded).
    """
    config.validate()
    select: Dict[str, Any] = dict(
        channels=config.channels, max_labels=max_labels, include_labels=include_labels
    )
    train_raw = _tfds_selected(
        tfds_pairs(name, train_split, data_dir), max_images=max_images, **select
    )
    if val_split is None:
        val_split = "validation"
        try:
            tfds_pairs(name, val_split, data_dir)
        except DataError:
            val_split = "test"
    val_raw = _tfds_selected(tfds_pairs(name, val_split, data_dir), max_images=None, **select)

    def evaluation_set(dataset, limit):
        crops = (
            dataset.take(limit)
            .map(
                lambda image, label: (preprocess(image, config, False), label),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .batch(256)
        )
        return _collect(crops, f"tfds:{name}")

    val_images, val_labels = evaluation_set(val_raw, num_val)
    reference_images, reference_labels = evaluation_set(train_raw, num_reference)
    num_train = _count_tfds(name, train_split, data_dir, max_labels, include_labels, max_images)

    def stream(batch_size, run_seed, first_epoch, last_epoch):
        if num_train < batch_size:
            raise ConfigError(
                f"--batch_size {batch_size} is larger than the training set ({num_train} images)."
            )
        shuffled = _tfds_selected(
            tfds_pairs(name, train_split, data_dir, shuffle_seed=run_seed),
            max_images=max_images,
            **select,
        )
        shuffled = shuffled.shuffle(shuffle_buffer, seed=run_seed, reshuffle_each_iteration=True)
        dataset = tf.data.Dataset.zip(
            (
                shuffled.repeat(last_epoch - first_epoch),
                tf.data.Dataset.range(first_epoch * num_train, last_epoch * num_train),
            )
        )
        base_seed = tf.constant(run_seed, tf.int64)
        dataset = dataset.map(
            lambda example, key: (
                preprocess(example[0], config, True, tf.stack([base_seed, key])),
                example[1],
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        dataset = dataset.batch(batch_size, drop_remainder=True)
        dataset = dataset.map(_to_batch)
        return dataset.with_options(_distribution_options()).prefetch(tf.data.AUTOTUNE)

    label_count = int(max(reference_labels.max(), val_labels.max())) + 1
    return StreamedImageData(
        reference_images,
        reference_labels,
        val_images,
        val_labels,
        source=f"tfds:{name}",
        stream=stream,
        num_stream=num_train,
        label_count=label_count,
    )


def resize_image_data(data: ImageData, size: int, channels: int = 3) -> ImageData:
    """In-memory images resized (antialiased) to size×size with `channels` channels.

    For MNIST-format data on the convolutional networks: e.g. Fashion-MNIST's
    28×28×1 becomes 32×32×3 (gray replicated).
    """

    def convert(images):
        if not len(images):
            return np.zeros((0, size, size, channels), np.uint8)
        out = []
        for start in range(0, len(images), 4096):
            x = with_channels(
                tf.image.resize(
                    tf.constant(images[start : start + 4096]),
                    [size, size],
                    method="bilinear",
                    antialias=True,
                ),
                channels,
            )
            out.append(tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8).numpy())
        return np.concatenate(out)

    return dataclasses.replace(
        data,
        train_images=convert(data.train_images),
        val_images=convert(data.val_images),
        source=f"{data.source}@{size}px",
    )


def match_image_shape(data: ImageData, image_shape: Sequence[int]) -> ImageData:
    """`data` resized to a model's (square) input shape when it differs, e.g. MNIST for a
    32-px RGB convolutional encoder; a clear error when no resize can make it fit."""
    image_shape = tuple(int(d) for d in image_shape)
    if data.image_shape == image_shape:
        return data
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] not in (1, 3):
        raise DataError(
            f"The images of {data.source} are {data.image_shape} but the model "
            f"reads {image_shape}: give data of that shape."
        )
    return resize_image_data(data, image_shape[0], image_shape[2])
