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

Each term is a pure function of `bigan_tf.losses`; this module composes them
from the model's networks, as TF-GAN's `gan_loss` does from its `GANModel`.
"""

from __future__ import annotations

import contextlib
from typing import Dict

import tensorflow as tf

from bigan_tf import losses as L
from bigan_tf.networks import secondary_call


def bigan_loss(model, x: tf.Tensor, z: tf.Tensor, labels=None, training: bool = True
               ) -> L.BiGANLosses:
    """Per-example losses (shape [B]) of every active term of `model.objective`.

    `model` is a `bigan_tf.BiGAN`; `labels` (int [B]) are required by
    conditional models, ignored otherwise. Each network's first call below is
    its primary one; later calls on other inputs are `secondary_call`s, whose
    batch-norm statistics are neither averaged nor recorded by the deploy pass,
    as in the original (which builds a second network for them and never
    gathers its updates).
    """
    o = model.objective
    # A frozen generator keeps its population batch-norm statistics.
    g_training = training and o.trains_generator
    zero = tf.zeros_like(z[:, 0])
    d_total, e_total, g_total = zero, zero, zero
    joint = plain = encoder = reconstruction = None
    fake_x = model.generate(z, labels, training=g_training) if o.samples_prior else None
    if model.encoder is not None:
        real_z = model.encoder(x, training=training)["latent"]
    x = model.at_generator_resolution(x)
    if o.has_joint_discriminator:
        joint = _discriminator_losses(model, model.joint_discriminator, x, real_z, fake_x, z,
                                      labels, training)
        d_total += o.joint_discrim_weight * joint.loss
        e_total += o.joint_discrim_weight * L.inverse_loss(joint.real_logits, joint.fake_logits)
    if o.has_discriminator:
        plain = _discriminator_losses(model, model.discriminator, x, None, fake_x, None, labels,
                                      training)
        d_total += o.discrim_weight * plain.loss
        g_total += o.discrim_weight * L.generator_nonsaturating_loss(plain.fake_logits)
    if o.encode_weight > 0:
        with secondary_call(model.encoder):
            predicted = model.encoder(fake_x, training=training)["logits"]
        e_total += o.encode_weight * L.latent_regression_loss(z, predicted)
    if o.reconstruct_weight > 0:
        # G's primary call when it has not drawn from the prior (the autoencoders).
        with (secondary_call(model.generator) if fake_x is not None
              else contextlib.nullcontext()):
            reconstructed = model.generate(real_z, labels, training=g_training)
        reconstruction = L.RECONSTRUCTION_LOSSES[o.reconstruct_norm](x, reconstructed)
        e_total += o.reconstruct_weight * reconstruction
    if o.has_encoder:
        g_total += o.encode_gen_weight * e_total
        encoder = e_total
    return L.BiGANLosses(d_total, g_total, encoder, reconstruction, joint, plain)


def _discriminator_losses(model, network, x, real_z, fake_x, fake_z, labels, training
                          ) -> L.DiscriminatorLosses:
    """D on the real input (primary call), then on the fake one (secondary)."""
    real = model.apply_discriminator(network, x, real_z, labels, training)["logits"]
    with secondary_call(network):
        fake = model.apply_discriminator(network, fake_x, fake_z, labels, training)["logits"]
    return L.DiscriminatorLosses(L.discriminator_loss(real, fake), real, fake)


def summarize_losses(losses: L.BiGANLosses, trains_generator: bool) -> Dict[str, tf.Tensor]:
    """Per-example losses -> the displayed means: JD, D, E, G (the original's cost line)."""
    summary = {name: tf.reduce_mean(d.loss) for name, d in losses.discriminators().items()}
    if losses.encoder is not None:
        summary["E"] = tf.reduce_mean(losses.encoder)
    if trains_generator:
        summary["G"] = tf.reduce_mean(losses.generator)
    return summary
