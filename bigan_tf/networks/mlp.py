"""The permutation-invariant MNIST networks of the original code (`mnist_mlp`).

All layers are bias-free and batch norm is parameter-free (`--nogain
--nobias`), weights are N(0, 0.02) but for the discriminators' output layer,
which starts at zero (the original's `BinaryClassifier`). Hidden width is 1024 (`size*16`, size 64).

* Encoder E: x -> FC -> LReLU(0.2) -> FC -> BN -> LReLU(0.2) ["e-" features]
  -> FC to latent_dim [logits]; E(x) = 2·sigmoid(logits) − 1.
* Generator G: z -> FC -> BN -> ReLU -> FC + Pz -> BN -> ReLU -> FC -> sigmoid,
  where Pz is a learned bias-free projection of z (z injected again).
* Joint discriminator D(x, z): x -> FC -> LReLU -> FC + Pz -> BN -> LReLU
  ["d-" features] -> FC to 1 logit (zero-initialised, as the original's).
* Discriminator D(x): the same without z (the plain-GAN baseline).

E and D take images [B, H, W, C] (or flat vectors [B, H·W·C]) and flatten
them inside; G returns images [B, H, W, C] in [0, 1] (flat vectors only when
built without `image_shape`, as `.keras` saves of older versions are).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import keras
import tensorflow as tf

from bigan_tf.networks.layers import (
    BatchNorm,
    DiscriminatorMixin,
    LatentProjection,
    kernel_of,
    normal_init,
    spectrally_normalized,
)


def _dense(
    units: int, stddev: float, name: str, zero: bool = False, spectral_norm: bool = False
) -> keras.layers.Layer:
    init = keras.initializers.Zeros() if zero else normal_init(stddev)
    return spectrally_normalized(
        keras.layers.Dense(units, use_bias=False, kernel_initializer=init, name=name), spectral_norm
    )


def _flatten(x: tf.Tensor) -> tf.Tensor:
    if len(x.shape) == 2:
        return x
    return tf.reshape(x, [tf.shape(x)[0], -1])


@keras.saving.register_keras_serializable(package="bigan_tf")
class MLPEncoder(keras.Model):
    """E(x): returns {"latent": 2σ(logits)−1, "logits": ..., "features": e-}.

    `zero_init_output` zero-initialises the output layer, as the original does
    when no joint discriminator is trained (latent regressor objectives).
    """

    def __init__(
        self,
        latent_dim: int = 50,
        hidden_units: int = 1024,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        zero_init_output: bool = False,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        self.latent_dim, self.hidden_units = latent_dim, hidden_units
        self.stddev, self.batch_norm_epsilon = stddev, batch_norm_epsilon
        self.zero_init_output = zero_init_output
        self.hidden1 = _dense(hidden_units, stddev, "hidden1", spectral_norm=self.spectral_norm)
        self.hidden2 = _dense(hidden_units, stddev, "hidden2", spectral_norm=self.spectral_norm)
        self.norm2 = BatchNorm(epsilon=batch_norm_epsilon, center=False, scale=False, name="norm2")
        self.output_logits = _dense(
            latent_dim,
            stddev,
            "output_logits",
            zero=zero_init_output,
            spectral_norm=self.spectral_norm,
        )

    def layer_features(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        """Each hidden layer's output (after its nonlinearity): {"hidden1", "hidden2"};
        "hidden2" is "e-"."""
        h1 = tf.nn.leaky_relu(self.hidden1(_flatten(x)), alpha=0.2)
        h2 = tf.nn.leaky_relu(self.norm2(self.hidden2(h1), training=training), alpha=0.2)
        return {"hidden1": h1, "hidden2": h2}

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The penultimate "e-" features alone (no output layer: exports use this)."""
        return self.layer_features(x, training=training)["hidden2"]

    def call(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        features = self.extract_features(x, training=training)
        logits = self.output_logits(features)
        return {"latent": 2.0 * tf.sigmoid(logits) - 1.0, "logits": logits, "features": features}

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "latent_dim": self.latent_dim,
            "hidden_units": self.hidden_units,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "zero_init_output": self.zero_init_output,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class MLPGenerator(keras.Model):
    """G(z): images [B, *image_shape] in [0, 1] (`output_dim` = their pixel count)."""

    # The pixel range of the original's data for this family; evaluation
    # distances are reported in it (official_code_notes.md §1.1, §1.4).
    native_pixel_range = (0.0, 1.0)

    def __init__(
        self,
        output_dim: int = 784,
        hidden_units: int = 1024,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        image_shape: Optional[Sequence[int]] = None,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        self.output_dim, self.hidden_units = output_dim, hidden_units
        # None: flat output (a generator saved before every network returned images).
        self.image_shape = tuple(int(d) for d in image_shape) if image_shape else None
        self.stddev, self.batch_norm_epsilon = stddev, batch_norm_epsilon
        self.hidden1 = _dense(hidden_units, stddev, "hidden1", spectral_norm=self.spectral_norm)
        self.norm1 = BatchNorm(epsilon=batch_norm_epsilon, center=False, scale=False, name="norm1")
        self.hidden2 = _dense(hidden_units, stddev, "hidden2", spectral_norm=self.spectral_norm)
        self.latent2 = LatentProjection(hidden_units, stddev, name="latent2")
        self.norm2 = BatchNorm(epsilon=batch_norm_epsilon, center=False, scale=False, name="norm2")
        self.output_pixels = _dense(
            output_dim, stddev, "output_pixels", spectral_norm=self.spectral_norm
        )

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        h = tf.nn.relu(self.norm1(self.hidden1(z), training=training))
        h = tf.nn.relu(self.norm2(self.latent2(self.hidden2(h), z), training=training))
        pixels = tf.sigmoid(self.output_pixels(h))
        if self.image_shape is None:
            return pixels
        return tf.reshape(pixels, [-1, *self.image_shape])

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "output_dim": self.output_dim,
            "hidden_units": self.hidden_units,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "image_shape": list(self.image_shape) if self.image_shape else None,
        }


@keras.saving.register_keras_serializable(package="bigan_tf")
class MLPDiscriminator(DiscriminatorMixin, keras.Model):
    """D(x) or, with `joint=True`, D(x, z): returns {"logits": [B], "features": d-}."""

    def __init__(
        self,
        joint: bool = True,
        hidden_units: int = 1024,
        stddev: float = 0.02,
        batch_norm_epsilon: float = 1e-8,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        self.joint, self.hidden_units = joint, hidden_units
        self.stddev, self.batch_norm_epsilon = stddev, batch_norm_epsilon
        self.hidden1 = _dense(hidden_units, stddev, "hidden1", spectral_norm=self.spectral_norm)
        self.hidden2 = _dense(hidden_units, stddev, "hidden2", spectral_norm=self.spectral_norm)
        self.latent2 = LatentProjection(hidden_units, stddev, name="latent2") if joint else None
        self.norm2 = BatchNorm(epsilon=batch_norm_epsilon, center=False, scale=False, name="norm2")
        # Zero, as the original's BinaryClassifier (LinearPredictor, stddev 0): a fresh
        # D outputs 1/2 everywhere and every loss starts at ln 2.
        self.output_logit = _dense(
            1, stddev, "output_logit", zero=True, spectral_norm=self.spectral_norm
        )

    def call(
        self, x: tf.Tensor, z: Optional[tf.Tensor] = None, training: bool = False
    ) -> Dict[str, tf.Tensor]:
        h = tf.nn.leaky_relu(self.hidden1(_flatten(x)), alpha=0.2)
        h = self.hidden2(h)
        if self.latent2 is not None:  # the joint D
            if z is None:
                raise ValueError("The joint discriminator needs z: call it as D(x, z).")
            h = self.latent2(h, z)
        features = tf.nn.leaky_relu(self.norm2(h, training=training), alpha=0.2)
        return {"logits": tf.squeeze(self.output_logit(features), axis=-1), "features": features}

    def _x_shape(self):
        return (kernel_of(self.hidden1).shape[0],)

    def _latent_projection(self):
        return self.latent2

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "spectral_norm": self.spectral_norm,
            "joint": self.joint,
            "hidden_units": self.hidden_units,
            "stddev": self.stddev,
            "batch_norm_epsilon": self.batch_norm_epsilon,
        }
