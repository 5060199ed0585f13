"""The paper's figures from a trained model, as image grids.

* `filter_tiles` / `first_layer_filters`: Figure 3, the first-layer filters of E
  and D and the last layer of G. Convolution kernels are drawn as k×k RGB (or
  grey) tiles, each normalised to its own range; for the AlexNet encoder the 96
  conv1 kernels come as its two groups (conv2 reads the first 48 and the last 48
  apart), one above the other. Dense layers of the MLPs are drawn as images of
  the input (28×28 for MNIST), the `top` largest by norm.
* `nearest_indices`: the references nearest to each query, a batched matrix
  product (Appendix C.2's nearest neighbours in feature space, and in pixels).
(Figure 4's rows, G(z), x and G(E(x)), are drawn by `trainers.visualize`.)
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from bigan_tf.networks.layers import kernel_of
from bigan_tf.array_types import Array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def _normalise(tiles: np.ndarray) -> np.ndarray:
    """Each tile [N, ...] stretched to [0, 1] on its own range (a flat tile is grey)."""
    flat = tiles.reshape(len(tiles), -1)
    low, high = flat.min(1), flat.max(1)
    scale = np.where(high > low, high - low, 1.0)
    out = (flat - low[:, None]) / scale[:, None]
    out[high <= low] = 0.5
    return out.reshape(tiles.shape).astype(np.float32)


def filter_tiles(
    kernel: Array,
    image_shape: Optional[Sequence[int]] = None,
    top: Optional[int] = None,
    reads_input: bool = True,
) -> np.ndarray:
    """Tiles [N, h, w, c] in [0, 1] of a layer's filters.

    `kernel`: a Conv2D kernel [k, k, in, out] (one tile per output channel), a
    Conv2DTranspose kernel [k, k, out, in] (one tile per input channel: what
    each unit paints), or a Dense kernel [in, out]. For a Dense layer,
    `reads_input=True` draws each output unit's input weights (columns) as an
    image of `image_shape`, False each input unit's output weights (rows: G's
    last layer). `top` keeps the N tiles of largest norm, largest first.
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim == 4:
        tiles = np.transpose(kernel, (3, 0, 1, 2))  # [filters, k, k, channels]
    elif kernel.ndim == 2:
        if image_shape is None:
            raise ValueError("A dense layer's filters need image_shape to be drawn.")
        vectors = kernel.T if reads_input else kernel
        tiles = vectors.reshape((-1, *image_shape))
    else:
        raise ValueError(f"Cannot draw filters of a kernel of shape {kernel.shape}.")
    if top is not None and top < len(tiles):
        norms = np.linalg.norm(tiles.reshape(len(tiles), -1), axis=1)
        tiles = tiles[np.argsort(-norms)[:top]]
    if tiles.shape[-1] not in (1, 3):  # e.g. D's conv on 2 channels: draw the mean
        tiles = tiles.mean(-1, keepdims=True)
    return _normalise(tiles)


def first_layer_filters(
    model: keras.Model, image_shape: Sequence[int], top: int = 100
) -> Dict[str, np.ndarray]:
    """{"E": ..., "D": ..., "G": ...} filter tiles of a `BiGAN` (missing networks left out).

    E's first layer reads x; D's first layer reads x; G's last layer paints x.
    """
    tiles = {}
    encoder = getattr(model.encoder, "base", model.encoder)  # a stochastic encoder's
    if encoder is not None:
        layer = getattr(encoder, "conv1", None) or encoder.hidden1
        tiles["E"] = filter_tiles(kernel_of(layer).numpy(), image_shape, top)
    discriminator = model.joint_discriminator or model.discriminator
    discriminator = getattr(discriminator, "network", discriminator)  # conditional wrapper
    discriminator = getattr(discriminator, "trunk", discriminator)  # the F/H/J one's F(x)
    if discriminator is not None:
        layer = getattr(discriminator, "conv0", None) or discriminator.hidden1
        kernel = kernel_of(layer).numpy()
        if kernel.ndim == 2:  # a conditional D reads [x, c]: keep x's rows
            kernel = kernel[: int(np.prod(image_shape))]
        tiles["D"] = filter_tiles(kernel, image_shape, top)
    generator = getattr(model.generator, "network", model.generator)
    kernel = kernel_of(generator.output_pixels).numpy()
    tiles["G"] = filter_tiles(kernel, image_shape, top, reads_input=False)
    return tiles


def nearest_indices(queries: Array, references: Array, k: int = 5, block: int = 1024) -> np.ndarray:
    """[Q, k] indices of each query's k nearest references (Euclidean), nearest first.

    ‖q − r‖² = ‖q‖² + ‖r‖² − 2·q·rᵀ for a block of queries against all references.
    """
    references = tf.constant(np.asarray(references, np.float32).reshape(len(references), -1))
    reference_norms = tf.reduce_sum(tf.square(references), 1)
    found = []
    queries = np.asarray(queries, np.float32).reshape(len(queries), -1)
    for start in range(0, len(queries), block):
        q = tf.constant(queries[start : start + block])
        distances = (
            tf.reduce_sum(tf.square(q), 1, keepdims=True)
            + reference_norms[None]
            - 2.0 * tf.matmul(q, references, transpose_b=True)
        )
        found.append(tf.math.top_k(-distances, k=k).indices.numpy())
    return np.concatenate(found)
