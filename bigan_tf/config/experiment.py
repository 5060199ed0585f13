"""`ExperimentConfig`: a BiGAN run's whole configuration, as `config.json` holds it.

Trainers build one from their flags, `bigan_tf.training.train` resolves it
against the data (`resolve`) and writes it (`record`), and everything that
reads a finished run (checkpoints, exporters, samplers) reads it back with
`from_record`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

from bigan_tf.config.model import (
    EvaluationConfig,
    NetworkConfig,
    OptimizerConfig,
    check_objective_fits,
)
from bigan_tf.config.objective import Objective, objective_from_preset
from bigan_tf.config.record import ConfigRecord
from bigan_tf.config.run import RunConfig
from bigan_tf.config.data import DataConfig
from bigan_tf.errors import ConfigError

# The sections of config.json that are configuration (the rest is what the
# run found: the data's sizes, the replica count).
SECTIONS: Dict[str, Any] = {
    "run": RunConfig,
    "network": NetworkConfig,
    "objective": Objective,
    "optimizer": OptimizerConfig,
    "evaluation": EvaluationConfig,
}


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(ConfigRecord):
    """Everything that defines a BiGAN run.

    run         how it is driven (`RunConfig`: folder, batch size, seed, resume).
    network     the networks (`NetworkConfig`). Its image shape, and a
                conditional network's class count left at 0, come from the
                data: `resolve` fills them in.
    objective   what is trained (`Objective`; `objective_from_preset` names the
                paper's variants). Default: the BiGAN.
    optimizer   Adam and the learning-rate schedule (`OptimizerConfig`).
    evaluation  the metric protocol (`EvaluationConfig`).
    data        which images (`DataConfig`); `train` loads it when it is not
                handed data. None when the caller loads the data itself.
    """

    run: RunConfig
    network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)
    objective: Objective = dataclasses.field(default_factory=lambda: objective_from_preset("bigan"))
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
    data: Optional[DataConfig] = None

    def validate(self, network: bool = True) -> "ExperimentConfig":
        """Every section's own checks, then those between the network and the objective.

        `network=False` leaves the network out: before `resolve` its image
        shape may still be a default that the data's replaces.
        """
        for name in SECTIONS:
            if name != "network":
                getattr(self, name).validate()
        if self.data is not None:
            self.data.validate()
        if network:
            self.network.validate()
            check_objective_fits(self.network, self.objective)
        return self

    def resolve(self, data: Any) -> "ExperimentConfig":
        """This experiment fitted to `data` (an `ImageData` or `StreamedImageData`), checked.

        The network takes the data's image shape (a generalized encoder's
        input size is fixed, so there a mismatch is an error) and, when
        conditional with `num_classes=0`, its class count; the evaluation's
        `num_val` and `num_train_reference` shrink to the images there are (so
        config.json says what the evaluation used); `data` becomes the
        data's own `DataConfig` when it has one. Raises `ConfigError` naming
        the conflict.
        """
        network = self.network
        if tuple(network.encoder_image_shape) != tuple(data.image_shape):
            if network.is_generalized:
                raise ConfigError(
                    f"The data's images are {tuple(data.image_shape)} but the "
                    f"generalized encoder reads {network.encoder_image_shape}."
                )
            network = dataclasses.replace(network, image_shape=tuple(data.image_shape))
        if network.is_conditional:
            if network.num_classes == 0:
                network = dataclasses.replace(network, num_classes=data.num_classes)
            if data.num_classes > network.num_classes:
                raise ConfigError(
                    f"The data has {data.num_classes} classes but the conditional "
                    f"network was configured for {network.num_classes}."
                )
        data_config = getattr(data, "config", None) or self.data
        # The evaluation reads at most what the data hold: record what it uses.
        evaluation = self.evaluation
        if getattr(data, "val_images", None) is not None:
            evaluation = dataclasses.replace(
                evaluation,
                num_val=min(evaluation.num_val, max(1, len(data.val_images))),
                num_train_reference=min(
                    evaluation.num_train_reference, max(1, len(data.train_images))
                ),
            )
        return dataclasses.replace(
            self, network=network, data=data_config, evaluation=evaluation
        ).validate()

    def record(self, data_record: Dict[str, Any], num_replicas: int) -> Dict[str, Any]:
        """config.json: every section, the data's record (its `DataConfig` and sizes,
        `ImageData.record()`) and the replica count it was trained on."""
        record = {name: getattr(self, name).to_dict() for name in SECTIONS}
        record["data"] = data_record
        record["num_replicas"] = num_replicas
        return record

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> "ExperimentConfig":
        """A run's config.json back as an `ExperimentConfig`.

        Sections an older version did not write take their defaults (a record
        without `run` gets an empty `exp_dir`); an unknown setting is a
        `ConfigError`, as in `ConfigRecord.from_dict`; so is a semi-supervised GAN's
        record (`SSGANExperimentConfig.from_record` reads those).
        """
        if record.get("model") == "ssgan":
            raise ConfigError(
                "This config.json is a semi-supervised GAN run's: replay it with "
                "trainers.train_ssgan."
            )
        sections = {
            name: config.from_dict(record[name])
            for name, config in SECTIONS.items()
            if name in record
        }
        sections.setdefault("run", RunConfig(exp_dir=""))
        data = (record.get("data") or {}).get("config")
        return cls(**sections, data=DataConfig.from_dict(data) if data else None)

    def to_dict(self) -> Dict[str, Any]:
        values = {name: getattr(self, name).to_dict() for name in SECTIONS}
        values["data"] = self.data.to_dict() if self.data is not None else None
        return values

    @classmethod
    def from_dict(cls, record: Dict[str, Any]) -> "ExperimentConfig":
        """The inverse of `to_dict` (nested sections read back by their own classes)."""
        unknown = sorted(set(record) - set(SECTIONS) - {"data"})
        if unknown:
            raise ConfigError(
                f"Unknown ExperimentConfig sections {unknown}: the record was "
                "written by another version of bigan_tf."
            )
        sections = {
            name: config.from_dict(record[name])
            for name, config in SECTIONS.items()
            if name in record
        }
        data = record.get("data")
        return cls(**sections, data=DataConfig.from_dict(data) if data else None)
