"""Data sets in memory -> `tf.data` pipelines, and the MNIST split.

MNIST-sized data sets (tens of thousands of small images) live in memory as
uint8; the pipeline gathers shuffled index batches from them. The order of
every epoch is a permutation drawn from a stateless RNG keyed by (seed,
epoch), so a run resumed at epoch N sees exactly the batches an uninterrupted
run would.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.data.config import DataConfig
from bigan_tf.data.hdf5 import load_ssgan_hdf5
from bigan_tf.data.idx import load_idx_dataset
from bigan_tf.data.tfds_source import load_tfds_split
from bigan_tf.errors import ConfigError, DataError

# The original (`load.mnist_with_valid_set`) shuffles MNIST's 60,000 training
# images with `sklearn.utils.shuffle(random_state=RandomState(42))` (the RNG of its
# `lib/rng.py`, unused before the data are loaded) and holds out the last 10,000.
# That shuffle is `RandomState(42).permutation(n)`; every held-out split uses it, so
# MNIST's validation images are exactly the original's.
VALIDATION_SPLIT_SEED = 42
NUM_VALIDATION = 10000


@dataclasses.dataclass
class ImageData:
    """Training and validation images (uint8 [N, H, W, C]) with int32 labels.

    `config` is the `DataConfig` it was loaded from (`bigan_tf.data.load`), which
    runs record in config.json; None for data built by hand.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    source: str
    config: Optional[DataConfig] = None

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        height, width, channels = (int(d) for d in self.train_images.shape[1:])
        return height, width, channels

    @property
    def num_classes(self) -> int:
        return int(max(self.train_labels.max(), self.val_labels.max())) + 1

    @property
    def num_train(self) -> int:
        """Training examples per epoch."""
        return len(self.train_images)

    def record(self) -> Dict[str, Any]:
        """What config.json says about the data: its `DataConfig`, sizes and fingerprint."""
        return {
            "config": self.config.to_dict() if self.config else None,
            "source": self.source,
            "num_train": int(self.num_train),
            "num_val": int(len(self.val_images)),
            "fingerprint": self.fingerprint(),
        }

    def fingerprint(self) -> str:
        """A content hash of what was read: the in-memory training images' shape and
        256 of them evenly spaced, with their labels (cheap, and the same wherever
        the files lie). A resumed run that reads other data is refused on it."""
        images = np.asarray(self.train_images)
        picks = np.linspace(0, len(images) - 1, num=min(256, len(images))).astype(int)
        digest = hashlib.sha256(repr((images.shape, str(images.dtype))).encode())
        digest.update(np.ascontiguousarray(images[picks]).tobytes())
        digest.update(np.asarray(self.train_labels)[picks].astype(np.int64).tobytes())
        return f"sha256:{digest.hexdigest()[:16]}"

    def training_dataset(
        self, batch_size: int, seed: int, first_epoch: int, last_epoch: int
    ) -> tf.data.Dataset:
        """Batches of (images [B, H, W, C] in [0, 1], labels) of epochs [first_epoch, last_epoch)."""
        return training_dataset(
            self.train_images, self.train_labels, batch_size, seed, first_epoch, last_epoch
        )

    def take(self, num_train: Optional[int] = None, num_val: Optional[int] = None) -> "ImageData":
        """The first `num_train` / `num_val` examples (for quick runs and tests)."""
        return dataclasses.replace(
            self,
            train_images=self.train_images[:num_train],
            train_labels=self.train_labels[:num_train],
            val_images=self.val_images[:num_val],
            val_labels=self.val_labels[:num_val],
        )


def held_out_indices(
    num_examples: int, num_val: int = NUM_VALIDATION, seed: int = VALIDATION_SPLIT_SEED
) -> Tuple[np.ndarray, np.ndarray]:
    """(training indices, validation indices) of the original's held-out split.

    order = RandomState(seed).permutation(num_examples); the last `num_val` of
    `order` validate, in that order; the rest train, sorted (the training
    stream shuffles them anyway).
    """
    if not 0 < num_val < num_examples:
        raise DataError(f"Cannot hold out {num_val} validation images from {num_examples}.")
    order = np.random.RandomState(seed).permutation(num_examples)
    return np.sort(order[: num_examples - num_val]), order[num_examples - num_val :]


def split_validation(
    images: np.ndarray,
    labels: np.ndarray,
    num_val: int = NUM_VALIDATION,
    seed: int = VALIDATION_SPLIT_SEED,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, val images, val labels) of `held_out_indices`."""
    train, val = held_out_indices(len(images), num_val, seed)
    return images[train], labels[train], images[val], labels[val]


def load_image_data(
    dataset: str, data_dir: Optional[str], use_test_set: bool = False, num_val: int = NUM_VALIDATION
) -> ImageData:
    """Loads `dataset`: "mnist"/"fashion_mnist"/"idx" (IDX files in `data_dir`),
    "tfds:NAME", or "hdf5" (an SSGAN-format folder: data.hdf5 + id.txt).

    Without `use_test_set`, `num_val` training images are held out for
    validation and the rest train (the original's protocol); with it, all
    training images train and the test split validates. An HDF5 folder has no
    test split: a fixed-seed 10% of it (at most `num_val`) is held out either way.
    """
    if dataset == "hdf5":
        if not data_dir:
            raise ConfigError("--data_dir is required for --dataset=hdf5 (data.hdf5 + id.txt).")
        images, labels = load_ssgan_hdf5(data_dir)
        held_out = min(num_val, max(1, len(images) // 10))
        train_x, train_y, val_x, val_y = split_validation(images, labels, held_out)
        return ImageData(train_x, train_y, val_x, val_y, source=dataset)
    if dataset.startswith("tfds:"):
        name = dataset[len("tfds:") :]
        train = load_tfds_split(name, "train", data_dir)
        test = load_tfds_split(name, "test", data_dir) if use_test_set else None
    elif dataset in ("mnist", "fashion_mnist", "idx"):
        if not data_dir:
            raise ConfigError(
                f"--data_dir is required for --dataset={dataset} (a folder of IDX files)."
            )
        splits = load_idx_dataset(data_dir, ("train", "t10k") if use_test_set else ("train",))
        train, test = splits["train"], splits.get("t10k")
    else:
        raise ConfigError(
            f"Unknown --dataset {dataset!r}; expected mnist, fashion_mnist, idx "
            "(IDX files in --data_dir), hdf5 (an SSGAN-format folder) or "
            "tfds:NAME."
        )
    if use_test_set:
        if test is None:
            raise ConfigError(f"--dataset={dataset} has no test split in {data_dir}.")
        return ImageData(train[0], train[1], test[0], test[1], source=dataset)
    train_x, train_y, val_x, val_y = split_validation(train[0], train[1], num_val)
    return ImageData(train_x, train_y, val_x, val_y, source=dataset)


def to_model_range(images: tf.Tensor) -> tf.Tensor:
    """uint8 images [B, H, W, C] -> float32 in [0, 1], the same shape (what every network takes)."""
    return tf.cast(images, tf.float32) / 255.0


def epoch_permutation(num_examples: int, seed: int, epoch: int) -> tf.Tensor:
    """The shuffled example order of `epoch`, a pure function of (seed, epoch)."""
    keys = tf.random.stateless_uniform(
        [num_examples], seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    )
    return tf.argsort(keys)


def training_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
    steps_per_epoch: Optional[int] = None,
) -> tf.data.Dataset:
    """Batches of (images float32 in [0, 1], label) for epochs [first_epoch, last_epoch).

    Each epoch yields len(images) // batch_size full batches (`drop_remainder`),
    in the order `epoch_permutation(seed, epoch)`. Pass
    `steps_per_epoch=len(images) // batch_size` to `fit`. With
    `steps_per_epoch`, an epoch is that many batches instead, drawn from R
    successive permutations (keys epoch·R .. epoch·R + R − 1, R the fewest that
    suffice): a small labelled set is then passed over several times per
    epoch, still in an order that is a pure function of (seed, epoch).
    """
    if len(images) < batch_size:
        raise ConfigError(
            f"--batch_size {batch_size} is larger than the training set ({len(images)} images)."
        )
    images_t = tf.constant(images)
    labels_t = tf.constant(labels)
    n = len(images)
    passes = 1 if steps_per_epoch is None else -(-steps_per_epoch * batch_size // n)

    def epoch_batches(epoch: int):
        order = tf.concat(
            [epoch_permutation(n, seed, epoch * passes + i) for i in range(passes)], axis=0
        )
        if steps_per_epoch is not None:
            order = order[: steps_per_epoch * batch_size]
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    def gather(index):
        return to_model_range(tf.gather(images_t, index)), tf.gather(labels_t, index)

    dataset = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(epoch_batches)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    # In-memory data: each replica's slice comes from rebatching, not file sharding.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def balanced_subset(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of `per_class` examples of every class, chosen with a fixed seed.

    The draw is a pure function of (labels, per_class, seed); the indices come
    back sorted. Raises `DataError` if a class has fewer than `per_class`.
    """
    labels = np.asarray(labels)
    if per_class < 1:
        raise DataError(f"labels per class must be >= 1, got {per_class}.")
    rng = np.random.RandomState(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise DataError(
                f"Class {label} has only {len(members)} examples; cannot take "
                f"{per_class} labels per class."
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def ssgan_dataset(
    data: ImageData,
    labelled_index: np.ndarray,
    batch_size: int,
    labelled_batch_size: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
) -> tf.data.Dataset:
    """Batches ((x_u, y_u), (x_l, y_l)) for epochs [first_epoch, last_epoch).

    The unlabelled stream is `training_dataset` over every training image (its
    labels are never used); the labelled one draws `labelled_batch_size`
    examples of the labelled subset with replacement, from a stateless RNG
    keyed by (seed, global step), so a resumed run sees the same batches.
    Both hold images [B, H, W, C] in [0, 1] (the MLP classifier flattens them).
    """
    unlabelled = training_dataset(
        data.train_images, data.train_labels, batch_size, seed, first_epoch, last_epoch
    )
    steps = len(data.train_images) // batch_size
    images = tf.constant(data.train_images[labelled_index])
    labels = tf.constant(data.train_labels[labelled_index].astype(np.int32))
    count = len(labelled_index)

    def draw(step):
        keys = tf.stack([tf.constant(seed + 7, tf.int64), step])
        index = tf.random.stateless_uniform([labelled_batch_size], keys, 0, count, tf.int32)
        return to_model_range(tf.gather(images, index)), tf.gather(labels, index)

    labelled = tf.data.Dataset.range(first_epoch * steps, last_epoch * steps).map(draw)
    dataset = tf.data.Dataset.zip((unlabelled, labelled))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
