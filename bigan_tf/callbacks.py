"""Keras callbacks used by every trainer: evaluation, checkpoints, NaN guard, progress.

The epoch-end callbacks skip an epoch cut short by a stop request
(`bigan_tf.interrupts`): the run driver saves that state step-exactly itself.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Dict, Optional, Tuple

import keras
import tensorflow as tf

from bigan_tf.checkpoints import TrainingCheckpoint
from bigan_tf.errors import CheckpointError, ConfigError, TrainingDivergedError
from bigan_tf.evaluation.deploy import TrainingBatches, deploy_batch_norm, measure_losses
from bigan_tf.evaluation.evaluator import Evaluator, format_losses, format_metrics, timed
from bigan_tf.run_dir import (
    CURVES_FILE,
    METRICS_FILE,
    TRAINING_GIF_FILE,
    append_metrics,
    atomic_write_text,
    read_metrics,
    samples_dir,
)
from bigan_tf.images import write_png, write_training_gif
from bigan_tf.interrupts import StopRequest
from bigan_tf.plots import plot_learning_curves

LOSS_KEYS = ("JD", "D", "E", "S", "G")  # S: the SSGAN's supervised loss

# Feature metrics drawn with their epoch-0 (initialisation) value in curves.png:
# the random-init network is the baseline that learned features have to pass.
INITIAL_LINES = ("NNC_e-", "CLS_e-", "NNC_d", "CLS_d")


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss, before anything is saved.

    Raising from the batch callback ends `fit` at once: no epoch-end callback
    runs, so no checkpoint or sample is written from diverged weights.
    """

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        bad = {k: float(v) for k, v in (logs or {}).items() if not math.isfinite(float(v))}
        if bad:
            raise TrainingDivergedError(
                f"Training diverged at epoch {self._epoch}, step {batch + 1}: non-finite "
                f"{', '.join(f'{k}={v}' for k, v in bad.items())}. The last finished checkpoint "
                "is untouched; resume from it with --resume=latest, e.g. with a lower "
                "--learning_rate."
            )


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates at chosen epochs: prints the two lines, writes PNGs, TensorBoard, JSON.

    Epoch 0 (before training) is evaluated when training starts from scratch.
    Only the chief evaluates and writes (`chief=False` on other workers).
    `training_batches` (a `TrainingBatches`) feed the batch-norm deploy pass
    run before each evaluation when `deploy_iters` > 0, and the measured cost
    line of epoch 0; None for a model without one (the SSGAN, a transfer
    classifier). The cost line shows the deploy pass's mean losses when
    `deploy_iters` > 0, otherwise the epoch's mean training losses (measured
    losses at epoch 0).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        exp_dir: str,
        should_evaluate: Callable[[int], bool],
        initial_epoch: int = 0,
        deploy_iters: int = 0,
        training_batches: Optional[TrainingBatches] = None,
        writer: Optional[tf.summary.SummaryWriter] = None,
        print_fn: Callable[[str], None] = print,
        chief: bool = True,
        stop_request: Optional[StopRequest] = None,
        fresh: Optional[bool] = None,
        schedule: Optional[Tuple[int, int]] = None,
    ):
        """`fresh`: a run from scratch (default: `initial_epoch` == 0). Its
        folder's old records are dropped; a resumed run keeps those up to
        `initial_epoch`, so no record is ever duplicated. `schedule`:
        (constant epochs, total epochs), to shade the decay phase of `curves.png`."""
        super().__init__()
        self.schedule = schedule
        self.stop_request = stop_request or StopRequest()
        self.fresh = initial_epoch == 0 if fresh is None else fresh
        self._started = False
        self.eval_seconds: list = []
        self.chief = chief
        self.evaluator = evaluator
        self.exp_dir = exp_dir
        self.should_evaluate = should_evaluate
        self.initial_epoch = initial_epoch
        if deploy_iters > 0 and training_batches is None:
            raise ConfigError("This model has no batch-norm deploy pass: set --deploy_iters 0.")
        self.deploy_iters = deploy_iters
        self.training_batches = training_batches
        self.writer = writer
        self.print_fn = print_fn
        self.last_results: Dict[str, float] = {}
        self._epoch_start: Optional[float] = None
        self._epoch_seconds: Optional[float] = None

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
        # A run may call `fit` twice (a stopped epoch is finished first): once only.
        if not self.chief or self._started:
            return
        self._started = True
        samples = samples_dir(self.exp_dir)
        self._pictures(
            lambda: write_png(os.path.join(samples, "real.png"), self.evaluator.real_grid()),
            self.initial_epoch,
        )
        # Drop records past the resumed epoch (all of them for a fresh run), so a
        # restarted run never duplicates them.
        kept = (
            []
            if self.fresh
            else [
                r
                for r in read_metrics(self.exp_dir, self.print_fn)
                if r["epoch"] <= self.initial_epoch
            ]
        )
        atomic_write_text(
            os.path.join(self.exp_dir, METRICS_FILE), "".join(json.dumps(r) + "\n" for r in kept)
        )
        if self.fresh:
            self.evaluate(0, None)

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self.stop_request.requested:
            return
        epoch += 1
        if self._epoch_start is not None:
            self._epoch_seconds = time.perf_counter() - self._epoch_start
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not self.chief:
            # Other workers only repeat the deploy pass, so that the batch-norm
            # statistics they checkpoint stay identical to the chief's.
            if self.should_evaluate(epoch) and self.deploy_iters > 0:
                self.deploy()
            return
        if self.writer is not None:
            with self.writer.as_default(step=epoch):
                for name, value in logs.items():
                    tf.summary.scalar(f"train/{name}", value)
                optimizer = getattr(self.model, "generator_optimizer", None)
                if optimizer is not None:
                    tf.summary.scalar("train/learning_rate", float(optimizer.learning_rate.numpy()))
        if self.should_evaluate(epoch):
            self.evaluate(epoch, logs)

    def deploy(self) -> Dict[str, float]:
        """The batch-norm deploy pass over `deploy_iters` training batches; their mean losses."""
        if self.training_batches is None:
            raise ValueError("The deploy pass needs the training batches.")
        return deploy_batch_norm(self.model, self.training_batches.take(self.deploy_iters))

    def evaluate(self, epoch: int, logs: Optional[Dict[str, float]]) -> None:
        if self.deploy_iters > 0:
            losses, deploy_seconds = timed(self.deploy)
        else:
            deploy_seconds = 0.0
            if logs:
                losses = {k: logs[k] for k in LOSS_KEYS if k in logs}
            elif self.training_batches is not None:  # epoch 0: no training losses yet
                losses = measure_losses(self.model, self.training_batches.take(10))
            else:
                losses = {}  # the epoch-0 line shows the metrics only
        results, eval_seconds = timed(self.evaluator.evaluate)
        self.eval_seconds.append(eval_seconds + deploy_seconds)
        self.last_results = dict(results)
        if losses:  # none before training when there is no deploy pass (SSGAN, transfer)
            self.print_fn(format_losses(epoch, losses))
        self.print_fn(format_metrics(results))
        samples = samples_dir(self.exp_dir)
        grids = self.evaluator.sample_grids()
        names = {
            "samples": f"{epoch}.png",
            "regen": f"{epoch}.regen.png",
            "real_regen": f"{epoch}.real_regen.png",
        }

        def write_pictures():
            for key, grid in grids.items():
                write_png(os.path.join(samples, names[key]), grid)
            if "samples" in grids:  # the fixed-z grids so far, animated
                write_training_gif(samples, os.path.join(self.exp_dir, TRAINING_GIF_FILE))

        self._pictures(write_pictures, epoch)
        if self.writer is not None:
            with self.writer.as_default(step=epoch):
                for name, value in {**losses, **results}.items():
                    tf.summary.scalar(f"eval/{name}", value)
                tf.summary.scalar("eval/seconds", eval_seconds + deploy_seconds)
                for key, grid in grids.items():
                    tf.summary.image(f"samples/{key}", grid[None], step=epoch)
            self.writer.flush()
        record = {
            "epoch": epoch,
            "losses": losses,
            "metrics": dict(results),
            "eval_seconds": round(eval_seconds, 3),
            "deploy_seconds": round(deploy_seconds, 3),
        }
        if logs is not None and self._epoch_seconds is not None:
            record["epoch_seconds"] = round(self._epoch_seconds, 3)  # training time of `epoch`
        try:
            note = append_metrics(self.exp_dir, record)
        except OSError as e:
            raise CheckpointError(
                f"Could not write the record of epoch {epoch} ({e.strerror or e}): free disk "
                "space or fix the folder, then run the same command again (it continues from "
                "the last finished checkpoint)."
            ) from None
        if note:
            self.print_fn(note)
        constant, total = self.schedule or (None, None)
        self._pictures(
            lambda: plot_learning_curves(
                read_metrics(self.exp_dir),
                os.path.join(self.exp_dir, CURVES_FILE),
                title=f"{os.path.basename(os.path.normpath(self.exp_dir))}: epoch {epoch}",
                constant_epochs=constant,
                total_epochs=total,
                mark_initial=INITIAL_LINES,
            ),
            epoch,
        )

    def _pictures(self, write: Callable[[], object], epoch: int) -> None:
        """Pictures are a convenience: one that cannot be written (a full disk) is a
        notice, and training goes on to its checkpoint."""
        try:
            write()
        except OSError as e:
            self.print_fn(
                f"Could not write the pictures of epoch {epoch} ({e.strerror or e}); "
                "training goes on. Free disk space to get them back."
            )


class CheckpointCallback(keras.callbacks.Callback):
    """A rolling checkpoint after every epoch; a permanent `ckpt-{epoch}` where chosen.

    Listed after the evaluation callback, so a deploy pass's batch-norm
    statistics are in the saved checkpoint (as in the original) and a resumed
    run continues from exactly the state the uninterrupted one had.
    """

    def __init__(
        self,
        checkpoint: TrainingCheckpoint,
        should_save: Callable[[int], bool],
        print_fn: Callable[[str], None] = print,
        stop_request: Optional[StopRequest] = None,
    ):
        super().__init__()
        self.checkpoint = checkpoint
        self.should_save = should_save
        self.print_fn = print_fn
        self.stop_request = stop_request or StopRequest()
        self.save_seconds: list = []

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self.stop_request.requested:
            return
        start = time.perf_counter()
        if self.should_save(epoch + 1):
            path = self.checkpoint.save(epoch + 1)
            self.print_fn(f"Saved checkpoint {path}")
        else:
            self.checkpoint.save_rolling(epoch + 1)
        self.save_seconds.append(time.perf_counter() - start)


class ProgressLine(keras.callbacks.Callback):
    """Ends every epoch with one run-level line: where the run is and when it ends.

    `epoch N/total: S s training, lr L; ETA H:MM:SS (E epochs, K evaluations left)`:
    S is the epoch's training time without its evaluation (Keras's own epoch line
    times the same). The ETA uses this session's mean epoch and evaluation times.
    """

    def __init__(
        self,
        total_epochs: int,
        should_evaluate: Callable[[int], bool],
        evaluation: Optional[EvaluationCallback] = None,
        stop_request: Optional[StopRequest] = None,
        print_fn: Callable[[str], None] = print,
    ):
        super().__init__()
        self.total_epochs = total_epochs
        self.should_evaluate = should_evaluate
        self.evaluation = evaluation
        self.stop_request = stop_request or StopRequest()
        self.print_fn = print_fn
        self.train_seconds: list = []
        self._start: Optional[float] = None

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._start = time.perf_counter()
        self._evaluations_before = len(self.evaluation.eval_seconds) if self.evaluation else 0

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self.stop_request.requested or self._start is None:
            return
        epoch += 1
        elapsed = time.perf_counter() - self._start
        evals = self.evaluation.eval_seconds if self.evaluation else []
        # Training time alone: this epoch's evaluation (if any) ran in between.
        self.train_seconds.append(elapsed - sum(evals[self._evaluations_before :]))
        remaining = range(epoch + 1, self.total_epochs + 1)
        evaluations_left = sum(1 for e in remaining if self.should_evaluate(e))
        eta = len(remaining) * sum(self.train_seconds) / len(
            self.train_seconds
        ) + evaluations_left * (sum(evals) / len(evals) if evals else 0.0)
        optimizer = getattr(self.model, "generator_optimizer", None)
        lr = f", lr {float(optimizer.learning_rate.numpy()):.3g}" if optimizer is not None else ""
        hours, rest = divmod(int(round(eta)), 3600)
        self.print_fn(
            f"epoch {epoch}/{self.total_epochs}: {self.train_seconds[-1]:.1f} s training"
            f"{lr}; ETA {hours}:{rest // 60:02d}:{rest % 60:02d} "
            f"({_count(len(remaining), 'epoch')}, "
            f"{_count(evaluations_left, 'evaluation')} left)"
        )


def _count(n: int, noun: str) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
