"""Layers shared by every network family.

* `BatchNorm`: Keras batch norm, synchronized across replicas by default, with
  the original code's epsilon (1e-8) and three extra statistics modes used by
  the evaluation's deploy pass (`recording_batch_moments`), by loss
  measurements that must not move the population statistics
  (`frozen_batch_statistics`), and by a network's second call in a training
  step (`secondary_call`: the original gathers statistics from the first call
  only).
* `decayed_variables`: the variables the coupled weight decay applies to (not
  batch-norm gains: the original's `--no_decay_gain`).
* `LatentProjection`: the learned bias-free linear map that injects z into a
  hidden layer of G and D (`apply_cond` in the original `net.py`).
* `DiscriminatorMixin`: what every D(x) / D(x, z) model shares (features, build record).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf
from bigan_tf.array_types import Seed


def flatten_static(x: tf.Tensor) -> tf.Tensor:
    """[B, ...] -> [B, prod(...)] with a static feature size (Dense layers need one)."""
    if len(x.shape) == 2:
        return x
    return tf.reshape(x, [-1, int(np.prod(x.shape[1:]))])


def stateless_gaussian_noise(
    h: tf.Tensor, stddev: float, seed: tf.Tensor, stream: int
) -> tf.Tensor:
    """h + stddev·ε, ε ~ N(0, 1) from a stateless RNG keyed by (seed, stream).

    A layer's noise is a function of the step's seed alone, so a resumed run
    draws what an uninterrupted one would (the K+1 classifiers' noise).
    """
    if not stddev:
        return h
    stream_seed = tf.random.experimental.stateless_fold_in(seed, stream)
    return h + stddev * tf.random.stateless_normal(tf.shape(h), stream_seed, dtype=h.dtype)


@keras.saving.register_keras_serializable(package="bigan_tf")
class SpectralNorm(keras.layers.SpectralNormalization):
    """Keras's `SpectralNormalization`, with updates that can be frozen.

    Keras's wrapper divides the kernel by its largest singular value σ (one
    power iteration per training call, Miyato et al. 2018) and writes W/σ back
    into the kernel; its power-iteration vector is a (non-trainable) weight,
    so checkpoints resume it exactly. With `updates_enabled` False (set by
    `frozen_batch_statistics`, at trace time) a training call changes neither,
    so measuring a loss in training mode changes no state.
    """

    updates_enabled = True

    def call(self, inputs: tf.Tensor, training: bool = False) -> Any:
        return super().call(inputs, training=bool(training) and self.updates_enabled)


def spectrally_normalized(layer: keras.layers.Layer, enabled: bool) -> keras.layers.Layer:
    """`layer` wrapped in `SpectralNorm` when `enabled`."""
    return SpectralNorm(layer, name=f"{layer.name}_sn") if enabled else layer


def spectral_norm_layers(*models: keras.layers.Layer) -> List[SpectralNorm]:
    """Every `SpectralNorm` inside the given layers/models."""
    return [
        layer
        for model in models
        if model is not None
        for layer in model._flatten_layers(include_self=True, recursive=True)
        if isinstance(layer, SpectralNorm)
    ]


def kernel_of(layer: keras.layers.Layer) -> tf.Variable:
    """The kernel of a Dense/Conv layer, through a `SpectralNormalization` wrapper."""
    return (
        layer.layer.kernel
        if isinstance(layer, keras.layers.SpectralNormalization)
        else (layer.kernel)
    )


def wrapper_from_config(
    cls, config: Dict[str, Any], key: str, custom_objects: Optional[Dict[str, Any]] = None
) -> Any:
    """`cls(inner, **rest)` from a wrapper model's config whose `key` holds the serialized
    inner network (the conditional, F/H/J and stochastic wrappers' `from_config`)."""
    config = dict(config)
    inner = keras.saving.deserialize_keras_object(config.pop(key), custom_objects=custom_objects)
    return cls(inner, **config)


def normal_init(stddev: float, seed: Optional[Seed] = None) -> keras.initializers.Initializer:
    """The original's weight initialiser, N(0, stddev)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev, seed=seed)


@keras.saving.register_keras_serializable(package="bigan_tf")
class BatchNorm(keras.layers.BatchNormalization):
    """Batch normalisation with the original code's conventions.

    In training mode the batch statistics normalise the input and the moving
    averages are updated (Keras semantics); in inference mode the moving
    averages are used. `synchronized=True` (the default here) computes batch
    statistics over the *global* batch under `tf.distribute`, so a model means
    the same on any number of replicas.

    Four switches, set with the context managers below, change training mode:
    `update_moving_statistics=False` normalises with batch statistics but leaves
    the moving averages alone; a non-None `moment_recorder` list additionally
    receives each call's (batch mean, biased batch variance, count
    of values per channel); `collects_statistics=False` marks a secondary call
    (e.g. D on the fake pair after the real one): batch statistics normalise,
    but the call neither updates the moving averages nor is recorded. The
    original builds a second network for such calls and never gathers its
    statistics updates, so its test-time statistics come from the first call.
    Inside `reference_batch_norm`, the first call keeps its batch moments as
    the reference and every later call normalises with them.
    """

    def __init__(self, epsilon: float = 1e-8, synchronized: bool = True, **kwargs: Any):
        super().__init__(epsilon=epsilon, synchronized=synchronized, **kwargs)
        self.update_moving_statistics = True
        self.collects_statistics = True
        # (mean, variance, element count) of every recorded call.
        self.moment_recorder: List[Tuple[tf.Tensor, tf.Tensor, tf.Tensor]] | None = None
        self.uses_reference = False
        self.reference_moments: Tuple[tf.Tensor, tf.Tensor] | None = None

    def _moments(self, inputs, mask):
        ctx = tf.distribute.get_replica_context()
        if (
            mask is not None
            or not self.synchronized
            or ctx is None
            or ctx.num_replicas_in_sync == 1
        ):
            return super()._moments(inputs, mask)
        # Two passes over the global batch: mean, then mean squared deviation.
        # Keras's synchronized moments use E[x²] − E[x]², which cancels
        # catastrophically in float32 when |mean| >> std (e.g. D's pre-activations
        # at initialisation) and then disagrees with the single-device result.
        axes = self._reduction_axes
        local_sum = tf.reduce_sum(inputs, axis=axes)
        local_count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], inputs.dtype)
        total_sum, total_count = ctx.all_reduce(
            tf.distribute.ReduceOp.SUM, [local_sum, local_count]
        )
        mean = total_sum / total_count
        local_squares = tf.reduce_sum(tf.square(inputs - mean), axis=axes)
        variance = ctx.all_reduce(tf.distribute.ReduceOp.SUM, local_squares) / total_count
        return mean, variance

    def call(
        self, inputs: tf.Tensor, training: Optional[bool] = None, mask: Optional[tf.Tensor] = None
    ) -> Any:
        if self.uses_reference and training and self.trainable and mask is None:
            if self.reference_moments is not None:
                # A later call: the reference batch's moments, nothing updated or recorded.
                mean, variance = self.reference_moments
                outputs = keras.ops.batch_normalization(
                    tf.cast(inputs, tf.float32),
                    mean,
                    variance,
                    axis=self.axis,
                    offset=self.beta if self.center else None,
                    scale=self.gamma if self.scale else None,
                    epsilon=self.epsilon,
                )
                return tf.cast(outputs, self.compute_dtype)
            # The first call: its own moments (computed again below, as usual) are kept.
            self.reference_moments = self._moments(tf.cast(inputs, tf.float32), None)
        plain = (
            self.update_moving_statistics
            and self.collects_statistics
            and self.moment_recorder is None
        )
        if plain or not (training and self.trainable) or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        inputs = tf.cast(inputs, tf.float32)
        mean, variance = self._moments(inputs, None)
        if self.moment_recorder is not None and self.collects_statistics:
            count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
            self.moment_recorder.append((mean, variance, count))
        outputs = keras.ops.batch_normalization(
            inputs,
            mean,
            variance,
            axis=self.axis,
            offset=self.beta if self.center else None,
            scale=self.gamma if self.scale else None,
            epsilon=self.epsilon,
        )
        return tf.cast(outputs, self.compute_dtype)


def batch_norm_layers(*models: keras.layers.Layer) -> List[BatchNorm]:
    """Every `BatchNorm` inside the given layers/models, in a stable order."""
    found, seen = [], set()
    for model in models:
        if model is None:
            continue
        for layer in model._flatten_layers(include_self=True, recursive=True):
            if isinstance(layer, BatchNorm) and id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
    return found


@contextlib.contextmanager
def frozen_batch_statistics(*models: keras.Model) -> Iterator[None]:
    """Training-mode calls use batch statistics but do not update moving ones
    (nor spectral norm's power iteration).

    Functions must be traced inside the context for it to take effect.
    """
    layers = batch_norm_layers(*models)
    for layer in layers:
        layer.update_moving_statistics = False
    try:
        with frozen_spectral_norm(*models):
            yield
    finally:
        for layer in layers:
            layer.update_moving_statistics = True


@contextlib.contextmanager
def frozen_spectral_norm(*models: keras.Model) -> Iterator[None]:
    """Training-mode calls leave spectral norm's vector and kernel as they are.

    For passes that measure rather than train (loss lines, the batch-norm
    deploy pass). Functions must be traced inside the context.
    """
    layers = spectral_norm_layers(*models)
    for layer in layers:
        layer.updates_enabled = False
    try:
        yield
    finally:
        for layer in layers:
            layer.updates_enabled = True


@contextlib.contextmanager
def _batch_norm_attribute(models, name: str, value) -> Iterator[None]:
    """Sets attribute `name` of every BatchNorm in `models` to `value`; restores each after."""
    layers = batch_norm_layers(*models)
    previous = [getattr(layer, name) for layer in layers]
    for layer in layers:
        setattr(layer, name, value)
    try:
        yield
    finally:
        for layer, was in zip(layers, previous):
            setattr(layer, name, was)


@contextlib.contextmanager
def secondary_call(*models: keras.Model) -> Iterator[None]:
    """Calls inside are secondary: batch statistics normalise, none are collected.

    The original collects a module's batch-norm statistics (moving and deploy)
    only from its first, real-input call in a training step; later calls on
    other inputs (E on G(z), D on the fake pair) use batch statistics without
    recording them. Takes effect at trace time, like the other modes.
    """
    with _batch_norm_attribute(models, "collects_statistics", False):
        yield


@contextlib.contextmanager
def unsynchronized_batch_norm(*models: keras.Model) -> Iterator[None]:
    """Batch norms compute per-replica moments (no cross-replica all-reduce).

    For tracing exports: an exported module is a single-replica program, where
    the all-reduce is the identity, but its custom gradient cannot be
    serialised, and TensorFlow then warns at every load of the module that a
    gradient "will likely fail" (it does not: the fallback gradient is the
    same). Without the all-reduce the traced functions compute the same values
    and gradients and load without warnings. Takes effect at trace time.
    """
    with _batch_norm_attribute(models, "synchronized", False):
        yield


@contextlib.contextmanager
def reference_batch_norm(*models: keras.Model) -> Iterator[None]:
    """Normalise every batch with the first one's statistics (a reference batch).

    Inside, the first training-mode call of each batch norm behaves as usual
    (batch statistics; moving averages updated unless another context says
    otherwise) and keeps its batch mean and variance; every later call
    normalises with those, updating and recording nothing. Salimans et al.'s
    reference batch normalisation, with the step's real batch as the reference:
    a discriminator then sees generated images on the scale of real ones. With
    per-batch statistics a batch norm over a 1×1 map (the SSGAN conv D's last)
    normalises a generator collapsed to one image to exactly its offset: D's
    output no longer depends on that image, and G's loss has no gradient
    towards any other. Takes effect at trace time.
    """
    layers = batch_norm_layers(*models)
    for layer in layers:
        layer.uses_reference, layer.reference_moments = True, None
    try:
        yield
    finally:
        for layer in layers:
            layer.uses_reference, layer.reference_moments = False, None


def decayed_variables(variables: Sequence[tf.Variable], *models: keras.Model) -> List:
    """`variables` less the batch-norm gains of `models` (the original's --no_decay_gain).

    Both of the original's scripts exclude gains from the coupled L2 decay; MNIST's
    batch norm has no gain at all, ImageNet's has (biases stay decayed).
    """
    gains = set()
    for layer in batch_norm_layers(*models):
        if layer.scale and layer.gamma is not None:
            # The Keras variable and the tf.Variable behind it (what traced
            # functions, e.g. exported modules, list).
            gains.update({id(layer.gamma), id(getattr(layer.gamma, "value", layer.gamma))})
    return [v for v in variables if id(v) not in gains]


@contextlib.contextmanager
def recording_batch_moments(*models: keras.Model) -> Iterator[List[BatchNorm]]:
    """Like `frozen_batch_statistics`, and each BatchNorm records its moments.

    Yields the layers; after a traced call, `layer.moment_recorder` holds the
    (mean, variance, count) tensors of that trace, in call order.
    """
    layers = batch_norm_layers(*models)
    for layer in layers:
        layer.moment_recorder = []
        layer.update_moving_statistics = False
    try:
        yield layers
    finally:
        for layer in layers:
            layer.moment_recorder = None
            layer.update_moving_statistics = True


@keras.saving.register_keras_serializable(package="bigan_tf")
class LatentProjection(keras.layers.Layer):
    """Bias-free linear map z -> one value per unit/channel, added to a layer.

    `LatentProjection(units)(h, z)` returns h + z·W, broadcasting over spatial
    axes for convolutional maps. The original initialises W with
    N(0, 0.02·k²), k being the receiving layer's kernel size (1 for dense).
    """

    def __init__(self, units: int, stddev: float = 0.02, kernel_size: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = int(units)
        self.stddev = float(stddev)
        self.kernel_size = int(kernel_size)
        self.projection = keras.layers.Dense(
            self.units,
            use_bias=False,
            kernel_initializer=normal_init(self.stddev * self.kernel_size**2),
            name="projection",
        )

    def build(self, hidden_shape: Any, latent_shape: Any = None) -> None:
        if latent_shape is not None:
            self.projection.build(latent_shape)
        self.built = True

    def call(self, hidden: tf.Tensor, latent: tf.Tensor) -> Any:
        bias = self.projection(latent)
        # A conv map [B, H, W, C] gets the same per-channel value everywhere.
        for _ in range(len(hidden.shape) - 2):
            bias = tf.expand_dims(bias, 1)
        return hidden + bias

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "stddev": self.stddev,
            "kernel_size": self.kernel_size,
        }


class DiscriminatorMixin:
    """What D(x) / D(x, z) models share: `extract_features` and the build record.

    Models have `joint` and return {"logits", "features"}. Keras records only
    the first input's shape for a multi-input call, so a reloaded joint
    discriminator would not know z's size: subclasses say where the shapes
    are, `_x_shape()` (one example of x, from the weights) and
    `_latent_projection()` (the first layer that reads z, or None for D(x)).
    """

    # Provided by the Keras model the mixin is mixed into.
    joint: bool
    built: bool
    __call__: Callable[..., Dict[str, tf.Tensor]]

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The penultimate "d-" features of the x-only discriminator."""
        if self.joint:
            raise ValueError("The joint discriminator's features depend on z; call D(x, z).")
        return self(x, training=training)["features"]

    def _x_shape(self) -> Tuple[int, ...]:
        raise NotImplementedError

    def _latent_projection(self):
        raise NotImplementedError

    def get_build_config(self) -> Optional[Dict[str, Any]]:
        if not self.built:
            return None
        config: Dict[str, Any] = {"x_shape": [int(d) for d in self._x_shape()]}
        if self._latent_projection() is not None:
            config["z_dim"] = int(self._latent_projection().projection.kernel.shape[0])
        return config

    def build_from_config(self, config: Dict[str, Any]) -> None:
        # "x_dim" is what flat discriminators recorded before convolutional ones existed.
        x_shape = config["x_shape"] if "x_shape" in config else [config["x_dim"]]
        x = tf.zeros([2, *x_shape])
        if "z_dim" in config:
            self(x, tf.zeros([2, config["z_dim"]]))
        else:
            self(x)
