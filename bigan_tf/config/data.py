"""`DataConfig` and `Preprocessing`: which images a run reads, and how, as one record.

Configuration only (no TensorFlow): `bigan_tf.data` imports it, never the
other way round.

Every training program builds one from its flags, `bigan_tf.data.load` turns
it into an `ImageData`, and `config.json` stores it (`to_dict`), so a tool
that reads a finished run (`trainers.eval_ssgan`, the samplers) loads the
same images with `DataConfig.from_dict`.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from bigan_tf.config.record import ConfigRecord
from bigan_tf.errors import ConfigError

# How image files are checked before training, and what happens to unreadable ones.
IMAGE_CHECKS = ("header", "full", "none")
BAD_IMAGE_POLICIES = ("fail", "skip")

# Sources held in memory at their own size (IDX files, an SSGAN HDF5 folder);
# "tfds:NAME" is in memory too unless `preprocessing` is set, then it streams.
IN_MEMORY_SOURCES = ("mnist", "fashion_mnist", "idx", "hdf5")
# Sources that stream image files through `preprocessing`.
FILE_SOURCES = ("list", "folder")
SOURCES_HELP = (
    "mnist, fashion_mnist, idx (IDX files), hdf5 (SSGAN format), list (Caffe-style "
    "train.txt/val.txt), folder (class sub-folders) or tfds:NAME"
)


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Short-edge resize to `raw_size`, `crop_size` crop, optional flip, `channels`."""

    raw_size: int = 72
    crop_size: int = 64
    channels: int = 3
    flip: bool = False

    def validate(self) -> "Preprocessing":
        if self.crop_size < 1 or self.raw_size < self.crop_size:
            raise ConfigError(
                f"--raw_size ({self.raw_size}) must be >= --crop_size "
                f"({self.crop_size}) >= 1: the crop is cut from the resized image."
            )
        if self.channels not in (1, 3):
            raise ConfigError(f"Images are read with 1 or 3 channels, not {self.channels}.")
        return self

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return (self.crop_size, self.crop_size, self.channels)


@dataclasses.dataclass(frozen=True)
class DataConfig(ConfigRecord):
    """Where the images come from and what is done to them before the model.

    source           mnist, fashion_mnist, idx (IDX files), hdf5 (SSGAN format: data.hdf5
                     + id.txt), list (Caffe-style train.txt/val.txt), folder (class
                     sub-folders) or tfds:NAME (cifar10, svhn_cropped, imagenet2012, ...).
    root             the source's folder (IDX, HDF5, list or folder root), or
                     TFDS's data folder (None: TFDS's default).
    use_test_set     IDX and TFDS: train on the whole training split and
                     validate on the test split; otherwise `num_val` training
                     images are held out (the original's MNIST protocol).
    num_val          streamed sources: validation images read into memory
                     (None: 10,000). In-memory sources keep their protocol:
                     10,000 held out (HDF5: 10%), or the whole test split.
    max_train_images use at most this many training images (the first ones
                     in memory, a seeded subset of files).
    max_labels, include_labels   keep labels < max_labels / in the list.
    preprocessing    short-edge resize, crop, channels, flip (`Preprocessing`):
                     required by file sources; for a TFDS source it makes
                     the training images stream; in-memory images are
                     resized to its crop size and channel count.
    num_reference    streamed sources: training images held in memory (the
                     kNN reference set and the batch-norm deploy images).
    image_check, bad_images   file sources: how files are checked first and
                     what happens to unreadable ones.
    seed             the seed of subsets and held-out splits of file sources.
    """

    source: str = "mnist"
    root: Optional[str] = None
    use_test_set: bool = False
    num_val: Optional[int] = None
    max_train_images: Optional[int] = None
    max_labels: Optional[int] = None
    include_labels: Optional[Tuple[int, ...]] = None
    preprocessing: Optional[Preprocessing] = None
    num_reference: int = 50000
    image_check: str = "header"
    bad_images: str = "fail"
    seed: int = 0

    @property
    def is_streamed(self) -> bool:
        """Whether training images stream from files/TFDS rather than sit in memory."""
        return self.source in FILE_SOURCES or (
            self.source.startswith("tfds:") and self.preprocessing is not None
        )

    def validate(self) -> "DataConfig":
        known = self.source in IN_MEMORY_SOURCES + FILE_SOURCES or (
            self.source.startswith("tfds:") and len(self.source) > len("tfds:")
        )
        if not known:
            raise ConfigError(f"Unknown --dataset {self.source!r}; expected {SOURCES_HELP}.")
        if self.source in FILE_SOURCES + ("hdf5", "idx") and not self.root:
            raise ConfigError(
                f"Data source {self.source!r} needs its folder: "
                "--config.data.root=DIR (or --data_dir=DIR)."
            )
        if self.source in FILE_SOURCES and self.preprocessing is None:
            raise ConfigError(
                f"--dataset={self.source} reads image files: give their --raw_size and --crop_size."
            )
        if self.preprocessing is not None:
            self.preprocessing.validate()
        for name in ("num_val", "max_train_images", "max_labels"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name} must be >= 1 (leave it unset for all), got {value}.")
        if self.include_labels is not None and (
            not self.include_labels or min(self.include_labels) < 0
        ):
            raise ConfigError(
                f"--include_labels must list labels >= 0, got {list(self.include_labels)}."
            )
        if self.num_reference < 1:
            raise ConfigError(f"--num_train_reference must be >= 1, got {self.num_reference}.")
        if self.image_check not in IMAGE_CHECKS:
            raise ConfigError(
                f"--image_check must be one of {', '.join(IMAGE_CHECKS)}, got {self.image_check!r}."
            )
        if self.bad_images not in BAD_IMAGE_POLICIES:
            raise ConfigError(
                f"--bad_images must be one of {', '.join(BAD_IMAGE_POLICIES)}, "
                f"got {self.bad_images!r}."
            )
        return self
