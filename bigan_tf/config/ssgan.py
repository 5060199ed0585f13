"""The semi-supervised GAN's networks, losses and training tricks."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Optional, Tuple

from bigan_tf.config.data import DataConfig
from bigan_tf.config.record import ConfigRecord
from bigan_tf.config.run import RunConfig
from bigan_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class SSGANConfig(ConfigRecord):
    """Networks, loss weights and training tricks of the semi-supervised GAN.

    num_classes          K of the K+1 classifier (the data's class count when larger).
    network              "mlp" or "conv" (below).
    latent_dim           size of z ~ U(-1, 1)^latent_dim.
    generator_units, classifier_units   the MLPs' widths (G; D's hidden layers).
    input_noise, hidden_noise   stddev of the Gaussian noise on D's input / hidden layers.
    unsupervised_weight  weight of D's GAN loss; 0 trains the same classifier on the
                         labelled subset alone (the supervised-only baseline).
    label_smoothing      one-sided: the real target of unlabelled real images (1 = off).
    feature_matching     G matches the mean of D's last hidden layer on real and generated
                         batches; off: the non-saturating loss −log p(real | G(z)).
    generator_updates    G updates per D update (README trick: > 1).
    learning_rate        Adam learning rate of D.
    generator_lr_mult    G's learning rate = this × learning_rate.
    beta_1               Adam beta_1 (README trick: a higher momentum, e.g. 0.9).
    clip_norm            clip each gradient to this global norm (0 = off).
    reconstruction_weight  initial weight of the annealed auxiliary L1 loss between G(z)
                         and real images (README trick; 0 = off).
    reconstruction_anneal_steps  steps over which it falls to 0.

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
            raise ConfigError(
                f"--label_smoothing is the real target in (0.5, 1] (1 = off), "
                f"got {self.label_smoothing}."
            )
        if self.generator_updates < 1:
            raise ConfigError(f"--generator_updates must be >= 1, got {self.generator_updates}.")
        for name in ("learning_rate", "generator_lr_mult"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{name} must be > 0, got {getattr(self, name)}.")
        for name in (
            "clip_norm",
            "reconstruction_weight",
            "unsupervised_weight",
            "input_noise",
            "hidden_noise",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name} must be >= 0, got {getattr(self, name)}.")
        if not 0 <= self.beta_1 < 1:
            raise ConfigError(f"--beta_1 must be in [0, 1), got {self.beta_1}.")
        if self.network not in SSGAN_NETWORKS:
            raise ConfigError(
                f"--network must be one of {', '.join(SSGAN_NETWORKS)}, got {self.network!r}."
            )
        if self.classifier_norm not in CLASSIFIER_NORMALIZATIONS:
            raise ConfigError(
                f"--classifier_norm must be one of "
                f"{', '.join(CLASSIFIER_NORMALIZATIONS)}, got "
                f"{self.classifier_norm!r}."
            )
        if self.classifier_norm != "batch" and self.network != "conv":
            raise ConfigError(
                f"--classifier_norm={self.classifier_norm} is for the conv D; "
                f"use --network=conv, or leave it unset for the MLP D."
            )
        if self.classifier_norm != "batch" and self.reference_batch_norm:
            raise ConfigError(
                "--reference_batch_norm needs D's batch norm: drop it, or use "
                "--classifier_norm=batch."
            )
        if not self.classifier_units or min(self.classifier_units) < 1:
            raise ConfigError(f"classifier_units must be positive, got {self.classifier_units}.")
        return self

    @property
    def flat_dim(self) -> int:
        return math.prod(self.image_shape)

    @classmethod
    def for_network(cls, network: str, **overrides: Any) -> "SSGANConfig":
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
    "mlp": {"latent_dim": 100, "learning_rate": 3e-4, "clip_norm": 0.0, "feature_matching": True},
    "conv": {
        "latent_dim": 128,
        "learning_rate": 1e-4,
        "clip_norm": 20.0,
        "feature_matching": False,
    },
}


@dataclasses.dataclass(frozen=True)
class SSGANExperimentConfig(ConfigRecord):
    """Everything that defines a semi-supervised GAN run (`trainers.train_ssgan`).

    run                  how it is driven (`RunConfig`; `batch_size` is the unlabelled
                         stream's, `seed` also draws the labelled subset).
    model                the networks, losses and tricks (`SSGANConfig`).
    data                 which images (`DataConfig`); its test split is the accuracy's.
    labels_per_class     labelled training examples per class (a balanced subset).
    epochs               epochs over the unlabelled training images.
    labelled_batch_size  labelled images per step, drawn with replacement.
    """

    run: RunConfig
    model: SSGANConfig = dataclasses.field(default_factory=SSGANConfig)
    data: Optional[DataConfig] = None
    labels_per_class: int = 10
    epochs: int = 20
    labelled_batch_size: int = 100

    def validate(self, network: bool = True) -> "SSGANExperimentConfig":
        """Every section's checks (`network` is accepted for the trainers' common call)."""
        self.run.validate()
        self.model.validate()
        if self.data is not None:
            self.data.validate()
        for name in ("labels_per_class", "epochs", "labelled_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}.")
        return self

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> "SSGANExperimentConfig":
        """A run's config.json (written by `bigan_tf.ssgan.train_ssgan`) as its experiment."""
        if record.get("model") != "ssgan":
            raise ConfigError(
                "This config.json is not a semi-supervised GAN run's (it has no "
                '"model": "ssgan"): train it with train_mnist/train_imagenet.'
            )
        run = {
            k: v
            for k, v in record["run"].items()
            if k in {f.name for f in dataclasses.fields(RunConfig)}
        }
        data = (record.get("data") or {}).get("config")
        return cls(
            run=RunConfig.from_dict(run),
            model=SSGANConfig.from_dict(record["ssgan"]),
            data=DataConfig.from_dict(data) if data else None,
            labels_per_class=record["labels_per_class"],
            epochs=record["epochs"],
            labelled_batch_size=record.get("labelled_batch_size", 100),
        )
