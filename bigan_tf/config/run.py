"""`RunConfig`: how a run is driven (its folder, batch, seed, evaluation and save times, resume)."""

from __future__ import annotations

import dataclasses
from typing import Optional, Union

from bigan_tf.config.record import ConfigRecord
from bigan_tf.errors import ConfigError

# --mixed_precision -> Keras dtype policy of the networks.
MIXED_PRECISION_POLICIES = {
    "none": "float32",
    "bfloat16": "mixed_bfloat16",
    "float16": "mixed_float16",
}


@dataclasses.dataclass(frozen=True)
class RunConfig(ConfigRecord):
    """How a run is driven: batch size, seed, when to evaluate and save, resume.

    exp_dir        the run folder (samples/, checkpoints/, metrics.jsonl, config.json).
    batch_size     global batch size, split over the replicas.
    seed           seed of the weights, the data order and the noise.
    disp_interval  evaluate every N epochs (None: only at the fixed times below).
    save_interval  also checkpoint every N epochs, kept for good.
    jit_compile    compile the train step with XLA: True, False or "auto" (on for
                   the MLPs on one device, off for convolutions and CPU replicas).

    Evaluation happens before training (epoch 0, fresh runs), after epoch 1,
    every `disp_interval` epochs, at the end of the constant-rate phase, at
    every save and at the end. Checkpoints are written every `save_interval`
    epochs, at the end of the constant-rate phase, and at the end.
    `resume` is "auto" (the default: continue the run in `exp_dir` from its
    newest checkpoint, permanent or rolling, else start fresh), "latest", an
    epoch, "latest_good" (the newest undamaged checkpoint: a damaged newest one
    is otherwise an error), or "none" (fresh, only into an empty folder); `overwrite` moves an
    existing folder aside to `exp_dir.old-N` first (`bigan_tf.run_dir`). An epoch
    older than the run's newest is refused unless `branch`, which keeps the later
    checkpoints and records aside (`checkpoints/abandoned-N/`).
    A rolling checkpoint is written after every epoch; `keep_checkpoints` of
    them are kept. `handle_signals` stops on SIGINT/SIGTERM with a step-exact
    checkpoint (`bigan_tf.interrupts`). `verbose` "auto" is Keras's progress bar
    on a terminal and one line per epoch otherwise.
    `keep_worker_checkpoints` keeps each non-chief worker's own copy of every
    checkpoint in `checkpoints/<task>-<id>/` (normally deleted; useful to check
    that workers agree).
    `mixed_precision` "bfloat16" or "float16" builds the networks under Keras's
    mixed policy (float32 variables, 16-bit compute, float32 outputs); float16
    adds dynamic loss scaling (`keras.optimizers.LossScaleOptimizer`).
    Checkpoints hold float32 variables either way, so exports and samplers
    load them in float32; resume a run with the same setting.
    """

    exp_dir: str
    batch_size: int = 128
    seed: int = 0
    disp_interval: Optional[int] = None
    save_interval: Optional[int] = None
    resume: Optional[Union[int, str]] = "auto"
    jit_compile: Union[bool, str] = "auto"
    verbose: Union[int, str] = "auto"
    keep_worker_checkpoints: bool = False
    mixed_precision: str = "none"
    keep_checkpoints: int = 2
    overwrite: bool = False
    handle_signals: bool = True
    branch: bool = False

    def validate(self) -> "RunConfig":
        if self.mixed_precision not in MIXED_PRECISION_POLICIES:
            raise ConfigError(
                f"--mixed_precision must be one of "
                f"{sorted(MIXED_PRECISION_POLICIES)}, got {self.mixed_precision!r}."
            )
        if self.batch_size < 1:
            raise ConfigError(f"--batch_size must be >= 1, got {self.batch_size}.")
        if self.keep_checkpoints < 1:
            raise ConfigError(f"--keep_checkpoints must be >= 1, got {self.keep_checkpoints}.")
        if self.jit_compile not in ("auto", True, False):
            raise ConfigError(
                f"jit_compile must be True, False or 'auto', got {self.jit_compile!r}."
            )
        if self.verbose not in ("auto", 0, 1, 2):
            raise ConfigError(f"--verbose must be auto, 0, 1 or 2, got {self.verbose!r}.")
        for name in ("disp_interval", "save_interval"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name} must be >= 1 (or unset), got {value}.")
        return self
