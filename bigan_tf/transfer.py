"""Transfer learning: a classifier on top of an exported encoder module.

Modes (the paper's protocols, §4 and Table 2):

* `linear`: the encoder is a fixed feature extractor (inference mode, batch
  norm on its population statistics) and only a softmax layer is trained;
* `finetune`: every encoder weight is trained with the classifier, batch norm
  in training mode, with the module's weight decay as a regularisation loss;
* `freeze:K`: like `finetune` but the first K encoder layers keep their weights.

The classifier is `images -> EncoderLayer -> Dense(num_classes)` (logits), a
Keras 3 functional model trained with `fit`; images are float32 [B, H, W, C]
in [0, 1], the TF-Hub image convention.
"""

from __future__ import annotations

import re
from typing import Dict, NamedTuple, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.data.pipeline import ImageData, balanced_subset
from bigan_tf.errors import ConfigError
from bigan_tf.hub import EncoderLayer


class TransferMode(NamedTuple):
    name: str
    trainable: bool
    frozen_layers: int


def parse_mode(mode: str) -> TransferMode:
    """'linear' | 'finetune' | 'freeze:K' -> TransferMode, or a ConfigError naming the choices."""
    if mode == "linear":
        return TransferMode(mode, False, 0)
    if mode == "finetune":
        return TransferMode(mode, True, 0)
    match = re.fullmatch(r"freeze:(\d+)", mode or "")
    if match and int(match.group(1)) >= 1:
        return TransferMode(mode, True, int(match.group(1)))
    raise ConfigError(f"--mode must be linear, finetune or freeze:K (K >= 1 encoder layers "
                      f"kept fixed), got {mode!r}.")


def build_classifier(handle: str, num_classes: int, mode: str,
                     image_shape: Optional[Sequence[int]] = None, seed: int = 0) -> keras.Model:
    """`images -> encoder module -> logits` for `mode` (see the module docstring)."""
    parsed = parse_mode(mode)
    encoder = EncoderLayer(handle, trainable=parsed.trainable,
                           frozen_layers=parsed.frozen_layers, name="encoder")
    image_shape = tuple(image_shape or encoder.image_shape or ())
    if len(image_shape) != 3:
        raise ConfigError(f"The module {handle} does not say its input shape; pass image_shape.")
    images = keras.Input(image_shape, name="images")
    logits = keras.layers.Dense(num_classes, kernel_initializer=keras.initializers.GlorotUniform(
        seed=seed), name="classifier")(encoder(images))
    return keras.Model(images, logits, name=f"transfer_{parsed.name.replace(':', '')}")


def classification_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int,
                           seed: int, repeat: bool) -> tf.data.Dataset:
    """(images in [0, 1], labels) batches; shuffled and repeated for training."""
    ds = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
    if repeat:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size, drop_remainder=repeat)
    return ds.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y),
                  num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def train_classifier(strategy: tf.distribute.Strategy, handle: str, data: ImageData, mode: str,
                     labels_per_class: Optional[int] = None, steps: int = 2000,
                     batch_size: int = 100, learning_rate: float = 1e-3, seed: int = 0,
                     verbose: int = 0) -> Dict[str, object]:
    """Trains `build_classifier` on a balanced labelled subset; returns test accuracy.

    `labels_per_class` images of every class are drawn from `data.train_*`
    with `seed` (all of them when None); accuracy is measured on
    `data.val_*` (the test set when loaded with `use_test_set=True`). Adam
    for `steps` minibatches of the global `batch_size`.
    """
    parse_mode(mode)
    keras.utils.set_random_seed(seed)
    images, labels = data.train_images, data.train_labels
    if labels_per_class:
        index = balanced_subset(labels, labels_per_class, seed)
        images, labels = images[index], labels[index]
    replicas = strategy.num_replicas_in_sync
    batch_size = max(replicas, min(batch_size, len(images)) // replicas * replicas)
    with strategy.scope():
        model = build_classifier(handle, data.num_classes, mode, data.image_shape, seed)
        model.compile(keras.optimizers.Adam(learning_rate),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    model.fit(classification_dataset(images, labels, batch_size, seed, repeat=True),
              epochs=1, steps_per_epoch=steps, shuffle=False, verbose=verbose)
    _, accuracy = model.evaluate(classification_dataset(
        data.val_images, data.val_labels, 500, seed, repeat=False), verbose=0)
    return {"model": model, "mode": mode, "labels_per_class": labels_per_class,
            "num_labelled": int(len(images)), "steps": steps, "batch_size": batch_size,
            "test_accuracy": float(accuracy), "num_test": int(len(data.val_images))}

