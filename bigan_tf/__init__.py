"""bigan_tf: adversarial feature learning (BiGAN) for TensorFlow 2 / Keras 3.

The library defines no flags and reads no environment; see `trainers/` for the
command-line programs and `export/` for the exporters.
"""

from bigan_tf.config import (
    OBJECTIVE_PRESETS,
    EvaluationConfig,
    ExperimentConfig,
    NetworkConfig,
    Objective,
    OptimizerConfig,
    RunConfig,
    objective_from_preset,
)
from bigan_tf.errors import (
    BiganError,
    CheckpointError,
    ConfigError,
    DataError,
    TrainingDivergedError,
)

__version__ = "0.1.0"

# The model and the prior import TensorFlow (seconds); the configs do not, so a
# program's --help (flags derived from the configs) starts at once.
_LAZY = {"BiGAN": "bigan_tf.bigan", "sample_prior": "bigan_tf.prior", "train": "bigan_tf.driver"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bigan_tf' has no attribute {name!r}")


__all__ = [
    "BiGAN",
    "sample_prior",
    "train",
    "Objective",
    "OBJECTIVE_PRESETS",
    "objective_from_preset",
    "NetworkConfig",
    "OptimizerConfig",
    "EvaluationConfig",
    "RunConfig",
    "ExperimentConfig",
    "BiganError",
    "ConfigError",
    "DataError",
    "CheckpointError",
    "TrainingDivergedError",
]
