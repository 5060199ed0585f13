"""The convolutional networks of the original ImageNet BiGAN (`train_imagenet.sh`).

Faithful to official_code_notes.md §2.3 at 64×64 (base width 64):

* Encoder E = `alexnet_group_padpool`: conv1 96×11×11 stride 4 → LReLU(0.2)
  (no batch norm) → max pool 3×3/2 → conv2 256×5×5, 2 groups → BN → LReLU →
  max pool 3×3/2 → conv3 384×3×3 → BN → LReLU → conv4 384×3×3, 2 groups →
  BN → LReLU → conv5 256×3×3, 2 groups → BN → LReLU ["e-" features, the
  flattened conv5 map: 4096 at 64 px, 12544 at 112 px] → bias-free linear map
  to `latent_dim` (200) [logits]; E(x) = 2·sigmoid(logits) − 1.
* Generator G = `deconvnet_64`: z → FC to 4·4·512 → BN (per unit) → ReLU →
  reshape 4×4×512 → three 5×5 stride-2 deconvolutions (256, 128, 64
  channels), each + a learned projection of z (z re-injected) → BN → ReLU →
  a last 5×5 stride-2 deconvolution to the image channels → sigmoid.
* Joint discriminator D(x, z) = `convnet_64`: x → conv 64×5×5/2 → LReLU (no
  BN, no z) → three conv 5×5/2 (128, 256, 512), each + a learned projection of
  z → BN → LReLU → flatten ["d-" features, 8192] → bias-free FC to 1 logit.
  The x-only D(x) of the GAN baseline is the same without z.

Every weight is N(0, 0.02) (D's output layer: zero, as the original's
`BinaryClassifier`) and no convolution or FC layer has a bias; batch
norm has a learned gain (init 1) and bias (init 0) and epsilon 1e-8; the z
projections of 5×5 layers are initialised N(0, 0.02·5²), as in the original.

The 32×32 variant (CIFAR/SVHN-sized data) has one up-/down-sampling stage
fewer: G 4×4×256 → 128 → 64 → image, D 64 → 128 → 256 (features 4096). The
family picks the variant from the image size.

Pixel ranges: every network takes and returns images in [0, 1] (the public
boundary); inside, E and D map x to [−1, 1] as the original's data are, and
G's sigmoid output is the original's (s + 1)/2, so the models compute the
same functions as the original's in [−1, 1].

Departures from the original, none of which changes a parameter shape:
Keras's "same" padding puts the odd padding pixel of a strided layer at the
bottom/right where Theano pads both sides by (k − 1)//2; and the original's
plain-GAN baseline D was "AlexNet-based" (paper) where ours is the DCGAN D
without z. All outputs are float32, so mixed-precision models (compute in
bfloat16/float16) hand float32 to the losses and metrics.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

import keras
import tensorflow as tf

from bigan_tf.networks.layers import (
    BatchNorm,
    DiscriminatorMixin,
    LatentProjection,
    flatten_static,
    kernel_of,
    normal_init,
    spectrally_normalized,
)

ALEXNET_WIDTHS = (96, 256, 384, 384, 256)
SUPPORTED_GENERATOR_SIZES = (32, 64)


def to_signed_pixels(x: tf.Tensor) -> tf.Tensor:
    """[0, 1] images -> [−1, 1], the original's data range."""
    return 2.0 * x - 1.0


def _conv(
    filters: int,
    kernel: int,
    stride: int,
    stddev: float,
    name: str,
    groups: int = 1,
    spectral_norm: bool = False,
):
    return spectrally_normalized(
        keras.layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding="same",
            groups=groups,
            use_bias=False,
            kernel_initializer=normal_init(stddev),
            name=name,
        ),
        spectral_norm,
    )


def _deconv(filters: int, kernel: int, stddev: float, name: str, spectral_norm: bool = False):
    return spectrally_normalized(
        keras.layers.Conv2DTranspose(
            filters,
            kernel,
            strides=2,
            padding="same",
            use_bias=False,
            kernel_initializer=normal_init(stddev),
            name=name,
        ),
        spectral_norm,
    )


def _dense(units: int, stddev: float, name: str, zero: bool = False, spectral_norm: bool = False):
    init = keras.initializers.Zeros() if zero else normal_init(stddev)
    return spectrally_normalized(
        keras.layers.Dense(units, use_bias=False, kernel_initializer=init, name=name), spectral_norm
    )


def _norm(epsilon: float, name: str) -> BatchNorm:
    return BatchNorm(epsilon=epsilon, center=True, scale=True, name=name)


def _lrelu(x):
    return tf.nn.leaky_relu(x, alpha=0.2)


def sampling_stages(image_size: int) -> int:
    """Stride-2 stages between a 4×4 map and `image_size` (4 at 64 px, 3 at 32 px)."""
    if image_size not in SUPPORTED_GENERATOR_SIZES:
        raise ValueError(
            f"The DCGAN generator and discriminator exist for "
            f"{SUPPORTED_GENERATOR_SIZES} px images, not {image_size}."
        )
    return int(round(math.log2(image_size // 4)))


@keras.saving.register_keras_serializable(package="bigan_tf")
class AlexNetEncoder(keras.Model):
    """E(x) for [B, H, W, C] images in [0, 1], H and W multiples of 16.

    Returns {"latent": 2σ(logits) − 1, "logits", "features": flattened conv5}.
    """

    def __init__(
        self,
        latent_dim: int = 200,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        zero_init_output: bool = False,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        sn = dict(spectral_norm=self.spectral_norm)
        self.latent_dim, self.stddev = int(latent_dim), float(stddev)
        self.batch_norm_epsilon, self.zero_init_output = batch_norm_epsilon, zero_init_output
        w1, w2, w3, w4, w5 = ALEXNET_WIDTHS
        self.conv1 = _conv(w1, 11, 4, stddev, "conv1", **sn)
        self.conv2 = _conv(w2, 5, 1, stddev, "conv2", groups=2, **sn)
        self.norm2 = _norm(batch_norm_epsilon, "norm2")
        self.conv3 = _conv(w3, 3, 1, stddev, "conv3", **sn)
        self.norm3 = _norm(batch_norm_epsilon, "norm3")
        self.conv4 = _conv(w4, 3, 1, stddev, "conv4", groups=2, **sn)
        self.norm4 = _norm(batch_norm_epsilon, "norm4")
        self.conv5 = _conv(w5, 3, 1, stddev, "conv5", groups=2, **sn)
        self.norm5 = _norm(batch_norm_epsilon, "norm5")
        self.output_logits = _dense(
            self.latent_dim, stddev, "output_logits", zero=zero_init_output, **sn
        )

    @staticmethod
    def _pool(h):
        return tf.nn.max_pool2d(h, 3, 2, "SAME")

    def layer_features(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        """Every layer's output as the next layer reads it (after its nonlinearity and
        pooling), flattened, float32: {"conv1", ..., "conv5"}; "conv5" is "e-"."""
        h = to_signed_pixels(tf.cast(x, self.compute_dtype))
        layers = {}
        h = layers["conv1"] = self._pool(_lrelu(self.conv1(h)))
        h = layers["conv2"] = self._pool(_lrelu(self.norm2(self.conv2(h), training=training)))
        h = layers["conv3"] = _lrelu(self.norm3(self.conv3(h), training=training))
        h = layers["conv4"] = _lrelu(self.norm4(self.conv4(h), training=training))
        layers["conv5"] = _lrelu(self.norm5(self.conv5(h), training=training))
        return {name: tf.cast(flatten_static(h), tf.float32) for name, h in layers.items()}

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The flattened conv5 map ("e-" features), float32."""
        return self.layer_features(x, training=training)["conv5"]

    def call(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        features = self.extract_features(x, training=training)
        logits = tf.cast(self.output_logits(tf.cast(features, self.compute_dtype)), tf.float32)
        return {"latent": 2.0 * tf.sigmoid(logits) - 1.0, "logits": logits, "features": features}

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "latent_dim": self.latent_dim,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "zero_init_output": self.zero_init_output,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class DCGANGenerator(keras.Model):
    """G(z): [B, image_size, image_size, channels] images in [0, 1]."""

    # The pixel range of the original's data for this family; evaluation
    # distances are reported in it (official_code_notes.md §1.1, §1.4).
    native_pixel_range = (-1.0, 1.0)

    def __init__(
        self,
        image_size: int = 64,
        channels: int = 3,
        base_width: int = 64,
        kernel_size: int = 5,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        sn = dict(spectral_norm=self.spectral_norm)
        self.image_size, self.channels = int(image_size), int(channels)
        self.base_width, self.kernel_size = int(base_width), int(kernel_size)
        self.stddev, self.batch_norm_epsilon = float(stddev), batch_norm_epsilon
        stages = sampling_stages(self.image_size)
        self.initial_width = self.base_width * 2 ** (stages - 1)
        self.project = _dense(4 * 4 * self.initial_width, stddev, "project", **sn)
        self.project_norm = _norm(batch_norm_epsilon, "project_norm")
        # One deconvolution per stage; all but the last get z and batch norm.
        self.hidden_widths = [self.base_width * 2 ** (stages - 1 - i) for i in range(1, stages)]
        for i, width in enumerate(self.hidden_widths, start=1):
            setattr(self, f"deconv{i}", _deconv(width, kernel_size, stddev, f"deconv{i}", **sn))
            setattr(
                self, f"latent{i}", LatentProjection(width, stddev, kernel_size, name=f"latent{i}")
            )
            setattr(self, f"norm{i}", _norm(batch_norm_epsilon, f"norm{i}"))
        self.output_pixels = _deconv(self.channels, kernel_size, stddev, "output_pixels", **sn)

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        z = tf.cast(z, self.compute_dtype)
        h = tf.nn.relu(self.project_norm(self.project(z), training=training))
        h = tf.reshape(h, [-1, 4, 4, self.initial_width])
        for i in range(1, len(self.hidden_widths) + 1):
            h = getattr(self, f"latent{i}")(getattr(self, f"deconv{i}")(h), z)
            h = tf.nn.relu(getattr(self, f"norm{i}")(h, training=training))
        return tf.cast(tf.sigmoid(self.output_pixels(h)), tf.float32)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "image_size": self.image_size,
            "channels": self.channels,
            "base_width": self.base_width,
            "kernel_size": self.kernel_size,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class DCGANDiscriminator(DiscriminatorMixin, keras.Model):
    """D(x) or, with `joint=True`, D(x, z): returns {"logits": [B], "features": d-}."""

    def __init__(
        self,
        joint: bool = True,
        image_size: int = 64,
        base_width: int = 64,
        kernel_size: int = 5,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        sn = dict(spectral_norm=self.spectral_norm)
        self.joint, self.image_size = bool(joint), int(image_size)
        self.base_width, self.kernel_size = int(base_width), int(kernel_size)
        self.stddev, self.batch_norm_epsilon = float(stddev), batch_norm_epsilon
        stages = sampling_stages(self.image_size)
        self.conv0 = _conv(self.base_width, kernel_size, 2, stddev, "conv0", **sn)
        self.hidden_widths = [self.base_width * 2**i for i in range(1, stages)]
        for i, width in enumerate(self.hidden_widths, start=1):
            setattr(self, f"conv{i}", _conv(width, kernel_size, 2, stddev, f"conv{i}", **sn))
            if self.joint:
                setattr(
                    self,
                    f"latent{i}",
                    LatentProjection(width, stddev, kernel_size, name=f"latent{i}"),
                )
            setattr(self, f"norm{i}", _norm(batch_norm_epsilon, f"norm{i}"))
        # Zero, as the original's BinaryClassifier (LinearPredictor, stddev 0): a fresh
        # D outputs 1/2 everywhere and every loss starts at ln 2.
        self.output_logit = _dense(1, stddev, "output_logit", zero=True, **sn)

    def call(
        self, x: tf.Tensor, z: Optional[tf.Tensor] = None, training: bool = False
    ) -> Dict[str, tf.Tensor]:
        if self.joint and z is None:
            raise ValueError("The joint discriminator needs z: call it as D(x, z).")
        h = _lrelu(self.conv0(to_signed_pixels(tf.cast(x, self.compute_dtype))))
        for i in range(1, len(self.hidden_widths) + 1):
            h = getattr(self, f"conv{i}")(h)
            if self.joint:
                h = getattr(self, f"latent{i}")(h, tf.cast(z, self.compute_dtype))
            h = _lrelu(getattr(self, f"norm{i}")(h, training=training))
        features = flatten_static(h)
        logits = tf.squeeze(self.output_logit(features), axis=-1)
        return {"logits": tf.cast(logits, tf.float32), "features": tf.cast(features, tf.float32)}

    def _x_shape(self):
        return (self.image_size, self.image_size, kernel_of(self.conv0).shape[2])

    def _latent_projection(self):
        return self.latent1 if self.joint else None

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "joint": self.joint,
            "image_size": self.image_size,
            "base_width": self.base_width,
            "kernel_size": self.kernel_size,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
        }
