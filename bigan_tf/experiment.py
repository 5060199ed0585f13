"""The experiment (run) folder: its layout, its files, and what a new run does to it.

Layout, written by the run driver (`bigan_tf.training.fit_model`) and read by
every tool; nothing else spells these names:

    EXP_DIR/config.json          the run's configuration (CONFIG_FILE)
    EXP_DIR/metrics.jsonl        one record per evaluation (METRICS_FILE)
    EXP_DIR/curves.png           the learning curves, redrawn at each evaluation
    EXP_DIR/training.gif         the fixed-z sample grids of every evaluation, animated
    EXP_DIR/checkpoints/         permanent ckpt-N, rolling/ckpt-STEP (bigan_tf.checkpoints)
    EXP_DIR/samples/             sample grids
    EXP_DIR/tensorboard/         TensorBoard summaries
    EXP_DIR/results.json         a transfer run's final figures

Files are written atomically (a temporary file, then a rename), so a crash or
a kill never leaves a half-written one.

Before a run (`prepare`):

* `--resume=auto` (the default): an existing run in the folder is continued
  from its newest checkpoint; an empty or new folder starts fresh.
* A stored `config.json` that differs from the new run's configuration in
  anything but run length and display settings stops an `auto` resume with one
  line naming the differing keys: two runs never share a folder by accident.
  An explicit `--resume=latest` (or N) continues on purpose with the new
  settings and says which changed.
* `--overwrite` moves an existing folder aside to `NAME.old-N` (never deletes
  it) and starts fresh; `--resume=none` starts fresh only into an empty folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Dict, Iterator, List, Optional, Tuple, Union

from bigan_tf.errors import ConfigError

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"
TRAINING_GIF_FILE = "training.gif"
RESULTS_FILE = "results.json"
CHECKPOINT_DIR = "checkpoints"
SAMPLES_DIR = "samples"
TENSORBOARD_DIR = "tensorboard"


def checkpoint_dir(exp_dir: str) -> str:
    return os.path.join(exp_dir, CHECKPOINT_DIR)


def samples_dir(exp_dir: str) -> str:
    return os.path.join(exp_dir, SAMPLES_DIR)


def tensorboard_dir(exp_dir: str) -> str:
    return os.path.join(exp_dir, TENSORBOARD_DIR)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file and a rename: a crash never
    leaves a half-written file under `path`."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Writes `text` (UTF-8) to `path` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_config(exp_dir: str, record: Dict) -> None:
    atomic_write_text(os.path.join(exp_dir, CONFIG_FILE),
                      json.dumps(record, indent=2, default=str) + "\n")


def read_metrics(exp_dir: str) -> List[Dict]:
    """The records of `metrics.jsonl`, one dict per evaluation, in order."""
    path = os.path.join(exp_dir, METRICS_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# Keys that may change between the sessions of one run: how long it runs and
# what it displays, not what it computes.
RESUMABLE_CHANGES = frozenset({
    "run.exp_dir", "run.resume", "run.verbose", "run.disp_interval", "run.save_interval",
    "run.keep_checkpoints", "run.overwrite", "run.handle_signals",
    "run.keep_worker_checkpoints", "optimizer.epochs", "optimizer.decay_epochs",
    "evaluation.num_sample_images", "num_replicas", "transfer.steps",
    "epochs",  # the SSGAN's run length
    # Where the same images live and how their files are checked.
    "data.config.root", "data.config.image_check",
})


def _flatten(record, prefix: str = "") -> Iterator[Tuple[str, object]]:
    if isinstance(record, dict):
        for key, value in record.items():
            yield from _flatten(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], record


def differing_keys(stored: Dict, new: Dict) -> List[str]:
    """Dotted keys present in both records whose values differ and that matter.

    Keys only one record has (written by another version) are not compared.
    """
    normalize = lambda r: dict(_flatten(json.loads(json.dumps(r, default=str))))
    old, current = normalize(stored), normalize(new)
    return sorted(k for k in old.keys() & current.keys()
                  if old[k] != current[k] and k not in RESUMABLE_CHANGES)


def read_config(exp_dir: str) -> Optional[Dict]:
    path = os.path.join(exp_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path} is unreadable ({e}): move the folder away or pass "
                          "--overwrite to move it aside and start fresh.") from None


def move_aside(exp_dir: str) -> str:
    """Renames `exp_dir` to the first free `exp_dir.old-N`; returns the new name."""
    base = os.path.normpath(exp_dir)
    n = 1
    while os.path.exists(f"{base}.old-{n}"):
        n += 1
    os.rename(base, f"{base}.old-{n}")
    return f"{base}.old-{n}"


def _has_contents(exp_dir: str) -> bool:
    return os.path.isdir(exp_dir) and bool(os.listdir(exp_dir))


def check_writable(folder: str, flag: str = "--exp_dir") -> None:
    """Creates `folder` (and parents) or says in one line why it cannot."""
    try:
        os.makedirs(folder, exist_ok=True)
        # A probe of its own: the workers of one cluster check the same folder at
        # the same moment, and a shared name let one remove the other's probe.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write_test-"):
            pass
    except OSError as e:
        raise ConfigError(f"Cannot write the folder {folder!r} ({e.strerror or e}): choose a "
                          f"writable {flag}.") from None


def prepare(exp_dir: str, config_record: Dict, resume: Union[None, int, str],
            overwrite: bool, has_checkpoints, print_fn=print) -> Union[None, int, str]:
    """Checks the folder against the new run; returns what to restore (None = fresh).

    `has_checkpoints()` says whether the folder holds any checkpoint. Raises
    `ConfigError` with the fix when the folder holds another run.
    """
    if os.path.exists(exp_dir) and not os.path.isdir(exp_dir):
        raise ConfigError(f"--exp_dir {exp_dir!r} is a file, not a folder: choose another path.")
    if overwrite and _has_contents(exp_dir):
        moved = move_aside(exp_dir)
        print_fn(f"--overwrite: moved the previous contents of {exp_dir} to {moved}.")
        resume = "none"
    check_writable(exp_dir)
    if resume in ("none", "None"):
        if _has_contents(exp_dir):
            raise ConfigError(
                f"--resume=none starts a fresh run, but {exp_dir} is not empty: use "
                "--resume=auto to continue the run there, another --exp_dir, or --overwrite "
                "to move the old folder aside.")
        return None
    stored = read_config(exp_dir)
    changed = differing_keys(stored, config_record) if stored is not None else []
    if resume in (None, "auto"):
        if changed:
            raise ConfigError(
                f"{exp_dir} holds a run with another configuration ({', '.join(changed)} "
                "differ): continue it with the same flags, or start a new run with another "
                "--exp_dir or with --overwrite (moves the old folder aside). To continue it "
                "with these settings on purpose (e.g. a lower --learning_rate after a "
                "divergence), name the checkpoint: --resume=latest.")
        return "latest" if has_checkpoints() else None
    if changed:  # an explicit --resume continues on purpose, with the new settings
        print_fn(f"Continuing {exp_dir} with changed settings: {', '.join(changed)}.")
    return resume
