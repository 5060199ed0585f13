"""Labelled image folders for attribute vectors: a CelebA-style attribute table + images.

Two table formats are read (the two CelebA ships in):

* `list_attr_celeba.txt`: an optional first line with the image count, a line
  of attribute names, then one line per image, `000001.jpg  -1 1 1 -1 ...`
  (whitespace-separated, values ±1 or 0/1);
* CSV with a header row, `image_id,5_o_Clock_Shadow,Arched_Eyebrows,...`,
  then `000001.jpg,-1,1,...`.

Images are looked up by file name in an image folder, centre-cropped to the
target aspect ratio, resized (antialiased) and converted to the model's
channel count, and returned in [0, 1]. Every problem names the file and line.
"""

from __future__ import annotations

import csv
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from bigan_tf.errors import DataError


def read_attribute_table(path: str) -> Tuple[List[str], List[str], np.ndarray]:
    """(image file names [N], attribute names [A], values int8 [N, A]) of a table file."""
    if not os.path.isfile(path):
        raise DataError(f"Attribute table {path} does not exist.")
    with open(path, newline="") as f:
        text = f.read()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"Attribute table {path} is empty.")
    if "," in lines[0]:
        rows = list(csv.reader(lines))
        names, body, first_line = [c.strip() for c in rows[0][1:]], rows[1:], 2
    else:
        rows = [line.split() for line in lines]
        start = 1 if len(rows[0]) == 1 and rows[0][0].isdigit() else 0
        names, body, first_line = rows[start], rows[start + 1 :], start + 2
        # CelebA's name line has no column for the file names; tolerate one that does.
        if body and len(names) == len(body[0]):
            names = names[1:]
    if not names:
        raise DataError(f"{path}: no attribute names in the header line.")
    files, values = [], []
    for number, row in enumerate(body, start=first_line):
        if len(row) != len(names) + 1:
            raise DataError(
                f"{path}, line {number}: expected a file name and {len(names)} "
                f"values, got {len(row)} fields."
            )
        try:
            values.append([int(float(v)) for v in row[1:]])
        except ValueError:
            raise DataError(
                f"{path}, line {number}: attribute values must be numbers "
                f"(±1 or 0/1), got {row[1:]!r}."
            ) from None
        files.append(row[0].strip())
    if not files:
        raise DataError(f"{path} lists no images.")
    return files, names, np.asarray(values, np.int8)


def load_image_files(
    image_dir: str, files: Sequence[str], image_shape: Sequence[int], skip_missing: bool = False
) -> Tuple[np.ndarray, np.ndarray]:
    """(images float32 [M, H, W, C] in [0, 1], indices into `files` that loaded).

    Each image is centre-cropped to the aspect ratio of `image_shape`, resized
    with a Lanczos filter and converted to grayscale (C=1) or RGB (C=3).
    Missing or undecodable files raise `DataError` naming them, unless
    `skip_missing`, which leaves them out (the returned indices say which
    stayed) and still fails when none loads.
    """
    from PIL import Image, UnidentifiedImageError

    height, width, channels = (int(d) for d in image_shape)
    if channels not in (1, 3):
        raise DataError(f"Images can be loaded as 1 or 3 channels, not {channels}.")
    images, kept, bad = [], [], []
    for i, name in enumerate(files):
        path = os.path.join(image_dir, name)
        try:
            with Image.open(path) as opened:
                image = opened.convert("L" if channels == 1 else "RGB")
                image = _center_crop(image, width / height).resize(
                    (width, height), Image.Resampling.LANCZOS
                )
                array = np.asarray(image, np.float32) / 255.0
        except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
            bad.append(f"{name} ({type(e).__name__})")
            continue
        images.append(array.reshape(height, width, channels))
        kept.append(i)
    if bad and not skip_missing:
        raise DataError(
            f"{len(bad)} of {len(files)} images in {image_dir} could not be read, "
            f"e.g. {', '.join(bad[:3])}. Fix the folder, or skip them with "
            "--skip_missing_images."
        )
    if not images:
        raise DataError(f"None of the {len(files)} listed images could be read from {image_dir}.")
    return np.stack(images), np.asarray(kept)


def _center_crop(image, aspect: float):
    """The largest centred crop of `image` with width/height = `aspect`."""
    w, h = image.size
    if w / h > aspect:
        new_w = int(round(h * aspect))
        left = (w - new_w) // 2
        return image.crop((left, 0, left + new_w, h))
    new_h = int(round(w / aspect))
    top = (h - new_h) // 2
    return image.crop((0, top, w, top + new_h))


def load_attribute_dataset(
    table: str,
    image_dir: str,
    image_shape: Sequence[int],
    max_images: Optional[int] = None,
    skip_missing: bool = False,
) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """(images [M, H, W, C] in [0, 1], attribute values [M, A], attribute names)."""
    files, names, values = read_attribute_table(table)
    if max_images:
        files, values = files[:max_images], values[:max_images]
    images, kept = load_image_files(image_dir, files, image_shape, skip_missing)
    return images, values[kept], names
