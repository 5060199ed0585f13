"""What the benchmark harnesses commit under results/: tables and a run's small files.

`write_table` writes rows as `table.md` (with a note above) and `table.csv`;
`copy_run_records` copies a run's `metrics.jsonl`, `config.json` and the
sample grids of one evaluation (never checkpoints: they are large);
`read_saved_rows` / `write_rows` keep a benchmark's JSON rows, each tagged with
the settings it was measured with, so a rerun can continue or extend the table.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from typing import Dict, List, Mapping, Sequence

from bigan_tf.errors import ConfigError
from bigan_tf.run_dir import CONFIG_FILE, METRICS_FILE, atomic_write_text, samples_dir

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
            shutil.copyfile(
                os.path.join(samples_dir(source), name), os.path.join(samples_dir(target), name)
            )


def read_saved_rows(path: str, settings: Mapping[str, object]) -> List[Dict]:
    """The rows saved in `path` by an earlier run of the same `settings` ([] if no file).

    Every saved row carries the settings it was measured with (`settings`' keys, as
    the flags of the same name). Raises ConfigError when `path` is not a list of rows
    or holds a row of other settings (or one saved without them): rows measured
    differently must not be mixed into one table, and the file is left as it is.
    """
    if not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            rows = json.load(f)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"--json_out={path} is not a JSON file of this benchmark's rows "
            f"({error}): give another path."
        ) from None
    for row in rows if isinstance(rows, list) else [None]:
        differ = [
            f"--{k}" for k in settings if not isinstance(row, dict) or row.get(k) != settings[k]
        ]
        if differ:
            raise ConfigError(
                f"--json_out={path} holds rows measured with another "
                f"{', '.join(differ)}: give another path (that file is kept)."
            )
    return rows


def write_rows(path: str, rows: Sequence[Dict]) -> None:
    """Writes `rows` as JSON atomically: a kill leaves the previous file or the new one."""
    atomic_write_text(path, json.dumps(list(rows), indent=1) + "\n")
