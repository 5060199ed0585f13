"""The original's batch-norm deploy pass, and the cost line measured on training batches.

Before an evaluation the original recomputes every batch-norm layer's test-time
statistics from training batches (official_code_notes.md §1): the moving mean
becomes the plain mean of the per-batch means and the moving variance the mean
of the unbiased per-batch variances, n/(n−1)·var, over `deploy_iters` batches;
its cost line shows the module losses of those batches. This changes the
model's state, so it is not part of the evaluator, which only reads: the
`EvaluationCallback` runs it (on every worker, so their checkpoints agree).

`TrainingBatches` are the batches, a pure function of (seed, index), so every
worker and every resumed run draws the same ones.
"""

from __future__ import annotations

import collections
from typing import Dict, Iterable, Iterator, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.data.pipeline import to_model_range
from bigan_tf.networks import recording_batch_moments
from bigan_tf.networks.layers import frozen_spectral_norm
from bigan_tf.prior import sample_prior
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

# The z stream of the deploy batches, apart from the training noise.
DEPLOY_STREAM = 104729
# The original's minibatch, which its deploy pass also uses.
DEPLOY_BATCH_SIZE = 128

Batch = Tuple[tf.Tensor, tf.Tensor, Optional[tf.Tensor]]


class TrainingBatches:
    """Batch i: `batch_size` training images drawn with replacement by a RandomState
    seeded from (seed, i), z ~ U(−1, 1) keyed by (seed + DEPLOY_STREAM, i), and the
    images' labels when `conditional`. Images go to [0, 1], shaped `data_shape`."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        data_shape: Sequence[int],
        latent_dim: int,
        seed: int = 0,
        conditional: bool = False,
    ):
        self.images, self.labels = images, labels
        self.batch_size, self.data_shape = batch_size, tuple(data_shape)
        self.latent_dim, self.seed, self.conditional = latent_dim, int(seed), conditional

    @classmethod
    def for_model(
        cls,
        model: keras.Model,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        seed: int = 0,
    ) -> "TrainingBatches":
        """The batches `model` (a `BiGAN`) takes: its input shape, latent size, labels."""
        return cls(
            images,
            labels,
            batch_size,
            model.data_shape,
            model.latent_dim,
            seed,
            model.is_conditional,
        )

    def __getitem__(self, i: int) -> Batch:
        rng = np.random.RandomState((self.seed * 1000003 + i) % (2**31))
        index = rng.randint(0, len(self.images), size=self.batch_size)
        x = tf.reshape(to_model_range(self.images[index]), [-1, *self.data_shape])
        z = sample_prior(
            self.batch_size, self.latent_dim, tf.constant([self.seed + DEPLOY_STREAM, i], tf.int64)
        )
        labels = tf.constant(self.labels[index]) if self.conditional else None
        return x, z, labels

    def take(self, count: int) -> Iterator[Batch]:
        """Batches 0 .. count − 1."""
        return (self[i] for i in range(count))


def _mean_losses(losses: Iterable[Dict[str, tf.Tensor]], count: int) -> Dict[str, float]:
    sums: Dict[str, float] = collections.defaultdict(float)
    for batch_losses in losses:
        for name, value in batch_losses.items():
            sums[name] += float(value) / count
    return dict(sums)


def measure_losses(model: keras.Model, batches: Iterable[Batch]) -> Dict[str, float]:
    """Mean module losses of `model.measure_losses` over `batches`, changing nothing."""
    step = tf.function(model.measure_losses)
    losses = [step(*batch) for batch in batches]
    return _mean_losses(losses, len(losses))


def deploy_batch_norm_on_images(
    model: keras.Model,
    images: np.ndarray,
    labels: Optional[np.ndarray],
    iters: int,
    seed: int = 0,
    batch_size: int = DEPLOY_BATCH_SIZE,
) -> Dict[str, float]:
    """`deploy_batch_norm` over the first `iters` `TrainingBatches` of in-memory `images`
    (any shape that reshapes to the model's input, [0, 1] or uint8); `labels` only
    matter to a conditional model (None: zeros)."""
    if labels is None:
        labels = np.zeros(len(images), np.int32)
    return deploy_batch_norm(
        model, TrainingBatches.for_model(model, images, labels, batch_size, seed).take(iters)
    )


def deploy_batch_norm(model: keras.Model, batches: Iterable[Batch]) -> Dict[str, float]:
    """Sets every batch-norm layer's test-time statistics from `batches`; returns the
    mean module losses of those batches (training mode).

    Each layer's moving mean becomes the mean of its batch means, and its moving
    variance the mean of its unbiased batch variances, over the calls that record
    (the first, real-input call of each module: `networks.recording_batch_moments`).
    """
    networks = [n for n in model.networks if n is not None]
    with recording_batch_moments(*networks) as layers, frozen_spectral_norm(*networks):

        @tf.function
        def step(x, z, labels):
            for layer in layers:
                layer.moment_recorder.clear()
            losses = model.summarize_losses(model.compute_losses(x, z, labels, training=True))
            return losses, [list(layer.moment_recorder) for layer in layers]

        mean_sums = [None] * len(layers)
        var_sums = [None] * len(layers)
        calls = [0] * len(layers)
        all_losses = []
        for batch in batches:
            losses, moments = step(*batch)
            all_losses.append(losses)
            for j, records in enumerate(moments):
                for mean, var, count in records:
                    unbiased = var * count / tf.maximum(count - 1.0, 1.0)
                    mean_sums[j] = mean if mean_sums[j] is None else mean_sums[j] + mean
                    var_sums[j] = unbiased if var_sums[j] is None else var_sums[j] + unbiased
                    calls[j] += 1
    for layer, mean, var, n in zip(layers, mean_sums, var_sums, calls):
        if n and mean is not None and var is not None:
            layer.moving_mean.assign(tf.reshape(mean / n, layer.moving_mean.shape))
            layer.moving_variance.assign(tf.reshape(var / n, layer.moving_variance.shape))
    return _mean_losses(all_losses, len(all_losses))
