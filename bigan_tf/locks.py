"""One writer at a time: a lock file that names its holder.

A trainer holds `EXP_DIR/.lock` for as long as it writes the run; an exporter
holds `.NAME.lock` beside its `--output`. The file is created with O_EXCL and
holds the holder's pid, host and start time, so a second writer stops at once
with one line naming the first. A lock whose process is gone (same host, pid
no longer running: a kill -9, a crash, a reboot) is stale and taken over with
a notice. A lock held on another host cannot be checked from here, and is
refused with the file's path, to be removed by hand once that run is known to
be over.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
from typing import Callable, Dict, Optional

from bigan_tf.errors import ConfigError


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _holder_text(holder: Dict) -> str:
    return f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started', '?')}"


class FolderLock:
    """`with FolderLock(path, "the run in X"):` — held while the block runs."""

    def __init__(self, path: str, what: str, print_fn: Callable[[str], None] = print):
        self.path, self.what, self.print_fn = path, what, print_fn
        self._held = False

    def _read(self) -> Optional[Dict]:
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half-written by a process killed while taking it: stale

    def acquire(self) -> "FolderLock":
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._read()
                if holder is None:
                    continue  # released meanwhile: try again
                if holder.get("host") not in (None, me["host"]):
                    raise ConfigError(
                        f"{self.what} is being written by {_holder_text(holder)} (lock "
                        f"{self.path}): wait for it to end, or remove that file if it is over."
                    )
                if holder.get("pid") and _process_alive(int(holder["pid"])):
                    raise ConfigError(
                        f"{self.what} is being written by {_holder_text(holder)}: "
                        "wait for it to end, or choose another folder."
                    )
                self.print_fn(
                    f"Took over a stale lock of {self.what} ("
                    f"{_holder_text(holder) if holder else 'unreadable'}: that process "
                    "is gone)."
                )
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self._held = True
            return self
        raise ConfigError(
            f"Could not take the lock {self.path} of {self.what}: another "
            "process keeps taking it; try again."
        )

    def release(self) -> None:
        if self._held:
            self._held = False
            holder = self._read()
            if holder and holder.get("pid") == os.getpid():
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
