"""Per-example loss functions of the BiGAN objectives, as pure functions.

All take discriminator *logits* l (D = sigmoid(l)) and return one value per
example, shape [B]; callers average with `tf.nn.compute_average_loss` so the
result is right under any number of replicas. Binary cross-entropy is written
with softplus, which is exact and stable:
    −log σ(l) = softplus(−l),    −log(1 − σ(l)) = softplus(l).
"""

from __future__ import annotations

import tensorflow as tf


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """D's loss: 0.5·BCE(D(real), 1) + 0.5·BCE(D(fake), 0).

    = 0.5·softplus(−l_real) + 0.5·softplus(l_fake), per example. For the joint
    discriminator real = (x, E(x)) and fake = (G(z), z).
    """
    return 0.5 * tf.nn.softplus(-real_logits) + 0.5 * tf.nn.softplus(fake_logits)


def inverse_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """E and G's label-swapped ("inverse") loss of the BiGAN paper §3.4.

    0.5·BCE(D(real), 0) + 0.5·BCE(D(fake), 1)
    = 0.5·softplus(l_real) + 0.5·softplus(−l_fake), per example.
    Its gradient does not vanish when D wins, unlike the minimax loss.
    """
    return 0.5 * tf.nn.softplus(real_logits) + 0.5 * tf.nn.softplus(-fake_logits)


def generator_nonsaturating_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """G's non-saturating GAN loss, −log D(G(z)) = softplus(−l_fake), per example."""
    return tf.nn.softplus(-fake_logits)


def latent_regression_loss(latent: tf.Tensor, predicted_logits: tf.Tensor) -> tf.Tensor:
    """The latent regressor's loss on generated images, per example.

    mean_d BCE(σ(E_logits(G(z)))_d, (z_d + 1)/2): sigmoid cross-entropy between
    the encoder's logits and z mapped from [−1, 1] to [0, 1] (`dist.py` in the
    original, with `--encode_normalize`: a mean, not a sum, over dimensions).
    """
    targets = (latent + 1.0) / 2.0
    return tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=predicted_logits), axis=-1)


def reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
    """Image reconstruction error of the post-hoc encoder, per example.

    mean_p (x_p − G(E(x))_p)²: the squared error ‖x − G(E(x))‖² averaged over
    the pixels p of flat images in [0, 1] (the DIGITS walkthrough's encoder
    objective; the mean keeps its scale independent of the image size).
    """
    images = tf.reshape(images, [tf.shape(images)[0], -1])
    reconstructions = tf.reshape(reconstructions, [tf.shape(reconstructions)[0], -1])
    return tf.reduce_mean(tf.math.squared_difference(images, reconstructions), axis=-1)
