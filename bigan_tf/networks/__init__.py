"""Network families by name: config -> encoder, generator and discriminators.

`build_networks(config, objective)` returns a `Networks` tuple whose members
are None when the objective does not use them (no encoder for a plain GAN, no
joint discriminator for the latent regressors, ...). Families:

* "mnist_mlp": the permutation-invariant MNIST MLPs (`mlp`);
* "dcgan": the ImageNet networks (`conv`): AlexNet encoder, DCGAN generator
  and (joint) discriminator, 64×64 or 32×32 by the image size; with
  `encoder_size` set, the generalized BiGAN's larger encoder input;
* "resnet": BigGAN-style residual G and D and a ResNet encoder (`resnet`).

Across families: `joint_discriminator="scores"` builds BigBiGAN's F/H/J
discriminator (`scores.ScoresDiscriminator`) around the family's x-only D;
`spectral_norm` names the networks whose kernels are spectrally normalised;
`stochastic_encoder` wraps E in `stochastic.StochasticEncoder`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional

import keras

from bigan_tf.config import NetworkConfig, Objective, check_objective_fits
from bigan_tf.errors import ConfigError
from bigan_tf.networks import conv, mlp, resnet
from bigan_tf.networks.scores import ScoresDiscriminator
from bigan_tf.networks.stochastic import StochasticEncoder
from bigan_tf.networks.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    label_vectors,
)
from bigan_tf.networks.layers import (
    BatchNorm,
    LatentProjection,
    batch_norm_layers,
    decayed_variables,
    frozen_batch_statistics,
    recording_batch_moments,
    secondary_call,
)


class Networks(NamedTuple):
    encoder: Optional[keras.Model]
    generator: keras.Model
    joint_discriminator: Optional[keras.Model]
    discriminator: Optional[keras.Model]


def _spectral_norm(config: NetworkConfig, network: str) -> Dict[str, bool]:
    return {"spectral_norm": network in config.spectral_norm_networks}


def _assemble(
    config: NetworkConfig,
    objective: Objective,
    encoder: Callable[[], keras.Model],
    generator: keras.Model,
    injected: Optional[Callable[[], keras.Model]],
    x_only: Callable[[str], keras.Model],
) -> Networks:
    """Networks of one family from its factories; `injected` None: the family has no
    z-injected joint D (only the F/H/J one)."""
    joint = None
    if objective.has_joint_discriminator:
        if config.joint_discriminator == "scores":
            joint = ScoresDiscriminator(
                x_only("trunk"),
                units=config.score_units,
                stddev=config.weight_init_stddev,
                name="joint_discriminator",
                **_spectral_norm(config, "discriminator"),
            )
        elif injected is not None:
            joint = injected()
    plain = x_only("discriminator") if objective.has_discriminator else None
    return Networks(encoder() if objective.has_encoder else None, generator, joint, plain)


def _build_mnist_mlp(config: NetworkConfig, objective: Objective) -> Networks:
    common: Dict[str, Any] = dict(
        hidden_units=config.hidden_units,
        stddev=config.weight_init_stddev,
        batch_norm_epsilon=config.batch_norm_epsilon,
    )
    d_common: Dict[str, Any] = dict(common, **_spectral_norm(config, "discriminator"))
    return _assemble(
        config,
        objective,
        lambda: mlp.MLPEncoder(
            latent_dim=config.latent_dim,
            zero_init_output=objective.zero_init_encoder_output,
            name="encoder",
            **common,
            **_spectral_norm(config, "encoder"),
        ),
        mlp.MLPGenerator(
            output_dim=config.flat_dim,
            image_shape=config.image_shape,
            name="generator",
            **common,
            **_spectral_norm(config, "generator"),
        ),
        lambda: mlp.MLPDiscriminator(joint=True, name="joint_discriminator", **d_common),
        lambda name: mlp.MLPDiscriminator(joint=False, name=name, **d_common),
    )


def _build_dcgan(config: NetworkConfig, objective: Objective) -> Networks:
    size, channels = config.image_shape[0], config.image_shape[2]
    common: Dict[str, Any] = dict(
        stddev=config.weight_init_stddev, batch_norm_epsilon=config.batch_norm_epsilon
    )
    sized: Dict[str, Any] = dict(image_size=size, base_width=config.base_width, **common)
    d_sized: Dict[str, Any] = dict(sized, **_spectral_norm(config, "discriminator"))
    return _assemble(
        config,
        objective,
        lambda: conv.AlexNetEncoder(
            latent_dim=config.latent_dim,
            name="encoder",
            zero_init_output=objective.zero_init_encoder_output,
            **common,
            **_spectral_norm(config, "encoder"),
        ),
        conv.DCGANGenerator(
            channels=channels, name="generator", **sized, **_spectral_norm(config, "generator")
        ),
        lambda: conv.DCGANDiscriminator(joint=True, name="joint_discriminator", **d_sized),
        lambda name: conv.DCGANDiscriminator(joint=False, name=name, **d_sized),
    )


def _build_resnet(config: NetworkConfig, objective: Objective) -> Networks:
    size, channels = config.image_shape[0], config.image_shape[2]
    sized: Dict[str, Any] = dict(image_size=size, base_width=config.base_width)
    return _assemble(
        config,
        objective,
        lambda: resnet.ResNetEncoder(
            latent_dim=config.latent_dim,
            name="encoder",
            zero_init_output=objective.zero_init_encoder_output,
            **sized,
            **_spectral_norm(config, "encoder"),
        ),
        resnet.ResNetGenerator(
            channels=channels, name="generator", **sized, **_spectral_norm(config, "generator")
        ),
        None,
        lambda name: resnet.ResNetDiscriminator(
            channels=channels, name=name, **sized, **_spectral_norm(config, "discriminator")
        ),
    )


NETWORK_FAMILIES: Dict[str, Callable[[NetworkConfig, Objective], Networks]] = {
    "mnist_mlp": _build_mnist_mlp,
    "dcgan": _build_dcgan,
    "resnet": _build_resnet,
}


def build_networks(config: NetworkConfig, objective: Objective) -> Networks:
    """Builds (unbuilt-weight) networks of `config.family` for `objective`.

    For a conditional config, G and the discriminators of the family are wrapped
    in the class-conditional wrappers; the encoder is left as it is (it never
    sees labels).
    """
    if config.family not in NETWORK_FAMILIES:
        raise ConfigError(
            f"Unknown network family {config.family!r}; expected one of {sorted(NETWORK_FAMILIES)}."
        )
    check_objective_fits(config.validate(), objective)
    networks = NETWORK_FAMILIES[config.family](config, objective)
    if config.stochastic_encoder and networks.encoder is not None:
        networks = networks._replace(
            encoder=StochasticEncoder(
                networks.encoder,
                config.latent_dim,
                stddev=config.weight_init_stddev,
                name="encoder",
                **_spectral_norm(config, "encoder"),
            )
        )
    if not config.is_conditional:
        return networks
    wrap: Dict[str, Any] = dict(
        num_classes=config.num_classes,
        mode=config.conditional,
        units=config.condition_units,
        stddev=config.weight_init_stddev,
    )
    return Networks(
        networks.encoder,
        ConditionalGenerator(networks.generator, name="generator", **wrap),
        (
            ConditionalDiscriminator(
                networks.joint_discriminator, name="joint_discriminator", **wrap
            )
            if networks.joint_discriminator is not None
            else None
        ),
        (
            ConditionalDiscriminator(networks.discriminator, name="discriminator", **wrap)
            if networks.discriminator is not None
            else None
        ),
    )


__all__ = [
    "Networks",
    "build_networks",
    "NETWORK_FAMILIES",
    "ConditionalGenerator",
    "ConditionalDiscriminator",
    "label_vectors",
    "BatchNorm",
    "LatentProjection",
    "batch_norm_layers",
    "decayed_variables",
    "frozen_batch_statistics",
    "recording_batch_moments",
    "secondary_call",
]
