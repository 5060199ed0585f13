"""Evaluation of the semi-supervised GAN: test accuracy, confusion matrix, sample grids."""

from __future__ import annotations

from typing import Dict

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.prior import sample_prior
from bigan_tf.data.pipeline import ImageData, to_model_range
from bigan_tf.images import make_grid
from bigan_tf.array_types import Array


def predict_classes(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """argmax over the K real classes of D's logits, inference mode, for uint8 images."""
    return np.concatenate(
        [
            model.predicted_classes(to_model_range(images[i : i + batch_size])).numpy()
            for i in range(0, len(images), batch_size)
        ]
    )


def confusion_matrix(true_labels: Array, predicted: Array, num_classes: int) -> np.ndarray:
    """counts[i, j] = examples of class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (np.asarray(true_labels), np.asarray(predicted)), 1)
    return counts


class SSGANEvaluator:
    """Test accuracy each evaluation, and fixed-z sample grids (the callback's interface)."""

    def __init__(self, model: keras.Model, data: ImageData, seed: int = 0, num_samples: int = 100):
        self.model, self.data = model, data
        self.image_shape = data.image_shape
        self.z = sample_prior(num_samples, model.latent_dim, tf.constant([seed, 7919], tf.int64))

    def evaluate(self) -> Dict[str, float]:
        predicted = predict_classes(self.model, self.data.val_images)
        return {"ACC": 100.0 * float(np.mean(predicted == self.data.val_labels))}

    def sample_grids(self) -> Dict[str, np.ndarray]:
        samples = self.model.generator(self.z, training=False).numpy()
        return {"samples": make_grid(samples, 10, self.image_shape)}

    def real_grid(self) -> np.ndarray:
        return make_grid(to_model_range(self.data.val_images[:100]).numpy(), 10, self.image_shape)
