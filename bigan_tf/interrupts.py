"""A clean stop on SIGINT / SIGTERM: finish the step, save, say how to continue.

`stop_on_signals()` installs handlers for the duration of a run (main thread
only). The first signal only sets `StopRequest.signal`; the run driver's
`StopAtStepBoundary` callback sees it after the current training step, stops
`fit`, and the driver writes a step-exact checkpoint and raises
`TrainingInterrupted` (exit status 128 + signal number: 130 for Ctrl-C, 143 for
SIGTERM). A second signal aborts at once, with the same status: every finished
checkpoint is already complete on disk (they are written atomically).

Under `MultiWorkerMirroredStrategy` one worker's signal must stop every worker
at the same step, and every worker must take part in the save. That is what
TensorFlow's `tf.distribute.experimental.PreemptionCheckpointHandler` agrees
through the cluster's coordination service: `PreemptionStop` wires it into
Keras's `fit` and into the same stop request, so the driver's path after a
stop is the same for one process and for a cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any, Callable, Dict, Iterator, Optional

import keras
import tensorflow as tf

from bigan_tf.errors import BiganError

# SIGHUP (a closed terminal, a dropped ssh session) stops a run as SIGTERM does.
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM) + (
    (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
)


class TrainingInterrupted(BiganError):
    """A run stopped by a signal after saving; `exit_code` is 128 + the signal number."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class StopRequest:
    """Set by a signal handler; read between training steps."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else ""

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signal or 0)


@contextlib.contextmanager
def stop_on_signals(enabled: bool = True) -> Iterator[StopRequest]:
    """Yields a `StopRequest` that SIGINT/SIGTERM/SIGHUP set while the block runs.

    Outside the main thread (where Python cannot install handlers) or with
    `enabled=False` the request is never set. The previous handlers are restored.
    """
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum, frame):
        if request.requested:  # the second signal: abort now
            print(
                f"\nSecond {signal.Signals(signum).name}: aborting without saving; the last "
                "finished checkpoint is intact.",
                file=sys.stderr,
                flush=True,
            )
            os._exit(128 + signum)
        request.signal = signum
        print(
            f"\n{signal.Signals(signum).name} received: stopping after this training step "
            "and saving (send it again to abort at once).",
            file=sys.stderr,
            flush=True,
        )

    previous = {s: signal.getsignal(s) for s in HANDLED_SIGNALS}
    for s in HANDLED_SIGNALS:
        signal.signal(s, handle)
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class StopAtStepBoundary(keras.callbacks.Callback):
    """Stops `fit` after the step during which a stop was requested.

    Keras still calls `on_epoch_end` for the cut-short epoch: the callbacks that
    evaluate or save at epoch ends check `request.requested` and skip it.
    """

    def __init__(self, request: StopRequest):
        super().__init__()
        self.request = request

    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self.request.requested:
            self.model.stop_training = True


class PreemptionStop(keras.callbacks.Callback):
    """A cluster-wide clean stop for multi-worker training (SIGTERM or SIGINT).

    TensorFlow's `PreemptionCheckpointHandler` watches SIGTERM on every worker;
    the first worker to get one tells the others, through the coordination
    service, the step at which all of them save. After each training step this
    callback asks the handler whether that step has come; when it has, every
    worker calls `save()` (the run's own step-exact rolling checkpoint,
    `saved_path` afterwards) and `request` is set, so `StopAtStepBoundary` ends
    `fit` on every worker after the same step. SIGINT (Ctrl-C) is turned into
    the same SIGTERM path; a second one aborts at once. Use it as a context
    manager: the signal handlers are restored on exit.

    The handler saves nothing of its own: its bookkeeping checkpoint lives in a
    scratch folder outside the run, deleted on exit. On Google Cloud CPU VMs
    TensorFlow does not support the handler (it never reports a preemption);
    the launcher's restart from the last rolling checkpoint remains.
    """

    def __init__(
        self, strategy: tf.distribute.Strategy, save: Callable[[], str], request: StopRequest
    ):
        super().__init__()
        self.request = request
        self.saved_path: Optional[str] = None
        self._save = save
        self._received: Optional[int] = None
        self._scratch = tempfile.mkdtemp(prefix="bigan_preemption_")
        self._previous_sigint = signal.getsignal(signal.SIGINT)
        self._previous_sigterm = signal.getsignal(signal.SIGTERM)
        config = tf.distribute.experimental.TerminationConfig(
            exit_fn=self._stop, save_fn=self._save_checkpoint, grace_period=0
        )
        self.handler = tf.distribute.experimental.PreemptionCheckpointHandler(
            strategy.cluster_resolver,
            tf.train.Checkpoint(),
            checkpoint_dir=os.path.join(self._scratch, "handler"),
            termination_config=config,
        )
        # The handler has replaced the SIGTERM handler with its own; wrap it to
        # say what happened, and send Ctrl-C the same way.
        self._handler_sigterm = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, frame):
        if self._received is not None:  # the second signal: abort now
            print(
                f"\nSecond {signal.Signals(signum).name}: aborting without saving; the last "
                "finished checkpoint is intact.",
                file=sys.stderr,
                flush=True,
            )
            os._exit(128 + signum)
        self._received = signum
        print(
            f"\n{signal.Signals(signum).name} received: every worker stops after the step "
            "the cluster agrees on and saves (send it again to abort at once).",
            file=sys.stderr,
            flush=True,
        )
        if callable(self._handler_sigterm):
            self._handler_sigterm(signal.SIGTERM, frame)

    def _save_checkpoint(self, *args, **kwargs):
        self.saved_path = self._save()

    def _stop(self):
        # Workers that were not signalled stop for the cluster: say SIGTERM.
        self.request.signal = self._received or signal.SIGTERM

    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self.handler.save_checkpoint_if_preempted()

    def __enter__(self) -> "PreemptionStop":
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous_sigint)
        signal.signal(signal.SIGTERM, self._previous_sigterm)
        shutil.rmtree(self._scratch, ignore_errors=True)
