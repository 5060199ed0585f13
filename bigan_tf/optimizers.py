"""The original's optimisation: Adam on its schedule, coupled L2 weight decay, loss scaling."""

from __future__ import annotations

from typing import Collection, List, Optional

import keras
import tensorflow as tf

from bigan_tf.config import OptimizerConfig
from bigan_tf.schedules import ConstantThenExponentialDecay


def original_adam(
    config: OptimizerConfig,
    steps_per_epoch: int,
    name: str,
    loss_scale: bool = False,
    network: str = "generator",
) -> keras.optimizers.Optimizer:
    """Adam with the original's settings on `ConstantThenExponentialDecay`.

    The rate and betas are `network`'s ("discriminator", "generator" or
    "encoder": `OptimizerConfig.adam_settings`). `loss_scale` wraps it in a
    dynamic `LossScaleOptimizer` (float16 mixed precision).
    """
    learning_rate, beta_1, beta_2 = config.adam_settings(network)
    schedule = ConstantThenExponentialDecay(
        learning_rate, steps_per_epoch, config.epochs, config.decay_epochs, config.final_lr_mult
    )
    optimizer = keras.optimizers.Adam(
        schedule, beta_1=beta_1, beta_2=beta_2, epsilon=config.epsilon, name=name
    )
    if loss_scale:
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_scaled")
    return optimizer


def scale_loss(optimizer: Optional[keras.optimizers.Optimizer], loss: tf.Tensor) -> tf.Tensor:
    """The loss a `LossScaleOptimizer` wants differentiated (it unscales in `apply`)."""
    if optimizer is None or not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return loss
    return optimizer.scale_loss(loss)


def add_coupled_weight_decay(
    grads: List[tf.Tensor],
    variables: List[tf.Variable],
    weight_decay: float,
    num_replicas: int,
    decayed_ids: Collection[int],
    optimizer: Optional[keras.optimizers.Optimizer] = None,
) -> List[tf.Tensor]:
    """g + λ·w for the variables whose id() is in `decayed_ids`; the others unchanged.

    Each replica adds λ/num_replicas·w, so the optimiser's cross-replica sum
    adds λ·w once; under a `LossScaleOptimizer` the decay is scaled like the
    gradients it joins.
    """
    if not weight_decay:
        return grads
    scale = weight_decay / num_replicas
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        scale = scale * optimizer.dynamic_scale
    return [
        g + tf.cast(scale, g.dtype) * tf.cast(v, g.dtype) if id(v) in decayed_ids else g
        for g, v in zip(grads, variables)
    ]
