"""Network families by name: config -> encoder, generator and discriminators.

`build_networks(config, objective)` returns a `Networks` tuple whose members
are None when the objective does not use them (no encoder for a plain GAN, no
joint discriminator for the latent regressors, ...). Later families (DCGAN,
AlexNet) register here too.
"""

from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional

import keras

from bigan_tf.config import NetworkConfig, Objective
from bigan_tf.errors import ConfigError
from bigan_tf.networks import mlp
from bigan_tf.networks.conditional import (ConditionalDiscriminator, ConditionalGenerator,
                                           label_vectors)
from bigan_tf.networks.layers import (BatchNorm, LatentProjection, batch_norm_layers,
                                      frozen_batch_statistics, recording_batch_moments)


class Networks(NamedTuple):
    encoder: Optional[keras.Model]
    generator: keras.Model
    joint_discriminator: Optional[keras.Model]
    discriminator: Optional[keras.Model]


def _build_mnist_mlp(config: NetworkConfig, objective: Objective) -> Networks:
    common = dict(hidden_units=config.hidden_units, stddev=config.weight_init_stddev,
                  batch_norm_epsilon=config.batch_norm_epsilon)
    encoder = None
    if objective.has_encoder:
        encoder = mlp.MLPEncoder(latent_dim=config.latent_dim,
                                 zero_init_output=not objective.has_joint_discriminator,
                                 name="encoder", **common)
    generator = mlp.MLPGenerator(output_dim=config.flat_dim, name="generator", **common)
    joint = (mlp.MLPDiscriminator(joint=True, name="joint_discriminator", **common)
             if objective.has_joint_discriminator else None)
    plain = (mlp.MLPDiscriminator(joint=False, name="discriminator", **common)
             if objective.has_discriminator else None)
    return Networks(encoder, generator, joint, plain)


NETWORK_FAMILIES: Dict[str, Callable[[NetworkConfig, Objective], Networks]] = {
    "mnist_mlp": _build_mnist_mlp,
}


def build_networks(config: NetworkConfig, objective: Objective) -> Networks:
    """Builds (unbuilt-weight) networks of `config.family` for `objective`.

    For a conditional config, G and the discriminators of the family are wrapped
    in the class-conditional wrappers; the encoder is left as it is (it never
    sees labels).
    """
    if config.family not in NETWORK_FAMILIES:
        raise ConfigError(
            f"Unknown network family {config.family!r}; expected one of {sorted(NETWORK_FAMILIES)}.")
    networks = NETWORK_FAMILIES[config.family](config.validate(), objective)
    if not config.is_conditional:
        return networks
    wrap = dict(num_classes=config.num_classes, mode=config.conditional,
                units=config.condition_units, stddev=config.weight_init_stddev)
    return Networks(
        networks.encoder,
        ConditionalGenerator(networks.generator, name="generator", **wrap),
        (ConditionalDiscriminator(networks.joint_discriminator, name="joint_discriminator", **wrap)
         if networks.joint_discriminator is not None else None),
        (ConditionalDiscriminator(networks.discriminator, name="discriminator", **wrap)
         if networks.discriminator is not None else None))


__all__ = ["Networks", "build_networks", "NETWORK_FAMILIES", "ConditionalGenerator",
           "ConditionalDiscriminator", "label_vectors", "BatchNorm", "LatentProjection",
           "batch_norm_layers", "frozen_batch_statistics", "recording_batch_moments"]
