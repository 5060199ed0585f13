"""Image grids, PNG files and the training GIF (written atomically)."""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf
from PIL import Image

from bigan_tf.run_dir import atomic_write_bytes
from bigan_tf.array_types import Array
from typing import Optional, Sequence


def make_grid(images: Array, rows: int, image_shape: Optional[Sequence[int]] = None) -> np.ndarray:
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
    return (
        pixels.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)
    )


def png_bytes(grid: np.ndarray) -> bytes:
    """A uint8 [H, W, C] image as PNG bytes."""
    return tf.io.encode_png(tf.convert_to_tensor(grid, tf.uint8)).numpy()


def write_png(path: str, grid: np.ndarray) -> None:
    """Writes a uint8 [H, W, C] image atomically."""
    atomic_write_bytes(path, png_bytes(grid))


def upscaled(grid: np.ndarray, min_height: int = 256) -> np.ndarray:
    """`grid` enlarged by a whole factor (nearest neighbour) to at least `min_height` rows,
    so 28-px digits are readable on a screen; unchanged when already that tall."""
    factor = max(1, -(-min_height // max(1, grid.shape[0])))
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def captioned(grid: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """`grid` (uint8 [H, W, C]) under a white band holding `lines` of black text."""
    from PIL import ImageDraw

    lines = [str(line) for line in lines]
    band = 14 * len(lines) + 6
    width = max(grid.shape[1], 7 * max((len(line) for line in lines), default=0) + 8)
    canvas = Image.new("RGB", (width, grid.shape[0] + band), "white")
    picture = grid[..., 0] if grid.shape[-1] == 1 else grid
    canvas.paste(Image.fromarray(picture).convert("RGB"), (0, band))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((4, 3 + 14 * i), line, fill="black")
    return np.asarray(canvas)


def write_training_gif(
    samples_folder: str, path: str, max_frames: int = 200, frame_ms: int = 400
) -> int:
    """Animates the fixed-z sample grids `samples_folder/{epoch}.png`, in epoch order.

    The frames are read back from the grids on disk, so a resumed run's GIF
    holds every evaluation. Each frame is enlarged to a readable size (`upscaled`)
    under a caption naming its epoch. More than `max_frames` grids are thinned
    evenly (the first and last kept). Written atomically; returns the frame count.
    """
    epochs = sorted(
        int(name[:-4])
        for name in os.listdir(samples_folder)
        if name.endswith(".png") and name[:-4].isdigit()
    )
    if not epochs:
        return 0
    if len(epochs) > max_frames:
        keep = np.unique(np.round(np.linspace(0, len(epochs) - 1, max_frames)).astype(int))
        epochs = [epochs[i] for i in keep]
    frames = []
    for epoch in epochs:
        with Image.open(os.path.join(samples_folder, f"{epoch}.png")) as image:
            grid = np.asarray(image)
        grid = grid[..., None] if grid.ndim == 2 else grid
        frames.append(captioned(upscaled(grid), [f"samples G(z), fixed z: epoch {epoch}"]))
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    padded = np.stack(
        [
            np.pad(
                f, ((0, height - f.shape[0]), (0, width - f.shape[1]), (0, 0)), constant_values=255
            )
            for f in frames
        ]
    )
    write_gif(path, padded, duration_ms=frame_ms)
    return len(frames)


def gif_bytes(frames: Array, duration_ms: int = 100) -> bytes:
    """An animated GIF (looping) of uint8 frames [T, H, W, C], as bytes."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) < 1:
        raise ValueError(f"frames must be uint8 [T, H, W, C], got {frames.dtype} {frames.shape}")
    images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0
    )
    return buffer.getvalue()


def write_gif(path: str, frames: Array, duration_ms: int = 100) -> None:
    """An animated GIF (looping) of uint8 frames [T, H, W, C]; written atomically."""
    atomic_write_bytes(path, gif_bytes(frames, duration_ms))
