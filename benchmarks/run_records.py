"""What the benchmark harnesses commit under results/: tables and a run's small files.

`write_table` writes rows as `table.md` (with a note above) and `table.csv`;
`copy_run_records` copies a run's `metrics.jsonl`, `config.json` and the
sample grids of one evaluation (never checkpoints: they are large).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from typing import Dict, List

from bigan_tf.experiment import (CONFIG_FILE, METRICS_FILE, atomic_write_text,
                                 samples_dir)

# The grids every evaluation writes into samples/ (and `real.png`, once).
SAMPLE_GRIDS = ("{epoch}.png", "{epoch}.real_regen.png", "{epoch}.regen.png")


def write_table(rows: List[Dict[str, str]], out_dir: str, note: str) -> None:
    """`table.md` (the note, then a Markdown table) and `table.csv` of `rows`."""
    if not rows:
        return
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in rows]
    atomic_write_text(os.path.join(out_dir, "table.md"), note + "\n\n" + "\n".join(lines) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(os.path.join(out_dir, "table.csv"), buffer.getvalue())


def copy_run_records(source: str, target: str, epoch: int) -> None:
    """metrics.jsonl, config.json and epoch `epoch`'s sample grids of the run in `source`."""
    # Only this evaluation's grids: drop the copies of an earlier report.
    shutil.rmtree(samples_dir(target), ignore_errors=True)
    os.makedirs(samples_dir(target), exist_ok=True)
    for name in (METRICS_FILE, CONFIG_FILE):
        if os.path.exists(os.path.join(source, name)):
            shutil.copyfile(os.path.join(source, name), os.path.join(target, name))
    for name in ("real.png", *(grid.format(epoch=epoch) for grid in SAMPLE_GRIDS)):
        if os.path.exists(os.path.join(samples_dir(source), name)):
            shutil.copyfile(os.path.join(samples_dir(source), name),
                            os.path.join(samples_dir(target), name))
