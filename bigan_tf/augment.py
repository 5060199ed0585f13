"""Differentiable augmentation of what the discriminator sees (DiffAugment).

Zhao, Liu, Lin, Zhu & Han, *Differentiable Augmentation for Data-Efficient GAN
Training* (NeurIPS 2020): augment every image D reads, real and generated
alike, with transformations that gradients pass through, so D cannot
memorise a small training set and G still learns the unaugmented
distribution. For images in [0, 1], [B, H, W, C]:

* "color": brightness x + b, b ~ U(−0.25, 0.25); saturation
  m_c + s·(x − m_c), s ~ U(0, 2), m_c the per-pixel channel mean (a no-op on
  grey images); contrast m + c·(x − m), c ~ U(0.5, 1.5), m the image mean.
  (DiffAugment's ranges, halved for brightness since its images span [−1, 1].)
* "translation": a shift by up to ⌊H/8⌉ (and W/8) pixels in each direction,
  the vacated border zero;
* "cutout": a zeroed square of side ⌊H/2⌉ × ⌊W/2⌉ at a uniform position
  (clipped at the border).

Every draw is a stateless function of `seed` (a [2] int tensor: the training
step's seed folded with a stream), made for the global batch and sliced to
this replica's rows, so a resumed run and a run on any number of replicas
augment exactly as an uninterrupted single-device run does.
"""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from bigan_tf.prior import replica_rows

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(seed, batch_size, shape, minval=0.0, maxval=1.0, dtype=tf.float32):
    return replica_rows(
        lambda n: tf.random.stateless_uniform(
            [n, *shape], seed, minval=minval, maxval=maxval, dtype=dtype
        ),
        batch_size,
    )


def color(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Random brightness, saturation and contrast, per image."""
    batch = tf.shape(images)[0]
    seeds = [tf.random.experimental.stateless_fold_in(seed, i) for i in range(3)]
    images = images + _uniform(seeds[0], batch, [1, 1, 1], -0.25, 0.25)
    channel_mean = tf.reduce_mean(images, axis=-1, keepdims=True)
    images = channel_mean + (images - channel_mean) * _uniform(seeds[1], batch, [1, 1, 1], 0.0, 2.0)
    image_mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return image_mean + (images - image_mean) * _uniform(seeds[2], batch, [1, 1, 1], 0.5, 1.5)


def translation(images: tf.Tensor, seed: tf.Tensor, ratio: float = TRANSLATION_RATIO) -> tf.Tensor:
    """Shift each image by up to `ratio` of its size, filling with zeros."""
    batch = tf.shape(images)[0]
    height, width = int(images.shape[1]), int(images.shape[2])
    pad_y, pad_x = int(round(height * ratio)), int(round(width * ratio))
    shifts = _uniform(
        seed, batch, [2], minval=-max(pad_y, pad_x), maxval=max(pad_y, pad_x) + 1, dtype=tf.int32
    )
    shift_y = tf.clip_by_value(shifts[:, 0], -pad_y, pad_y)
    shift_x = tf.clip_by_value(shifts[:, 1], -pad_x, pad_x)
    padded = tf.pad(images, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]])
    rows = tf.range(height)[None, :] + pad_y - shift_y[:, None]  # [B, H]
    cols = tf.range(width)[None, :] + pad_x - shift_x[:, None]  # [B, W]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, cols, axis=2, batch_dims=1)


def cutout(images: tf.Tensor, seed: tf.Tensor, ratio: float = CUTOUT_RATIO) -> tf.Tensor:
    """Zero a square of `ratio` of each side at a random position in each image."""
    batch = tf.shape(images)[0]
    height, width = int(images.shape[1]), int(images.shape[2])
    size_y, size_x = int(round(height * ratio)), int(round(width * ratio))
    # Centres in [0, H + (1 − size mod 2)), as DiffAugment's.
    centres = _uniform(seed, batch, [2])
    centre_y = tf.cast(centres[:, 0] * (height + 1 - size_y % 2), tf.int32)
    centre_x = tf.cast(centres[:, 1] * (width + 1 - size_x % 2), tf.int32)
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    ys, xs = tf.range(height)[None, :], tf.range(width)[None, :]
    inside_y = (ys >= top[:, None]) & (ys < top[:, None] + size_y)  # [B, H]
    inside_x = (xs >= left[:, None]) & (xs < left[:, None] + size_x)  # [B, W]
    inside = inside_y[:, :, None] & inside_x[:, None, :]
    return images * tf.cast(~inside, images.dtype)[..., None]


AUGMENTATIONS: dict = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(images: tf.Tensor, policy: Sequence[str], seed: tf.Tensor) -> tf.Tensor:
    """`images` through each augmentation of `policy` in order, each on its own stream."""
    for index, name in enumerate(policy):
        apply: Callable = AUGMENTATIONS[name]
        images = apply(images, tf.random.experimental.stateless_fold_in(seed, index))
    return images
