"""What a network costs: trainable parameters and forward FLOPs per example."""

from __future__ import annotations

import keras
import tensorflow as tf


def parameter_count(model: keras.Model) -> int:
    """Trainable parameters of a built model."""
    return int(sum(int(tf.size(v)) for v in model.trainable_variables))


def flops_per_image(model: keras.Model, *inputs: tf.Tensor) -> float:
    """Forward FLOPs of one example (2 per multiply-add), from TensorFlow's graph profiler.

    `inputs` are one-example tensors ([1, ...]) in the model's call order.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda *args: model(*args, training=False))
    concrete = function.get_concrete_function(*[tf.TensorSpec(t.shape, t.dtype) for t in inputs])
    frozen = convert_variables_to_constants_v2(concrete)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=frozen.graph, options=options)
    return float(info.total_float_ops)
