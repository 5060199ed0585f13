"""Training checkpoints: all weights, both optimisers, the epoch and RNG state.

`tf.train.CheckpointManager` writes each checkpoint under a temporary name and
renames it, and updates its index file atomically, so a crash or a kill never
leaves a half-written checkpoint in the index. Two kinds:

* permanent `checkpoints/ckpt-N`, numbered by the epoch that has finished,
  all kept (exports and `--resume N` read these);
* rolling `checkpoints/rolling/ckpt-S`, numbered by the global training step S,
  the last `keep_rolling` kept: one after every epoch, and a step-exact one when
  a run is stopped by a signal in the middle of an epoch.

The networks are saved as separate children (`encoder`, `generator`, ...) so
an exporter can restore one alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Callable, Dict, List, NamedTuple, Optional, Union

import tensorflow as tf

from bigan_tf.bigan import BiGAN
from bigan_tf.config import ExperimentConfig, NetworkConfig, Objective, OptimizerConfig
from bigan_tf.errors import CheckpointError
from bigan_tf.run_dir import CONFIG_FILE, checkpoint_dir as run_checkpoint_dir
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

CHECKPOINT_PREFIX = "ckpt"
ROLLING_DIR = "rolling"


def training_state(model: keras.Model) -> Dict[str, object]:
    """What a checkpoint holds of `model`, by name.

    A GAN (a `networks` NamedTuple and two optimisers, the BiGAN and the SSGAN)
    is saved network by network, so one can be restored alone; any other
    compiled Keras model (the transfer classifier) as itself and its optimiser.
    """
    if hasattr(model, "networks"):
        state = {name: net for name, net in model.networks._asdict().items() if net is not None}
        state.update(
            discriminator_optimizer=model.discriminator_optimizer,
            generator_optimizer=model.generator_optimizer,
        )
        if getattr(model, "encoder_optimizer", None) is not None:
            state["encoder_optimizer"] = model.encoder_optimizer
        return state
    return {"model": model, "optimizer": model.optimizer}


class TrainingCheckpoint:
    """Saves and restores a compiled model (`training_state`) with its epoch and step."""

    def __init__(
        self,
        model: keras.Model,
        directory: str,
        write_directory: Optional[str] = None,
        keep_written: bool = False,
        keep_rolling: int = 2,
    ):
        """`write_directory` (non-chief multi-worker processes) receives the saves
        instead of `directory` and is deleted after each one unless `keep_written`;
        restores always read `directory`, the chief's. `keep_rolling` is how many
        rolling checkpoints are kept."""
        self.directory = directory
        self.write_directory = write_directory
        self.keep_written = keep_written
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self._model_seed = getattr(model, "noise_seed", 0)
        self.noise_seed = tf.Variable(
            self._model_seed, dtype=tf.int64, trainable=False, name="noise_seed"
        )
        # Keras's own optimizer of every model counts training steps (the BiGAN's
        # E+G Adam, the SSGAN's D Adam; the SSGAN's G Adam may step several times).
        self._step_counter = model.optimizer.iterations
        self.checkpoint = tf.train.Checkpoint(
            **training_state(model), epoch=self.epoch, noise_seed=self.noise_seed
        )
        base = write_directory or directory
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, base, max_to_keep=None, checkpoint_name=CHECKPOINT_PREFIX
        )
        self.rolling_manager = tf.train.CheckpointManager(
            self.checkpoint,
            os.path.join(base, ROLLING_DIR),
            max_to_keep=max(1, keep_rolling),
            checkpoint_name=CHECKPOINT_PREFIX,
        )

    @property
    def step(self) -> int:
        """The global training step (the model's own optimiser's update count)."""
        return int(self._step_counter.numpy())

    def save(self, epoch: int) -> str:
        """Saves the state after `epoch` finished epochs as `ckpt-{epoch}` (permanent)."""
        self.epoch.assign(epoch)
        return self._written(self._save(self.manager, epoch))

    def save_rolling(self, epoch: int) -> str:
        """Saves `rolling/ckpt-{step}`: `epoch` finished epochs plus any steps since."""
        self.epoch.assign(epoch)
        return self._written(self._save(self.rolling_manager, self.step))

    def _save(self, manager: tf.train.CheckpointManager, number: int) -> str:
        try:
            return manager.save(checkpoint_number=number)
        except (OSError, tf.errors.OpError) as e:
            # Disk full, folder gone, ...: remove the half-written temporary
            # folder and say so; the finished checkpoints are untouched.
            remove_interrupted_saves(self.write_directory or self.directory)
            reason = (str(getattr(e, "message", e)).strip().splitlines() or [""])[0][:200]
            raise CheckpointError(
                f"Could not write a checkpoint in {manager.directory} ({reason}): free disk "
                "space or fix the folder, then run the same command again (it continues from "
                "the last finished checkpoint, which is intact)."
            ) from None

    def _written(self, path: str) -> str:
        if self.write_directory and not self.keep_written:
            shutil.rmtree(self.write_directory, ignore_errors=True)
        return path

    def available_epochs(self) -> List[int]:
        return sorted(epochs_in(self.directory))

    def newest_first(self, steps_per_epoch: int) -> List[str]:
        """Every checkpoint, permanent or rolling, the most training steps first.

        A permanent `ckpt-N` holds N·steps_per_epoch steps; a tie goes to it.
        """
        candidates = [
            (
                epoch * steps_per_epoch,
                1,
                os.path.join(self.directory, f"{CHECKPOINT_PREFIX}-{epoch}"),
            )
            for epoch in epochs_in(self.directory)
        ]
        rolling = os.path.join(self.directory, ROLLING_DIR)
        candidates += [
            (step, 0, os.path.join(rolling, f"{CHECKPOINT_PREFIX}-{step}"))
            for step in epochs_in(rolling)
        ]
        return [path for _, _, path in sorted(candidates, reverse=True)]

    def newest(self, steps_per_epoch: int) -> Optional[str]:
        """The checkpoint with the most training steps (or None)."""
        paths = self.newest_first(steps_per_epoch)
        return paths[0] if paths else None

    def restore(
        self,
        which: Union[int, str],
        steps_per_epoch: Optional[int] = None,
        print_fn: Callable[[str], None] = print,
    ) -> int:
        """Restores `ckpt-N` (which=N), the newest ("latest") or the newest undamaged
        ("latest_good"); returns its epoch.

        With `steps_per_epoch`, "latest" also considers the rolling checkpoints
        (the optimiser's step count then tells how far into the next epoch it is).
        The chosen checkpoint is read in full first: a damaged one is named, and
        only "latest_good" goes back to an older one (and says which).
        """
        if which in ("latest", "latest_good") and steps_per_epoch:
            paths = self.newest_first(steps_per_epoch)
            orphans = orphaned_data_files(self.directory)
            if orphans and which == "latest":
                raise CheckpointError(
                    f"{orphans[0]} has no index file (a damaged or half-deleted checkpoint): "
                    "resume from the newest complete one with --resume=latest_good."
                )
            if not paths:
                raise CheckpointError(
                    f"No checkpoints in {self.directory}. Train first, or check --exp_dir."
                )
            path = None
            for candidate in paths:
                damage = checkpoint_damage(candidate)
                if damage is None:
                    path = candidate
                    break
                if which == "latest":
                    raise CheckpointError(
                        f"Checkpoint {candidate} is damaged ({damage}): resume from the newest "
                        "undamaged one with --resume=latest_good."
                    )
                print_fn(f"Skipping damaged checkpoint {candidate} ({damage}).")
            if path is None:
                raise CheckpointError(
                    f"Every checkpoint in {self.directory} is damaged: start "
                    "a new run (--overwrite moves this one aside)."
                )
            if path != paths[0] or orphans:
                print_fn(f"--resume=latest_good: resuming from {path}.")
        else:
            path = checkpoint_path(self.directory, which)
            damage = checkpoint_damage(path)
            if damage is not None:
                raise CheckpointError(
                    f"Checkpoint {path} is damaged ({damage}); pick another "
                    "epoch, or --resume=latest_good."
                )
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
                f"not {self._model_seed}; resume with the same --seed."
            )
        self.restored_path = path
        return int(self.epoch.numpy())


def checkpoint_damage(path: str) -> Optional[str]:
    """None when every tensor of checkpoint `path` reads back, else what is wrong.

    Reading every tensor checks the data files' sizes and checksums against the
    index (TensorFlow verifies a CRC per tensor).
    """
    try:
        reader = tf.train.load_checkpoint(path)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as e:  # noqa: BLE001 - any failure to read back is damage
        # (OpError for checksums, IndexError "Read less bytes than requested" for a
        # truncated file, ...)
        message = str(getattr(e, "message", e)).strip().splitlines() or [type(e).__name__]
        return message[0][:300]
    return None


def orphaned_data_files(directory: str) -> List[str]:
    """Data files newer than a folder's newest complete checkpoint but without an index.

    Such a file is a checkpoint whose index was lost: resuming from the newest
    *complete* one would silently go back in time. (Older orphans are the
    leftovers of a rotation and harmless.)
    """
    found = []
    for folder in (directory, os.path.join(directory, ROLLING_DIR)):
        if not os.path.isdir(folder):
            continue
        complete = epochs_in(folder)
        newest = max(complete) if complete else -1
        pattern = re.compile(rf"^{CHECKPOINT_PREFIX}-(\d+)\.data-\d+-of-\d+$")
        for name in os.listdir(folder):
            m = pattern.match(name)
            if m and int(m.group(1)) > newest:
                found.append((int(m.group(1)), os.path.join(folder, name)))
    return [path for _, path in sorted(found, reverse=True)]


def remove_interrupted_saves(directory: str) -> List[str]:
    """Deletes the `*_temp*` leftovers of saves killed midway; returns what it removed.

    `CheckpointManager` writes into a temporary folder and renames it, so such a
    leftover is never a finished checkpoint.
    """
    removed = []
    for folder in (directory, os.path.join(directory, ROLLING_DIR)):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if "_temp" in name and name.startswith(CHECKPOINT_PREFIX):
                path = os.path.join(folder, name)
                (shutil.rmtree if os.path.isdir(path) else os.remove)(path)
                removed.append(path)
    return removed


def branch_checkpoints(directory: str, epoch: int) -> str:
    """Moves the permanent checkpoints after `epoch`, and every rolling one, into
    `directory/abandoned-N/` (N the first free number); returns N as a string.

    A run continued from an older checkpoint then writes its own epochs without
    touching the ones it leaves behind; they stay readable where they were moved.
    """
    n = 1
    while os.path.exists(os.path.join(directory, f"abandoned-{n}")):
        n += 1
    target = os.path.join(directory, f"abandoned-{n}")
    os.makedirs(target)
    pattern = re.compile(rf"^{CHECKPOINT_PREFIX}-(\d+)\.")
    for name in os.listdir(directory):
        match = pattern.match(name)
        if match and int(match.group(1)) > epoch:
            os.replace(os.path.join(directory, name), os.path.join(target, name))
    if os.path.isdir(os.path.join(directory, ROLLING_DIR)):
        os.replace(os.path.join(directory, ROLLING_DIR), os.path.join(target, ROLLING_DIR))
    return str(n)


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
            raise CheckpointError(
                f"--resume must be an epoch number or 'latest', got {which!r}."
            ) from None
        if epoch not in epochs:
            raise CheckpointError(
                f"No checkpoint for epoch {epoch} in {directory}; available: {sorted(epochs)}."
            )
    return os.path.join(directory, f"{CHECKPOINT_PREFIX}-{epoch}")


class TrainedModel(NamedTuple):
    """A model restored from an experiment folder, with the configs it was trained with."""

    model: BiGAN
    network: NetworkConfig
    objective: Objective
    optimizer: OptimizerConfig
    epoch: int
    checkpoint_path: str
    config: Dict
    experiment: ExperimentConfig


def read_experiment_config(exp_dir: str) -> Dict:
    """The `config.json` a training run wrote, with a clear error when it is unusable."""
    path = os.path.join(exp_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise CheckpointError(
            f"{path} does not exist: {exp_dir} is not a bigan_tf experiment folder "
            "(train one with trainers/train_mnist.py, or check --exp_dir)."
        )
    try:
        with open(path) as f:
            record = json.load(f)
        missing = [name for name in ("network", "objective", "optimizer") if name not in record]
        if missing:  # what a model is rebuilt from
            raise KeyError(missing[0])
        ExperimentConfig.from_record(record)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(
            f"{path} is not a valid bigan_tf run configuration ({e!r})."
        ) from None
    return record


def load_trained_model(
    exp_dir: str, which: Union[int, str] = "latest", checkpoint_dir: Optional[str] = None
) -> TrainedModel:
    """Rebuilds the networks of the run in `exp_dir` and restores checkpoint `which`.

    Only the networks are restored (no optimiser), outside any strategy: this
    is what exporters and samplers need. `checkpoint_dir` reads another
    folder of checkpoints of the same run (a worker's kept copies). Raises `CheckpointError` when the
    folder, its configuration or the checkpoint is missing or does not match.
    """
    record = read_experiment_config(exp_dir)
    experiment = ExperimentConfig.from_record(record)
    network, objective, optimizer = experiment.network, experiment.objective, experiment.optimizer
    directory = checkpoint_dir or run_checkpoint_dir(exp_dir)
    orphans = [p for p in orphaned_data_files(directory) if ROLLING_DIR not in p]
    if which == "latest" and orphans:
        raise CheckpointError(
            f"{orphans[0]} has no index file (a damaged checkpoint): name an "
            "older complete one with --epoch N."
        )
    path = checkpoint_path(directory, which)
    damage = checkpoint_damage(path)
    if damage is not None:
        raise CheckpointError(
            f"Checkpoint {path} is damaged ({damage}): name an older one with --epoch N."
        )
    model = BiGAN.from_config_objects(
        network, objective, optimizer.weight_decay, experiment.run.seed
    )
    children = {name: net for name, net in model.networks._asdict().items() if net is not None}
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    try:
        status = tf.train.Checkpoint(epoch=epoch, **children).restore(path)
        status.expect_partial().assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as e:
        raise CheckpointError(
            f"Checkpoint {path} does not match the networks described by {exp_dir}/"
            f"{CONFIG_FILE} ({str(e).splitlines()[0]})."
        ) from None
    return TrainedModel(
        model, network, objective, optimizer, int(epoch.numpy()), path, record, experiment
    )
