"""What the original's data provider does to one image (official_code_notes.md §3.4).

The short edge is resized to `raw_size` with an antialiasing filter (skipped
when it already has that size), then a `crop_size` square is cut, at random
for training and from the centre for evaluation; optionally flipped (the
original never flips). Pixels stay uint8. Departure: the original resizes
with PIL's ANTIALIAS (Lanczos); we use TensorFlow's antialiased bilinear
(triangle) filter, which is several times cheaper in the input pipeline.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from bigan_tf.config.data import Preprocessing


def decode(contents: tf.Tensor, channels: int) -> tf.Tensor:
    """Encoded JPEG/PNG/BMP/GIF bytes -> uint8 [H, W, channels] (gray is replicated)."""
    image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def with_channels(images: tf.Tensor, channels: int) -> tf.Tensor:
    """Gray replicated to RGB, or RGB to luminance, when the channel count differs."""
    if images.shape[-1] == channels:
        return images
    return tf.image.grayscale_to_rgb(images) if channels == 3 else tf.image.rgb_to_grayscale(images)


def resize_short_edge(image: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 [H, W, C] -> uint8 with min(H, W) = size, aspect kept, antialiased."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.minimum(height, width)
    new_size = tf.maximum(tf.cast(tf.round(tf.stack([height, width]) * scale), tf.int32), size)

    def resized():
        out = tf.image.resize(image, new_size, method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)

    already = tf.reduce_all(tf.equal(tf.minimum(shape[0], shape[1]), size))
    return tf.cond(already, lambda: image, resized)


def center_crop(image: tf.Tensor, size: int) -> tf.Tensor:
    shape = tf.shape(image)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def preprocess(
    image: tf.Tensor, config: Preprocessing, training: bool, seed: Optional[tf.Tensor] = None
) -> tf.Tensor:
    """uint8 [H, W, C] -> uint8 [crop, crop, C]: resize, crop (random if training), flip.

    `seed` (shape [2] int) makes the training crop and flip stateless.
    """
    image = resize_short_edge(image, config.raw_size)
    if training:
        seeds = tf.random.experimental.stateless_split(seed, 2)
        image = tf.image.stateless_random_crop(
            image, [config.crop_size, config.crop_size, config.channels], seed=seeds[0]
        )
        if config.flip:
            image = tf.image.stateless_random_flip_left_right(image, seed=seeds[1])
    else:
        image = center_crop(image, config.crop_size)
    image.set_shape(config.image_shape)
    return image
