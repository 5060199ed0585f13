"""Image grids, PNG files and the training GIF (written atomically)."""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf
from PIL import Image

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




def write_training_gif(samples_folder: str, path: str, max_frames: int = 200,
                       frame_ms: int = 400) -> int:
    """Animates the fixed-z sample grids `samples_folder/{epoch}.png`, in epoch order.

    The frames are read back from the grids on disk, so a resumed run's GIF
    holds every evaluation. More than `max_frames` grids are thinned evenly
    (the first and last kept). Written atomically; returns the frame count.
    """
    epochs = sorted(int(name[:-4]) for name in os.listdir(samples_folder)
                    if name.endswith(".png") and name[:-4].isdigit())
    if not epochs:
        return 0
    if len(epochs) > max_frames:
        keep = np.unique(np.round(np.linspace(0, len(epochs) - 1, max_frames)).astype(int))
        epochs = [epochs[i] for i in keep]
    frames = []
    for epoch in epochs:
        with Image.open(os.path.join(samples_folder, f"{epoch}.png")) as image:
            frames.append(image.convert("RGB").quantize(colors=256))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0)
    atomic_write_bytes(path, buffer.getvalue())
    return len(frames)
