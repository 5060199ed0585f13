"""Plain configuration dataclasses: the objective, networks, optimiser, evaluation, run, SSGAN.

`ExperimentConfig` bundles a BiGAN run's sections (and its `DataConfig`) into
the one record `config.json` holds. Trainers turn flags into these; the
library reads nothing else. Every class has
`validate()` that raises `ConfigError` naming the bad value, and `to_dict()` /
`from_dict()` (`ConfigRecord`) for the experiment folder's `config.json`. The
data's configuration is `bigan_tf.data.DataConfig`, beside the loaders.
"""

from bigan_tf.config.model import (
    FLAT_FAMILIES,
    EvaluationConfig,
    NetworkConfig,
    OptimizerConfig,
    check_objective_fits,
)
from bigan_tf.config.objective import (
    OBJECTIVE_PRESETS,
    RECONSTRUCTION_NORMS,
    Objective,
    objective_from_preset,
)
from bigan_tf.config.record import ConfigRecord
from bigan_tf.config.run import MIXED_PRECISION_POLICIES, RunConfig
from bigan_tf.config.experiment import ExperimentConfig
from bigan_tf.config.data import DataConfig, Preprocessing
from bigan_tf.config.transfer import TransferConfig, TransferExperimentConfig
from bigan_tf.config.ssgan import (
    SSGAN_NETWORK_DEFAULTS,
    SSGAN_NETWORKS,
    SSGANConfig,
    SSGANExperimentConfig,
)

__all__ = [
    "ConfigRecord",
    "ExperimentConfig",
    "RunConfig",
    "MIXED_PRECISION_POLICIES",
    "Objective",
    "OBJECTIVE_PRESETS",
    "RECONSTRUCTION_NORMS",
    "objective_from_preset",
    "NetworkConfig",
    "FLAT_FAMILIES",
    "OptimizerConfig",
    "EvaluationConfig",
    "check_objective_fits",
    "SSGANConfig",
    "SSGAN_NETWORKS",
    "SSGAN_NETWORK_DEFAULTS",
    "DataConfig",
    "Preprocessing",
    "SSGANExperimentConfig",
    "TransferConfig",
    "TransferExperimentConfig",
]
