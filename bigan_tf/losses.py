"""Per-example loss functions of the BiGAN objectives, as pure functions.

All take discriminator *logits* l (D = sigmoid(l)) and return one value per
example, shape [B]; callers average with `global_mean` so the result is right
under any number of replicas. Binary cross-entropy is written
with softplus, which is exact and stable:
    −log σ(l) = softplus(−l),    −log(1 − σ(l)) = softplus(l).
"""

from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional

import tensorflow as tf


class DiscriminatorLosses(NamedTuple):
    """One discriminator's per-example loss [B] and its logits on the real and fake inputs."""

    loss: tf.Tensor
    real_logits: tf.Tensor
    fake_logits: tf.Tensor


class BiGANLosses(NamedTuple):
    """The per-example losses ([B]) of one BiGAN step (`bigan_tf.bigan_loss`).

    `discriminator`, `generator`: what the two optimisers minimise (their group
    totals); `encoder`: L_E (None without an encoder); `reconstruction`: the
    reconstruction term (None when off); `joint`: D(x, z)'s own loss and logits
    (shown as "JD"), `plain`: D(x)'s ("D"), each None when the objective has no
    such discriminator.
    """

    discriminator: tf.Tensor
    generator: tf.Tensor
    encoder: Optional[tf.Tensor] = None
    reconstruction: Optional[tf.Tensor] = None
    joint: Optional[DiscriminatorLosses] = None
    plain: Optional[DiscriminatorLosses] = None

    def discriminators(self) -> Dict[str, DiscriminatorLosses]:
        """{"JD": joint, "D": plain}, the active ones, in the original's display order."""
        return {name: d for name, d in (("JD", self.joint), ("D", self.plain)) if d is not None}


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


def hinge_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """D's hinge loss (Lim & Ye 2017; BigGAN, BigBiGAN eq. 4), per example.

    max(0, 1 − s_real) + max(0, 1 + s_fake): max(0, 1 − y·s) summed over the
    real pair (y = +1) and the fake pair (y = −1) of each example.
    """
    return tf.nn.relu(1.0 - real_logits) + tf.nn.relu(1.0 + fake_logits)


def hinge_encoder_generator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """E and G's loss against a hinge D (BigBiGAN eq. 3), per example.

    y·s summed over both pairs: s_real − s_fake. E lowers the score of
    (x, E(x)), G raises that of (G(z), z); the loss is linear in the scores,
    so its gradient never vanishes.
    """
    return real_logits - fake_logits


def hinge_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """G's loss against an x-only hinge D (the plain GAN's), per example: −s_fake."""
    return -fake_logits


class AdversarialLoss(NamedTuple):
    """One kind of adversarial loss: D's, the joint pair's E+G loss, and the plain G's."""

    discriminator: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (real, fake) logits
    encoder_generator: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (real, fake) logits
    generator: Callable[[tf.Tensor], tf.Tensor]  # fake logits


# `Objective.adversarial_loss` -> its per-example loss functions.
ADVERSARIAL_LOSSES = {
    "bce": AdversarialLoss(discriminator_loss, inverse_loss, generator_nonsaturating_loss),
    "hinge": AdversarialLoss(
        hinge_discriminator_loss, hinge_encoder_generator_loss, hinge_generator_loss
    ),
}


def global_mean(per_example: tf.Tensor, global_batch_size: tf.Tensor) -> tf.Tensor:
    """A replica's share of the global batch's mean loss: Σ_i loss_i / global_batch_size.

    `tf.nn.compute_average_loss`'s formula (summed over replicas it is the
    global mean), without its run-time check that the batch size is
    non-negative: an Assert op, which an XLA-compiled step drops with a warning.
    """
    return tf.math.divide_no_nan(
        tf.reduce_sum(per_example), tf.cast(global_batch_size, per_example.dtype)
    )


def latent_regression_loss(latent: tf.Tensor, predicted_logits: tf.Tensor) -> tf.Tensor:
    """The latent regressor's loss on generated images, per example.

    mean_d BCE(σ(E_logits(G(z)))_d, (z_d + 1)/2): sigmoid cross-entropy between
    the encoder's logits and z mapped from [−1, 1] to [0, 1] (`dist.py` in the
    original, with `--encode_normalize`: a mean, not a sum, over dimensions).
    """
    targets = (latent + 1.0) / 2.0
    return tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=predicted_logits), axis=-1
    )


def _flat_pair(images: tf.Tensor, reconstructions: tf.Tensor):
    return (
        tf.reshape(images, [tf.shape(images)[0], -1]),
        tf.reshape(reconstructions, [tf.shape(reconstructions)[0], -1]),
    )


def reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
    """Squared-ℓ2 image reconstruction error, per example.

    mean_p (x_p − G(E(x))_p)²: the squared error ‖x − G(E(x))‖² averaged over
    the pixels p of images in [0, 1] (the ℓ2 autoencoder of the paper's
    Table 1, and the DIGITS walkthrough's post-hoc encoder objective; the mean
    keeps its scale independent of the image size).
    """
    images, reconstructions = _flat_pair(images, reconstructions)
    return tf.reduce_mean(tf.math.squared_difference(images, reconstructions), axis=-1)


def absolute_reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
    """ℓ1 image reconstruction error, per example: mean_p |x_p − G(E(x))_p|.

    The ℓ1 autoencoder of the paper's Table 1, averaged over the pixels p of
    images in [0, 1].
    """
    images, reconstructions = _flat_pair(images, reconstructions)
    return tf.reduce_mean(tf.abs(images - reconstructions), axis=-1)


# `Objective.reconstruct_norm` -> its per-example loss.
RECONSTRUCTION_LOSSES = {"l2": reconstruction_loss, "l1": absolute_reconstruction_loss}


# ---------------------------------------------------- K+1-class (semi-supervised) GAN
# The discriminator outputs K+1 logits l: the K real classes, then "generated".
# With lse = logsumexp:  log p(fake | x) = l_K − lse(l),
#                        log p(real | x) = log(1 − p(fake | x)) = lse(l_{<K}) − lse(l).
def kplus1_supervised_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """−log p(y | x, x is real): cross-entropy over the K real-class logits, per example.

    Salimans et al.'s L_supervised; the generated class is left out of the softmax.
    """
    num_classes = logits.shape[-1] - 1
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int32), logits=logits[:, :num_classes]
    )


def kplus1_real_loss(logits: tf.Tensor, label_smoothing: float = 1.0) -> tf.Tensor:
    """D's loss on unlabelled real data, with one-sided label smoothing s, per example.

    −s·log p(real | x) − (1 − s)·log p(fake | x); s = 1 is Salimans et al.'s
    −log D(x) with D(x) = 1 − p(K+1 | x). Smoothing only the real ("positive")
    target is the one-sided variant.
    """
    total = tf.reduce_logsumexp(logits, axis=-1)
    log_real = tf.reduce_logsumexp(logits[:, :-1], axis=-1) - total
    log_fake = logits[:, -1] - total
    return -label_smoothing * log_real - (1.0 - label_smoothing) * log_fake


def kplus1_fake_loss(logits: tf.Tensor) -> tf.Tensor:
    """D's loss on generated data, −log p(fake | G(z)) = lse(l) − l_K, per example."""
    return tf.reduce_logsumexp(logits, axis=-1) - logits[:, -1]


def kplus1_generator_loss(logits: tf.Tensor) -> tf.Tensor:
    """G's non-saturating loss −log p(real | G(z)) = lse(l) − lse(l_{<K}), per example."""
    return tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_logsumexp(logits[:, :-1], axis=-1)


def feature_matching_loss(real_features: tf.Tensor, fake_features: tf.Tensor) -> tf.Tensor:
    """Salimans et al.'s feature matching for G: ‖mean_b f(x) − mean_b f(G(z))‖² (a scalar).

    f is D's last hidden layer; the means are over the batch, so this is a
    property of the batch, not a per-example loss.
    """
    difference = tf.reduce_mean(real_features, 0) - tf.reduce_mean(fake_features, 0)
    return tf.reduce_sum(tf.square(difference))
