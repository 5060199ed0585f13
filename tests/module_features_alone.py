"""The features of an exported encoder module, computed with tensorflow and tensorflow_hub alone.

    python tests/module_features_alone.py MODULE_DIR IDX_DIR NUM_TRAIN NUM_TEST OUT.npz

Reads the first NUM_TRAIN training and NUM_TEST test images of an MNIST-format IDX
folder, resizes them to the module's input as its model card says (bilinear,
antialiased, rounded to uint8, then / 255), and writes the module's features
and the labels to OUT.npz. It imports no part of bigan_tf (it fails if anything
did), so a passing run shows that a user without the library can use the module.
"""

import gzip
import os
import struct
import sys

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def model_input(images: np.ndarray, size: int, channels: int) -> np.ndarray:
    x = tf.image.resize(images[..., None], [size, size], method="bilinear", antialias=True)
    x = tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
    if channels == 3:
        x = tf.image.grayscale_to_rgb(x)
    return tf.cast(x, tf.float32).numpy() / 255.0


def main(module_dir: str, idx_dir: str, num_train: int, num_test: int, out: str) -> None:
    module = hub.load(module_dir)
    _, size, _, channels = module.signatures["serving_default"].inputs[0].shape.as_list()
    found = {}
    for split, count in (("train", num_train), ("t10k", num_test)):
        images = read_idx(os.path.join(idx_dir, f"{split}-images-idx3-ubyte.gz"))[:count]
        labels = read_idx(os.path.join(idx_dir, f"{split}-labels-idx1-ubyte.gz"))[:count]
        x = model_input(images, size, channels)
        features = [
            module(tf.constant(x[i : i + 500]), training=False).numpy()
            for i in range(0, len(x), 500)
        ]
        found[f"{split}_features"] = np.concatenate(features)
        found[f"{split}_labels"] = labels.astype(np.int64)
    assert not [m for m in sys.modules if m.startswith("bigan_tf")], "bigan_tf was imported"
    np.savez(out, **found)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
