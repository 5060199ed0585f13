"""bigan_tf: adversarial feature learning (BiGAN) for TensorFlow 2 / Keras 3.

The library defines no flags and reads no environment; see `trainers/` for the
command-line programs and `export/` for the exporters.
"""

from bigan_tf.bigan import BiGAN
from bigan_tf.prior import sample_prior
from bigan_tf.config import (OBJECTIVE_PRESETS, EvaluationConfig, ExperimentConfig,
                             NetworkConfig, Objective, OptimizerConfig, RunConfig,
                             objective_from_preset)
from bigan_tf.errors import (BiganError, CheckpointError, ConfigError, DataError,
                             TrainingDivergedError)

__version__ = "0.1.0"

__all__ = ["BiGAN", "sample_prior", "Objective", "OBJECTIVE_PRESETS", "objective_from_preset",
           "NetworkConfig", "OptimizerConfig", "EvaluationConfig", "RunConfig",
           "ExperimentConfig", "BiganError", "ConfigError",
           "DataError", "CheckpointError", "TrainingDivergedError"]
