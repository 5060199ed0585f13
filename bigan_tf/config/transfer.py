"""What a classifier on an exported encoder trains: the transfer experiment's config.

`TransferConfig` holds the transfer settings and `TransferExperimentConfig` a
whole run (`trainers.finetune`), as the config system reads and overrides them;
`parse_mode` and `epochs_of` check them without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, NamedTuple, Optional, Tuple

from bigan_tf.config.data import DataConfig
from bigan_tf.config.record import ConfigRecord, check_choice
from bigan_tf.config.run import RunConfig
from bigan_tf.errors import ConfigError

TRANSFER_INITS = ("pretrained", "random")


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
    raise ConfigError(
        f"--mode must be linear, finetune or freeze:K (K >= 1 encoder layers "
        f"kept fixed), got {mode!r}."
    )


def epochs_of(steps: int, steps_per_epoch: int) -> Tuple[int, int]:
    """(epochs, steps per epoch) of a run of `steps` steps; a ConfigError if they do not divide.

    A run shorter than one epoch is one epoch of `steps` steps.
    """
    if steps < 1 or steps_per_epoch < 1:
        raise ConfigError(
            f"--steps and --steps_per_epoch must be >= 1, got {steps} and {steps_per_epoch}."
        )
    steps_per_epoch = min(steps_per_epoch, steps)
    if steps % steps_per_epoch:
        raise ConfigError(
            f"--steps ({steps}) must be a multiple of --steps_per_epoch "
            f"({steps_per_epoch}): a checkpoint is written after every epoch of "
            "that many steps."
        )
    return steps // steps_per_epoch, steps_per_epoch


@dataclasses.dataclass(frozen=True)
class TransferConfig(ConfigRecord):
    """A classifier `images -> encoder module -> softmax` (`bigan_tf.transfer`).

    hub_module        the encoder: a folder written by export.export_hub, or a TF-Hub handle.
    mode              "linear" (fixed encoder, softmax on its features), "finetune" (train
                      everything) or "freeze:K" (fine-tune all but the first K encoder layers).
    init              "pretrained" (the module's weights) or "random" (the same architecture
                      freshly initialised, batch norm deployed over training images: the
                      baseline).
    labels_per_class  labelled training images per class (balanced, drawn with the run's
                      seed); None: every label.
    steps             optimizer steps.
    steps_per_epoch   steps between checkpoints (the unit of --resume); `steps` must be a
                      multiple of it.
    learning_rate     Adam's learning rate.
    """

    hub_module: str = ""
    mode: str = "linear"
    init: str = "pretrained"
    labels_per_class: Optional[int] = None
    steps: int = 2000
    steps_per_epoch: int = 250
    learning_rate: float = 1e-3

    def validate(self) -> "TransferConfig":
        parse_mode(self.mode)
        check_choice("init", self.init, TRANSFER_INITS)
        epochs_of(self.steps, self.steps_per_epoch)
        if self.labels_per_class is not None and self.labels_per_class < 1:
            raise ConfigError(
                f"--labels_per_class must be >= 1 (leave it unset for every "
                f"label), got {self.labels_per_class}."
            )
        return self


@dataclasses.dataclass(frozen=True)
class TransferExperimentConfig(ConfigRecord):
    """A transfer run (`trainers.finetune`).

    run       how it is driven (`RunConfig`: `batch_size` is the classifier's global batch,
              capped at the labelled set's size; `seed` draws the labelled subset, the
              classifier's initialisation and the data order).
    transfer  the module, mode and schedule (`TransferConfig`).
    data      which labelled images (`DataConfig`); its test split is the accuracy's.
    """

    run: RunConfig
    transfer: TransferConfig = dataclasses.field(default_factory=TransferConfig)
    data: Optional[DataConfig] = None

    def validate(self, network: bool = True) -> "TransferExperimentConfig":
        """The sections' checks (`network` is accepted for the trainers' common call)."""
        self.transfer.validate()
        self.run.validate()
        if self.data is not None:
            self.data.validate()
        return self

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> "TransferExperimentConfig":
        """A transfer run's config.json (written by `train_classifier`) as its experiment."""
        if record.get("model") != "transfer":
            raise ConfigError(
                'This config.json is not a transfer run\'s (it has no "model": "transfer").'
            )
        recorded = record["transfer"]
        names = {f.name for f in dataclasses.fields(TransferConfig)}
        transfer = TransferConfig(**{k: v for k, v in recorded.items() if k in names})
        data = (record.get("data") or {}).get("config")
        run = RunConfig(
            exp_dir="", batch_size=recorded.get("batch_size", 100), seed=recorded.get("seed", 0)
        )
        return cls(run=run, transfer=transfer, data=DataConfig.from_dict(data) if data else None)
