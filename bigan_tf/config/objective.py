"""The objective: the original's four loss weights, its presets, and the reconstruction term."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Tuple

from bigan_tf.config.record import ConfigRecord, check_choice, check_subset
from bigan_tf.errors import ConfigError

# Per-pixel reconstruction losses of `Objective.reconstruct_norm`.
RECONSTRUCTION_NORMS = ("l2", "l1")
# `Objective.adversarial_loss`: the original's binary cross-entropy, or the hinge.
ADVERSARIAL_LOSS_NAMES = ("bce", "hinge")
# The differentiable augmentations of `Objective.augment` (bigan_tf.augment).
AUGMENTATIONS = ("color", "translation", "cutout")


@dataclasses.dataclass(frozen=True)
class Objective(ConfigRecord):
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

    BigBiGAN (Donahue & Simonyan 2019) and data-efficient GAN training, not in
    the original:

    * `adversarial_loss`: "bce" (the original's) or "hinge": D minimises
      max(0, 1 − s_real) + max(0, 1 + s_fake) and E and G minimise
      s_real − s_fake (`bigan_tf.losses`).
    * `unary_weight` λ: with the "scores" joint discriminator
      (`NetworkConfig.joint_discriminator`), which gives s_xz = J(F(x), H(z)),
      s_x = w_x·F(x) and s_z = w_z·H(z), every loss of the joint pair is
      summed over the scores with weights (1, λ, λ); λ = 0 is a BiGAN with the
      F/H/J discriminator, λ = 1 with the hinge is BigBiGAN's eq. 3–4.
    * `augment`: a comma-separated DiffAugment policy ("color", "translation",
      "cutout"; Zhao et al. 2020) applied to every image D sees, real and
      generated alike, drawn as a function of (seed, step) (`bigan_tf.augment`);
      E reads the unaugmented x.

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
    adversarial_loss: str = "bce"
    unary_weight: float = 0.0
    augment: str = ""

    def validate(self) -> "Objective":
        if self.reconstruct_norm not in RECONSTRUCTION_NORMS:
            raise ConfigError(
                f"--reconstruct_norm must be one of {RECONSTRUCTION_NORMS}, got "
                f"{self.reconstruct_norm!r}."
            )
        check_choice("adversarial_loss", self.adversarial_loss, ADVERSARIAL_LOSS_NAMES)
        check_subset("augment", self.augmentations, AUGMENTATIONS, "augmentations")
        if self.augment and not self.has_adversary:
            raise ConfigError(
                "augment changes what a discriminator sees; this objective trains none."
            )
        if self.unary_weight > 0 and not self.has_joint_discriminator:
            raise ConfigError(
                "unary_weight > 0 scores the joint discriminator's F(x) and "
                "H(z) alone: set joint_discrim_weight above 0."
            )
        for field in dataclasses.fields(self):
            if field.name in ("reconstruct_norm", "adversarial_loss", "augment"):
                continue
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"--{field.name} must be a finite number, got {value!r}.")
            if value < 0:
                raise ConfigError(
                    f"--{field.name} must be >= 0 (a loss weight), got {value}. "
                    "Use 0 to switch that loss off."
                )
        if not self.has_adversary and not (self.encode_weight > 0 or self.reconstruct_weight > 0):
            raise ConfigError(
                "The objective trains no discriminator: set --joint_discrim_weight "
                "(BiGAN) or --discrim_weight (GAN) above 0, or pick an --objective preset "
                "(an encoder-only objective against a frozen generator needs "
                "--reconstruct_weight or --encode_weight above 0)."
            )
        if self.encode_gen_weight > 0 and not self.has_encoder:
            raise ConfigError(
                "--encode_gen_weight > 0 needs an encoder loss: set --joint_discrim_weight "
                "or --encode_weight above 0."
            )
        if self.encode_gen_weight > 0 and not self.has_adversary and self.reconstruct_weight == 0:
            raise ConfigError(
                "Without a discriminator, --encode_gen_weight > 0 trains G on the encoder's "
                "loss alone, which needs --reconstruct_weight above 0 (the autoencoder); set "
                "--encode_gen_weight 0 for an encoder against a frozen generator."
            )
        return self

    @property
    def augmentations(self) -> Tuple[str, ...]:
        """The `augment` policy as a tuple of names, in the order they are applied."""
        return tuple(a.strip() for a in self.augment.split(",") if a.strip())

    @property
    def has_encoder(self) -> bool:
        """Whether the objective trains an encoder E at all."""
        return (
            self.joint_discrim_weight > 0 or self.encode_weight > 0 or self.reconstruct_weight > 0
        )

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
        return not self.has_adversary and self.reconstruct_weight > 0 and self.encode_gen_weight > 0

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


# The README's table of objectives (jeffdonahue/bigan README, "OBJECTIVE=...").
OBJECTIVE_PRESETS: Dict[str, Objective] = {
    "bigan": Objective(
        joint_discrim_weight=1, discrim_weight=0, encode_weight=0, encode_gen_weight=1
    ),
    "latent_regressor": Objective(
        joint_discrim_weight=0, discrim_weight=1, encode_weight=1, encode_gen_weight=0
    ),
    "joint_latent_regressor": Objective(
        joint_discrim_weight=0, discrim_weight=1, encode_weight=1, encode_gen_weight=0.25
    ),
    "gan": Objective(
        joint_discrim_weight=0, discrim_weight=1, encode_weight=0, encode_gen_weight=0
    ),
    # Table 1's autoencoders (not in the original code): E and G trained jointly on
    # the per-pixel mean squared (l2) or absolute (l1) reconstruction error.
    "autoencoder_l2": Objective(
        joint_discrim_weight=0,
        discrim_weight=0,
        encode_weight=0,
        encode_gen_weight=1,
        reconstruct_weight=1,
        reconstruct_norm="l2",
    ),
    "autoencoder_l1": Objective(
        joint_discrim_weight=0,
        discrim_weight=0,
        encode_weight=0,
        encode_gen_weight=1,
        reconstruct_weight=1,
        reconstruct_norm="l1",
    ),
    # BigBiGAN's objective (Donahue & Simonyan 2019, eq. 3-4): hinge losses summed
    # over the joint score and the two unary scores; needs the "scores" joint D.
    "bigbigan": Objective(
        joint_discrim_weight=1,
        discrim_weight=0,
        encode_weight=0,
        encode_gen_weight=1,
        adversarial_loss="hinge",
        unary_weight=1,
    ),
    # Not in the original: an encoder trained after the fact against a frozen G.
    "posthoc_encoder": Objective(
        joint_discrim_weight=0,
        discrim_weight=0,
        encode_weight=0,
        encode_gen_weight=0,
        reconstruct_weight=1,
    ),
}


def objective_from_preset(name: str, **overrides: Any) -> Objective:
    """The named preset with any weights in `overrides` replaced, validated."""
    if name not in OBJECTIVE_PRESETS:
        raise ConfigError(
            f"Unknown objective {name!r}; expected one of {sorted(OBJECTIVE_PRESETS)}."
        )
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(OBJECTIVE_PRESETS[name], **overrides).validate()
