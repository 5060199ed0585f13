"""Training checkpoints: all weights, both optimisers, the epoch and RNG state.

`tf.train.CheckpointManager` writes each checkpoint under a temporary name and
renames it, and updates its index file atomically, so a crash or a kill never
leaves a half-written checkpoint in the index. Checkpoints are numbered by the
epoch that has finished (`ckpt-N`); all are kept. The networks are saved as
separate children (`encoder`, `generator`, ...) so an exporter can restore one
alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Dict, List, NamedTuple, Optional, Union

import tensorflow as tf

from bigan_tf.config import NetworkConfig, Objective, OptimizerConfig
from bigan_tf.errors import CheckpointError

CHECKPOINT_PREFIX = "ckpt"


class TrainingCheckpoint:
    """Saves and restores a compiled `BiGAN` with its training state."""

    def __init__(self, model, directory: str, write_directory: Optional[str] = None,
                 keep_written: bool = False):
        """`write_directory` (non-chief multi-worker processes) receives the saves
        instead of `directory` and is deleted after each one unless `keep_written`;
        restores always read `directory`, the chief's."""
        self.directory = directory
        self.write_directory = write_directory
        self.keep_written = keep_written
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.noise_seed = tf.Variable(model.noise_seed, dtype=tf.int64, trainable=False,
                                      name="noise_seed")
        self._model_seed = model.noise_seed
        children = {name: net for name, net in model.networks._asdict().items() if net is not None}
        children.update(discriminator_optimizer=model.discriminator_optimizer,
                        generator_optimizer=model.generator_optimizer,
                        epoch=self.epoch, noise_seed=self.noise_seed)
        self.checkpoint = tf.train.Checkpoint(**children)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, write_directory or directory, max_to_keep=None,
            checkpoint_name=CHECKPOINT_PREFIX)

    def save(self, epoch: int) -> str:
        """Saves the state after `epoch` finished epochs as `ckpt-{epoch}`."""
        self.epoch.assign(epoch)
        path = self.manager.save(checkpoint_number=epoch)
        if self.write_directory and not self.keep_written:
            shutil.rmtree(self.write_directory, ignore_errors=True)
        return path

    def available_epochs(self) -> List[int]:
        return sorted(epochs_in(self.directory))

    def restore(self, which: Union[int, str]) -> int:
        """Restores `ckpt-N` (which=N) or the newest (which="latest"); returns its epoch."""
        path = checkpoint_path(self.directory, which)
        try:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched()
        except (ValueError, AssertionError, tf.errors.OpError) as e:
            raise CheckpointError(
                f"Checkpoint {path} does not match this model ({str(e).splitlines()[0]}). Resume "
                "with the same --objective, network sizes and --latent_dim it was trained with."
            ) from None
        if int(self.noise_seed.numpy()) != self._model_seed:
            raise CheckpointError(
                f"Checkpoint {path} was trained with --seed {int(self.noise_seed.numpy())}, "
                f"not {self._model_seed}; resume with the same --seed.")
        return int(self.epoch.numpy())


def epochs_in(directory: str) -> List[int]:
    """Epoch numbers of the complete checkpoints (those with an index file) in `directory`."""
    if not os.path.isdir(directory):
        return []
    pattern = re.compile(rf"^{CHECKPOINT_PREFIX}-(\d+)\.index$")
    return [int(m.group(1)) for m in map(pattern.match, os.listdir(directory)) if m]


def checkpoint_path(directory: str, which: Union[int, str]) -> str:
    """The checkpoint prefix for epoch `which` (an int, a digit string, or "latest")."""
    epochs = epochs_in(directory)
    if not epochs:
        raise CheckpointError(f"No checkpoints in {directory}. Train first, or check --exp_dir.")
    if which == "latest":
        epoch = max(epochs)
    else:
        try:
            epoch = int(which)
        except (TypeError, ValueError):
            raise CheckpointError(f"--resume must be an epoch number or 'latest', got {which!r}.") \
                from None
        if epoch not in epochs:
            raise CheckpointError(f"No checkpoint for epoch {epoch} in {directory}; available: "
                                  f"{sorted(epochs)}.")
    return os.path.join(directory, f"{CHECKPOINT_PREFIX}-{epoch}")


CONFIG_FILE = "config.json"


class TrainedModel(NamedTuple):
    """A model restored from an experiment folder, with the configs it was trained with."""

    model: "object"  # bigan_tf.BiGAN (not imported here: bigan imports nothing from us)
    network: NetworkConfig
    objective: Objective
    optimizer: OptimizerConfig
    epoch: int
    checkpoint_path: str
    config: Dict


def read_experiment_config(exp_dir: str) -> Dict:
    """The `config.json` a training run wrote, with a clear error when it is unusable."""
    path = os.path.join(exp_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise CheckpointError(
            f"{path} does not exist: {exp_dir} is not a bigan_tf experiment folder "
            "(train one with trainers/train_mnist.py, or check --exp_dir).")
    try:
        with open(path) as f:
            record = json.load(f)
        network = dict(record["network"])
        network["image_shape"] = tuple(network["image_shape"])
        NetworkConfig(**network)
        Objective(**record["objective"])
        OptimizerConfig(**record["optimizer"])
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path} is not a valid bigan_tf run configuration ({e!r}).") \
            from None
    record["network"] = network
    return record


def load_trained_model(exp_dir: str, which: Union[int, str] = "latest",
                       checkpoint_dir: Optional[str] = None) -> TrainedModel:
    """Rebuilds the networks of the run in `exp_dir` and restores checkpoint `which`.

    Only the networks are restored (no optimiser), outside any strategy: this
    is what exporters and samplers need. `checkpoint_dir` reads another
    folder of checkpoints of the same run (a worker's kept copies). Raises `CheckpointError` when the
    folder, its configuration or the checkpoint is missing or does not match.
    """
    from bigan_tf.bigan import BiGAN  # local: bigan.py must not depend on checkpoints

    record = read_experiment_config(exp_dir)
    network = NetworkConfig(**record["network"])
    objective = Objective(**record["objective"])
    optimizer = OptimizerConfig(**record["optimizer"])
    path = checkpoint_path(checkpoint_dir or os.path.join(exp_dir, "checkpoints"), which)
    model = BiGAN.from_config_objects(network, objective, optimizer.weight_decay,
                                      int(record.get("run", {}).get("seed", 0)))
    children = {name: net for name, net in model.networks._asdict().items() if net is not None}
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    try:
        status = tf.train.Checkpoint(epoch=epoch, **children).restore(path)
        status.expect_partial().assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as e:
        raise CheckpointError(
            f"Checkpoint {path} does not match the networks described by {exp_dir}/"
            f"{CONFIG_FILE} ({str(e).splitlines()[0]}).") from None
    return TrainedModel(model, network, objective, optimizer, int(epoch.numpy()), path, record)
