"""Plain configuration dataclasses: the objective, networks, optimiser and evaluation.

Trainers turn flags into these; the library reads nothing else. Every class has
`validate()` that raises `ConfigError` naming the bad value, and `to_dict()` for
the experiment folder's `config.json`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Tuple

from bigan_tf.errors import ConfigError

# Per-pixel reconstruction losses of `Objective.reconstruct_norm`.
RECONSTRUCTION_NORMS = ("l2", "l1")


@dataclasses.dataclass(frozen=True)
class Objective:
    """The four loss weights of the original code (`train_gan.py` flags).

    * `joint_discrim_weight`: weight of the BiGAN joint discriminator D(x, z).
      D minimises  0.5·BCE(D(x, E(x)), 1) + 0.5·BCE(D(G(z), z), 0); the encoder
      minimises the label-swapped ("inverse") loss scaled by this weight.
    * `discrim_weight`: weight of a standard x-only discriminator D(x); G gets
      the non-saturating loss  −log D(G(z)) scaled by this weight.
    * `encode_weight`: weight of the latent regressor loss on the encoder,
      mean_d BCE(σ(E_logits(G(z)))_d, (z_d + 1)/2).
    * `encode_gen_weight`: weight of the encoder's loss inside the generator's
      loss; when non-zero the encoder is optimised *on the generator's loss*
      (E and G become one parameter set), as in the original.
    * `reconstruct_weight` (not in the original code): weight of the image
      reconstruction loss on real data, added to the encoder's loss:
      mean_p (x − G(E(x)))²_p (`reconstruct_norm` "l2") or mean_p |x − G(E(x))|_p
      ("l1"). With `encode_gen_weight` > 0 and no discriminator this is the
      paper's autoencoder baseline (E and G trained jointly, Table 1); with
      `encode_gen_weight` 0 it is the DIGITS walkthrough's post-hoc encoder.

    An objective with no discriminator weight and `encode_gen_weight` 0 trains
    only an encoder against a *frozen* generator (`trains_generator` is False):
    the post-hoc encoder of `trainers.train_encoder`, with `reconstruct_weight`
    and/or `encode_weight`.

    Departure from the original: the original averages the encoder's loss
    terms with weight 1/(number of terms); we add the weighted terms. The two
    agree for every preset (each has at most one encoder term group).
    """

    joint_discrim_weight: float = 1.0
    discrim_weight: float = 0.0
    encode_weight: float = 0.0
    encode_gen_weight: float = 1.0
    reconstruct_weight: float = 0.0
    reconstruct_norm: str = "l2"

    def validate(self) -> "Objective":
        if self.reconstruct_norm not in RECONSTRUCTION_NORMS:
            raise ConfigError(f"--reconstruct_norm must be one of {RECONSTRUCTION_NORMS}, got "
                              f"{self.reconstruct_norm!r}.")
        for field in dataclasses.fields(self):
            if field.name == "reconstruct_norm":
                continue
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"--{field.name} must be a finite number, got {value!r}.")
            if value < 0:
                raise ConfigError(
                    f"--{field.name} must be >= 0 (a loss weight), got {value}. "
                    "Use 0 to switch that loss off.")
        if not self.has_adversary and not (self.encode_weight > 0
                                           or self.reconstruct_weight > 0):
            raise ConfigError(
                "The objective trains no discriminator: set --joint_discrim_weight "
                "(BiGAN) or --discrim_weight (GAN) above 0, or pick an --objective preset "
                "(an encoder-only objective against a frozen generator needs "
                "--reconstruct_weight or --encode_weight above 0).")
        if self.encode_gen_weight > 0 and not self.has_encoder:
            raise ConfigError(
                "--encode_gen_weight > 0 needs an encoder loss: set --joint_discrim_weight "
                "or --encode_weight above 0.")
        if (self.encode_gen_weight > 0 and not self.has_adversary
                and self.reconstruct_weight == 0):
            raise ConfigError(
                "Without a discriminator, --encode_gen_weight > 0 trains G on the encoder's "
                "loss alone, which needs --reconstruct_weight above 0 (the autoencoder); set "
                "--encode_gen_weight 0 for an encoder against a frozen generator.")
        return self

    @property
    def has_encoder(self) -> bool:
        """Whether the objective trains an encoder E at all."""
        return (self.joint_discrim_weight > 0 or self.encode_weight > 0
                or self.reconstruct_weight > 0)

    @property
    def has_adversary(self) -> bool:
        """Whether any discriminator (joint or x-only) is trained."""
        return self.joint_discrim_weight > 0 or self.discrim_weight > 0

    @property
    def trains_generator(self) -> bool:
        """False for the encoder-only objective: G is frozen (inference mode)."""
        return self.has_adversary or self.encode_gen_weight > 0

    @property
    def is_autoencoder(self) -> bool:
        """E and G trained jointly on reconstruction alone (Table 1's AE baselines)."""
        return (not self.has_adversary and self.reconstruct_weight > 0
                and self.encode_gen_weight > 0)

    @property
    def zero_init_encoder_output(self) -> bool:
        """Whether E's output layer starts at zero.

        The original zero-initialises it unless a joint discriminator trains E
        (`gan.py`). The autoencoders, not in the original, start it at
        N(0, 0.02): with every code at zero, G's batch norm would see a constant
        batch and pass E no gradient.
        """
        return not self.has_joint_discriminator and not self.is_autoencoder

    @property
    def samples_prior(self) -> bool:
        """Whether a training step draws z and G(z) (not for the autoencoders)."""
        return self.has_adversary or self.encode_weight > 0

    @property
    def has_joint_discriminator(self) -> bool:
        return self.joint_discrim_weight > 0

    @property
    def has_discriminator(self) -> bool:
        return self.discrim_weight > 0

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


# The README's table of objectives (jeffdonahue/bigan README, "OBJECTIVE=...").
OBJECTIVE_PRESETS: Dict[str, Objective] = {
    "bigan": Objective(joint_discrim_weight=1, discrim_weight=0, encode_weight=0, encode_gen_weight=1),
    "latent_regressor": Objective(joint_discrim_weight=0, discrim_weight=1, encode_weight=1, encode_gen_weight=0),
    "joint_latent_regressor": Objective(
        joint_discrim_weight=0, discrim_weight=1, encode_weight=1, encode_gen_weight=0.25),
    "gan": Objective(joint_discrim_weight=0, discrim_weight=1, encode_weight=0, encode_gen_weight=0),
    # Table 1's autoencoders (not in the original code): E and G trained jointly on
    # the per-pixel mean squared (l2) or absolute (l1) reconstruction error.
    "autoencoder_l2": Objective(joint_discrim_weight=0, discrim_weight=0, encode_weight=0,
                                encode_gen_weight=1, reconstruct_weight=1, reconstruct_norm="l2"),
    "autoencoder_l1": Objective(joint_discrim_weight=0, discrim_weight=0, encode_weight=0,
                                encode_gen_weight=1, reconstruct_weight=1, reconstruct_norm="l1"),
    # Not in the original: an encoder trained after the fact against a frozen G.
    "posthoc_encoder": Objective(joint_discrim_weight=0, discrim_weight=0, encode_weight=0,
                                 encode_gen_weight=0, reconstruct_weight=1),
}


def objective_from_preset(name: str, **overrides) -> Objective:
    """The named preset with any weights in `overrides` replaced, validated."""
    if name not in OBJECTIVE_PRESETS:
        raise ConfigError(
            f"Unknown objective {name!r}; expected one of {sorted(OBJECTIVE_PRESETS)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(OBJECTIVE_PRESETS[name], **overrides).validate()


# Families whose networks consume and produce flat [B, H·W·C] vectors.
FLAT_FAMILIES = ("mnist_mlp",)


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Which network family and its sizes.

    `image_shape` is the shape of one image as a person sees it (H, W, C); the
    MLP family consumes and produces the flattened vector.

    `conditional` makes G and D class-conditional (`bigan_tf.networks.conditional`):
    "none", "simple" (one-hot labels concatenated to z, and to D's inputs) or
    "extended" (a learned projection of x, z and c, each `condition_units`
    wide, before they are combined); `num_classes` is then the label count.

    Families: "mnist_mlp" (the permutation-invariant MNIST MLPs; consumes and
    produces flat vectors) and "dcgan" (AlexNet encoder, DCGAN G and D for 32
    or 64 px images, `base_width` the original's gen/feat_net_size).
    `encoder_size` > 0 makes a *generalized* BiGAN (paper §3.5): the encoder
    reads `encoder_size` px images (the original's crop_size, e.g. 112) while
    G and D work at `image_shape` (crop_resize, e.g. 64); 0 = the image size.
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

    def validate(self) -> "NetworkConfig":
        for name in ("latent_dim", "hidden_units", "condition_units"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be a positive integer, got {getattr(self, name)}.")
        if self.conditional not in ("none", "simple", "extended"):
            raise ConfigError(f"--conditional must be none, simple or extended, got "
                              f"{self.conditional!r}.")
        if self.is_conditional and self.num_classes < 2:
            raise ConfigError(f"--conditional={self.conditional} needs labelled data with at "
                              f"least 2 classes (num_classes={self.num_classes}).")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ConfigError(f"image_shape must be (height, width, channels), got {self.image_shape}.")
        if self.base_width < 1 or self.encoder_size < 0:
            raise ConfigError(f"--base_width must be >= 1 and --encoder_size >= 0, got "
                              f"{self.base_width} and {self.encoder_size}.")
        if self.is_conditional and self.family not in FLAT_FAMILIES:
            raise ConfigError(f"--conditional is implemented for the flat families "
                              f"{FLAT_FAMILIES} (the wrappers concatenate flat x, z and c), "
                              f"not for {self.family!r}.")
        if self.family in FLAT_FAMILIES and self.is_generalized:
            raise ConfigError(f"A generalized BiGAN (an encoder input size {self.encoder_size} "
                              f"different from the image size) needs a convolutional family, "
                              f"not {self.family!r}.")
        if self.family == "dcgan":
            h, w, _ = self.image_shape
            if h != w or h not in (32, 64):
                raise ConfigError(
                    f"The dcgan family's G and D work on 32x32 or 64x64 images, not {h}x{w}: "
                    "set --crop_resize (or --crop_size) to 32 or 64.")
            if self.encoder_image_shape[0] % 16:
                raise ConfigError(
                    f"The AlexNet encoder needs an input size that is a multiple of 16 (conv1 "
                    f"stride 4, two stride-2 pools), not {self.encoder_image_shape[0]}: "
                    "use e.g. --crop_size 64 or 112.")
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
        if self.family in FLAT_FAMILIES:
            return (self.flat_dim,)
        return tuple(self.encoder_image_shape)

    @property
    def generated_shape(self) -> Tuple[int, ...]:
        """Shape of one G(z) (and of D's x input): flat for the MLPs, else (H, W, C)."""
        if self.family in FLAT_FAMILIES:
            return (self.flat_dim,)
        return tuple(self.image_shape)

    @property
    def is_conditional(self) -> bool:
        return self.conditional != "none"

    @property
    def flat_dim(self) -> int:
        h, w, c = self.image_shape
        return h * w * c

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d["image_shape"] = list(self.image_shape)
        return d


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """Adam for D and Adam for E+G, coupled L2 decay, constant-then-decay schedule.

    The learning rate is constant for `epochs` epochs, then decays exponentially
    to `final_lr_mult`·lr over `decay_epochs` epochs (reached in the last one).
    `weight_decay` is added to the gradient (g + λ·w) before Adam, as the
    original's `Regularizer` does; it is not AdamW's decoupled decay.
    """

    learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 2.5e-5
    epochs: int = 200
    decay_epochs: int = 200
    final_lr_mult: float = 0.01

    def validate(self) -> "OptimizerConfig":
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ConfigError(f"--learning_rate must be > 0, got {self.learning_rate}.")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight_decay must be >= 0, got {self.weight_decay}.")
        if self.epochs < 0 or self.decay_epochs < 0 or self.epochs + self.decay_epochs < 1:
            raise ConfigError(
                f"--epochs ({self.epochs}) and --decay_epochs ({self.decay_epochs}) must be >= 0 "
                "and train at least one epoch in total.")
        if not 0 < self.final_lr_mult <= 1:
            raise ConfigError(f"final_lr_mult must be in (0, 1], got {self.final_lr_mult}.")
        if not (0 <= self.beta_1 < 1 and 0 <= self.beta_2 < 1):
            raise ConfigError(f"Adam betas must be in [0, 1), got {self.beta_1}, {self.beta_2}.")
        return self

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.decay_epochs

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Sizes and settings of the evaluation protocol (official_code_notes.md §1).

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
        for name in ("num_val", "num_train_reference", "num_generated", "batch_size",
                     "cls_batch_size", "baseline_block"):
            if getattr(self, name) < 1:
                raise ConfigError(f"evaluation {name} must be >= 1, got {getattr(self, name)}.")
        if self.num_sample_images < 10 or self.num_sample_images % 10:
            raise ConfigError(
                f"--disp_samples must be a positive multiple of 10 (10 rows), got {self.num_sample_images}.")
        if self.deploy_iters < 0 or self.cls_steps < 0:
            raise ConfigError("--deploy_iters and cls_steps must be >= 0.")
        return self

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SSGANConfig:
    """Networks, loss weights and training tricks of the semi-supervised GAN.

    `network` picks the family: "mlp" (Salimans et al.'s MNIST MLP D with
    Gaussian noise, the BiGAN MLP G; `classifier_units`, `generator_units`,
    the noise levels apply) or "conv" (the SSGAN-TensorFlow README's
    convolutional D and bilinear up-sampling G, `bigan_tf.networks.ssgan_conv`).
    `for_network` gives each family its own defaults.
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
        if not self.classifier_units or min(self.classifier_units) < 1:
            raise ConfigError(f"classifier_units must be positive, got {self.classifier_units}.")
        return self

    @property
    def flat_dim(self) -> int:
        return math.prod(self.image_shape)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["image_shape"], d["classifier_units"] = list(self.image_shape), list(
            self.classifier_units)
        return d

    @classmethod
    def for_network(cls, network: str, **overrides) -> "SSGANConfig":
        """The family's defaults (`SSGAN_NETWORK_DEFAULTS`), then `overrides`
        (None values are left to the defaults)."""
        defaults = SSGAN_NETWORK_DEFAULTS.get(network, {})
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls(network=network, **{**defaults, **given})

    @classmethod
    def from_dict(cls, d) -> "SSGANConfig":
        d = dict(d)
        d["image_shape"] = tuple(d["image_shape"])
        d["classifier_units"] = tuple(d["classifier_units"])
        return cls(**d)


SSGAN_NETWORKS = ("mlp", "conv")
# Each family's own settings: the MLP's are Salimans et al.'s; the conv family's
# are SSGAN-TensorFlow's config.py / trainer.py (n_z 128, Adam 1e-4 for D and G,
# gradients clipped to global norm 20, and that code's adversarial G loss rather
# than feature matching: behind D's batch norm every batch's per-channel means
# equal the same beta, real or generated, which leaves mean features little to
# compare). Records without "network" are MLP runs.
SSGAN_NETWORK_DEFAULTS = {
    "mlp": {"latent_dim": 100, "learning_rate": 3e-4, "clip_norm": 0.0,
            "feature_matching": True},
    "conv": {"latent_dim": 128, "learning_rate": 1e-4, "clip_norm": 20.0,
             "feature_matching": False},
}
