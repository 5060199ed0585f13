"""Embedding views of E(x): TensorBoard projector files and a t-SNE scatter image.

`write_projector(log_dir, vectors, labels, images)` writes what TensorBoard's
projector reads: a checkpoint holding the embedding, `metadata.tsv` (a header
line, then index and label per row), `sprite.png` (the images tiled in a
square) and `projector_config.pbtxt`, plus `vectors.tsv` for the stand-alone
projector (projector.tensorflow.org). `tsne_scatter` draws a 2-D t-SNE of the
vectors (scikit-learn) as a matplotlib scatter with a class legend.
"""

from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from bigan_tf.errors import DataError
from bigan_tf.images import make_grid, write_png
from bigan_tf.plots import plot_embedding
from bigan_tf.array_types import Array

EMBEDDING_TENSOR = "embedding/.ATTRIBUTES/VARIABLE_VALUE"


def sprite(images: Array) -> np.ndarray:
    """[N, H, W, C] images in [0, 1] -> a square uint8 grid, padded with black."""
    images = np.asarray(images, np.float32)
    side = int(math.ceil(math.sqrt(len(images))))
    padded = np.zeros((side * side,) + images.shape[1:], np.float32)
    padded[: len(images)] = images
    return make_grid(padded, side)


def write_projector(
    log_dir: str,
    vectors: Array,
    labels: Sequence,
    images: Optional[Array] = None,
    label_names: Optional[Sequence[str]] = None,
) -> None:
    """Writes TensorBoard projector files for `vectors` [N, d] into `log_dir`."""
    from tensorboard.plugins import projector

    vectors = np.asarray(vectors, np.float32)
    if vectors.ndim != 2 or len(vectors) != len(labels):
        raise DataError(
            f"Need vectors [N, d] and N labels, got {vectors.shape} and {len(labels)} labels."
        )
    os.makedirs(log_dir, exist_ok=True)
    names = [str(label_names[int(y)]) if label_names is not None else str(y) for y in labels]
    with open(os.path.join(log_dir, "metadata.tsv"), "w") as f:
        f.write("index\tlabel\n")
        f.writelines(f"{i}\t{name}\n" for i, name in enumerate(names))
    with open(os.path.join(log_dir, "vectors.tsv"), "w") as f:
        f.writelines("\t".join(f"{v:.6g}" for v in row) + "\n" for row in vectors)
    tf.train.Checkpoint(embedding=tf.Variable(vectors)).save(
        os.path.join(log_dir, "embedding.ckpt")
    )
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = EMBEDDING_TENSOR
    embedding.metadata_path = "metadata.tsv"
    if images is not None:
        images = np.asarray(images, np.float32)
        write_png(os.path.join(log_dir, "sprite.png"), sprite(images))
        embedding.sprite.image_path = "sprite.png"
        embedding.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])
    projector.visualize_embeddings(log_dir, config)


def tsne_points(vectors: Array, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE of `vectors` (scikit-learn), [N, 2]."""
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, np.float32)
    perplexity = min(perplexity, max(2.0, (len(vectors) - 1) / 3.0))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        vectors
    )


def tsne_scatter(
    path: str, vectors: Array, labels: Array, seed: int = 0, title: str = ""
) -> np.ndarray:
    """Writes the t-SNE scatter PNG of `vectors` coloured by `labels`; returns the points."""
    points = tsne_points(vectors, seed)
    plot_embedding(points, labels, path, title=title or f"t-SNE of {len(points)} encodings")
    return points
