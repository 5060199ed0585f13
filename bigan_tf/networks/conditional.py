"""Class-conditional wrappers: G(z, c) and D(x, z, c) around a flat network family.

A conditional BiGAN (the reproduction's "CBiGAN", after Mirza & Osindero's
conditional GAN) gives the generator the one-hot class c with z, and the
discriminator the triple (x, z, c) instead of the pair; the encoder never sees
labels. Two ways to combine the inputs (`mode`):

* "simple": concatenation. G's input is [z, c]; the joint discriminator gets
  [z, c] wherever it takes z; an x-only discriminator gets [flat x, c].
* "extended": each input first passes through its own learned bias-free
  linear map of `units` outputs and a LeakyReLU(0.2); the projections are then
  concatenated as above (G: [P_z z, P_c c]; D: x ← P_x x and [P_z z, P_c c]).

Labels may be int class ids [B] or (soft) label vectors [B, K]; the class
sweep feeds slerped one-hots. A discriminator called without labels gets the
all-zero label vector: that is how its penultimate features are read as
label-free image features (the plain GAN's NNC_d/CLS_d), since feeding true
labels would leak them into the classification metrics.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import keras
import tensorflow as tf

from bigan_tf.networks.layers import flatten_static, normal_init, wrapper_from_config
from bigan_tf.array_types import Array

CONDITIONAL_MODES = ("none", "simple", "extended")


def label_vectors(labels: Array, num_classes: int) -> tf.Tensor:
    """int class ids [B] -> one-hot float32 [B, K]; float [B, K] passes through."""
    ids = tf.convert_to_tensor(labels)
    if ids.dtype.is_integer:
        return tf.one_hot(ids, num_classes, dtype=tf.float32)
    return tf.cast(ids, tf.float32)


def _projection(units: int, stddev: float, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(
        units, use_bias=False, kernel_initializer=normal_init(stddev), name=name
    )


class _Conditioned(keras.Model):
    """Shared plumbing: the wrapped network, the label size and the projections."""

    def __init__(
        self,
        network: keras.Model,
        num_classes: int,
        mode: str = "simple",
        units: int = 256,
        stddev: float = 0.02,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if mode not in ("simple", "extended"):
            raise ValueError(f"Conditioning mode must be simple or extended, got {mode!r}.")
        if num_classes < 2:
            raise ValueError(f"A conditional network needs >= 2 classes, got {num_classes}.")
        self.network = network
        self.num_classes, self.mode = int(num_classes), mode
        self.units, self.stddev = int(units), float(stddev)
        extended = mode == "extended"
        self.project_z = _projection(units, stddev, "project_z") if extended else None
        self.project_c = _projection(units, stddev, "project_c") if extended else None

    def build(self, *args: Any, **kwargs: Any) -> None:
        # Nothing of our own to create: the wrapped network and the projections
        # build on their first call (Keras cannot infer shapes of our multi-input call).
        self.built = True

    def _latent_code(self, z: tf.Tensor, c: tf.Tensor) -> tf.Tensor:
        if self.project_z is not None and self.project_c is not None:  # "extended"
            z = tf.nn.leaky_relu(self.project_z(z), alpha=0.2)
            c = tf.nn.leaky_relu(self.project_c(c), alpha=0.2)
        return tf.concat([z, c], axis=-1)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "num_classes": self.num_classes,
            "mode": self.mode,
            "units": self.units,
            "stddev": self.stddev,
        }

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None):
        return wrapper_from_config(cls, config, "network", custom_objects)


@keras.saving.register_keras_serializable(package="bigan_tf")
class ConditionalGenerator(_Conditioned):
    """G(z, c): the wrapped generator applied to the combined code."""

    def call(
        self, z: tf.Tensor, labels: Optional[Array] = None, training: bool = False
    ) -> tf.Tensor:
        self._latent_dim = int(z.shape[-1])  # for the build config (Keras records only x)
        if labels is None:
            raise ValueError("A conditional generator needs labels: call G(z, labels).")
        c = label_vectors(labels, self.num_classes)
        return self.network(self._latent_code(z, c), training=training)

    def get_build_config(self) -> Optional[Dict[str, Any]]:
        if not self.built:
            return None
        return {"latent_dim": int(self._latent_dim)}

    def build_from_config(self, config: Dict[str, Any]) -> None:
        self(tf.zeros([2, config["latent_dim"]]), tf.zeros([2], tf.int32))


@keras.saving.register_keras_serializable(package="bigan_tf")
class ConditionalDiscriminator(_Conditioned):
    """D(x, z, c) (wrapping a joint discriminator) or D(x, c) (an x-only one)."""

    def __init__(
        self,
        network: keras.Model,
        num_classes: int,
        mode: str = "simple",
        units: int = 256,
        stddev: float = 0.02,
        **kwargs: Any,
    ):
        super().__init__(network, num_classes, mode, units, stddev, **kwargs)
        self.joint = bool(getattr(network, "joint", False))
        self.project_x = _projection(units, stddev, "project_x") if mode == "extended" else None

    def call(
        self,
        x: tf.Tensor,
        z: Optional[tf.Tensor] = None,
        labels: Optional[Array] = None,
        training: bool = False,
    ) -> Dict[str, tf.Tensor]:
        x = flatten_static(x)
        # Recorded for the build config (Keras records only x's shape).
        self._dims = (int(x.shape[-1]), None if z is None else int(z.shape[-1]))
        if labels is None:
            c = tf.zeros([tf.shape(x)[0], self.num_classes], tf.float32)
        else:
            c = label_vectors(labels, self.num_classes)
        if self.project_x is not None:  # "extended"
            x = tf.nn.leaky_relu(self.project_x(x), alpha=0.2)
        if self.joint:
            if z is None:
                raise ValueError("The joint discriminator needs z: call it as D(x, z, labels).")
            return self.network(x, self._latent_code(z, c), training=training)
        if self.project_c is not None:  # "extended"
            c = tf.nn.leaky_relu(self.project_c(c), alpha=0.2)
        return self.network(tf.concat([x, c], axis=-1), training=training)

    def extract_features(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Label-free penultimate features of the x-only discriminator (zero label)."""
        if self.joint:
            raise ValueError("The joint discriminator's features depend on z; call D(x, z).")
        return self(x, training=training)["features"]

    def get_build_config(self) -> Optional[Dict[str, Any]]:
        if not self.built:
            return None
        return {"x_dim": self._dims[0], "z_dim": self._dims[1]}

    def build_from_config(self, config: Dict[str, Any]) -> None:
        x = tf.zeros([2, config["x_dim"]])
        z = None if config["z_dim"] is None else tf.zeros([2, config["z_dim"]])
        self(x, z, tf.zeros([2], tf.int32))
