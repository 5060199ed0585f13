"""Natural-image data sets: file lists, class folders and TFDS, as `tf.data` pipelines.

Three sources give (image, label) examples:

* a Caffe-style list file (the original's ImageNet layout): `train.txt` /
  `val.txt` with one `relative/path.JPEG label` per line under a root folder;
  when `<root><raw_size>` exists (made by `trainers.resize_imageset`) it is
  used instead of `<root>` (the original's `./data/imagenet{raw_size}`);
* a folder of class sub-folders (`root/<class name>/<image>`), classes
  numbered in sorted order; files without an image extension are skipped and
  counted, an empty class keeps its number and is reported;
* a TensorFlow Datasets image data set by name (`imagenet2012`,
  `imagenet_resized/64x64`, `cifar10`, `svhn_cropped`, `celeb_a`, ...); data
  sets without a "label" feature (celeb_a) get label 0 for every image, so
  their NNC/CLS figures mean nothing.

Every example is preprocessed as the original's data provider does
(official_code_notes.md §3.4): the short edge is resized to `raw_size` with
an antialiasing filter (skipped when it already has that size), then a
`crop_size` square is cut, at random for training and from the centre for
evaluation; optionally flipped (the original never flips). Pixels stay uint8
until batching and reach the model as float32 in [0, 1] (the networks map
them to [−1, 1] inside). Departure: the original resizes with PIL's
ANTIALIAS (Lanczos); we use TensorFlow's antialiased bilinear (triangle)
filter, which is several times cheaper in the input pipeline.

Training streams from the files with parallel decoding and prefetching; the
order of every epoch and every random crop are pure functions of (seed,
epoch, position), so a resumed run sees the batches an uninterrupted one
would (file sources; a TFDS stream is reshuffled with a seeded buffer and is
not replayed exactly on resume). Evaluation sets (validation images and the
kNN reference images) are decoded once into memory with centre crops.

Missing or undecodable files are found before training (`check_images`) and
reported by name: `on_bad="fail"` stops with the list, `"skip"` drops them
and reports the count.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.data.pipeline import ImageData, epoch_permutation, to_model_range
from bigan_tf.data.tfds_source import tfds_load
from bigan_tf.errors import ConfigError, DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
BAD_IMAGE_POLICIES = ("fail", "skip")
IMAGE_CHECKS = ("header", "full", "none")
# How many bad files an error message names before "and N more".
_NAMED_BAD_FILES = 5


@dataclasses.dataclass
class ImageList:
    """Image files with int labels, and what was noticed while listing them."""

    paths: List[str]
    labels: np.ndarray
    source: str
    class_names: Optional[List[str]] = None
    notes: List[str] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, index, note: Optional[str] = None) -> "ImageList":
        index = np.asarray(index, np.int64)
        notes = self.notes + ([note] if note else [])
        return ImageList([self.paths[i] for i in index], self.labels[index], self.source,
                         self.class_names, notes)


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Short-edge resize to `raw_size`, `crop_size` crop, optional flip, `channels`."""

    raw_size: int = 72
    crop_size: int = 64
    channels: int = 3
    flip: bool = False

    def validate(self) -> "Preprocessing":
        if self.crop_size < 1 or self.raw_size < self.crop_size:
            raise ConfigError(f"--raw_size ({self.raw_size}) must be >= --crop_size "
                              f"({self.crop_size}) >= 1: the crop is cut from the resized image.")
        if self.channels not in (1, 3):
            raise ConfigError(f"Images are read with 1 or 3 channels, not {self.channels}.")
        return self

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return (self.crop_size, self.crop_size, self.channels)


# ----------------------------------------------------------------- listing
def read_list_file(list_path: str, root: str) -> ImageList:
    """A Caffe-style list: lines `relative/path label` (paths may contain spaces)."""
    if not os.path.isfile(list_path):
        raise DataError(f"Image list {list_path} does not exist.")
    paths, labels = [], []
    with open(list_path) as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.rsplit(None, 1)
            if len(fields) != 2:
                raise DataError(f"{list_path}, line {number}: expected 'relative/path label', "
                                f"got {line!r}.")
            try:
                label = int(fields[1])
            except ValueError:
                raise DataError(f"{list_path}, line {number}: the label must be an integer, "
                                f"got {fields[1]!r}.") from None
            if label < 0:
                raise DataError(f"{list_path}, line {number}: labels must be >= 0, got {label}.")
            paths.append(os.path.join(root, fields[0]))
            labels.append(label)
    if not paths:
        raise DataError(f"Image list {list_path} lists no images.")
    return ImageList(paths, np.asarray(labels, np.int32), source=f"list:{list_path}")


def presized_root(root: str, raw_size: int) -> str:
    """`<root><raw_size>` when that folder exists (resize_imageset's output), else root."""
    candidate = root.rstrip("/\\") + str(raw_size)
    return candidate if os.path.isdir(candidate) else root


def scan_class_folders(root: str) -> ImageList:
    """`root/<class>/<file>` -> an ImageList; classes numbered in sorted name order."""
    if not os.path.isdir(root):
        raise DataError(f"Image folder {root} does not exist.")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not classes:
        raise DataError(f"{root} has no class sub-folders (expected root/<class>/<image>).")
    paths, labels, skipped, empty = [], [], [], []
    for label, name in enumerate(classes):
        found = 0
        for directory, _, files in sorted(os.walk(os.path.join(root, name))):
            for file in sorted(files):
                path = os.path.join(directory, file)
                if file.lower().endswith(IMAGE_EXTENSIONS):
                    paths.append(path)
                    labels.append(label)
                    found += 1
                else:
                    skipped.append(os.path.relpath(path, root))
        if not found:
            empty.append(name)
    notes = []
    if skipped:
        notes.append(f"skipped {len(skipped)} non-image file(s) in {root}: "
                     f"{_some(skipped)}")
    if empty:
        notes.append(f"{len(empty)} class folder(s) in {root} hold no images (their labels "
                     f"stay reserved): {_some(empty)}")
    if not paths:
        raise DataError(f"No image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}.")
    return ImageList(paths, np.asarray(labels, np.int32), f"folder:{root}", classes, notes)


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_NAMED_BAD_FILES])
    more = len(names) - _NAMED_BAD_FILES
    return shown + (f" and {more} more" if more > 0 else "")


def parse_label_list(text: Optional[str]) -> Optional[List[int]]:
    """'3,7, 12' -> [3, 7, 12]; None/'' -> None; a clear error otherwise."""
    if not text:
        return None
    try:
        labels = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--include_labels must be comma-separated integers, got {text!r}.") \
            from None
    if not labels or min(labels) < 0:
        raise ConfigError(f"--include_labels must list labels >= 0, got {text!r}.")
    return labels


def label_mask(labels: np.ndarray, max_labels: Optional[int] = None,
               include_labels: Optional[Sequence[int]] = None) -> np.ndarray:
    """Which examples to keep: labels < max_labels and/or in include_labels."""
    keep = np.ones(len(labels), bool)
    if max_labels:
        keep &= labels < max_labels
    if include_labels:
        keep &= np.isin(labels, np.asarray(include_labels))
    return keep


def select_images(images: ImageList, max_labels: Optional[int] = None,
                  include_labels: Optional[Sequence[int]] = None,
                  max_images: Optional[int] = None, seed: int = 0) -> ImageList:
    """The original's --max_labels / --include_labels / --max_images.

    `max_images` keeps a seeded random subset (in list order), so a list sorted
    by class still gives a mix of classes.
    """
    keep = np.flatnonzero(label_mask(images.labels, max_labels, include_labels))
    if not len(keep):
        raise DataError(f"No images of {images.source} have the selected labels "
                        f"(max_labels={max_labels}, include_labels={include_labels}).")
    if max_images and len(keep) > max_images:
        keep = np.sort(np.random.RandomState(seed).choice(keep, max_images, replace=False))
    return images.subset(keep)


# ---------------------------------------------------------------- checking
def _check_one(path: str, full: bool) -> Optional[str]:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            if full:
                image.load()
    except FileNotFoundError:
        return "missing"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        return f"undecodable: {type(e).__name__}"
    return None


def check_images(images: ImageList, mode: str = "header", on_bad: str = "fail",
                 workers: int = 16) -> ImageList:
    """Finds missing and undecodable files before training, and fails or drops them.

    `mode`: "header" opens each file and parses its header (fast: catches
    missing, non-image and garbage files), "full" also decodes the pixels
    (catches truncated files), "none" trusts the list. `on_bad="skip"` drops
    the bad files and adds a note with their count and names; "fail" raises
    `DataError` naming them.
    """
    if mode not in IMAGE_CHECKS:
        raise ConfigError(f"--image_check must be one of {IMAGE_CHECKS}, got {mode!r}.")
    if on_bad not in BAD_IMAGE_POLICIES:
        raise ConfigError(f"--bad_images must be one of {BAD_IMAGE_POLICIES}, got {on_bad!r}.")
    if mode == "none":
        return images
    with concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
        problems = list(pool.map(lambda p: _check_one(p, mode == "full"), images.paths,
                                 chunksize=64))
    bad = [i for i, problem in enumerate(problems) if problem]
    if not bad:
        return images
    named = [f"{images.paths[i]} ({problems[i]})" for i in bad]
    if on_bad == "fail":
        raise DataError(f"{len(bad)} of {len(images)} images of {images.source} cannot be "
                        f"read: {_some(named)}. Fix or remove them, or pass "
                        "--bad_images=skip to leave them out.")
    good = np.setdiff1d(np.arange(len(images)), bad)
    if not len(good):
        raise DataError(f"None of the {len(images)} images of {images.source} can be read, "
                        f"e.g. {_some(named)}.")
    return images.subset(good, note=f"skipped {len(bad)} unreadable image(s): {_some(named)}")


# ----------------------------------------------------------- preprocessing
def decode(contents: tf.Tensor, channels: int) -> tf.Tensor:
    """Encoded JPEG/PNG/BMP/GIF bytes -> uint8 [H, W, channels] (gray is replicated)."""
    image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def with_channels(images: tf.Tensor, channels: int) -> tf.Tensor:
    """Gray replicated to RGB, or RGB to luminance, when the channel count differs."""
    if images.shape[-1] == channels:
        return images
    return tf.image.grayscale_to_rgb(images) if channels == 3 else tf.image.rgb_to_grayscale(images)


def resize_short_edge(image: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 [H, W, C] -> uint8 with min(H, W) = size, aspect kept, antialiased."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.minimum(height, width)
    new_size = tf.maximum(tf.cast(tf.round(tf.stack([height, width]) * scale), tf.int32), size)

    def resized():
        out = tf.image.resize(image, new_size, method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)

    already = tf.reduce_all(tf.equal(tf.minimum(shape[0], shape[1]), size))
    return tf.cond(already, lambda: image, resized)


def center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    shape = tf.shape(image)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return image[top:top + size, left:left + size]


def preprocess(image: tf.Tensor, config: Preprocessing, training: bool,
               seed: Optional[tf.Tensor] = None) -> tf.Tensor:
    """uint8 [H, W, C] -> uint8 [crop, crop, C]: resize, crop (random if training), flip.

    `seed` (shape [2] int) makes the training crop and flip stateless.
    """
    image = resize_short_edge(image, config.raw_size)
    if training:
        seeds = tf.random.experimental.stateless_split(seed, 2)
        image = tf.image.stateless_random_crop(
            image, [config.crop_size, config.crop_size, config.channels], seed=seeds[0])
        if config.flip:
            image = tf.image.stateless_random_flip_left_right(image, seed=seeds[1])
    else:
        image = center_crop(image, config.crop_size)
    image.set_shape(config.image_shape)
    return image


def _file_examples(images: ImageList, config: Preprocessing, training: bool):
    """A function (index, seed) -> (uint8 crop, label) reading images.paths[index]."""
    paths = tf.constant(images.paths)
    labels = tf.constant(images.labels, tf.int32)

    def load(index, seed):
        image = decode(tf.io.read_file(paths[index]), config.channels)
        return preprocess(image, config, training, seed), labels[index]
    return load


def _to_batch(images, labels, flatten: bool):
    return to_model_range(images, flatten), labels


def _distribution_options() -> tf.data.Options:
    options = tf.data.Options()
    # Every worker reads the same (seeded) order and takes its own slice of each batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def file_training_dataset(images: ImageList, config: Preprocessing, batch_size: int, seed: int,
                          first_epoch: int, last_epoch: int, flatten: bool = False
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
        raise ConfigError(f"--batch_size {batch_size} is larger than the training set "
                          f"({n} images).")
    load = _file_examples(images, config, training=True)
    base_seed = tf.constant(seed, tf.int64)

    used = (n // batch_size) * batch_size  # whole batches per epoch, as steps_per_epoch counts

    def epoch_examples(epoch):
        order = tf.cast(epoch_permutation(n, seed, epoch), tf.int64)[:used]
        keys = tf.cast(epoch, tf.int64) * n + tf.range(used, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((order, keys))

    def example(index, key):
        return load(index, tf.stack([base_seed, key]))

    dataset = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(epoch_examples)
    dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.map(lambda x, y: _to_batch(x, y, flatten))
    return dataset.with_options(_distribution_options()).prefetch(tf.data.AUTOTUNE)


def load_file_images(images: ImageList, config: Preprocessing, limit: Optional[int] = None,
                     seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, crop, crop, C] centre crops, int32 labels) of up to `limit` files.

    With a limit below the list's length, a seeded random subset (in list order).
    """
    index = np.arange(len(images))
    if limit and limit < len(images):
        index = np.sort(np.random.RandomState(seed).choice(index, limit, replace=False))
    load = _file_examples(images, config, training=False)
    dataset = tf.data.Dataset.from_tensor_slices(index).map(
        lambda i: load(i, tf.zeros([2], tf.int64)), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True).batch(256).prefetch(tf.data.AUTOTUNE)
    return _collect(dataset, images.source)


def _collect(dataset: tf.data.Dataset, source: str) -> Tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    try:
        for x, y in dataset.as_numpy_iterator():
            xs.append(x)
            ys.append(y)
    except tf.errors.InvalidArgumentError as e:
        raise DataError(f"An image of {source} could not be decoded ({e.message.splitlines()[0]}); "
                        "run with --image_check=full to find it by name.") from None
    if not xs:
        raise DataError(f"{source} gave no images.")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


# -------------------------------------------------------------------- TFDS
def _tfds_split(name: str, split: str, data_dir: Optional[str], shuffle_seed=None,
                decoders=None) -> tf.data.Dataset:
    """(image, label) pairs of a TFDS split; data sets without a "label" (celeb_a) get 0."""
    import tensorflow_datasets as tfds  # Imported lazily: only TFDS users pay for it.
    read_config = tfds.ReadConfig(shuffle_seed=shuffle_seed) if shuffle_seed is not None else None
    examples = tfds_load(name, split, data_dir, decoders=decoders,
                         shuffle_files=shuffle_seed is not None, read_config=read_config)

    def pair(example):
        if "image" not in example:
            raise DataError(f"TFDS dataset {name!r} has no 'image' feature "
                            f"(features: {sorted(example)}).")
        label = example["label"] if "label" in example else tf.constant(0, tf.int64)
        return example["image"], label
    return examples.map(pair)


def _keeps_label(max_labels, include_labels):
    """A tf predicate on a label: < max_labels and/or in include_labels (None: keep all)."""
    if not (max_labels or include_labels):
        return None

    def keep(label):
        ok = tf.constant(True)
        if max_labels:
            ok = tf.logical_and(ok, label < max_labels)
        if include_labels:
            ok = tf.logical_and(ok, tf.reduce_any(tf.equal(label, tf.constant(
                include_labels, label.dtype))))
        return ok
    return keep


def _tfds_selected(dataset: tf.data.Dataset, channels: int, max_labels, include_labels,
                   max_images) -> tf.data.Dataset:
    def to_channels(image, label):
        return with_channels(tf.cast(image, tf.uint8), channels), tf.cast(label, tf.int32)

    keep = _keeps_label(max_labels, include_labels)
    if keep is not None:
        dataset = dataset.filter(lambda image, label: keep(label))
    if max_images:
        dataset = dataset.take(max_images)
    return dataset.map(to_channels)


def _count_tfds(name: str, split: str, data_dir, max_labels, include_labels, max_images) -> int:
    """Examples of a TFDS split after selection, counted without decoding any image."""
    import tensorflow_datasets as tfds
    labels = _tfds_split(name, split, data_dir, decoders={"image": tfds.decode.SkipDecoding()})
    labels = labels.map(lambda _, y: y)
    keep = _keeps_label(max_labels, include_labels)
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

    def training_dataset(self, batch_size: int, seed: int, first_epoch: int, last_epoch: int,
                         flatten: bool = False) -> tf.data.Dataset:
        return self.stream(batch_size, seed, first_epoch, last_epoch, flatten)

    def take(self, num_train=None, num_val=None) -> "StreamedImageData":
        taken = super().take(num_train, num_val)
        return dataclasses.replace(self, train_images=taken.train_images,
                                   train_labels=taken.train_labels,
                                   val_images=taken.val_images, val_labels=taken.val_labels)


def load_image_folder_data(source: str, root: str, config: Preprocessing,
                           max_labels: Optional[int] = None,
                           include_labels: Optional[Sequence[int]] = None,
                           max_images: Optional[int] = None, num_val: int = 10000,
                           num_reference: int = 50000, image_check: str = "header",
                           on_bad: str = "fail", seed: int = 0) -> StreamedImageData:
    """Training + validation images from files.

    `source` is "list" (root/train.txt and root/val.txt, images under
    `presized_root(root, raw_size)`) or "folder" (root/train/<class>/... and
    root/val/<class>/...; without a val/ folder a fixed-seed 10% of train/
    validates).
    """
    config.validate()
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
            raise DataError(f"The class folders of {val.source} ({len(val.class_names)}) differ "
                            f"from those of {train.source} ({len(train.class_names)}).")
    else:
        raise ConfigError(f"Unknown image source {source!r}; expected list or folder.")
    train = check_images(select_images(train, max_labels, include_labels, max_images, seed),
                         image_check, on_bad)
    val = check_images(select_images(val, max_labels, include_labels, None, seed),
                       image_check, on_bad)
    val_images, val_labels = load_file_images(val, config, num_val, seed)
    reference_images, reference_labels = load_file_images(train, config, num_reference, seed)
    label_count = int(max(train.labels.max(), val.labels.max())) + 1
    if train.class_names:
        label_count = max(label_count, min(len(train.class_names), max_labels or 1 << 30))

    def stream(batch_size, run_seed, first_epoch, last_epoch, flatten):
        return file_training_dataset(train, config, batch_size, run_seed, first_epoch,
                                     last_epoch, flatten)

    return StreamedImageData(reference_images, reference_labels, val_images, val_labels,
                             source=f"{source}:{root}", stream=stream, num_stream=len(train),
                             label_count=label_count, notes=train.notes + val.notes)


def load_tfds_image_data(name: str, config: Preprocessing, data_dir: Optional[str] = None,
                         max_labels: Optional[int] = None,
                         include_labels: Optional[Sequence[int]] = None,
                         max_images: Optional[int] = None, num_val: int = 10000,
                         num_reference: int = 50000, train_split: str = "train",
                         val_split: Optional[str] = None, shuffle_buffer: int = 10000,
                         seed: int = 0) -> StreamedImageData:
    """A TFDS image data set streamed through the same preprocessing.

    `val_split` defaults to "validation" when the data set has one, else "test".
    The number of training examples is counted once, reading the labels only
    (no image is decoded).
    """
    config.validate()
    select = dict(channels=config.channels, max_labels=max_labels,
                  include_labels=include_labels)
    train_raw = _tfds_selected(_tfds_split(name, train_split, data_dir), max_images=max_images,
                               **select)
    if val_split is None:
        val_split = "validation"
        try:
            _tfds_split(name, val_split, data_dir)
        except DataError:
            val_split = "test"
    val_raw = _tfds_selected(_tfds_split(name, val_split, data_dir), max_images=None, **select)

    def evaluation_set(dataset, limit):
        crops = dataset.take(limit).map(
            lambda image, label: (preprocess(image, config, False), label),
            num_parallel_calls=tf.data.AUTOTUNE).batch(256)
        return _collect(crops, f"tfds:{name}")

    val_images, val_labels = evaluation_set(val_raw, num_val)
    reference_images, reference_labels = evaluation_set(train_raw, num_reference)
    num_train = _count_tfds(name, train_split, data_dir, max_labels, include_labels, max_images)

    def stream(batch_size, run_seed, first_epoch, last_epoch, flatten):
        if num_train < batch_size:
            raise ConfigError(f"--batch_size {batch_size} is larger than the training set "
                              f"({num_train} images).")
        shuffled = _tfds_selected(_tfds_split(name, train_split, data_dir, shuffle_seed=run_seed),
                                  max_images=max_images, **select)
        shuffled = shuffled.shuffle(shuffle_buffer, seed=run_seed, reshuffle_each_iteration=True)
        dataset = tf.data.Dataset.zip((shuffled.repeat(last_epoch - first_epoch),
                                       tf.data.Dataset.range(first_epoch * num_train,
                                                             last_epoch * num_train)))
        base_seed = tf.constant(run_seed, tf.int64)
        dataset = dataset.map(
            lambda example, key: (preprocess(example[0], config, True,
                                             tf.stack([base_seed, key])), example[1]),
            num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.batch(batch_size, drop_remainder=True)
        dataset = dataset.map(lambda x, y: _to_batch(x, y, flatten))
        return dataset.with_options(_distribution_options()).prefetch(tf.data.AUTOTUNE)

    label_count = int(max(reference_labels.max(), val_labels.max())) + 1
    return StreamedImageData(reference_images, reference_labels, val_images, val_labels,
                             source=f"tfds:{name}", stream=stream, num_stream=num_train,
                             label_count=label_count)


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
            x = with_channels(tf.image.resize(tf.constant(images[start:start + 4096]),
                                              [size, size], method="bilinear", antialias=True),
                              channels)
            out.append(tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8).numpy())
        return np.concatenate(out)

    return dataclasses.replace(data, train_images=convert(data.train_images),
                               val_images=convert(data.val_images),
                               source=f"{data.source}@{size}px")


def match_image_shape(data: ImageData, image_shape: Sequence[int]) -> ImageData:
    """`data` resized to a model's (square) input shape when it differs, e.g. MNIST for a
    32-px RGB convolutional encoder; a clear error when no resize can make it fit."""
    image_shape = tuple(int(d) for d in image_shape)
    if data.image_shape == image_shape:
        return data
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] not in (1, 3):
        raise DataError(f"The images of {data.source} are {data.image_shape} but the model "
                        f"reads {image_shape}: give data of that shape.")
    return resize_image_data(data, image_shape[0], image_shape[2])
