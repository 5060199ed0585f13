"""Network families by name: config -> encoder, generator and discriminators.

`build_networks(config, objective)` returns a `Networks` tuple whose members
are None when the objective does not use them (no encoder for a plain GAN, no
joint discriminator for the latent regressors, ...). Families:

* "mnist_mlp": the permutation-invariant MNIST MLPs (`mlp`);
* "dcgan": the ImageNet networks (`conv`): AlexNet encoder, DCGAN generator
  and (joint) discriminator, 64×64 or 32×32 by the image size; with
  `encoder_size` set, the generalized BiGAN's larger encoder input.
"""

from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional

import keras

from bigan_tf.config import NetworkConfig, Objective, check_objective_fits
from bigan_tf.errors import ConfigError
from bigan_tf.networks import conv, mlp
from bigan_tf.networks.conditional import (ConditionalDiscriminator, ConditionalGenerator,
                                           label_vectors)
from bigan_tf.networks.layers import (BatchNorm, LatentProjection, batch_norm_layers,
                                      decayed_variables, frozen_batch_statistics,
                                      recording_batch_moments, secondary_call)


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
                                 zero_init_output=objective.zero_init_encoder_output,
                                 name="encoder", **common)
    generator = mlp.MLPGenerator(output_dim=config.flat_dim, image_shape=config.image_shape,
                                 name="generator", **common)
    joint = (mlp.MLPDiscriminator(joint=True, name="joint_discriminator", **common)
             if objective.has_joint_discriminator else None)
    plain = (mlp.MLPDiscriminator(joint=False, name="discriminator", **common)
             if objective.has_discriminator else None)
    return Networks(encoder, generator, joint, plain)


def _build_dcgan(config: NetworkConfig, objective: Objective) -> Networks:
    check_objective_fits(config, objective)
    size, channels = config.image_shape[0], config.image_shape[2]
    common = dict(stddev=config.weight_init_stddev, batch_norm_epsilon=config.batch_norm_epsilon)
    sized = dict(image_size=size, base_width=config.base_width, **common)
    encoder = None
    if objective.has_encoder:
        encoder = conv.AlexNetEncoder(latent_dim=config.latent_dim, name="encoder",
                                      zero_init_output=objective.zero_init_encoder_output,
                                      **common)
    generator = conv.DCGANGenerator(channels=channels, name="generator", **sized)
    joint = (conv.DCGANDiscriminator(joint=True, name="joint_discriminator", **sized)
             if objective.has_joint_discriminator else None)
    plain = (conv.DCGANDiscriminator(joint=False, name="discriminator", **sized)
             if objective.has_discriminator else None)
    return Networks(encoder, generator, joint, plain)


NETWORK_FAMILIES: Dict[str, Callable[[NetworkConfig, Objective], Networks]] = {
    "mnist_mlp": _build_mnist_mlp,
    "dcgan": _build_dcgan,
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
           "batch_norm_layers", "decayed_variables", "frozen_batch_statistics",
           "recording_batch_moments", "secondary_call"]
