"""The convolutional networks of the SSGAN-TensorFlow README (gitlimlab/SSGAN-Tensorflow).

Sizes follow that repository's `discriminator.py`, `generator.py` and `ops.py`
(its defaults: batch norm, bilinear up-sampling):

* D (`ConvKPlusOneClassifier`): n = ceil(log2(min(H, W))) convolutions 3×3
  stride 2 with 32, 64, 128, 256, 256, 512, 512, … channels, each
  LReLU(0.2) then batch norm (activation first, as its `norm_and_act`);
  a 1×1 convolution to a quarter of the last width with LReLU and no norm
  (the "features" that feature matching compares: 64 values at 28 and 32
  px); a 1×1 convolution to the K+1 logits. 28 and 32 px end at 1×1.
* G (`ConvSSGANGenerator`): z → FC 1024 with LReLU(0.2), no norm → a 1×1
  map → n = ceil(log2(max(H, W))) stages of bilinear ×2 up-sampling, a 3×3
  convolution halving the channels (512, 256, … never below C), ReLU, batch
  norm → a 1×1 convolution to C channels with tanh → bilinear resize to
  H×W (32 → 28 for MNIST).

Weights are Glorot-uniform with zero biases (TF-Slim's defaults there).

`normalization="weight"` is Salimans et al.'s conv D recipe (their CIFAR-10 and
SVHN discriminators) on these widths: every convolution of D weight-normalised
(`WeightNormConv2D`), no batch norm, and Gaussian noise on the input
(`input_noise`, on the [0, 1] scale) and after every hidden block
(`hidden_noise`) in training mode, as their MNIST MLP D, whose Gaussian noise
stands in for their conv D's dropout. A fresh D gets their data-dependent
initialisation (`ConvKPlusOneClassifier.initialize_from_data`): each layer's
gain and bias set, in order, so that its pre-activations over a batch of real
images have zero mean and unit variance per channel (the logits 0.1, their
output layer's scale).

Pixel ranges: both networks take and return images in [0, 1], as every
network of this library; inside, D sees 2x − 1 and G's tanh output t is
returned as (t + 1)/2, so they compute that repository's functions on its
[−1, 1] data. Departures: Keras's batch norm (momentum 0.99, epsilon 1e-3)
normalises test images with its moving averages, where the repository's
`tf.contrib` batch norm kept batch statistics at test time too; Keras's
bilinear up-sampling uses half-pixel centres (TF1's `resize_bilinear` did
not); D averages any spatial extent left after its last stride (none at 28
or 32 px, where the repository squeezed a 1×1 map).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence

import keras
import tensorflow as tf

from bigan_tf.config.ssgan import CLASSIFIER_NORMALIZATIONS
from bigan_tf.networks.layers import BatchNorm, stateless_gaussian_noise

DISCRIMINATOR_WIDTHS = (32, 64, 128, 256, 256, 512)
GENERATOR_FC_UNITS = 1024


def _stages(size: int) -> int:
    return max(1, math.ceil(math.log2(size)))


def _batch_norm(name: str) -> BatchNorm:
    # tf.contrib's defaults as the repository used them; global-batch statistics
    # under tf.distribute (see BatchNorm).
    return BatchNorm(epsilon=1e-3, momentum=0.99, name=name)


def _as_images(x: tf.Tensor, image_shape: Sequence[int]) -> tf.Tensor:
    """Accepts flat [B, H·W·C] rows too (the MLP family's format)."""
    return tf.reshape(x, [-1, *image_shape]) if len(x.shape) == 2 else x


@keras.saving.register_keras_serializable(package="bigan_tf")
class SmallMapConv2D(keras.layers.Conv2D):
    """A stride-1 "same" `Conv2D` computed as one matrix product per kernel tap.

    The same function and weights as `Conv2D`, for maps of a few pixels and
    many channels: there TensorFlow's CPU gradient with respect to the input is
    pathological (G's first 3×3 convolution, 2×2×1024 → 512 on a batch of 100:
    3.1 s, against 0.37 s for the tap-wise products; BENCHMARKS.md).
    """

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any):
        super().__init__(filters, kernel_size, **{"padding": "same", **kwargs})
        if (
            self.padding != "same"
            or tuple(self.strides) != (1, 1)
            or tuple(self.dilation_rate) != (1, 1)
        ):
            raise ValueError("SmallMapConv2D computes stride-1, undilated 'same' convolutions.")

    def convolution_op(self, inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
        (kh, kw), (height, width) = self.kernel_size, inputs.shape[1:3]
        top, left = (kh - 1) // 2, (kw - 1) // 2  # "same" padding's split at stride 1
        padded = tf.pad(inputs, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]])
        outputs = 0.0
        for i in range(kh):
            for j in range(kw):
                outputs += tf.einsum(
                    "bhwc,cd->bhwd", padded[:, i : i + height, j : j + width, :], kernel[i, j]
                )
        return outputs


@keras.saving.register_keras_serializable(package="bigan_tf")
class WeightNormConv2D(keras.layers.Conv2D):
    """`Conv2D` with weight normalisation (Salimans & Kingma, 2016).

    The kernel used is w = g · v / ‖v‖, one gain g per output channel and
    ‖v‖ over that channel's kernel (height, width, input channels), so a
    filter's direction and its length are learned separately. g starts at 1.
    """

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.gain = self.add_weight(name="gain", shape=(self.filters,), initializer="ones")

    def convolution_op(self, inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
        norm = tf.sqrt(tf.reduce_sum(tf.square(kernel), axis=[0, 1, 2]) + 1e-12)
        return super().convolution_op(inputs, kernel * (self.gain / norm))


@keras.saving.register_keras_serializable(package="bigan_tf")
class ConvKPlusOneClassifier(keras.Model):
    """D: images [B, H, W, C] in [0, 1] -> {"logits": [B, K+1], "features": [B, F]}.

    The interface of `KPlusOneClassifier` (the MLP family). `normalization`:
    "batch" (the SSGAN-TensorFlow code; no noise, `seed` unused) or "weight"
    (Salimans et al.'s recipe: weight-normalised convolutions, no batch norm,
    Gaussian noise in training mode from a stateless RNG keyed by `seed`).
    """

    def __init__(
        self,
        num_classes: int = 10,
        image_shape: Sequence[int] = (28, 28, 1),
        normalization: str = "batch",
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if normalization not in CLASSIFIER_NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {CLASSIFIER_NORMALIZATIONS}, got {normalization!r}."
            )
        self.num_classes = int(num_classes)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.normalization = normalization
        self.input_noise, self.hidden_noise = float(input_noise), float(hidden_noise)
        conv = WeightNormConv2D if normalization == "weight" else keras.layers.Conv2D
        self.num_stages = _stages(min(self.image_shape[:2]))
        widths = [
            DISCRIMINATOR_WIDTHS[min(i, len(DISCRIMINATOR_WIDTHS) - 1)]
            for i in range(self.num_stages)
        ]
        self.widths = tuple(widths)
        # One attribute per layer (tf.train.Checkpoint does not see into Keras lists).
        for i, width in enumerate(widths):
            setattr(
                self, f"conv{i + 1}", conv(width, 3, strides=2, padding="same", name=f"conv{i + 1}")
            )
            if normalization == "batch":
                setattr(self, f"norm{i + 1}", _batch_norm(f"norm{i + 1}"))
        self.features_conv = conv(widths[-1] // 4, 1, name="features_conv")
        self.logits_conv = conv(self.num_classes + 1, 1, name="logits_conv")

    def call(
        self, x: tf.Tensor, training: bool = False, seed: Optional[tf.Tensor] = None
    ) -> Dict[str, tf.Tensor]:
        noisy = training and self.normalization == "weight"
        if seed is None:
            seed = tf.constant([0, 0], tf.int64)

        def add_noise(h, stddev, stream):
            return stateless_gaussian_noise(h, stddev, seed, stream) if noisy else h

        h = 2.0 * add_noise(_as_images(x, self.image_shape), self.input_noise, 0) - 1.0
        for i in range(self.num_stages):
            h = tf.nn.leaky_relu(getattr(self, f"conv{i + 1}")(h), 0.2)
            if self.normalization == "batch":
                h = getattr(self, f"norm{i + 1}")(h, training=training)
            h = add_noise(h, self.hidden_noise, i + 1)
        h = tf.nn.leaky_relu(self.features_conv(h), 0.2)
        logits = self.logits_conv(h)
        return {
            "logits": tf.reduce_mean(logits, axis=[1, 2]),
            "features": tf.reduce_mean(h, axis=[1, 2]),
        }

    def initialize_from_data(self, x: tf.Tensor, logits_scale: float = 0.1) -> None:
        """Data-dependent initialisation of a weight-normalised D (Salimans & Kingma, 2016).

        Layer by layer over the images `x` (no noise): with t the layer's
        pre-activations and (μ, σ) their per-channel mean and standard deviation,
        the gain and bias become g·s/σ and (b − μ)·s/σ, so that the new t is
        s·(t − μ)/σ, with s = 1 (the logits: `logits_scale`). A no-op for the
        batch-norm D.
        """
        if self.normalization != "weight":
            return
        layers = [getattr(self, f"conv{i + 1}") for i in range(self.num_stages)]
        layers += [self.features_conv, self.logits_conv]
        h = 2.0 * _as_images(tf.convert_to_tensor(x, tf.float32), self.image_shape) - 1.0
        for layer in layers:
            scale = logits_scale if layer is self.logits_conv else 1.0
            mean, variance = tf.nn.moments(layer(h), axes=[0, 1, 2])
            factor = scale / tf.sqrt(variance + 1e-8)
            layer.gain.assign(layer.gain * factor)
            layer.bias.assign((layer.bias - mean) * factor)
            h = tf.nn.leaky_relu(layer(h), 0.2)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            "normalization": self.normalization,
            "input_noise": self.input_noise,
            "hidden_noise": self.hidden_noise,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class ConvSSGANGenerator(keras.Model):
    """G: z [B, latent_dim] -> images [B, H, W, C] in [0, 1]."""

    def __init__(self, image_shape: Sequence[int] = (28, 28, 1), **kwargs: Any):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        height, width, channels = self.image_shape
        self.num_stages = _stages(max(height, width))
        self.fc = keras.layers.Dense(GENERATOR_FC_UNITS, name="fc")
        units = GENERATOR_FC_UNITS
        for i in range(self.num_stages):
            units = max(channels, units // 2)
            setattr(
                self,
                f"upsample{i + 1}",
                keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"upsample{i + 1}"),
            )
            # The first stage's 2×2 map: the tap-wise form (see SmallMapConv2D).
            conv = SmallMapConv2D if i == 0 else keras.layers.Conv2D
            setattr(self, f"conv{i + 1}", conv(units, 3, padding="same", name=f"conv{i + 1}"))
            setattr(self, f"norm{i + 1}", _batch_norm(f"norm{i + 1}"))
        self.output_conv = keras.layers.Conv2D(channels, 1, name="output_conv")

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        h = tf.nn.leaky_relu(self.fc(z), 0.2)[:, None, None, :]
        for i in range(self.num_stages):
            h = getattr(self, f"conv{i + 1}")(getattr(self, f"upsample{i + 1}")(h))
            h = getattr(self, f"norm{i + 1}")(tf.nn.relu(h), training=training)
        images = tf.tanh(self.output_conv(h))
        if tuple(images.shape[1:3]) != self.image_shape[:2]:
            images = tf.image.resize(images, self.image_shape[:2], method="bilinear")
        return (images + 1.0) / 2.0

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "image_shape": list(self.image_shape)}
