"""A clean stop on SIGINT / SIGTERM: finish the step, save, say how to continue.

`stop_on_signals()` installs handlers for the duration of a run (main thread
only). The first signal only sets `StopRequest.signal`; the run driver's
`StopAtStepBoundary` callback sees it after the current training step, stops
`fit`, and the driver writes a step-exact checkpoint and raises
`TrainingInterrupted` (exit status 128 + signal number: 130 for Ctrl-C, 143 for
SIGTERM). A second signal aborts at once, with the same status: every finished
checkpoint is already complete on disk (they are written atomically).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator, Optional

import keras

from bigan_tf.errors import BiganError

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(BiganError):
    """A run stopped by a signal after saving; `exit_code` is 128 + the signal number."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class StopRequest:
    """Set by a signal handler; read between training steps."""

    def __init__(self):
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
    """Yields a `StopRequest` that SIGINT/SIGTERM set while the block runs.

    Outside the main thread (where Python cannot install handlers) or with
    `enabled=False` the request is never set. The previous handlers are restored.
    """
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum, frame):
        if request.requested:  # the second signal: abort now
            print(f"\nSecond {signal.Signals(signum).name}: aborting without saving; the last "
                  "finished checkpoint is intact.", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        request.signal = signum
        print(f"\n{signal.Signals(signum).name} received: stopping after this training step "
              "and saving (send it again to abort at once).", file=sys.stderr, flush=True)

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

    def on_train_batch_end(self, batch, logs=None):
        if self.request.requested:
            self.model.stop_training = True
