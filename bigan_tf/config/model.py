"""The BiGAN's networks, optimiser and evaluation protocol."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional, Tuple

from bigan_tf.config.record import ConfigRecord, check_choice, check_subset
from bigan_tf.errors import ConfigError

# Families of fully connected networks: they take and make images [B, H, W, C]
# like every family, but work on the flattened pixels inside.
FLAT_FAMILIES = ("mnist_mlp",)
# Convolutional families and the square image sizes their G and D make.
CONV_FAMILY_SIZES = {"dcgan": (32, 64), "resnet": (32, 64)}
# `NetworkConfig.joint_discriminator`: z injected into D's hidden layers (the
# original's), or BigBiGAN's F(x), H(z), J(F, H) with three scores.
JOINT_DISCRIMINATORS = ("injected", "scores")
# The networks `NetworkConfig.spectral_norm` may name.
SPECTRAL_NORM_NETWORKS = ("discriminator", "generator", "encoder")


@dataclasses.dataclass(frozen=True)
class NetworkConfig(ConfigRecord):
    """Which network family and its sizes.

    family              "mnist_mlp", "dcgan" or "resnet" (below).
    latent_dim          size of z (the prior is U(-1, 1)^latent_dim).
    hidden_units        width of the MLPs' hidden layers.
    weight_init_stddev  stddev of the Gaussian initialisation of the kernels.
    batch_norm_epsilon  epsilon of every batch normalisation.
    base_width          the convolutional families' base channel count.

    `image_shape` is the shape of one image (H, W, C); every family takes and
    makes images of it (the MLPs flatten inside).

    `conditional` makes G and D class-conditional (`bigan_tf.networks.conditional`):
    "none", "simple" (one-hot labels concatenated to z, and to D's inputs) or
    "extended" (a learned projection of x, z and c, each `condition_units`
    wide, before they are combined); `num_classes` is then the label count.

    Families: "mnist_mlp" (the permutation-invariant MNIST MLPs; consumes and
    produces flat vectors) and "dcgan" (AlexNet encoder, DCGAN G and D for 32
    or 64 px images, `base_width` the original's gen/feat_net_size).
    "resnet": BigGAN-style residual G and D and a pre-activation ResNet encoder
    for 32 or 64 px images (`bigan_tf.networks.resnet`), widths from `base_width`.
    `encoder_size` > 0 makes a *generalized* BiGAN (paper §3.5): the encoder
    reads `encoder_size` px images (the original's crop_size, e.g. 112) while
    G and D work at `image_shape` (crop_resize, e.g. 64); 0 = the image size.

    Not in the original (BigBiGAN, Donahue & Simonyan 2019):
    `joint_discriminator` "injected" (z projected into D's hidden layers, the
    original's) or "scores" (F(x) the family's x-only D trunk, H(z) and J(F, H)
    MLPs `score_units` wide, returning the joint score and the unary scores
    s_x, s_z; the resnet family has only this one); `spectral_norm`, a
    comma-separated subset of "discriminator", "generator", "encoder" whose
    dense and convolution kernels `keras.layers.SpectralNormalization` wraps;
    `stochastic_encoder`, E also predicts a log-variance and, in training,
    z = μ + σ·ε with ε drawn from (seed, step) (μ is what E returns at
    inference; features are read before either head).
    """

    family: str = "mnist_mlp"
    latent_dim: int = 50
    hidden_units: int = 1024
    image_shape: Tuple[int, int, int] = (28, 28, 1)
    weight_init_stddev: float = 0.02
    batch_norm_epsilon: float = 1e-8
    conditional: str = "none"
    num_classes: int = 0
    condition_units: int = 256
    base_width: int = 64
    encoder_size: int = 0
    joint_discriminator: str = "injected"
    score_units: int = 256
    spectral_norm: str = ""
    stochastic_encoder: bool = False

    @property
    def spectral_norm_networks(self) -> Tuple[str, ...]:
        """`spectral_norm` as a tuple of network names."""
        return tuple(n.strip() for n in self.spectral_norm.split(",") if n.strip())

    def validate(self) -> "NetworkConfig":
        check_choice("joint_discriminator", self.joint_discriminator, JOINT_DISCRIMINATORS)
        check_subset(
            "spectral_norm", self.spectral_norm_networks, SPECTRAL_NORM_NETWORKS, "networks"
        )
        if self.family == "resnet" and self.joint_discriminator != "scores":
            raise ConfigError(
                "The resnet family's joint discriminator is the F/H/J one: set "
                "joint_discriminator='scores'."
            )
        for name in ("latent_dim", "hidden_units", "condition_units", "score_units"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"--{name} must be a positive integer, got {getattr(self, name)}."
                )
        if self.conditional not in ("none", "simple", "extended"):
            raise ConfigError(
                f"--conditional must be none, simple or extended, got {self.conditional!r}."
            )
        if self.is_conditional and self.num_classes < 2:
            raise ConfigError(
                f"--conditional={self.conditional} needs labelled data with at "
                f"least 2 classes (num_classes={self.num_classes})."
            )
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ConfigError(
                f"image_shape must be (height, width, channels), got {self.image_shape}."
            )
        if self.base_width < 1 or self.encoder_size < 0:
            raise ConfigError(
                f"--base_width must be >= 1 and --encoder_size >= 0, got "
                f"{self.base_width} and {self.encoder_size}."
            )
        if self.is_conditional and self.family not in FLAT_FAMILIES:
            raise ConfigError(
                f"--conditional is implemented for the flat families "
                f"{FLAT_FAMILIES} (the wrappers concatenate flat x, z and c), "
                f"not for {self.family!r}."
            )
        if self.family in FLAT_FAMILIES and self.is_generalized:
            raise ConfigError(
                f"A generalized BiGAN (an encoder input size {self.encoder_size} "
                f"different from the image size) needs a convolutional family, "
                f"not {self.family!r}."
            )
        if self.family in CONV_FAMILY_SIZES:
            h, w, _ = self.image_shape
            if h != w or h not in CONV_FAMILY_SIZES[self.family]:
                raise ConfigError(
                    f"The {self.family} family's G and D work on 32x32 or 64x64 images, not "
                    f"{h}x{w}: set network.image_shape (or data.preprocessing.crop_size) to "
                    "32 or 64."
                )
        if self.family == "dcgan":
            if self.encoder_image_shape[0] % 16:
                raise ConfigError(
                    f"The AlexNet encoder needs an input size that is a multiple of 16 (conv1 "
                    f"stride 4, two stride-2 pools), not {self.encoder_image_shape[0]}: "
                    "use e.g. --crop_size 64 or 112."
                )
        return self

    @property
    def encoder_image_shape(self) -> Tuple[int, int, int]:
        """(H, W, C) of the encoder's input: `encoder_size` square, or the image shape."""
        h, w, c = self.image_shape
        return (self.encoder_size, self.encoder_size, c) if self.encoder_size else (h, w, c)

    @property
    def is_generalized(self) -> bool:
        """True when E reads other-sized images than G makes (paper §3.5)."""
        return tuple(self.encoder_image_shape) != tuple(self.image_shape)

    @property
    def data_shape(self) -> Tuple[int, ...]:
        """Shape of one training example as the model takes it (the encoder's input)."""
        return tuple(self.encoder_image_shape)

    @property
    def generated_shape(self) -> Tuple[int, ...]:
        """Shape of one G(z) (and of D's x input): (H, W, C)."""
        return tuple(self.image_shape)

    @property
    def is_conditional(self) -> bool:
        return self.conditional != "none"

    @property
    def flat_dim(self) -> int:
        h, w, c = self.image_shape
        return h * w * c


@dataclasses.dataclass(frozen=True)
class OptimizerConfig(ConfigRecord):
    """Adam for D and Adam for E+G, coupled L2 decay, constant-then-decay schedule.

    learning_rate   Adam's learning rate of every network (the original's 2e-4).
    beta_1, beta_2  Adam's moment decay rates (the original's momentum 0.5).
    epsilon         Adam's epsilon.
    weight_decay    L2 decay λ added to every gradient (the original's --decay).
    epochs          epochs at the constant learning rate.
    decay_epochs    epochs of exponential decay that follow.
    final_lr_mult   the decay's end point, as a multiple of the learning rate.

    The learning rate is constant for `epochs` epochs, then decays exponentially
    to `final_lr_mult`·lr over `decay_epochs` epochs (reached in the last one).
    `weight_decay` is added to the gradient (g + λ·w) before Adam, as the
    original's `Regularizer` does; it is not AdamW's decoupled decay.

    Not in the original: `discriminator_learning_rate` / `discriminator_betas`
    and `encoder_learning_rate` / `encoder_betas` (None: `learning_rate`,
    (`beta_1`, `beta_2`)); E gets an Adam of its own only when one of its two
    is set. `discriminator_steps` D updates per E/G update, all on the step's
    real batch, each with its own z.
    """

    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 2.5e-5
    epochs: int = 200
    decay_epochs: int = 200
    final_lr_mult: float = 0.01
    discriminator_learning_rate: Optional[float] = None
    discriminator_betas: Optional[Tuple[float, float]] = None
    encoder_learning_rate: Optional[float] = None
    encoder_betas: Optional[Tuple[float, float]] = None
    discriminator_steps: int = 1

    def adam_settings(self, network: str) -> Tuple[float, float, float]:
        """(learning rate, beta_1, beta_2) of "discriminator", "generator" or "encoder"'s Adam."""
        rate = {
            "discriminator": self.discriminator_learning_rate,
            "encoder": self.encoder_learning_rate,
        }.get(network)
        betas = {"discriminator": self.discriminator_betas, "encoder": self.encoder_betas}.get(
            network
        )
        rate = self.learning_rate if rate is None else rate
        beta_1, beta_2 = (self.beta_1, self.beta_2) if betas is None else betas
        return float(rate), float(beta_1), float(beta_2)

    @property
    def separate_encoder_optimizer(self) -> bool:
        """E gets its own Adam when its rate or betas differ; otherwise it shares G's
        (the original's choice, one E+G optimiser)."""
        return self.encoder_learning_rate is not None or self.encoder_betas is not None

    def validate(self) -> "OptimizerConfig":
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ConfigError(f"--learning_rate must be > 0, got {self.learning_rate}.")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight_decay must be >= 0, got {self.weight_decay}.")
        if self.epochs < 0 or self.decay_epochs < 0 or self.epochs + self.decay_epochs < 1:
            raise ConfigError(
                f"--epochs ({self.epochs}) and --decay_epochs ({self.decay_epochs}) must be >= 0 "
                "and train at least one epoch in total."
            )
        if not 0 < self.final_lr_mult <= 1:
            raise ConfigError(f"final_lr_mult must be in (0, 1], got {self.final_lr_mult}.")
        if not (0 <= self.beta_1 < 1 and 0 <= self.beta_2 < 1):
            raise ConfigError(f"Adam betas must be in [0, 1), got {self.beta_1}, {self.beta_2}.")
        for network in ("discriminator", "encoder"):
            rate, beta_1, beta_2 = self.adam_settings(network)
            if not (rate > 0 and math.isfinite(rate)):
                raise ConfigError(f"{network}_learning_rate must be > 0, got {rate}.")
            if not (0 <= beta_1 < 1 and 0 <= beta_2 < 1):
                raise ConfigError(
                    f"{network}_betas must be two numbers in [0, 1), got ({beta_1}, {beta_2})."
                )
        if not 1 <= self.discriminator_steps <= 10:
            raise ConfigError(
                f"discriminator_steps must be 1 to 10, got {self.discriminator_steps}."
            )
        return self

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.decay_epochs


@dataclasses.dataclass(frozen=True)
class EvaluationConfig(ConfigRecord):
    """Sizes and settings of the evaluation protocol (official_code_notes.md §1).

    num_val              held-out images the metrics score.
    num_train_reference  training images in the kNN reference set (NNC, NND).
    num_generated        generated samples for NND and EGg.
    cls_batch_size, cls_learning_rate   the CLS classifier's minibatch and Adam rate.
    batch_size           images per forward pass of the evaluation.
    num_sample_images    samples in each {epoch}.png grid (10 rows).
    baseline_block       rows per block of the pixel-space kNN baselines.

    Defaults are the original's protocol sizes for MNIST: 10,000 validation
    images, a 50,000-image kNN reference set and 100,000 generated samples.
    `deploy_iters` > 0 recomputes batch-norm population statistics as the plain
    mean over that many training batches before evaluating (the original's
    deploy pass, 1000 in its scripts); 0 keeps Keras's moving averages.
    CLS is a bias-free, zero-initialised softmax classifier on the test-mode
    penultimate features, trained with Adam for `cls_steps` minibatches.
    """

    num_val: int = 10000
    num_train_reference: int = 50000
    num_generated: int = 100000
    deploy_iters: int = 0
    cls_steps: int = 1000
    cls_batch_size: int = 128
    cls_learning_rate: float = 1e-3
    batch_size: int = 500
    num_sample_images: int = 200
    baseline_block: int = 128

    def validate(self) -> "EvaluationConfig":
        for name in (
            "num_val",
            "num_train_reference",
            "num_generated",
            "batch_size",
            "cls_batch_size",
            "baseline_block",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"evaluation {name} must be >= 1, got {getattr(self, name)}.")
        if self.num_sample_images < 10 or self.num_sample_images % 10:
            raise ConfigError(
                f"evaluation num_sample_images must be a positive multiple of 10 (10 rows), got "
                f"{self.num_sample_images}."
            )
        if self.deploy_iters < 0 or self.cls_steps < 0:
            raise ConfigError("--deploy_iters and cls_steps must be >= 0.")
        return self


def check_objective_fits(network: NetworkConfig, objective: Any) -> None:
    """The checks between a network and an objective (`Objective`), before anything is built.

    A generalized BiGAN's E cannot read G's images, so the latent regressors
    (E(G(z))) are unavailable there, and without an encoder there is nothing
    to generalize.
    """
    if network.is_generalized and objective.encode_weight > 0:
        raise ConfigError(
            "The latent regressor baselines (--encode_weight > 0) need E(G(z)), but in a "
            f"generalized BiGAN G makes {network.image_shape[0]}-px images and E reads "
            f"{network.encoder_size}-px ones: they are unavailable there. Use the bigan "
            "objective, or set --crop_resize equal to --crop_size."
        )
    if objective.unary_weight > 0 and network.joint_discriminator != "scores":
        raise ConfigError(
            "unary_weight > 0 needs the joint discriminator's unary scores: set "
            "network joint_discriminator='scores'."
        )
    if network.is_generalized and not objective.has_encoder:
        raise ConfigError(
            "A generalized BiGAN (--crop_resize different from --crop_size) "
            "needs an encoder; the plain GAN has none: set --crop_resize equal "
            "to --crop_size."
        )
