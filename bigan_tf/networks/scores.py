"""BigBiGAN's joint discriminator: F(x), H(z) and J(F, H), with three scores.

Donahue & Simonyan (*Large Scale Adversarial Representation Learning*,
NeurIPS 2019, §2): instead of injecting z into the image network's layers,
the joint discriminator is

* F(x): an x-only trunk (here the family's x-only discriminator: its
  penultimate "features"), which never sees z;
* H(z): an MLP on z (two LReLU(0.2) layers `units` wide);
* J(F, H): an MLP on the concatenation (two LReLU(0.2) layers) to one logit;

and returns the joint score s_xz = J(F(x), H(z)) as "logits" and the unary
scores s_x = w_x·F(x) ("x_logits") and s_z = w_z·H(z) ("z_logits"). The
unary scores let the loss tell E and G apart through x alone (does G(z) look
like data?) and z alone (does E(x) look like the prior?), which BigBiGAN
found to improve the encoder's features (its Table 1, "unary terms").

The output layers start at zero, as the original's `BinaryClassifier`: a
fresh D scores 0 everywhere. `spectral_norm` wraps every dense kernel of H, J
and the three heads (the trunk has its own setting).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import keras
import tensorflow as tf

from bigan_tf.networks.layers import (
    kernel_of,
    normal_init,
    spectrally_normalized,
    wrapper_from_config,
)


def _dense(units: int, stddev: float, name: str, zero: bool, spectral_norm: bool):
    init = keras.initializers.Zeros() if zero else normal_init(stddev)
    return spectrally_normalized(
        keras.layers.Dense(units, kernel_initializer=init, name=name), spectral_norm
    )


def _lrelu(h: tf.Tensor) -> tf.Tensor:
    return tf.nn.leaky_relu(h, alpha=0.2)


@keras.saving.register_keras_serializable(package="bigan_tf")
class ScoresDiscriminator(keras.Model):
    """D(x, z) -> {"logits": s_xz, "x_logits": s_x, "z_logits": s_z, "features": F(x)}."""

    joint = True

    def __init__(
        self,
        trunk: keras.Model,
        units: int = 256,
        stddev: float = 0.02,
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.trunk = trunk
        self.units, self.stddev, self.spectral_norm = int(units), float(stddev), bool(spectral_norm)
        sn: Dict[str, Any] = dict(stddev=self.stddev, spectral_norm=self.spectral_norm)
        self.latent1 = _dense(self.units, name="latent1", zero=False, **sn)
        self.latent2 = _dense(self.units, name="latent2", zero=False, **sn)
        self.joint1 = _dense(self.units, name="joint1", zero=False, **sn)
        self.joint2 = _dense(self.units, name="joint2", zero=False, **sn)
        self.joint_logit = _dense(1, name="joint_logit", zero=True, **sn)
        self.x_logit = _dense(1, name="x_logit", zero=True, **sn)
        self.z_logit = _dense(1, name="z_logit", zero=True, **sn)

    def call(
        self, x: tf.Tensor, z: Optional[tf.Tensor] = None, training: bool = False
    ) -> Dict[str, tf.Tensor]:
        if z is None:
            raise ValueError("The joint discriminator needs z: call it as D(x, z).")
        features = tf.cast(self.trunk(x, training=training)["features"], tf.float32)
        h_z = _lrelu(self.latent2(_lrelu(self.latent1(tf.cast(z, tf.float32)))))
        h = _lrelu(self.joint2(_lrelu(self.joint1(tf.concat([features, h_z], axis=-1)))))
        squeeze = lambda logit: tf.cast(tf.squeeze(logit, axis=-1), tf.float32)
        return {
            "logits": squeeze(self.joint_logit(h)),
            "x_logits": squeeze(self.x_logit(features)),
            "z_logits": squeeze(self.z_logit(h_z)),
            "features": features,
        }

    def get_build_config(self) -> Optional[Dict[str, Any]]:
        if not self.built:
            return None
        return {
            "x_shape": [int(d) for d in self.trunk.get_build_config()["x_shape"]],
            "z_dim": int(kernel_of(self.latent1).shape[0]),
        }

    def build_from_config(self, config: Dict[str, Any]) -> None:
        self(tf.zeros([2, *config["x_shape"]]), tf.zeros([2, config["z_dim"]]))

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "trunk": keras.saving.serialize_keras_object(self.trunk),
            "units": self.units,
            "stddev": self.stddev,
            "spectral_norm": self.spectral_norm,
        }

    @classmethod
    def from_config(
        cls, config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None
    ) -> "ScoresDiscriminator":
        return wrapper_from_config(cls, config, "trunk", custom_objects)
