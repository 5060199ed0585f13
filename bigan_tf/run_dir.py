"""The experiment (run) folder: its layout, its files, and what a new run does to it.

Layout, written by the run driver (`bigan_tf.training.fit_model`) and read by
every tool; nothing else spells these names:

    EXP_DIR/config.json          the run's configuration (CONFIG_FILE)
    EXP_DIR/metrics.jsonl        one record per evaluation (METRICS_FILE)
    EXP_DIR/curves.png           the learning curves, redrawn at each evaluation
    EXP_DIR/training.gif         the fixed-z sample grids of every evaluation, animated
    EXP_DIR/checkpoints/         permanent ckpt-N, rolling/ckpt-STEP (bigan_tf.checkpoints),
                                 and a copy of config.json
    EXP_DIR/.lock                held by the trainer writing the run (bigan_tf.locks)
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
from typing import Callable, Dict, Iterator, List, Optional, TYPE_CHECKING, Tuple, Union

from bigan_tf.errors import ConfigError

if TYPE_CHECKING:
    from bigan_tf.locks import FolderLock

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


def current_umask() -> int:
    """The process's file-mode creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask_permissions(path: str, directory: bool = False) -> None:
    """Gives `path` the permissions a plain open() or mkdir() would have (0666/0777 less
    the umask): `tempfile` makes its files 0600 and folders 0700, which would keep a
    model server or a colleague under another user from reading a run or an export."""
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file and a rename: a crash never
    leaves a half-written file under `path`. The file gets the umask's permissions."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Writes `text` (UTF-8) to `path` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_config(exp_dir: str, record: Dict) -> None:
    """config.json, and its copy in checkpoints/ that travels with the checkpoints (a
    run whose config.json is lost still knows its settings)."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    atomic_write_text(os.path.join(exp_dir, CONFIG_FILE), text)
    atomic_write_text(os.path.join(checkpoint_dir(exp_dir), CONFIG_FILE), text)


def read_metrics(exp_dir: str, on_torn: Optional[Callable[[str], None]] = None) -> List[Dict]:
    """The records of `metrics.jsonl`, one dict per evaluation, in order.

    A torn last line (a kill or a full disk during the append) is skipped, and
    `on_torn` (if given) is told; damage before the last line is a `ConfigError`.
    """
    path = os.path.join(exp_dir, METRICS_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line for line in f.read().split("\n") if line.strip()]
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except ValueError:
            if number < len(lines):
                raise ConfigError(
                    f"{path} line {number} is not a JSON record: the file was "
                    "edited or damaged; restore it or remove that line."
                ) from None
            if on_torn is not None:
                on_torn(
                    f"{path}: skipped a torn last record (the run was stopped while writing it)."
                )
    return records


def repair_metrics(exp_dir: str) -> Optional[str]:
    """Makes `metrics.jsonl` end with a whole record and a newline before an append.

    A torn last line is cut off; a whole one missing its newline gets it.
    Returns what was done, or None when the file was sound (or absent).
    """
    path = os.path.join(exp_dir, METRICS_FILE)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    if not data or data.endswith(b"\n"):
        return None
    start = data.rfind(b"\n") + 1
    try:
        json.loads(data[start:].decode("utf-8"))
        atomic_write_bytes(path, data + b"\n")
        return None
    except ValueError:
        atomic_write_bytes(path, data[:start])
        return f"Removed a torn last record from {path} (the run was stopped while writing it)."


def append_metrics(exp_dir: str, record: Dict) -> Optional[str]:
    """Appends one record to `metrics.jsonl` (after `repair_metrics`); returns its note."""
    note = repair_metrics(exp_dir)
    path = os.path.join(exp_dir, METRICS_FILE)
    existed = os.path.exists(path)
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
    if not existed:
        umask_permissions(path)
    return note


# Keys that may change between the sessions of one run: how long it runs and
# what it displays, not what it computes.
RESUMABLE_CHANGES = frozenset(
    {
        "run.exp_dir",
        "run.resume",
        "run.verbose",
        "run.disp_interval",
        "run.save_interval",
        "run.keep_checkpoints",
        "run.overwrite",
        "run.handle_signals",
        "run.branch",
        "run.keep_worker_checkpoints",
        "optimizer.epochs",
        "optimizer.decay_epochs",
        "evaluation.num_sample_images",
        "num_replicas",
        "transfer.steps",
        "epochs",  # the SSGAN's run length
        # Where the same images live and how their files are checked.
        "data.config.root",
        "data.config.image_check",
    }
)


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
    return sorted(
        k
        for k in old.keys() & current.keys()
        if old[k] != current[k] and k not in RESUMABLE_CHANGES
    )


def read_config(exp_dir: str) -> Optional[Dict]:
    path = os.path.join(exp_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"{path} is unreadable ({e}): move the folder away or pass "
            "--overwrite to move it aside and start fresh."
        ) from None


def move_aside(exp_dir: str) -> str:
    """Renames `exp_dir` to the first free `exp_dir.old-N`; returns the new name."""
    base = os.path.normpath(exp_dir)
    n = 1
    while os.path.exists(f"{base}.old-{n}"):
        n += 1
    os.rename(base, f"{base}.old-{n}")
    return f"{base}.old-{n}"


LOCK_FILE = ".lock"
# What makes a folder a run (of this or an older version of bigan_tf).
RUN_MARKERS = (CONFIG_FILE, METRICS_FILE, CHECKPOINT_DIR)


def _contents(exp_dir: str) -> List[str]:
    """The folder's entries but its lock and write probes."""
    if not os.path.isdir(exp_dir):
        return []
    return [n for n in os.listdir(exp_dir) if n != LOCK_FILE and not n.startswith(".write_test-")]


def _has_contents(exp_dir: str) -> bool:
    return bool(_contents(exp_dir))


def is_run(exp_dir: str) -> bool:
    """Whether `exp_dir` holds a run (its config, records or checkpoints)."""
    return any(os.path.exists(os.path.join(exp_dir, name)) for name in RUN_MARKERS)


def lock_run(exp_dir: str, print_fn: Callable[[str], None] = print) -> "FolderLock":
    """The run's `FolderLock` (not yet taken): one trainer writes a run at a time."""
    from bigan_tf.locks import FolderLock

    return FolderLock(os.path.join(exp_dir, LOCK_FILE), f"the run in {exp_dir}", print_fn)


def abandon_records(exp_dir: str, epoch: int, suffix: str) -> int:
    """Moves the records of epochs after `epoch` to `metrics.abandoned-SUFFIX.jsonl`;
    returns how many were moved (the kept ones stay in `metrics.jsonl`)."""
    records = read_metrics(exp_dir)
    later = [r for r in records if r["epoch"] > epoch]
    if later:
        atomic_write_text(
            os.path.join(exp_dir, f"metrics.abandoned-{suffix}.jsonl"),
            "".join(json.dumps(r) + "\n" for r in later),
        )
        atomic_write_text(
            os.path.join(exp_dir, METRICS_FILE),
            "".join(json.dumps(r) + "\n" for r in records if r["epoch"] <= epoch),
        )
    return len(later)


def with_history(record: Dict, stored: Optional[Dict], epoch: int) -> Dict:
    """`record` carrying the stored run's settings history, plus an entry for the
    settings that change from `epoch` on (config.json says what each epoch used)."""
    history = list((stored or {}).get("history", []))
    if stored is not None:
        old = dict(_flatten(json.loads(json.dumps(stored, default=str))))
        new = dict(_flatten(json.loads(json.dumps(record, default=str))))
        changed = {
            k: [old[k], new[k]]
            for k in differing_keys(stored, record)
            if not k.startswith("history")
        }
        if changed:
            history.append({"from_epoch": int(epoch), "changed": changed})
    return {**record, "history": history} if history else dict(record)


def check_writable(folder: str, flag: str = "--exp_dir") -> None:
    """Creates `folder` (and parents) or says in one line why it cannot."""
    try:
        os.makedirs(folder, exist_ok=True)
        # A probe of its own: the workers of one cluster check the same folder at
        # the same moment, and a shared name let one remove the other's probe.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write_test-"):
            pass
    except OSError as e:
        raise ConfigError(
            f"Cannot write the folder {folder!r} ({e.strerror or e}): choose a writable {flag}."
        ) from None


def prepare(
    exp_dir: str,
    config_record: Dict,
    resume: Union[None, int, str],
    overwrite: bool,
    has_checkpoints: Callable[[], bool],
    print_fn: Callable[[str], None] = print,
    lock: Optional["FolderLock"] = None,
    checkpoint_epochs: Callable[[], List[int]] = lambda: [],
    branch: Optional[Callable[[int], str]] = None,
) -> Union[None, int, str]:
    """Checks the folder against the new run; returns what to restore (None = fresh).

    `has_checkpoints()` says whether the folder holds any checkpoint and
    `checkpoint_epochs()` lists the permanent ones. `lock` (a `FolderLock`,
    `lock_run`) is taken once the folder exists, and again in the fresh folder
    after `overwrite` moved the old one aside. `branch(epoch)` moves the
    checkpoints newer than `epoch` to `checkpoints/abandoned-N/` and returns N
    (the records after `epoch` go to `metrics.abandoned-N.jsonl`); None: resuming
    from an older checkpoint is refused. Raises `ConfigError` with the fix when the
    folder holds another run, other files, or a run on other data.
    """
    if os.path.exists(exp_dir) and not os.path.isdir(exp_dir):
        raise ConfigError(f"--exp_dir {exp_dir!r} is a file, not a folder: choose another path.")
    if _has_contents(exp_dir) and not is_run(exp_dir):
        names = sorted(_contents(exp_dir))
        raise ConfigError(
            f"{exp_dir} holds files that are not a bigan_tf run ({', '.join(names[:3])}"
            f"{', ...' if len(names) > 3 else ''}): choose an empty or new --exp_dir."
        )
    check_writable(exp_dir)
    if lock is not None:
        lock.acquire()
    if overwrite and _has_contents(exp_dir):
        try:
            moved = move_aside(exp_dir)
        except OSError as e:
            raise ConfigError(
                f"--overwrite cannot move {exp_dir} aside ({e.strerror or e}): "
                "choose another --exp_dir (not the current folder)."
            ) from None
        stale_lock = os.path.join(moved, LOCK_FILE)
        if os.path.exists(stale_lock):
            os.remove(stale_lock)
        print_fn(f"--overwrite: moved the previous contents of {exp_dir} to {moved}.")
        resume = "none"
        check_writable(exp_dir)
        if lock is not None:
            lock._held = False
            lock.acquire()
    if resume in ("none", "None"):
        if _has_contents(exp_dir):
            raise ConfigError(
                f"--resume=none starts a fresh run, but {exp_dir} is not empty: use "
                "--resume=auto to continue the run there, another --exp_dir, or --overwrite "
                "to move the old folder aside."
            )
        return None
    stored = read_config(exp_dir)
    if stored is None and os.path.exists(os.path.join(checkpoint_dir(exp_dir), CONFIG_FILE)):
        stored = read_config(checkpoint_dir(exp_dir))
        print_fn(f"{exp_dir} has no {CONFIG_FILE}: read the copy kept with its checkpoints.")
    changed = differing_keys(stored, config_record) if stored is not None else []
    if stored is not None and "data.fingerprint" in changed:
        raise ConfigError(
            f"The training data differ from those the run in {exp_dir} was trained on "
            f"(source {(stored.get('data') or {}).get('source')!r}, content fingerprint "
            f"{stored['data']['fingerprint']} vs {config_record['data']['fingerprint']}): point "
            "--data_dir at the run's data, or start a new run in another --exp_dir."
        )
    if stored is None and has_checkpoints() and resume in (None, "auto"):
        raise ConfigError(
            f"{exp_dir} has checkpoints but no {CONFIG_FILE} (deleted?), so the settings it "
            "was trained with are unknown: to continue it, give those settings and "
            "--resume=latest (they are recorded from then on), or use another --exp_dir."
        )
    if stored is None and has_checkpoints():
        print_fn(
            f"Continuing {exp_dir}, which has no {CONFIG_FILE}, with the settings given "
            "(recorded from now on)."
        )
    if resume not in (None, "auto", "latest") and str(resume).isdigit():
        epoch = int(resume)
        newer = sorted(e for e in checkpoint_epochs() if e > epoch)
        later_records = [r["epoch"] for r in read_metrics(exp_dir) if r["epoch"] > epoch]
        if newer or later_records:
            last = max(newer + later_records)
            if branch is None:
                raise ConfigError(
                    f"--resume={epoch} is older than the run's newest epoch ({last}): "
                    f"continuing from it would rewrite epochs {epoch + 1}-{last}. Pass --branch "
                    "to keep them aside (checkpoints/abandoned-N/, metrics.abandoned-N.jsonl) "
                    f"and continue from epoch {epoch}, or copy the run to another --exp_dir."
                )
            suffix = branch(epoch)
            abandon_records(exp_dir, epoch, suffix)
            print_fn(
                f"--branch: kept the checkpoints after epoch {epoch} in "
                f"{os.path.join(checkpoint_dir(exp_dir), 'abandoned-' + suffix)} and their "
                f"records in {os.path.join(exp_dir, f'metrics.abandoned-{suffix}.jsonl')}."
            )
    if resume in (None, "auto"):
        if changed:
            raise ConfigError(
                f"{exp_dir} holds a run with another configuration ({', '.join(changed)} "
                "differ): continue it with the same flags, or start a new run with another "
                "--exp_dir or with --overwrite (moves the old folder aside). To continue it "
                "with these settings on purpose (e.g. a lower --learning_rate after a "
                "divergence), name the checkpoint: --resume=latest."
            )
        return "latest" if has_checkpoints() else None
    if changed:  # an explicit --resume continues on purpose, with the new settings
        print_fn(f"Continuing {exp_dir} with changed settings: {', '.join(changed)}.")
    return resume
