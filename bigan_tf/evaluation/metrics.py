"""The paper's evaluation metrics as pure, vectorised TensorFlow functions.

Definitions follow the original `train_gan.py`/`lib/metrics.py`
(official_code_notes.md §1):

* NND (generation): for each real image x, the Euclidean distance to its
  nearest generated sample, averaged over the real images.
* NNC (features): 1-nearest-neighbour classification accuracy (%) of query
  features against labelled reference features, Euclidean distance.
* CLS (features): accuracy (%) of a linear softmax classifier.
* EG (reconstruction): mean per-image L2 norm ‖x − G(E(x))‖₂ (not squared,
  not divided by the pixel count), and the "next image in the batch" baseline.

Nearest neighbours are computed as batched matrix products,
‖q‖² + ‖r‖² − 2·q·rᵀ, one block of queries against all references at a time.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

import numpy as np
import tensorflow as tf
from bigan_tf.array_types import Array


# XLA fuses the norms, the distance matrix and the argmin around the matmul:
# measured 1.45x faster for 10k x 100k x 784 on the CPU (benchmarks, BENCHMARKS.md).
@tf.function(jit_compile=True, reduce_retracing=True)
def _nearest_block(
    queries: tf.Tensor, references: tf.Tensor, reference_sq_norms: tf.Tensor
) -> Tuple[tf.Tensor, tf.Tensor]:
    query_sq = tf.reduce_sum(tf.square(queries), axis=1, keepdims=True)
    sq = (
        query_sq
        + reference_sq_norms[None, :]
        - 2.0 * tf.matmul(queries, references, transpose_b=True)
    )
    index = tf.argmin(sq, axis=1, output_type=tf.int32)
    nearest = tf.gather(sq, index, axis=1, batch_dims=1)
    return tf.sqrt(tf.maximum(nearest, 0.0)), index


def _flat(x) -> tf.Tensor:
    x = tf.convert_to_tensor(x, tf.float32)
    return tf.reshape(x, [tf.shape(x)[0], -1])


def _nearest_in_blocks(
    queries: tf.Tensor, references: tf.Tensor, block_size: int
) -> Tuple[tf.Tensor, tf.Tensor]:
    """(distance to, index of) each flat query's nearest flat reference, a block at a time."""
    reference_sq = tf.reduce_sum(tf.square(references), axis=1)
    blocks = [
        _nearest_block(queries[start : start + block_size], references, reference_sq)
        for start in range(0, int(queries.shape[0]), block_size)
    ]
    return tf.concat([d for d, _ in blocks], 0), tf.concat([i for _, i in blocks], 0)


def nearest_neighbours(
    queries: Array, references: Array, block_size: int = 1024
) -> Tuple[np.ndarray, np.ndarray]:
    """(distance to, index of) each query's nearest reference, Euclidean.

    Args:
      queries: [Nq, d]; references: [Nr, d] (anything convertible to float32).
      block_size: queries per matrix product; memory is block_size·Nr floats.
    """
    distances, indices = _nearest_in_blocks(_flat(queries), _flat(references), block_size)
    return distances.numpy(), indices.numpy()


class RunningNearestDistance:
    """Each query's distance to its nearest reference, over references fed in blocks.

    After `update(R_1)`, …, `update(R_k)`, `distances()[i]` is
    min over r in R_1 ∪ … ∪ R_k of ‖q_i − r‖₂, so NND over a large generated set
    never needs the whole set in memory: feed it block by block and read the
    mean at any prefix (the original's NND/100 and NND/10 are prefixes).
    """

    def __init__(self, queries: Array, block_size: int = 1024):
        self._queries = _flat(queries)
        self._block_size = block_size
        self._nearest = None  # [Nq] float32 tensor once a reference was seen

    def update(self, references: Array) -> None:
        distances, _ = _nearest_in_blocks(self._queries, _flat(references), self._block_size)
        self._nearest = distances if self._nearest is None else tf.minimum(self._nearest, distances)

    def distances(self) -> np.ndarray:
        if self._nearest is None:
            raise ValueError("RunningNearestDistance: no reference seen yet.")
        return self._nearest.numpy()

    def mean(self) -> float:
        return float(np.mean(self.distances()))


def nnd_score(generated: Array, real: Array, block_size: int = 1024) -> float:
    """NND = mean over real x of min_g ‖x − g‖₂ (lower is better)."""
    distances, _ = nearest_neighbours(real, generated, block_size)
    return float(np.mean(distances))


def nnc_predictions(
    reference_features: Array,
    reference_labels: Array,
    query_features: Array,
    block_size: int = 1024,
) -> np.ndarray:
    """The label of each query's nearest reference (Euclidean 1-NN), shape [N]."""
    _, index = nearest_neighbours(query_features, reference_features, block_size)
    return np.asarray(reference_labels)[index]


def nnc_score(
    reference_features: Array,
    reference_labels: Array,
    query_features: Array,
    query_labels: Array,
    block_size: int = 1024,
) -> float:
    """1-NN accuracy (%) of the queries, labelled by their nearest reference."""
    predicted = nnc_predictions(reference_features, reference_labels, query_features, block_size)
    return float(100.0 * np.mean(predicted == np.asarray(query_labels)))


def paired_accuracy_margin(correct_a: Array, correct_b: Array) -> Tuple[float, float]:
    """(margin, standard error), in points, of accuracy A − accuracy B on the same examples.

    With d_i = [A right on i] − [B right on i] ∈ {−1, 0, 1} over the n shared
    examples: margin = 100·mean(d), SE = 100·std(d)/√n (sample std, n − 1).
    This is the paired standard error: examples both get right (or both wrong)
    add nothing, so it is smaller than that of two independent accuracies. It
    measures the test set's sampling error only, not that of training seeds.
    """
    a, b = np.asarray(correct_a, np.float64), np.asarray(correct_b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(
            f"Need two equal-length 1-D vectors of ≥ 2 examples, got shapes "
            f"{a.shape} and {b.shape}."
        )
    d = a - b
    return float(100.0 * d.mean()), float(100.0 * d.std(ddof=1) / np.sqrt(len(d)))


def reconstruction_errors(targets: Array, reconstructions: Array) -> np.ndarray:
    """Per-example L2 norm ‖target − reconstruction‖₂ over all pixels, shape [N]."""
    targets = tf.reshape(tf.convert_to_tensor(targets, tf.float32), [len(targets), -1])
    reconstructions = tf.reshape(
        tf.convert_to_tensor(reconstructions, tf.float32), [len(reconstructions), -1]
    )
    return tf.norm(targets - reconstructions, axis=1).numpy()


def shifted_partner_indices(num_examples: int, block: int = 128) -> np.ndarray:
    """Index of the baseline partner of each example: the next one in its block.

    The original evaluates in batches of `block` with wrap-around padding (the
    last, short batch is filled from the start of the data) and compares
    G(E(x_i)) with x_{i+1}, cyclically within the batch.
    """
    padded = -(-num_examples // block) * block
    order = np.arange(padded) % num_examples
    partners = np.roll(order.reshape(-1, block), -1, axis=1).reshape(-1)
    return partners[:num_examples]


def reconstruction_scores(
    targets: Array, reconstructions: Array, block: int = 128
) -> Tuple[float, float]:
    """(EG, EG_b): mean ‖x − G(E(x))‖₂ and the next-image baseline mean ‖x' − G(E(x))‖₂."""
    targets = np.asarray(targets)
    partners = shifted_partner_indices(len(targets), block)
    error = reconstruction_errors(targets, reconstructions)
    baseline = reconstruction_errors(targets[partners], reconstructions)
    return float(error.mean()), float(baseline.mean())


def quantize_images(images: Array) -> tf.Tensor:
    """Images in [0, 1] rounded to 8 bits, as the original feeds G(z) back to E."""
    images = tf.convert_to_tensor(images, tf.float32)
    return tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0) / 255.0


def linear_classifier_accuracy(
    train_features: Array,
    train_labels: Array,
    test_features: Array,
    test_labels: Array,
    num_classes: int,
    steps: int = 1000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> float:
    """CLS: accuracy (%) of `linear_classifier_predictions` on the test features."""
    predicted = linear_classifier_predictions(
        train_features,
        train_labels,
        test_features,
        num_classes,
        steps,
        batch_size,
        learning_rate,
        seed,
    )
    return float(100.0 * np.mean(predicted == np.asarray(test_labels)))


def linear_classifier_predictions(
    train_features: Array,
    train_labels: Array,
    test_features: Array,
    num_classes: int,
    steps: int = 1000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    standardize: bool = False,
) -> np.ndarray:
    """The classes a linear softmax classifier trained from scratch predicts, shape [N].

    As in the original: a bias-free linear map W (features -> classes), zero
    initialised, softmax cross-entropy, trained with Adam on minibatches of
    training features. Departures (documented in the README): we train on the
    test-mode features with a fixed learning rate (1e-3 by default) for
    `steps` minibatches, where the original trains during its BN deploy pass
    at the model's current (decaying) learning rate.

    `standardize` first maps every feature to (f − mean) / std over the training
    features (the usual linear-probe practice, not the original's): the
    protocol's bias-free, fixed-budget classifier is at the mercy of the
    features' scale and offset otherwise (a trained residual encoder's e-
    features reach 1,000 and read 6–12 points lower unstandardised).
    """
    if standardize:
        train_features = np.asarray(train_features, np.float32)
        mean = train_features.mean(axis=0)
        std = train_features.std(axis=0) + 1e-6
        train_features = (train_features - mean) / std
        test_features = (np.asarray(test_features, np.float32) - mean) / std
    train_features = tf.convert_to_tensor(train_features, tf.float32)
    train_labels = tf.convert_to_tensor(train_labels, tf.int32)
    n, dim = int(train_features.shape[0]), int(train_features.shape[1])
    weights = tf.zeros([dim, num_classes])
    if steps > 0:
        rng = np.random.RandomState(seed)
        indices = rng.randint(0, n, size=(steps, min(batch_size, n))).astype(np.int32)
        weights = _train_softmax_regression(
            train_features,
            train_labels,
            tf.constant(indices),
            weights,
            tf.constant(learning_rate, tf.float32),
        )
    logits = tf.matmul(tf.convert_to_tensor(test_features, tf.float32), weights)
    return tf.argmax(logits, axis=1, output_type=tf.int32).numpy()


@tf.function(reduce_retracing=True)
def _train_softmax_regression(features, labels, batches, weights, learning_rate):
    """Adam (β1 0.9, β2 0.999) on softmax cross-entropy, one step per row of `batches`.

    Functional: the weights and Adam moments are loop variables, not tf.Variables,
    so this runs the same inside or outside a distribution strategy's scope.
    """
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def step(t, w, m, v):
        index = batches[t]
        x, y = tf.gather(features, index), tf.gather(labels, index)
        with tf.GradientTape() as tape:
            tape.watch(w)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(y, tf.matmul(x, w))
            )
        grad = tape.gradient(loss, w)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * tf.square(grad)
        count = tf.cast(t + 1, tf.float32)
        update = (m / (1 - beta1**count)) / (tf.sqrt(v / (1 - beta2**count)) + eps)
        return t + 1, w - learning_rate * update, m, v

    _, weights, _, _ = tf.while_loop(
        lambda t, *_: t < tf.shape(batches)[0],
        step,
        (tf.constant(0), weights, tf.zeros_like(weights), tf.zeros_like(weights)),
    )
    return weights


def pixel_histogram_chi2(real: Array, generated: Array, bins: int = 32) -> float:
    """χ² distance between the pixel-value histograms of two image sets.

    The DIGITS GAN walkthrough's sanity metric: with h_r and h_g the normalised
    histograms of all pixel values (in [0, 1], `bins` equal bins),
        χ² = ½ Σ_b (h_r,b − h_g,b)² / (h_r,b + h_g,b),
    over bins where either is non-zero. 0 for identical histograms, 1 for
    disjoint ones. Necessary, not sufficient: a generator can match the
    histogram with wrong images.
    """

    def histogram(images: Array):
        values = tf.reshape(tf.cast(images, tf.float32), [-1])
        counts = tf.cast(tf.histogram_fixed_width(values, [0.0, 1.0], nbins=bins), tf.float64)
        return counts / tf.reduce_sum(counts)

    h_real, h_gen = histogram(real), histogram(generated)
    total = h_real + h_gen
    terms = tf.where(total > 0, tf.square(h_real - h_gen) / tf.where(total > 0, total, 1.0), 0.0)
    return float(0.5 * tf.reduce_sum(terms))


def batched_map(fn: Callable[..., tf.Tensor], inputs: Array, batch_size: int) -> Any:
    """Applies `fn` to `inputs` in batches and concatenates (tensor or dict) outputs.

    `inputs` is one array, or a tuple of equally long arrays passed to `fn` as
    separate arguments (e.g. (z, labels) for a conditional generator).
    """
    arrays = inputs if isinstance(inputs, tuple) else (inputs,)
    outputs = []
    for start in range(0, len(arrays[0]), batch_size):
        outputs.append(fn(*[tf.convert_to_tensor(a[start : start + batch_size]) for a in arrays]))
    if isinstance(outputs[0], dict):
        return {k: tf.concat([o[k] for o in outputs], 0).numpy() for k in outputs[0]}
    return tf.concat(outputs, 0).numpy()
