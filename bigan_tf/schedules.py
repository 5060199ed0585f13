"""The original code's learning-rate schedule, as a Keras schedule."""

from __future__ import annotations

from typing import Any, Dict

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="bigan_tf")
class ConstantThenExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant for `epochs` epochs, then exponential decay to `final_lr_mult`·lr.

    With e = floor(step / steps_per_epoch) the 0-based epoch index:
        lr(e) = lr                                         if e < epochs
        lr(e) = lr · final_lr_mult^((e − epochs + 1) / decay_epochs)   otherwise,
    so the last epoch (e = epochs + decay_epochs − 1) runs at final_lr_mult·lr
    (2e-6 for the original's 2e-4 and 0.01). The rate changes once per epoch,
    as in the original, and is clamped after the last epoch.
    """

    def __init__(
        self,
        learning_rate: float,
        steps_per_epoch: int,
        epochs: int,
        decay_epochs: int,
        final_lr_mult: float = 0.01,
    ):
        self.learning_rate = float(learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.epochs = int(epochs)
        self.decay_epochs = int(decay_epochs)
        self.final_lr_mult = float(final_lr_mult)
        if self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")

    def learning_rate_at_epoch(self, epoch: int) -> tf.Tensor:
        epoch = tf.cast(epoch, tf.float32)
        if self.decay_epochs == 0:
            return tf.constant(self.learning_rate, tf.float32)
        progress = tf.clip_by_value((epoch - self.epochs + 1.0) / self.decay_epochs, 0.0, 1.0)
        return self.learning_rate * tf.pow(self.final_lr_mult, progress)

    def __call__(self, step):
        epoch = tf.math.floordiv(tf.cast(step, tf.int64), self.steps_per_epoch)
        return self.learning_rate_at_epoch(epoch)

    def get_config(self) -> Dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
            "epochs": self.epochs,
            "decay_epochs": self.decay_epochs,
            "final_lr_mult": self.final_lr_mult,
        }
