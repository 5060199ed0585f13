"""Multi-worker training on TensorFlow's engine, over loopback: agreement, preemption, TF_CONFIG.

Each worker is a separate process started by `trainers.launch_local`, exactly as
a user would run it. Tolerance for "same as a single process": every weight
within 1e-4 of the tensor's largest magnitude. The workers see the same global
batch and noise, but the all-reduce sums gradients in a different order
(measured: ≤ 2e-5 after 2 epochs).
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf.run_dir import read_metrics
from bigan_tf.checkpoints import epochs_in, load_trained_model
from bigan_tf.distribute import ClusterConfig, parse_tf_config
from bigan_tf.errors import ConfigError
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import train
from conftest import REPO_ROOT

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
SMALL = [
    "--hidden_units=32",
    "--latent_dim=8",
    "--decay_epochs=0",
    "--batch_size=64",
    "--num_val=200",
    "--num_train_reference=512",
    "--num_generated=400",
    "--cls_steps=10",
    "--disp_samples=20",
    "--verbose=0",
    "--cluster_timeout=120",
]


def _launch(exp_dir, mnist_dir, *args, workers=2, restarts=0):
    command = [
        sys.executable,
        "-m",
        "trainers.launch_local",
        f"--num_workers={workers}",
        f"--max_restarts={restarts}",
        "--grace_seconds=5",
        "--",
        sys.executable,
        "-m",
        "trainers.train_mnist",
        "--strategy=multi_worker",
        "--resume=auto",
        f"--exp_dir={exp_dir}",
        f"--data_dir={mnist_dir}",
        *SMALL,
        *args,
    ]
    return subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )


def _follow(launcher, is_signal):
    """Reads the launcher's output in a thread: (lines, {worker: pid}, an Event set at the
    first line for which `is_signal(line)`, the thread)."""
    lines, pids, seen = [], {}, threading.Event()

    def read():
        for line in launcher.stdout:
            lines.append(line)
            if line.startswith("launch_local: worker") and " pid " in line:
                words = line.split()
                pids[int(words[2])] = int(words[4])
            if is_signal(line):
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, pids, seen, reader


def _assert_only_planned_failures(lines, planned=()):
    """No worker failed but the ones a test causes (a worker that exited with status 2
    while the cluster started was the workers' shared --exp_dir probe, fixed and tested
    in test_long_runs); a failure quotes the trainers' one-line errors."""
    exits = [
        line
        for line in lines
        if " exited with " in line
        and line.startswith("launch_local:")
        and not any(p in line for p in planned)
    ]
    assert not exits, _report(lines)


def _report(lines):
    """For a failure message: every launcher line (attempts, exits) and every trainer's
    one-line message, then the output's end."""
    summary = [
        line for line in lines if line.startswith("launch_local:") or "] train_mnist: " in line
    ]
    return "".join(summary) + "...\n" + "".join(lines)[-4000:]


def test_two_workers_agree_with_each_other_and_with_one_process(
    mnist_data, mnist_dir, tmp_path, mirrored_strategy
):
    exp_dir = tmp_path / "mw"
    launcher = _launch(
        exp_dir, mnist_dir, "--max_train_images=1024", "--epochs=2", "--keep_worker_checkpoints"
    )
    out, _ = launcher.communicate(timeout=900)
    lines = out.splitlines(keepends=True)
    assert launcher.returncode == 0, _report(lines)
    _assert_only_planned_failures(lines)
    chief = load_trained_model(str(exp_dir))
    worker = load_trained_model(
        str(exp_dir), checkpoint_dir=str(exp_dir / "checkpoints" / "worker-1")
    )
    assert chief.epoch == worker.epoch == 2
    # Only the chief wrote the run's files.
    assert [r["epoch"] for r in read_metrics(str(exp_dir))] == [0, 1, 2]
    assert sorted(os.listdir(exp_dir)) == [
        "checkpoints",
        "config.json",
        "curves.png",
        "metrics.jsonl",
        "samples",
        "tensorboard",
        "training.gif",
    ]

    def train_in_process(strategy, name):
        return train(
            strategy,
            ExperimentConfig(
                network=NetworkConfig(hidden_units=32, latent_dim=8),
                objective=objective_from_preset("bigan"),
                optimizer=OptimizerConfig(epochs=2, decay_epochs=0),
                evaluation=EvaluationConfig(
                    num_val=100,
                    num_train_reference=256,
                    num_generated=200,
                    cls_steps=5,
                    num_sample_images=20,
                ),
                run=RunConfig(exp_dir=str(tmp_path / name), batch_size=64, verbose=0),
            ),
            mnist_data.take(num_train=1024),
            print_fn=lambda s: None,
        )["model"]

    def relative_gaps(model, reference):
        return {
            a.path: float(np.linalg.norm(a.numpy() - c.numpy()))
            / max(float(np.linalg.norm(c.numpy())), 1e-6)
            for a, c in zip(model.weights, reference.weights)
        }

    for a, b in zip(chief.model.weights, worker.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    # Against one device the replicas' sums run in another order. Adam turns a
    # rounding difference into a whole step where a gradient element is near zero,
    # which the first steps are full of (D's output layer starts at zero, as the
    # original's), so 32 steps later the weights differ measurably. Two workers
    # must differ from one device no more than two in-process mirrored replicas
    # do, whose only difference is that order.
    single = train_in_process(tf.distribute.get_strategy(), "single")
    mirrored = train_in_process(mirrored_strategy, "mirrored")
    reference = max(relative_gaps(mirrored, single).values())
    gaps = relative_gaps(chief.model, single)
    assert max(gaps.values()) <= 3 * reference + 1e-4, (reference, gaps)


def test_a_killed_worker_is_restarted_and_training_completes(mnist_dir, tmp_path):
    exp_dir = tmp_path / "preempted"
    launcher = _launch(
        exp_dir,
        mnist_dir,
        "--max_train_images=4096",
        "--epochs=3",
        "--save_interval=1",
        "--disp_interval=1",
        restarts=2,
    )
    lines, pids, saved_first, reader = _follow(
        launcher, lambda line: "Saved checkpoint" in line and line.rstrip().endswith("ckpt-1")
    )
    assert saved_first.wait(timeout=400), "".join(lines)[-4000:]
    ckpt1 = exp_dir / "checkpoints" / "ckpt-1.index"
    digest = hashlib.md5(ckpt1.read_bytes()).hexdigest()
    time.sleep(1.0)  # into epoch 2
    os.kill(pids[1], signal.SIGKILL)
    launcher.wait(timeout=600)
    reader.join(timeout=10)
    output = "".join(lines)
    assert launcher.returncode == 0, _report(lines)
    assert "worker 1 exited with -9" in output and "restart 1 of 2" in output
    _assert_only_planned_failures(lines, planned=("exited with -9",))
    assert "Resumed from epoch" in output
    assert sorted(epochs_in(str(exp_dir / "checkpoints"))) == [1, 2, 3]
    assert hashlib.md5(ckpt1.read_bytes()).hexdigest() == digest  # never rewritten or lost
    epochs = [r["epoch"] for r in read_metrics(str(exp_dir))]
    assert epochs == [0, 1, 2, 3], epochs  # nothing duplicated or missing after the restart
    assert load_trained_model(str(exp_dir)).epoch == 3


def test_sigterm_to_one_worker_stops_every_worker_at_one_step_and_the_run_resumes(
    mnist_dir, tmp_path
):
    """TensorFlow's PreemptionCheckpointHandler agrees the step; all workers save and stop."""
    exp_dir = tmp_path / "sigterm"
    launcher = _launch(
        exp_dir, mnist_dir, "--max_train_images=4096", "--epochs=3", "--disp_interval=1", restarts=1
    )
    lines, pids, first_epoch, reader = _follow(
        launcher, lambda line: line.startswith("[worker 0] epoch 1/3:")
    )
    assert first_epoch.wait(timeout=400), "".join(lines)[-4000:]
    time.sleep(0.5)  # into epoch 2
    os.kill(pids[1], signal.SIGTERM)  # one worker only, as a preempted machine
    launcher.wait(timeout=600)
    reader.join(timeout=10)
    output = "".join(lines)
    assert launcher.returncode == 0, _report(lines)
    stopped = re.findall(
        r"\[worker (\d)\] .*Stopped by SIGTERM at epoch \d+, step (\d+)/64", output
    )
    # Both workers stopped, after the same step, and said so (the chief too).
    assert sorted(w for w, _ in stopped) == ["0", "1"], output[-4000:]
    assert len({step for _, step in stopped}) == 1
    assert "restart 1 of 1" in output
    _assert_only_planned_failures(lines, planned=("stopped cleanly (143)", "exited with 143"))
    resumed = re.search(r"\[worker 0\] Resumed from epoch \d+(, step (\d+)/64)?", output)
    assert resumed and (resumed.group(2) or "0") == stopped[0][1], output[-4000:]
    epochs = [r["epoch"] for r in read_metrics(str(exp_dir))]
    assert epochs == [0, 1, 2, 3], epochs  # each evaluation once
    assert load_trained_model(str(exp_dir)).epoch == 3
    # The handler's bookkeeping stayed out of the run folder.
    assert not [p for p in os.listdir(exp_dir / "checkpoints") if p.startswith("workertemp")]


_FAKE_WORKER = """
import json, os, sys, time
index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
if index == 0:
    sys.exit(int(sys.argv[2]))  # the first worker ends at once
time.sleep(float(sys.argv[3]))  # the other one is still saving
open(os.path.join(sys.argv[1], "saved"), "w").close()
sys.exit(143)
"""


@pytest.mark.parametrize("first_exit, sleep, saved", [(143, 1.5, True), (1, 30.0, False)])
def test_launcher_lets_workers_finish_a_clean_stop_and_stops_them_after_a_crash(
    tmp_path, first_exit, sleep, saved
):
    """After a clean stop (exit 143) the others get the grace period to finish their agreed
    save before any signal (a second signal aborts a trainer's save); after a crash they are
    stopped at once."""
    start = time.time()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.launch_local",
            "--num_workers=2",
            "--max_restarts=0",
            "--grace_seconds=5",
            "--",
            sys.executable,
            "-c",
            _FAKE_WORKER,
            str(tmp_path),
            str(first_exit),
            str(sleep),
        ],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == first_exit, out.stdout + out.stderr
    assert (tmp_path / "saved").exists() == saved, out.stdout
    if saved:
        assert "worker 0 stopped cleanly (143); waiting up to 5 s for the others" in out.stdout
    else:
        assert "worker 0 exited with 1; stopping the others" in out.stdout
        assert time.time() - start < 20


def test_tf_config_is_checked_with_clear_errors():
    good = parse_tf_config(
        json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}})
    )
    assert good == ClusterConfig({"worker": ["a:1", "b:2"]}, "worker", 1)
    assert not good.is_chief and good.num_workers == 2
    assert ClusterConfig({"worker": ["a:1"]}, "worker", 0).is_chief
    cases = {
        None: "needs the TF_CONFIG environment variable",
        "{bad": "not valid JSON",
        '{"task": {"type": "worker", "index": 0}}': 'no "cluster"',
        '{"cluster": {"worker": ["a:1"]}}': 'no "task"',
        '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}': "index 3 is out of range",
        '{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}': '"host:port"',
        '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}': "not supported",
    }
    for text, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            parse_tf_config(text)


def test_trainer_reports_bad_tf_config_and_an_absent_peer(tmp_path):
    def run(tf_config, *args):
        env = {**ENV, "TF_CONFIG": tf_config}
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "trainers.train_mnist",
                "--strategy=multi_worker",
                f"--exp_dir={tmp_path}",
                *args,
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    bad = run("{bad")
    assert bad.returncode == 2 and "TF_CONFIG is not valid JSON" in bad.stderr
    from trainers.cli import free_ports

    ports = free_ports(2, "127.0.0.1")
    lonely = json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": 0},
        }
    )
    start = time.time()
    absent = run(lonely, "--cluster_timeout=5")
    assert absent.returncode != 0 and time.time() - start < 90
    assert "did not assemble within 5 s" in absent.stderr
    assert f"worker 1 at 127.0.0.1:{ports[1]}" in absent.stderr
