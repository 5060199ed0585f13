"""Type aliases for what the numeric functions accept: NumPy arrays or TensorFlow tensors."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import tensorflow as tf

# An array of numbers: the evaluation and image helpers take either kind.
Array = Union[np.ndarray, tf.Tensor]
# A batch size known when tracing (int) or only when running (a scalar tensor).
BatchSize = Union[int, tf.Tensor]
# A stateless-RNG seed: a shape-[2] integer tensor or pair.
Seed = Union[tf.Tensor, Sequence[int]]
