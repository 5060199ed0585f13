"""Image grids and PNG files (written atomically)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bigan_tf.experiment import atomic_write_bytes


def make_grid(images, rows: int, image_shape=None) -> np.ndarray:
    """Tiles N images in [0, 1] into a uint8 [rows·H, cols·W, C] grid, row-major.

    `images` is [N, H, W, C] or flat [N, H·W·C] with `image_shape` (H, W, C).
    N must be a multiple of `rows`.
    """
    images = np.asarray(images, dtype=np.float32)
    if image_shape is not None:
        images = images.reshape((-1,) + tuple(image_shape))
    n, h, w, c = images.shape
    if n % rows:
        raise ValueError(f"{n} images do not fill {rows} rows")
    cols = n // rows
    pixels = np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    return pixels.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)


def write_png(path: str, grid: np.ndarray) -> None:
    """Writes a uint8 [H, W, C] image atomically."""
    atomic_write_bytes(path, tf.io.encode_png(tf.convert_to_tensor(grid, tf.uint8)).numpy())


