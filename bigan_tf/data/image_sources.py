"""Which image files a data set has: Caffe-style lists and class folders, checked.

Two file sources give (path, label) lists (`ImageList`):

* a Caffe-style list file (the original's ImageNet layout): `train.txt` /
  `val.txt` with one `relative/path.JPEG label` per line under a root folder;
  when `<root><raw_size>` exists (made by `trainers.resize_imageset`) it is
  used instead of `<root>` (the original's `./data/imagenet{raw_size}`);
* a folder of class sub-folders (`root/<class name>/<image>`), classes
  numbered in sorted order; files without an image extension are skipped and
  counted, an empty class keeps its number and is reported.

`select_images` keeps the original's label and count selections. Missing or
undecodable files are found before training (`check_images`) and reported by
name: `on_bad="fail"` stops with the list, `"skip"` drops them and reports
the count. How the files stream into a model: `bigan_tf.data.image_files`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import Any, Callable, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from bigan_tf.config.data import BAD_IMAGE_POLICIES, IMAGE_CHECKS  # noqa: F401
from bigan_tf.errors import ConfigError, DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
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

    def subset(self, index: Any, note: Optional[str] = None) -> "ImageList":
        index = np.asarray(index, np.int64)
        notes = self.notes + ([note] if note else [])
        return ImageList(
            [self.paths[i] for i in index], self.labels[index], self.source, self.class_names, notes
        )


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
                raise DataError(
                    f"{list_path}, line {number}: expected 'relative/path label', got {line!r}."
                )
            try:
                label = int(fields[1])
            except ValueError:
                raise DataError(
                    f"{list_path}, line {number}: the label must be an integer, got {fields[1]!r}."
                ) from None
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
        notes.append(f"skipped {len(skipped)} non-image file(s) in {root}: {_some(skipped)}")
    if empty:
        notes.append(
            f"{len(empty)} class folder(s) in {root} hold no images (their labels "
            f"stay reserved): {_some(empty)}"
        )
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
        raise ConfigError(
            f"--include_labels must be comma-separated integers, got {text!r}."
        ) from None
    if not labels or min(labels) < 0:
        raise ConfigError(f"--include_labels must list labels >= 0, got {text!r}.")
    return labels


def label_mask(
    labels: np.ndarray,
    max_labels: Optional[int] = None,
    include_labels: Optional[Sequence[int]] = None,
) -> np.ndarray:
    """Which examples to keep: labels < max_labels and/or in include_labels."""
    keep = np.ones(len(labels), bool)
    if max_labels:
        keep &= labels < max_labels
    if include_labels:
        keep &= np.isin(labels, np.asarray(include_labels))
    return keep


def select_images(
    images: ImageList,
    max_labels: Optional[int] = None,
    include_labels: Optional[Sequence[int]] = None,
    max_images: Optional[int] = None,
    seed: int = 0,
) -> ImageList:
    """The original's --max_labels / --include_labels / --max_images.

    `max_images` keeps a seeded random subset (in list order), so a list sorted
    by class still gives a mix of classes.
    """
    keep = np.flatnonzero(label_mask(images.labels, max_labels, include_labels))
    if not len(keep):
        raise DataError(
            f"No images of {images.source} have the selected labels "
            f"(max_labels={max_labels}, include_labels={include_labels})."
        )
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


def check_images(
    images: ImageList, mode: str = "header", on_bad: str = "fail", workers: int = 16
) -> ImageList:
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
        problems = list(
            pool.map(lambda p: _check_one(p, mode == "full"), images.paths, chunksize=64)
        )
    bad = [i for i, problem in enumerate(problems) if problem]
    if not bad:
        return images
    named = [f"{images.paths[i]} ({problems[i]})" for i in bad]
    if on_bad == "fail":
        raise DataError(
            f"{len(bad)} of {len(images)} images of {images.source} cannot be "
            f"read: {_some(named)}. Fix or remove them, or pass "
            "--bad_images=skip to leave them out."
        )
    good = np.setdiff1d(np.arange(len(images)), bad)
    if not len(good):
        raise DataError(
            f"None of the {len(images)} images of {images.source} can be read, e.g. {_some(named)}."
        )
    return images.subset(good, note=f"skipped {len(bad)} unreadable image(s): {_some(named)}")


def label_predicate(
    max_labels: Optional[int], include_labels: Optional[Sequence[int]]
) -> Optional[Callable[[int], bool]]:
    """A tf predicate on a label: < max_labels and/or in include_labels (None: keep all)."""
    if not (max_labels or include_labels):
        return None

    def keep(label):
        ok = tf.constant(True)
        if max_labels:
            ok = tf.logical_and(ok, label < max_labels)
        if include_labels:
            ok = tf.logical_and(
                ok, tf.reduce_any(tf.equal(label, tf.constant(include_labels, label.dtype)))
            )
        return ok

    return keep
