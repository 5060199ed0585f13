"""Flags and reporting shared by the exporters' command lines."""

from __future__ import annotations

from absl import flags


def define_source_flags() -> None:
    flags.DEFINE_string(
        "exp_dir",
        None,
        "Experiment folder written by a trainer (config.json and checkpoints/).",
        required=True,
    )
    flags.DEFINE_string("epoch", "latest", "Checkpoint to export: an epoch number or 'latest'.")
    flags.DEFINE_string("output", None, "Export folder to create.", required=True)
    flags.DEFINE_boolean(
        "overwrite",
        False,
        "Replace --output if it is an earlier export "
        "(atomically); anything else is never replaced.",
    )


def run_export(export_fn) -> int:
    """Checks --output, runs `export_fn()` and reports the folder it wrote.

    --output is checked before the checkpoint is loaded, so a bad one costs
    nothing (errors: `trainers.cli.run_main`).
    """
    import os
    from bigan_tf.export.exporters import check_export_output

    check_export_output(os.path.abspath(flags.FLAGS.output), flags.FLAGS.overwrite)
    path = export_fn()
    print(f"Exported to {path}")
    return 0
