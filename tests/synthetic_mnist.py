"""A synthetic stand-in for the MNIST IDX files, for clones without ../shared.

Same file names, format and sizes as MNIST (60,000 training and 10,000 test
28×28 grey images, labels 0–9, every class present), and learnable: each
class is a fixed random stroke pattern, drawn shifted by up to 2 pixels, at a
random contrast, with noise. Tests that check learning (a classifier, a kNN
score, a BiGAN step) run on it as they do on MNIST.
"""

import os

import numpy as np

SIZES = {"train": 60000, "t10k": 10000}
NUM_CLASSES = 10


def _class_templates(rng: np.random.RandomState) -> np.ndarray:
    """[10, 28, 28] float templates in [0, 1]: three blurred random strokes each."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    templates = np.zeros((NUM_CLASSES, 28, 28), np.float32)
    for c in range(NUM_CLASSES):
        for _ in range(3):
            (y0, x0), (y1, x1) = rng.uniform(6, 22, size=(2, 2))
            for t in np.linspace(0.0, 1.0, 12):
                cy, cx = y0 + t * (y1 - y0), x0 + t * (x1 - x0)
                templates[c] = np.maximum(
                    templates[c], np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 3.0)
                )
    return templates


def synthetic_images(num: int, seed: int) -> tuple:
    """(uint8 images [num, 28, 28], uint8 labels [num]) drawn from the class templates."""
    templates = _class_templates(np.random.RandomState(1234))
    rng = np.random.RandomState(seed)
    labels = (np.arange(num) % NUM_CLASSES).astype(np.uint8)
    rng.shuffle(labels)
    padded = np.pad(templates, ((0, 0), (2, 2), (2, 2)))
    shifts = rng.randint(0, 5, size=(num, 2))
    rows = shifts[:, 0, None] + np.arange(28)[None, :]  # [num, 28]
    cols = shifts[:, 1, None] + np.arange(28)[None, :]
    images = padded[labels[:, None, None], rows[:, :, None], cols[:, None, :]]
    images = images * rng.uniform(0.6, 1.0, size=(num, 1, 1))
    images += rng.normal(0.0, 0.05, size=images.shape)
    return (np.clip(images, 0.0, 1.0) * 255).astype(np.uint8), labels


def _write(path: str, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_synthetic_mnist(directory: str) -> str:
    """Writes the four IDX files (uncompressed) into `directory`; returns it."""
    for seed, (split, num) in enumerate(SIZES.items()):
        images, labels = synthetic_images(num, seed)
        _write(os.path.join(directory, f"{split}-images-idx3-ubyte"), images)
        _write(os.path.join(directory, f"{split}-labels-idx1-ubyte"), labels)
    return directory
