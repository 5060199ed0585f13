"""Flags and error handling shared by the exporters' command lines."""

from __future__ import annotations

import sys

from absl import flags


def define_source_flags() -> None:
    flags.DEFINE_string("exp_dir", None, "Experiment folder written by a trainer "
                        "(config.json and checkpoints/).", required=True)
    flags.DEFINE_string("epoch", "latest", "Checkpoint to export: an epoch number or 'latest'.")
    flags.DEFINE_string("output", None, "Export folder to create.", required=True)
    flags.DEFINE_boolean("overwrite", False, "Replace --output if it exists (atomically).")


def run_export(program: str, export_fn) -> int:
    """Runs `export_fn()`, turning bigan_tf errors into one line on stderr and exit code 2."""
    from bigan_tf.errors import BiganError
    try:
        path = export_fn()
    except BiganError as e:
        print(f"{program}: error: {e}", file=sys.stderr)
        return 2
    print(f"Exported to {path}")
    return 0
