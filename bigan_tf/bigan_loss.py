"""The BiGAN objective as one function of the model: `bigan_loss(model, x, z)`.

With the objective's four weights (`bigan_tf.config.Objective`: jd_w, d_w,
e_w, r_w, and eg_w):

* the discriminator group (joint D(x, z) and/or x-only D(x)) minimises
      jd_w·[0.5·BCE(D(x, E(x)), 1) + 0.5·BCE(D(G(z), z), 0)]
    + d_w ·[0.5·BCE(D(x), 1)       + 0.5·BCE(D(G(z)), 0)];
* the encoder loss is
      L_E = jd_w·[0.5·BCE(D(x, E(x)), 0) + 0.5·BCE(D(G(z), z), 1)]   (inverse)
          + e_w ·mean_d BCE(σ(E_logits(G(z))), (z + 1)/2)            (latent regressor)
          + r_w ·mean_p |x − G(E(x))|^q, q = 2 or 1                  (reconstruction);
* the generator loss is  L_G = d_w·(−log D(G(z))) + eg_w·L_E.

With `adversarial_loss="hinge"` the D terms become max(0, 1 − s_real) +
max(0, 1 + s_fake), the joint pair's E+G term s_real − s_fake and the plain
G term −s_fake (`bigan_tf.losses.ADVERSARIAL_LOSSES`). With `unary_weight` λ
and the F/H/J joint discriminator, each joint-pair term is summed over the
joint score s_xz and the unary scores s_x, s_z with weights (1, λ, λ):
BigBiGAN's objective at λ = 1 with the hinge. With `augment`, D reads
T(x) and T(G(z)), T a DiffAugment draw of the step (`bigan_tf.augment`); a
stochastic encoder's code for the real pair is μ + σ·ε (`seed`-drawn ε).

Each term is a pure function of `bigan_tf.losses`; this module composes them
from the model's networks, as TF-GAN's `gan_loss` does from its `GANModel`.
"""

from __future__ import annotations

import contextlib
from typing import Dict, Optional, Tuple

import tensorflow as tf

from bigan_tf import losses as L
from bigan_tf.augment import diff_augment
from bigan_tf.networks import secondary_call
from bigan_tf.prior import replica_rows
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

# Streams of a training step's seed (the prior's z uses the seed itself).
REAL_AUGMENT_STREAM, FAKE_AUGMENT_STREAM, ENCODER_NOISE_STREAM = 1, 2, 3


def bigan_loss(
    model: keras.Model,
    x: tf.Tensor,
    z: tf.Tensor,
    labels: Optional[tf.Tensor] = None,
    training: bool = True,
    seed: Optional[tf.Tensor] = None,
) -> L.BiGANLosses:
    """Per-example losses (shape [B]) of every active term of `model.objective`.

    `model` is a `bigan_tf.BiGAN`; `labels` (int [B]) are required by
    conditional models, ignored otherwise. `seed` ([2] int) keys the step's
    augmentation and stochastic-encoder draws; None draws neither (D sees the
    images as they are, E's code is its mean). Each network's first call below is
    its primary one; later calls on other inputs are `secondary_call`s, whose
    batch-norm statistics are neither averaged nor recorded by the deploy pass,
    as in the original (which builds a second network for them and never
    gathers its updates).
    """
    o = model.objective
    adversarial = L.ADVERSARIAL_LOSSES[o.adversarial_loss]
    # A frozen generator keeps its population batch-norm statistics.
    g_training = training and o.trains_generator
    zero = tf.zeros_like(z[:, 0])
    d_total, e_total, g_total = zero, zero, zero
    joint = plain = encoder = reconstruction = None
    fake_x = model.generate(z, labels, training=g_training) if o.samples_prior else None
    if model.encoder is not None:
        encoded = model.encoder(x, training=training)
        real_z = encoded["latent"]
        if "log_variance" in encoded and training and seed is not None:
            real_z = real_z + tf.exp(0.5 * encoded["log_variance"]) * replica_rows(
                lambda n: tf.random.stateless_normal(
                    [n, real_z.shape[-1]],
                    tf.random.experimental.stateless_fold_in(seed, ENCODER_NOISE_STREAM),
                ),
                tf.shape(real_z)[0],
            )
    x = model.at_generator_resolution(x)
    if o.augmentations and seed is not None and o.has_adversary:
        # What D reads; E reads x itself, and the reconstruction compares with x.
        d_real_x = diff_augment(
            x, o.augmentations, tf.random.experimental.stateless_fold_in(seed, REAL_AUGMENT_STREAM)
        )
        d_fake_x = diff_augment(
            fake_x,
            o.augmentations,
            tf.random.experimental.stateless_fold_in(seed, FAKE_AUGMENT_STREAM),
        )
    else:
        d_real_x, d_fake_x = x, fake_x
    if o.has_joint_discriminator:
        joint, joint_eg = _joint_losses(
            model, adversarial, d_real_x, real_z, d_fake_x, z, labels, training
        )
        d_total += o.joint_discrim_weight * joint.loss
        e_total += o.joint_discrim_weight * joint_eg
    if o.has_discriminator:
        plain = _discriminator_losses(
            model,
            model.discriminator,
            d_real_x,
            None,
            d_fake_x,
            None,
            labels,
            training,
            adversarial,
        )
        d_total += o.discrim_weight * plain.loss
        g_total += o.discrim_weight * adversarial.generator(plain.fake_logits)
    if o.encode_weight > 0:
        with secondary_call(model.encoder):
            predicted = model.encoder(fake_x, training=training)["logits"]
        e_total += o.encode_weight * L.latent_regression_loss(z, predicted)
    if o.reconstruct_weight > 0:
        # G's primary call when it has not drawn from the prior (the autoencoders).
        with secondary_call(model.generator) if fake_x is not None else contextlib.nullcontext():
            reconstructed = model.generate(real_z, labels, training=g_training)
        reconstruction = L.RECONSTRUCTION_LOSSES[o.reconstruct_norm](x, reconstructed)
        e_total += o.reconstruct_weight * reconstruction
    if o.has_encoder:
        g_total += o.encode_gen_weight * e_total
        encoder = e_total
    return L.BiGANLosses(d_total, g_total, encoder, reconstruction, joint, plain)


def _discriminator_outputs(model, network, x, real_z, fake_x, fake_z, labels, training):
    """D on the real input (primary call), then on the fake one (secondary)."""
    real = model.apply_discriminator(network, x, real_z, labels, training)
    with secondary_call(network):
        fake = model.apply_discriminator(network, fake_x, fake_z, labels, training)
    return real, fake


def _discriminator_losses(
    model, network, x, real_z, fake_x, fake_z, labels, training, adversarial: L.AdversarialLoss
) -> L.DiscriminatorLosses:
    real, fake = _discriminator_outputs(model, network, x, real_z, fake_x, fake_z, labels, training)
    real, fake = real["logits"], fake["logits"]
    return L.DiscriminatorLosses(adversarial.discriminator(real, fake), real, fake)


def _joint_losses(
    model, adversarial: L.AdversarialLoss, x, real_z, fake_x, fake_z, labels, training
) -> Tuple[L.DiscriminatorLosses, tf.Tensor]:
    """The joint D's losses and E+G's term, summed over its scores with weights (1, λ, λ).

    The logits recorded (for the accuracy trackers) are the weighted sums of scores.
    """
    real, fake = _discriminator_outputs(
        model, model.joint_discriminator, x, real_z, fake_x, fake_z, labels, training
    )
    weights = {"logits": 1.0}
    if model.objective.unary_weight > 0:
        weights.update(x_logits=model.objective.unary_weight, z_logits=model.objective.unary_weight)
    d_loss = sum(w * adversarial.discriminator(real[k], fake[k]) for k, w in weights.items())
    eg_loss = sum(w * adversarial.encoder_generator(real[k], fake[k]) for k, w in weights.items())
    real_score = sum(w * real[k] for k, w in weights.items())
    fake_score = sum(w * fake[k] for k, w in weights.items())
    return L.DiscriminatorLosses(d_loss, real_score, fake_score), eg_loss


def summarize_losses(losses: L.BiGANLosses, trains_generator: bool) -> Dict[str, tf.Tensor]:
    """Per-example losses -> the displayed means: JD, D, E, G (the original's cost line)."""
    summary = {name: tf.reduce_mean(d.loss) for name, d in losses.discriminators().items()}
    if losses.encoder is not None:
        summary["E"] = tf.reduce_mean(losses.encoder)
    if trains_generator:
        summary["G"] = tf.reduce_mean(losses.generator)
    return summary
