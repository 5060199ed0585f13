"""The semi-supervised GAN's K+1-class discriminator/classifier (Salimans et al., 2016)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.networks.layers import normal_init, stateless_gaussian_noise


@keras.saving.register_keras_serializable(package="bigan_tf")
class KPlusOneClassifier(keras.Model):
    """D: x -> {"logits": [B, K+1] (K classes, then "generated"), "features": last hidden}.

    A ReLU MLP with Gaussian noise on the input and after every hidden layer
    (training mode only), as Salimans et al.'s MNIST discriminator. The noise
    comes from a stateless RNG keyed by `seed` (shape [2]), so a resumed run
    draws what an uninterrupted one would.
    """

    def __init__(
        self,
        num_classes: int = 10,
        units: Sequence[int] = (1000, 500, 250, 250, 250),
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.num_classes, self.units = int(num_classes), tuple(int(u) for u in units)
        self.input_noise, self.hidden_noise = float(input_noise), float(hidden_noise)
        # One attribute per layer, not a list: tf.train.Checkpoint does not see
        # into Keras 3's tracked lists, and would silently skip their weights.
        for i, u in enumerate(self.units):
            setattr(
                self,
                f"hidden{i + 1}",
                keras.layers.Dense(
                    u, activation="relu", name=f"hidden{i + 1}", kernel_initializer="he_normal"
                ),
            )
        self.output_logits = keras.layers.Dense(
            num_classes + 1, name="output_logits", kernel_initializer=normal_init(0.05)
        )

    def call(
        self, x: tf.Tensor, training: bool = False, seed: Optional[tf.Tensor] = None
    ) -> Dict[str, tf.Tensor]:
        h = tf.reshape(x, [-1, int(np.prod(x.shape[1:]))]) if len(x.shape) > 2 else x
        if seed is None:
            seed = tf.constant([0, 0], tf.int64)

        def noisy(h, stddev, stream):
            return stateless_gaussian_noise(h, stddev, seed, stream) if training else h

        h = noisy(h, self.input_noise, 0)
        for i in range(len(self.units)):
            h = noisy(getattr(self, f"hidden{i + 1}")(h), self.hidden_noise, i + 1)
        return {"logits": self.output_logits(h), "features": h}

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "units": list(self.units),
            "input_noise": self.input_noise,
            "hidden_noise": self.hidden_noise,
        }
