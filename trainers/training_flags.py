"""Flags of how a run is driven, shared by every training program.

The experiment's own settings are `--config.SECTION.FIELD` (`trainers.config_flags`);
these say where and how it runs: resume, overwrite, branch, progress output,
and the tf.distribute strategy.
"""

from __future__ import annotations

from absl import flags

FLAGS = flags.FLAGS


def define_strategy_flags(multi_worker: bool = False) -> None:
    """--strategy and --cpu_replicas; `multi_worker` adds the cluster strategies."""
    if multi_worker:
        flags.DEFINE_enum(
            "strategy",
            "auto",
            ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"),
            "tf.distribute strategy: auto = mirrored over the visible GPUs, or "
            "none; multi_worker = MultiWorkerMirroredStrategy over the cluster in "
            "TF_CONFIG; tpu = TPUStrategy on --tpu.",
        )
    else:
        flags.DEFINE_enum(
            "strategy",
            "auto",
            ("auto", "default", "one_device", "mirrored"),
            "tf.distribute strategy: auto = mirrored over the visible GPUs, or none.",
        )
    flags.DEFINE_integer(
        "cpu_replicas",
        None,
        "Split the CPU into N logical devices and mirror over them (for testing "
        "distribution without GPUs).",
    )


def define_run_control_flags() -> None:
    """--resume, --overwrite, --branch, --verbose: every training program's."""
    flags.DEFINE_string(
        "resume",
        "auto",
        "auto: continue the run in --exp_dir from its newest checkpoint (the "
        "same command continues a stopped run), or start fresh in an empty "
        "folder; latest or N: that checkpoint (an error if missing or "
        "damaged); latest_good: the newest undamaged checkpoint; none: start "
        "fresh, only into an empty folder.",
    )
    flags.DEFINE_boolean(
        "overwrite",
        False,
        "Move an existing --exp_dir aside to NAME.old-N (never deleted) and start fresh.",
    )
    flags.DEFINE_boolean(
        "branch",
        False,
        "With --resume=N older than the run's newest epoch: keep the later "
        "checkpoints in checkpoints/abandoned-K/ and their records in "
        "metrics.abandoned-K.jsonl, and continue from epoch N (refused "
        "without it: nothing finished is rewritten).",
    )
    flags.DEFINE_enum(
        "verbose",
        "auto",
        ("auto", "0", "1", "2"),
        "Keras progress output: 0 silent, 1 bar, 2 one line per epoch; auto: the "
        "bar on a terminal, one line per epoch when written to a file.",
    )
