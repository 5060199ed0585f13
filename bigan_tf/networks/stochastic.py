"""A stochastic encoder: any family's E plus a log-variance head (BigBiGAN §2).

E(x) returns, besides its mean μ ("latent", 2·sigmoid(logits) − 1 as every
encoder's) and "features" (the base encoder's penultimate layer, the
features every probe reads), "log_variance" = W·features + b, b starting at
`initial_log_variance` (σ ≈ 0.14 at −4, small beside the U(−1, 1) prior's
spread). In a training step the real pair's code is z = μ + exp(lv/2)·ε,
ε ~ N(0, 1) drawn from (seed, step) (`bigan_tf.bigan_loss`); everywhere else
(evaluation, exports, sampling) E(x) is μ.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import keras
import tensorflow as tf

from bigan_tf.networks.layers import normal_init, spectrally_normalized, wrapper_from_config


@keras.saving.register_keras_serializable(package="bigan_tf")
class StochasticEncoder(keras.Model):
    """Wraps `base` (an encoder returning {"latent", "logits", "features"})."""

    def __init__(
        self,
        base: keras.Model,
        latent_dim: int,
        stddev: float = 0.02,
        initial_log_variance: float = -4.0,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.base = base
        self.latent_dim, self.stddev = int(latent_dim), float(stddev)
        self.initial_log_variance, self.spectral_norm = (
            float(initial_log_variance),
            bool(spectral_norm),
        )
        self.log_variance = spectrally_normalized(
            keras.layers.Dense(
                self.latent_dim,
                kernel_initializer=normal_init(self.stddev),
                bias_initializer=keras.initializers.Constant(self.initial_log_variance),
                name="log_variance",
            ),
            self.spectral_norm,
        )

    def call(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        outputs = dict(self.base(x, training=training))
        outputs["log_variance"] = tf.cast(
            self.log_variance(tf.cast(outputs["features"], self.compute_dtype)), tf.float32
        )
        return outputs

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.base.extract_features(x, training=training)

    def layer_features(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        return self.base.layer_features(x, training=training)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "base": keras.saving.serialize_keras_object(self.base),
            "latent_dim": self.latent_dim,
            "stddev": self.stddev,
            "initial_log_variance": self.initial_log_variance,
            "spectral_norm": self.spectral_norm,
        }

    @classmethod
    def from_config(
        cls, config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None
    ) -> "StochasticEncoder":
        return wrapper_from_config(cls, config, "base", custom_objects)
