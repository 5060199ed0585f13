"""The semi-supervised GAN's networks, losses and training tricks."""

from __future__ import annotations

import dataclasses
import math
from typing import Tuple

from bigan_tf.config.record import ConfigRecord
from bigan_tf.errors import ConfigError

@dataclasses.dataclass(frozen=True)
class SSGANConfig(ConfigRecord):
    """Networks, loss weights and training tricks of the semi-supervised GAN.

    `network` picks the family: "mlp" (Salimans et al.'s MNIST MLP D with
    Gaussian noise, the BiGAN MLP G; `classifier_units`, `generator_units`,
    the noise levels apply) or "conv" (the SSGAN-TensorFlow README's
    convolutional D and bilinear up-sampling G, `bigan_tf.networks.ssgan_conv`).
    `for_network` gives each family its own defaults. `reference_batch_norm`:
    D's batch norms normalise the labelled and generated batches with the
    unlabelled real batch's statistics (`networks.layers.reference_batch_norm`;
    the MLP D has no batch norm). `classifier_norm` (conv family): "batch" (the
    SSGAN-TensorFlow code) or "weight" (Salimans et al.'s conv recipe: weight
    normalisation, no batch norm, and `input_noise`/`hidden_noise` as in the
    MLP D).
    """

    num_classes: int = 10
    network: str = "mlp"
    image_shape: Tuple[int, int, int] = (28, 28, 1)
    latent_dim: int = 100
    generator_units: int = 500
    classifier_units: Tuple[int, ...] = (1000, 500, 250, 250, 250)
    input_noise: float = 0.3
    hidden_noise: float = 0.5
    unsupervised_weight: float = 1.0
    label_smoothing: float = 0.9
    feature_matching: bool = True
    reference_batch_norm: bool = False
    classifier_norm: str = "batch"
    generator_updates: int = 1
    learning_rate: float = 3e-4
    generator_lr_mult: float = 1.0
    beta_1: float = 0.5
    clip_norm: float = 0.0
    reconstruction_weight: float = 0.0
    reconstruction_anneal_steps: int = 1000

    def validate(self) -> "SSGANConfig":
        if self.num_classes < 2:
            raise ConfigError(f"The K+1 classifier needs >= 2 classes, got {self.num_classes}.")
        if not 0.5 < self.label_smoothing <= 1.0:
            raise ConfigError(f"--label_smoothing is the real target in (0.5, 1] (1 = off), "
                              f"got {self.label_smoothing}.")
        if self.generator_updates < 1:
            raise ConfigError(f"--generator_updates must be >= 1, got {self.generator_updates}.")
        for name in ("learning_rate", "generator_lr_mult"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{name} must be > 0, got {getattr(self, name)}.")
        for name in ("clip_norm", "reconstruction_weight", "unsupervised_weight", "input_noise",
                     "hidden_noise"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name} must be >= 0, got {getattr(self, name)}.")
        if not 0 <= self.beta_1 < 1:
            raise ConfigError(f"--beta_1 must be in [0, 1), got {self.beta_1}.")
        if self.network not in SSGAN_NETWORKS:
            raise ConfigError(f"--network must be one of {', '.join(SSGAN_NETWORKS)}, "
                              f"got {self.network!r}.")
        if self.classifier_norm not in CLASSIFIER_NORMALIZATIONS:
            raise ConfigError(f"--classifier_norm must be one of "
                              f"{', '.join(CLASSIFIER_NORMALIZATIONS)}, got "
                              f"{self.classifier_norm!r}.")
        if self.classifier_norm != "batch" and self.network != "conv":
            raise ConfigError(f"--classifier_norm={self.classifier_norm} is for the conv D; "
                              f"use --network=conv, or leave it unset for the MLP D.")
        if self.classifier_norm != "batch" and self.reference_batch_norm:
            raise ConfigError("--reference_batch_norm needs D's batch norm: drop it, or use "
                              "--classifier_norm=batch.")
        if not self.classifier_units or min(self.classifier_units) < 1:
            raise ConfigError(f"classifier_units must be positive, got {self.classifier_units}.")
        return self

    @property
    def flat_dim(self) -> int:
        return math.prod(self.image_shape)

    @classmethod
    def for_network(cls, network: str, **overrides) -> "SSGANConfig":
        """The family's defaults (`SSGAN_NETWORK_DEFAULTS`), then `overrides`
        (None values are left to the defaults)."""
        defaults = SSGAN_NETWORK_DEFAULTS.get(network, {})
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(network=network, **{**defaults, **given})


SSGAN_NETWORKS = ("mlp", "conv")
CLASSIFIER_NORMALIZATIONS = ("batch", "weight")
# Each family's own settings: the MLP's are Salimans et al.'s; the conv family's
# are SSGAN-TensorFlow's config.py / trainer.py (n_z 128, Adam 1e-4 for D and G,
# gradients clipped to global norm 20, and that code's adversarial G loss: on
# MNIST with 100 labels it gave the best conv accuracy we measured, ahead of
# feature matching with per-batch or reference batch norm in D (BENCHMARKS.md).
# Records without "network" are MLP runs.
SSGAN_NETWORK_DEFAULTS = {
    "mlp": {"latent_dim": 100, "learning_rate": 3e-4, "clip_norm": 0.0,
            "feature_matching": True},
    "conv": {"latent_dim": 128, "learning_rate": 1e-4, "clip_norm": 20.0,
             "feature_matching": False},
}
