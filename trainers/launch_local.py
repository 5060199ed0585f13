r"""Starts N workers of a multi-worker trainer on this machine, and restarts them on failure.

    python -m trainers.launch_local --num_workers=2 -- \
        python -m trainers.train_mnist --strategy=multi_worker --resume=auto --exp_dir=exp/mw

Each worker gets a `TF_CONFIG` naming every worker at 127.0.0.1 on a free port,
and its own index. Output is prefixed with `[worker i]`. When a worker dies
(a crash, a kill, a preemption), the launcher stops the others (after a clean
stop, exit 130 or 143, it first lets them finish the save they agreed on) and
starts the whole cluster again, up to --max_restarts times, as a cluster manager would:
with `--resume=auto` the trainer continues from the last checkpoint. This is
for trying multi-worker training on one box and for the tests; on a real
cluster, set TF_CONFIG on each machine instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import List

from absl import app, flags

from trainers.cli import free_ports, run_main
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class LaunchOptions:
    """The local cluster (each field is a flag of the same name).

    num_workers    Worker processes to start.
    max_restarts   Times the whole cluster is restarted after a failure.
    host           Address the workers listen on.
    grace_seconds  Seconds between SIGTERM and SIGKILL when stopping.
    """

    num_workers: int = 2
    max_restarts: int = 3
    host: str = "127.0.0.1"
    grace_seconds: float = 10.0


define_option_flags(LaunchOptions)


def tf_config(addresses: List[str], index: int) -> str:
    return json.dumps(
        {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
    )


def _pump(stream, prefix: str) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


# Exit statuses of a trainer stopped by SIGINT / SIGTERM after its agreed save.
_CLEAN_STOPS = (128 + signal.SIGINT, 128 + signal.SIGTERM)


def _wait_for_all(processes, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and any(p.poll() is None for p in processes):
        time.sleep(0.1)


def _stop(processes, grace: float) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.time() + grace
    for p in processes:
        try:
            p.wait(max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_cluster(command: List[str], num_workers: int, host: str, grace: float) -> int:
    """Runs one attempt; returns 0 when every worker succeeded, else a failing exit code."""
    addresses = [f"{host}:{port}" for port in free_ports(num_workers, host)]
    processes, pumps = [], []
    for index in range(num_workers):
        env = {**os.environ, "TF_CONFIG": tf_config(addresses, index)}
        p = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        print(f"launch_local: worker {index} pid {p.pid} at {addresses[index]}", flush=True)
        processes.append(p)
        pumps.append(
            threading.Thread(target=_pump, args=(p.stdout, f"[worker {index}] "), daemon=True)
        )
        pumps[-1].start()
    try:
        while True:
            codes = [p.poll() for p in processes]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                index, code = failed[0]
                if code in _CLEAN_STOPS:
                    # A stop the cluster agreed on: every worker saves at the same step
                    # and exits by itself. A signal now would be a worker's second,
                    # which aborts its save, so wait for them first.
                    print(
                        f"launch_local: worker {index} stopped cleanly ({code}); waiting "
                        f"up to {grace:g} s for the others",
                        flush=True,
                    )
                    _wait_for_all(processes, grace)
                else:
                    print(
                        f"launch_local: worker {index} exited with {code}; stopping the others",
                        flush=True,
                    )
                _stop(processes, grace)
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.2)
    except KeyboardInterrupt:
        _stop(processes, grace)
        raise
    finally:
        for t in pumps:
            t.join(timeout=5)


def main(argv):
    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise app.UsageError(
            "Give the worker command after --, e.g. -- python -m "
            "trainers.train_mnist --strategy=multi_worker --resume=auto ..."
        )
    if FLAGS.num_workers < 1:
        raise app.UsageError("--num_workers must be >= 1.")
    for attempt in range(FLAGS.max_restarts + 1):
        if attempt:
            print(f"launch_local: restart {attempt} of {FLAGS.max_restarts}", flush=True)
        code = run_cluster(command, FLAGS.num_workers, FLAGS.host, FLAGS.grace_seconds)
        if code == 0:
            print("launch_local: all workers finished", flush=True)
            return 0
    print(f"launch_local: giving up after {FLAGS.max_restarts} restarts", flush=True)
    return code


def run():
    run_main(main, "launch_local")


if __name__ == "__main__":
    run()
