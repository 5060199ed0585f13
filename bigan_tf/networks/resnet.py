"""Residual networks for 32 and 64 px images (the `resnet` family).

BigBiGAN (Donahue & Simonyan 2019) replaced the DCGAN/AlexNet networks of the
BiGAN paper with BigGAN's residual G and D and a ResNet encoder. These are
small versions of those shapes, sized by one `base_width` w, for CPU budgets:

* Generator: z → dense to a 4×4×(w·2^(S−1)) map → S up-blocks (each BN → ReLU →
  2× nearest upsampling → conv 3×3 → BN → ReLU → conv 3×3, plus a skip of
  upsampling → conv 1×1), halving the width each block → BN → ReLU → conv 3×3
  to the image channels → sigmoid. S = 3 at 32 px, 4 at 64 px.
* Discriminator trunk F(x): S down-blocks (ReLU → conv 3×3 → ReLU → conv 3×3 →
  2×2 average pooling, plus a skip of conv 1×1 → pooling; the first block has
  no leading ReLU, as BigGAN's) doubling the width from w to w·2^(S−1) at 4×4
  → ReLU → sum over positions ["d-" features, w·2^(S−1)] → a zero-initialised
  logit. No batch norm (BigGAN's D has none; spectral norm is the usual
  companion). Its joint form is always `ScoresDiscriminator` around this.
* Encoder: conv 3×3 (w) → S pre-activation residual blocks with batch norm
  (BN → ReLU → conv 3×3, stride 1 in the first stage and 2 after → BN → ReLU →
  conv 3×3, plus a shortcut of 2×2 average pooling when strided → conv 1×1), widths w, 2w, 4w(, 8w) → BN → ReLU →
  global average pooling ["e-" features, the width of the last stage] →
  dense to `latent_dim` [logits]; E(x) = 2·sigmoid(logits) − 1, as every
  family's encoder.

Images are [B, H, W, C] in [0, 1] at the boundary and [−1, 1] inside, as in
`bigan_tf.networks.conv`; `bigan_tf.networks.cost` states a configuration's
parameters and FLOPs.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import keras
import tensorflow as tf

from bigan_tf.networks.conv import to_signed_pixels
from bigan_tf.networks.layers import (
    BatchNorm,
    DiscriminatorMixin,
    flatten_static,
    kernel_of,
    normal_init,
    spectrally_normalized,
)

SUPPORTED_SIZES = (32, 64)


def stages_for(image_size: int) -> int:
    """Resolution stages between 4×4 and the image (3 at 32 px, 4 at 64 px)."""
    if image_size not in SUPPORTED_SIZES:
        raise ValueError(
            f"The resnet family exists for {SUPPORTED_SIZES} px images, not {image_size}."
        )
    return {32: 3, 64: 4}[image_size]


def _conv(filters: int, kernel: int, name: str, sn: bool, stride: int = 1, zero=False):
    init = keras.initializers.Zeros() if zero else keras.initializers.GlorotUniform()
    return spectrally_normalized(
        keras.layers.Conv2D(
            filters, kernel, strides=stride, padding="same", kernel_initializer=init, name=name
        ),
        sn,
    )


def _dense(units: int, name: str, sn: bool, zero: bool = False, stddev: float = 0.02):
    init = keras.initializers.Zeros() if zero else normal_init(stddev)
    return spectrally_normalized(keras.layers.Dense(units, kernel_initializer=init, name=name), sn)


def _norm(name: str, epsilon: float) -> BatchNorm:
    return BatchNorm(epsilon=epsilon, center=True, scale=True, name=name)


def _upsample(h: tf.Tensor) -> tf.Tensor:
    return tf.repeat(tf.repeat(h, 2, axis=1), 2, axis=2)


def _pool(h: tf.Tensor) -> tf.Tensor:
    return tf.nn.avg_pool2d(h, 2, 2, "VALID")


class _Block(keras.layers.Layer):
    """One residual block of G ("up"), D ("down") or E ("encode")."""

    def __init__(
        self,
        kind: str,
        filters: int,
        sn: bool,
        epsilon: float,
        first: bool = False,
        stride: int = 1,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.kind, self.first, self.stride = kind, first, stride
        self.conv_a = _conv(filters, 3, "conv_a", sn, stride=stride if kind == "encode" else 1)
        self.conv_b = _conv(filters, 3, "conv_b", sn)
        # A strided block's shortcut pools, then projects (1×1, stride 1): oneDNN's
        # filter gradient of a strided 1×1 convolution crashes TensorFlow 2.21 on the
        # CPU at 64 px, and pooling first keeps every input pixel (ResNet-D).
        self.skip = _conv(filters, 1, "skip", sn)
        self.norm_a = _norm("norm_a", epsilon) if kind != "down" else None
        self.norm_b = _norm("norm_b", epsilon) if kind != "down" else None

    def call(self, x: tf.Tensor, training: bool = False):
        if self.kind == "down":
            h = x if self.first else tf.nn.relu(x)
            h = self.conv_b(tf.nn.relu(self.conv_a(h)))
            return _pool(h) + _pool(self.skip(x))
        assert self.norm_a is not None and self.norm_b is not None  # "up"/"same" blocks have them
        h = tf.nn.relu(self.norm_a(x, training=training))
        if self.kind == "up":
            h, x = _upsample(h), _upsample(x)
        h = self.conv_a(h)
        h = self.conv_b(tf.nn.relu(self.norm_b(h, training=training)))
        if self.stride > 1:
            x = _pool(x)
        return h + self.skip(x)


def _widths(base_width: int, stages: int) -> List[int]:
    return [base_width * 2**i for i in range(stages)]


def _add_blocks(model: keras.Model, blocks: List[_Block]) -> List[str]:
    """Sets each block as an attribute named after it; returns the names in order.

    Attributes, not a list: `tf.train.Checkpoint` follows a Keras model's
    attributes, and would miss the batch-norm statistics of layers held in a list.
    """
    for block in blocks:
        setattr(model, block.name, block)
    return [block.name for block in blocks]


class _Blocks:
    """`model.blocks`: the residual blocks in order."""

    def __get__(self, model, owner=None):
        return [getattr(model, name) for name in model.block_names]


@keras.saving.register_keras_serializable(package="bigan_tf")
class ResNetGenerator(keras.Model):
    """G(z): [B, image_size, image_size, channels] images in [0, 1]."""

    blocks = _Blocks()
    native_pixel_range = (-1.0, 1.0)

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        base_width: int = 32,
        batch_norm_epsilon: float = 1e-5,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.image_size, self.channels = int(image_size), int(channels)
        self.base_width, self.batch_norm_epsilon = int(base_width), float(batch_norm_epsilon)
        self.spectral_norm = bool(spectral_norm)
        widths = _widths(self.base_width, stages_for(self.image_size))[::-1]
        self.initial_width = widths[0]
        self.project = _dense(4 * 4 * widths[0], "project", self.spectral_norm)
        self.block_names = _add_blocks(
            self,
            [
                _Block("up", w, self.spectral_norm, self.batch_norm_epsilon, name=f"up{i + 1}")
                for i, w in enumerate(widths)
            ],
        )
        self.output_norm = _norm("output_norm", self.batch_norm_epsilon)
        self.output_pixels = _conv(self.channels, 3, "output_pixels", self.spectral_norm)

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        h = tf.reshape(self.project(tf.cast(z, self.compute_dtype)), [-1, 4, 4, self.initial_width])
        for block in self.blocks:
            h = block(h, training=training)
        h = tf.nn.relu(self.output_norm(h, training=training))
        return tf.cast(tf.sigmoid(self.output_pixels(h)), tf.float32)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "channels": self.channels,
            "base_width": self.base_width,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class ResNetDiscriminator(DiscriminatorMixin, keras.Model):
    """The x-only D(x) (and F(x) of the joint one): {"logits": [B], "features": d-}."""

    blocks = _Blocks()
    joint = False

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        base_width: int = 32,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        kwargs.pop("joint", None)
        super().__init__(**kwargs)
        self.image_size, self.channels = int(image_size), int(channels)
        self.base_width, self.spectral_norm = int(base_width), bool(spectral_norm)
        widths = _widths(self.base_width, stages_for(self.image_size))
        self.block_names = _add_blocks(
            self,
            [
                _Block("down", w, self.spectral_norm, 0.0, first=(i == 0), name=f"down{i + 1}")
                for i, w in enumerate(widths)
            ],
        )
        self.output_logit = _dense(1, "output_logit", self.spectral_norm, zero=True)

    @property
    def conv0(self) -> Any:
        """The first convolution (what `figures.first_layer_filters` draws)."""
        return self.blocks[0].conv_a

    def call(
        self, x: tf.Tensor, z: Optional[tf.Tensor] = None, training: bool = False
    ) -> Dict[str, tf.Tensor]:
        h = to_signed_pixels(tf.cast(x, self.compute_dtype))
        for block in self.blocks:
            h = block(h, training=training)
        features = tf.reduce_sum(tf.nn.relu(h), axis=[1, 2])
        logits = tf.squeeze(self.output_logit(features), axis=-1)
        return {"logits": tf.cast(logits, tf.float32), "features": tf.cast(features, tf.float32)}

    def _x_shape(self):
        return (self.image_size, self.image_size, kernel_of(self.conv0).shape[2])

    def _latent_projection(self):
        return None

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "channels": self.channels,
            "base_width": self.base_width,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class ResNetEncoder(keras.Model):
    """E(x) for [B, H, W, C] images in [0, 1]: {"latent", "logits", "features"}."""

    blocks = _Blocks()

    def __init__(
        self,
        latent_dim: int = 64,
        image_size: int = 32,
        base_width: int = 32,
        batch_norm_epsilon: float = 1e-5,
        zero_init_output: bool = False,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.latent_dim, self.image_size = int(latent_dim), int(image_size)
        self.base_width, self.batch_norm_epsilon = int(base_width), float(batch_norm_epsilon)
        self.zero_init_output, self.spectral_norm = bool(zero_init_output), bool(spectral_norm)
        widths = _widths(self.base_width, stages_for(self.image_size))
        self.conv1 = _conv(self.base_width, 3, "conv1", self.spectral_norm)
        self.block_names = _add_blocks(
            self,
            [
                _Block(
                    "encode",
                    w,
                    self.spectral_norm,
                    self.batch_norm_epsilon,
                    stride=1 if i == 0 else 2,
                    name=f"stage{i + 1}",
                )
                for i, w in enumerate(widths)
            ],
        )
        self.output_norm = _norm("output_norm", self.batch_norm_epsilon)
        self.output_logits = _dense(
            self.latent_dim, "output_logits", self.spectral_norm, zero=self.zero_init_output
        )

    def _pooled(self, h, training):
        h = tf.nn.relu(self.output_norm(h, training=training))
        size = int(h.shape[1]) // 4
        return flatten_static(tf.nn.avg_pool2d(h, size, size, "VALID") if size > 1 else h)

    def layer_features(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        """Each stage's output, flattened, and the pooled "e-" features, float32."""
        h = self.conv1(to_signed_pixels(tf.cast(x, self.compute_dtype)))
        layers = {}
        for i, block in enumerate(self.blocks, start=1):
            h = block(h, training=training)
            layers[f"stage{i}"] = flatten_static(h)
        layers["pooled"] = self._pooled(h, training)
        return {name: tf.cast(value, tf.float32) for name, value in layers.items()}

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The last stage pooled to 4×4 and flattened ("e-" features), float32."""
        h = self.conv1(to_signed_pixels(tf.cast(x, self.compute_dtype)))
        for block in self.blocks:
            h = block(h, training=training)
        return tf.cast(self._pooled(h, training), tf.float32)

    def call(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        features = self.extract_features(x, training=training)
        logits = tf.cast(self.output_logits(tf.cast(features, self.compute_dtype)), tf.float32)
        return {"latent": 2.0 * tf.sigmoid(logits) - 1.0, "logits": logits, "features": features}

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "image_size": self.image_size,
            "base_width": self.base_width,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "zero_init_output": self.zero_init_output,
            "spectral_norm": self.spectral_norm,
        }
