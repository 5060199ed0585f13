"""Long runs: a checkpoint every epoch, a clean stop on signals, resume by default.

Each test drives `trainers.train_mnist` in a subprocess (a signal needs its own
process). A run is 3 epochs of 256 small steps; evaluations at epochs 0, 1, 3.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf.errors import ConfigError
from conftest import MNIST_DIR, REPO_ROOT

ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONUNBUFFERED": "1",
    "CUDA_VISIBLE_DEVICES": "",
}
RUN = [
    "--epochs=3",
    "--decay_epochs=0",
    "--max_train_images=8192",
    "--batch_size=32",
    "--num_val=200",
    "--num_train_reference=500",
    "--num_generated=500",
    "--cls_steps=10",
    "--hidden_units=256",
    f"--data_dir={MNIST_DIR}",
]


def _command(exp_dir, *extra):
    return [sys.executable, "-m", "trainers.train_mnist", f"--exp_dir={exp_dir}", *RUN, *extra]


def _run(exp_dir, *extra):
    return subprocess.run(
        _command(exp_dir, *extra),
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _start(exp_dir, log_path, *extra):
    log = open(log_path, "w")
    return subprocess.Popen(
        _command(exp_dir, *extra),
        cwd=REPO_ROOT,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(log_path, text, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(log_path) and text in open(log_path).read():
            return
        assert process.poll() is None, open(log_path).read()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared")


def _final_state(exp_dir):
    """Every variable of the final checkpoint (the save counter aside)."""
    reader = tf.train.load_checkpoint(os.path.join(exp_dir, "checkpoints", "ckpt-3"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if "save_counter" not in name and not name.startswith("_CHECKPOINTABLE")
    }


def _epochs(exp_dir):
    with open(os.path.join(exp_dir, "metrics.jsonl")) as f:
        return [json.loads(line)["epoch"] for line in f if line.strip()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    exp_dir = tmp_path_factory.mktemp("reference") / "run"
    result = _run(exp_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return exp_dir, result


def _assert_same_run(exp_dir, reference_dir):
    expected = _final_state(reference_dir)
    actual = _final_state(exp_dir)
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
    assert _epochs(exp_dir) == _epochs(reference_dir) == [0, 1, 3]


def test_file_output_has_one_line_per_epoch_and_the_eta(reference):
    exp_dir, result = reference
    out = result.stdout
    for epoch in (1, 2, 3):
        assert f"epoch {epoch}/3: " in out and "ETA " in out
    assert "\b" not in out and "━" not in out  # no progress bar in a file
    assert out.count("256/256 - ") == 3  # Keras's verbose=2 line, once per epoch
    assert "Sharding callback" not in result.stderr  # TensorFlow's INFO lines are off
    rolling = os.listdir(os.path.join(exp_dir, "checkpoints", "rolling"))
    assert sorted(n for n in rolling if n.endswith(".index")) == [
        "ckpt-256.index",
        "ckpt-512.index",
    ]
    assert sorted(
        n for n in os.listdir(os.path.join(exp_dir, "checkpoints")) if n.endswith(".index")
    ) == ["ckpt-3.index"]


@pytest.mark.parametrize(
    "signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_signal_mid_epoch_then_the_same_command_gives_the_same_run(
    tmp_path, reference, signum, code
):
    exp_dir, log_path = tmp_path / "run", tmp_path / "log"
    process = _start(exp_dir, log_path)
    _wait_for(log_path, "epoch 1/3: ", process)
    time.sleep(0.5)
    process.send_signal(signum)
    assert process.wait(timeout=300) == code
    log = open(log_path).read()
    name = signal.Signals(signum).name
    assert f"train_mnist: Stopped by {name} at epoch 2, step " in log
    assert "Continue with: " in log and "Traceback" not in log
    step = int(log.split("at epoch 2, step ")[1].split("/")[0])
    assert 0 <= step < 256
    assert os.path.exists(exp_dir / "checkpoints" / "rolling" / f"ckpt-{256 + step}.index")
    assert _epochs(exp_dir) == [0, 1]
    again = _run(exp_dir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Resumed from epoch 1" in again.stdout
    _assert_same_run(exp_dir, reference[0])


def test_a_second_signal_aborts_at_once():
    # Two signals sent back to back can reach Python as one, so the process
    # signals itself after the first has been handled.
    script = """
import os, signal, sys, time
from bigan_tf.interrupts import stop_on_signals
with stop_on_signals() as request:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    assert request.requested and request.exit_code == 130
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
print("not reached")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 130, result.stderr[-2000:]
    assert "SIGINT received: stopping after this training step" in result.stderr
    assert "Second SIGINT: aborting without saving" in result.stderr
    assert "not reached" not in result.stdout and "Traceback" not in result.stderr


def test_sigkill_mid_epoch_loses_at_most_that_epoch(tmp_path, reference):
    exp_dir, log_path = tmp_path / "run", tmp_path / "log"
    process = _start(exp_dir, log_path)
    _wait_for(log_path, "epoch 2/3: ", process)
    time.sleep(0.5)
    process.kill()
    process.wait(timeout=60)
    again = _run(exp_dir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Resumed from epoch 2 (" in again.stdout
    _assert_same_run(exp_dir, reference[0])


def test_the_same_command_twice_says_finished_and_a_changed_flag_is_refused(tmp_path):
    exp_dir = tmp_path / "run"
    quick = ["--epochs=1", "--max_train_images=1024", "--hidden_units=32"]
    assert _run(exp_dir, *quick).returncode == 0
    records = open(exp_dir / "metrics.jsonl").read()
    again = _run(exp_dir, *quick)
    assert again.returncode == 0 and "is finished (epoch 1 of 1); nothing to do" in again.stdout
    assert open(exp_dir / "metrics.jsonl").read() == records  # no duplicate final record
    changed = _run(exp_dir, *quick, "--learning_rate=0.001")
    assert changed.returncode == 2 and "Traceback" not in changed.stderr
    assert "optimizer.learning_rate" in changed.stderr and "--overwrite" in changed.stderr
    # Naming the checkpoint continues on purpose with the new settings.
    other = tmp_path / "other"
    shutil.copytree(exp_dir, other)
    on_purpose = _run(
        other,
        "--epochs=2",
        "--max_train_images=1024",
        "--hidden_units=32",
        "--learning_rate=0.001",
        "--resume=latest",
    )
    assert on_purpose.returncode == 0, on_purpose.stderr[-3000:]
    assert "with changed settings: optimizer.learning_rate" in on_purpose.stdout
    # Running longer is a continuation, not a new run.
    longer = _run(exp_dir, "--epochs=2", "--max_train_images=1024", "--hidden_units=32")
    assert longer.returncode == 0 and "Resumed from epoch 1" in longer.stdout
    # --overwrite moves the run aside, never deletes it.
    fresh = _run(exp_dir, *quick, "--learning_rate=0.001", "--overwrite")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert (tmp_path / "run.old-1" / "checkpoints" / "ckpt-2.index").exists()
    assert json.loads((exp_dir / "config.json").read_text())["optimizer"]["learning_rate"] == 0.001
    # --resume=none only into an empty folder.
    refused = _run(exp_dir, *quick, "--resume=none")
    assert refused.returncode == 2 and "is not empty" in refused.stderr


# ------------------------------------------------------------- in-process units
def test_differing_keys_ignores_run_length_display_and_unknown_keys():
    from bigan_tf.run_dir import differing_keys

    stored = {
        "optimizer": {"learning_rate": 2e-4, "epochs": 200},
        "run": {"verbose": 1},
        "network": {"image_shape": [28, 28, 1]},
        "objective": {"encode_weight": 0},
    }
    new = {
        "optimizer": {"learning_rate": 2e-4, "epochs": 10},
        "run": {"verbose": 2},
        "network": {"image_shape": (28, 28, 1)},
        "objective": {"encode_weight": 0, "reconstruct_norm": "l2"},
    }
    assert differing_keys(stored, new) == []
    new["optimizer"]["learning_rate"] = 1e-3
    new["network"]["image_shape"] = (32, 32, 3)
    assert differing_keys(stored, new) == ["network.image_shape", "optimizer.learning_rate"]


def test_prepare_refuses_files_and_moves_folders_aside(tmp_path):
    from bigan_tf.run_dir import prepare

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        prepare(str(a_file), {}, "auto", False, lambda: False)
    with pytest.raises(ConfigError, match="Cannot write the folder"):
        prepare(str(a_file / "sub"), {}, "auto", False, lambda: False)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "keep.txt").write_text("user data")
    assert prepare(str(run), {}, "auto", True, lambda: True, print_fn=lambda s: None) is None
    assert (tmp_path / "run.old-1" / "keep.txt").read_text() == "user data"
    (run / "metrics.jsonl").write_text("")
    prepare(str(run), {}, "auto", True, lambda: True, print_fn=lambda s: None)
    assert (tmp_path / "run.old-2" / "metrics.jsonl").exists() and (tmp_path / "run.old-1").exists()


def test_workers_checking_one_folder_at_once_do_not_fail_each_other(tmp_path):
    """The workers of a cluster check --exp_dir at the same moment (right after the
    cluster forms); with one shared probe file, one removed the other's and a worker
    exited with "Cannot write the folder" (the rare multi-worker startup failure)."""
    import threading
    from bigan_tf.run_dir import check_writable

    errors, start = [], threading.Barrier(8)

    def check_many_times():
        start.wait()
        for _ in range(200):
            try:
                check_writable(str(tmp_path))
            except ConfigError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=check_many_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and os.listdir(tmp_path) == []


def test_leftovers_of_killed_saves_are_removed(tmp_path):
    from bigan_tf.checkpoints import remove_interrupted_saves

    (tmp_path / "rolling" / "ckpt-7_temp").mkdir(parents=True)
    (tmp_path / "rolling" / "ckpt-7_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(
        b"\0" * 10
    )
    (tmp_path / "ckpt-3.index").write_bytes(b"")
    removed = remove_interrupted_saves(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == ["ckpt-7_temp"]
    assert (tmp_path / "ckpt-3.index").exists()


def test_bad_input_is_one_line_before_any_work(tmp_path):
    def program(name, *args):
        result = subprocess.run(
            [sys.executable, "-m", f"trainers.{name}", *args],
            cwd=REPO_ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        return result

    for args, message in (
        (["--max_train_images=0"], "--max_train_images must be >= 1"),
        (["--num_val=20000"], "num_val 20000 is more than the 10000 evaluation images"),
        (["--exp_dir=/proc/bigan_run"], "Cannot write the folder '/proc/bigan_run'"),
    ):
        result = program("train_mnist", f"--exp_dir={tmp_path / 'run'}", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    for args, message in (
        (["--steps=0"], "--steps and --steps_per_epoch must be >= 1"),
        (["--steps=-5"], "--steps and --steps_per_epoch must be >= 1"),
        (["--steps=300"], "--steps (300) must be a multiple of --steps_per_epoch (250)"),
        (["--labels_per_class=0"], "--labels_per_class must be >= 1"),
        ([], "does not exist: give an export folder"),
    ):
        result = program(
            "finetune",
            f"--hub_module={tmp_path / 'missing'}",
            f"--exp_dir={tmp_path / 'finetune'}",
            *args,
        )
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    # Outputs are checked once the inputs are known good (a real module, the data).
    module = os.path.join(REPO_ROOT, "tests", "fixtures", "v1", "hub")
    for args, message in (
        (["--output_dir=/proc/results"], "writable --output_dir"),
        (["--exp_dir=/proc/results"], "Cannot write the folder"),
    ):
        result = program(
            "finetune",
            f"--hub_module={module}",
            f"--data_dir={MNIST_DIR}",
            f"--exp_dir={tmp_path / 'finetune'}",
            *args,
        )
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    for args, message in (
        (["--network=mlp", "--classifier_norm=weight"], "is for the conv D"),
        (
            ["--classifier_norm=weight", "--reference_batch_norm"],
            "--reference_batch_norm needs D's batch norm",
        ),
    ):
        result = program(
            "train_ssgan", f"--exp_dir={tmp_path / 'ssgan'}", "--data_dir=/nonexistent/mnist", *args
        )  # named before the data
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]


def test_fashion_mnist_without_data_dir_reads_fashion_mnist(tmp_path):
    quick = [
        "--dataset=fashion_mnist",
        "--epochs=1",
        "--max_train_images=256",
        "--hidden_units=16",
        "--num_val=100",
    ]
    implicit = _run(tmp_path / "implicit", *quick, "--data_dir=")
    assert implicit.returncode == 0, implicit.stderr[-3000:]
    fashion_dir = os.path.join(os.path.dirname(MNIST_DIR), "fashion_mnist")
    explicit = _run(tmp_path / "explicit", *quick, f"--data_dir={fashion_dir}")
    assert explicit.returncode == 0, explicit.stderr[-3000:]
    assert _run(tmp_path / "mnist", *quick[1:]).returncode == 0
    real = lambda name: (tmp_path / name / "samples" / "real.png").read_bytes()
    assert real("implicit") == real("explicit") != real("mnist")


def test_damaged_checkpoints_are_named_and_skipped_only_on_request(tmp_path):
    exp_dir = tmp_path / "run"
    quick = ["--epochs=2", "--max_train_images=1024", "--hidden_units=32", "--save_interval=1"]
    assert _run(exp_dir, *quick).returncode == 0
    checkpoints = exp_dir / "checkpoints"
    data = checkpoints / "ckpt-2.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])  # truncated
    more = [q if not q.startswith("--epochs") else "--epochs=3" for q in quick]
    damaged = _run(exp_dir, *more)
    assert damaged.returncode == 2 and "Traceback" not in damaged.stderr
    assert "ckpt-2 is damaged" in damaged.stderr and "--resume=latest_good" in damaged.stderr
    good = _run(exp_dir, *more, "--resume=latest_good")
    assert good.returncode == 0, good.stderr[-3000:]
    assert "Skipping damaged checkpoint" in good.stdout
    assert "resuming from" in good.stdout and "Resumed from epoch 1" in good.stdout
    # An index lost: resuming from the previous complete checkpoint would silently go back.
    (checkpoints / "ckpt-3.index").unlink()
    lost = _run(exp_dir, "--epochs=4", *quick[1:])
    assert lost.returncode == 2 and "ckpt-3.data-00000-of-00001 has no index file" in lost.stderr
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.export_hub",
            f"--exp_dir={exp_dir}",
            f"--output={tmp_path / 'hub'}",
        ],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exported.returncode == 2 and "has no index file" in exported.stderr


def test_a_failed_save_is_one_error_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    import errno
    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.checkpoints import TrainingCheckpoint
    from bigan_tf.errors import CheckpointError

    model = BiGAN.from_config_objects(
        NetworkConfig(hidden_units=8, latent_dim=4), objective_from_preset("bigan")
    )
    model.compile_for_training(OptimizerConfig(epochs=1, decay_epochs=0), steps_per_epoch=1)
    checkpoint = TrainingCheckpoint(model, str(tmp_path / "checkpoints"))
    checkpoint.save(1)

    def disk_full(*args, **kwargs):
        os.makedirs(tmp_path / "checkpoints" / "ckpt-2_temp", exist_ok=True)  # a half-written save
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.manager, "save", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device.*free disk space"):
        checkpoint.save(2)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == [
        "checkpoint",
        "ckpt-1.data-00000-of-00001",
        "ckpt-1.index",
    ]


def test_a_corrupt_hub_module_is_one_error(tmp_path):
    from bigan_tf.hub import ExportError, load_module

    module = tmp_path / "module"
    module.mkdir()
    (module / "saved_model.pb").write_bytes(b"this is not a protocol buffer")
    with pytest.raises(ExportError, match="damaged or not a SavedModel"):
        load_module(str(module))


QUICK = ["--max_train_images=1024", "--batch_size=64", "--hidden_units=32", "--save_interval=1"]


def _checkpoint_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_an_older_checkpoint_branches_only_when_asked(tmp_path):
    """Epochs 3, then 4, then a continuation from 3 with another learning rate."""
    exp_dir = tmp_path / "run"
    assert _run(exp_dir, *QUICK, "--epochs=3").returncode == 0
    assert _run(exp_dir, *QUICK, "--epochs=4").returncode == 0
    ckpt4 = exp_dir / "checkpoints" / "ckpt-4.data-00000-of-00001"
    before, records = _checkpoint_bytes(ckpt4), (exp_dir / "metrics.jsonl").read_text()
    refused = _run(exp_dir, *QUICK, "--epochs=4", "--resume=3", "--learning_rate=1e-4")
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("train_mnist: error: --resume=3 is older than the run's newest epoch (4)")
    )
    assert _checkpoint_bytes(ckpt4) == before
    assert (exp_dir / "metrics.jsonl").read_text() == records
    branched = _run(exp_dir, *QUICK, "--epochs=4", "--resume=3", "--learning_rate=1e-4", "--branch")
    assert branched.returncode == 0, branched.stderr[-3000:]
    kept = exp_dir / "checkpoints" / "abandoned-1" / "ckpt-4.data-00000-of-00001"
    assert _checkpoint_bytes(kept) == before
    assert [
        json.loads(line)["epoch"]
        for line in (exp_dir / "metrics.abandoned-1.jsonl").read_text().splitlines()
    ] == [4]
    assert _epochs(exp_dir) == [0, 1, 2, 3, 4]
    config = json.loads((exp_dir / "config.json").read_text())
    assert config["optimizer"]["learning_rate"] == 1e-4
    assert config["history"] == [
        {"from_epoch": 3, "changed": {"optimizer.learning_rate": [2e-4, 1e-4]}}
    ]


def test_a_second_trainer_on_one_folder_stops_at_once(tmp_path):
    exp_dir, log_path = tmp_path / "run", tmp_path / "log"
    # Long enough to be still running while the second trainer starts on a loaded machine.
    first = _start(exp_dir, log_path, "--epochs=100")
    try:
        _wait_for(log_path, "Epoch 1/100", first)
        second = _run(exp_dir, "--epochs=100")
        assert second.returncode == 2
        line = second.stderr.strip().splitlines()[-1]
        assert line.startswith(
            f"train_mnist: error: the run in {exp_dir} is being written by pid {first.pid} on "
        ), line
    finally:
        first.terminate()
        first.wait(timeout=300)
    assert first.returncode == 143


def test_other_data_on_resume_is_refused(tmp_path):
    exp_dir = tmp_path / "run"
    assert _run(exp_dir, *QUICK, "--epochs=1").returncode == 0
    fashion = os.path.join(os.path.dirname(MNIST_DIR), "fashion_mnist")
    swapped = _run(exp_dir, *QUICK, "--epochs=2", f"--data_dir={fashion}")
    assert swapped.returncode == 2
    assert "training data differ from those the run" in swapped.stderr
    assert _epochs(exp_dir) == [0, 1]


def test_a_closed_pipe_does_not_stop_the_run(tmp_path):
    exp_dir = tmp_path / "run"
    command = " ".join(_command(exp_dir, *QUICK, "--epochs=2")) + " | head -3"
    result = subprocess.run(
        command, shell=True, cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert len(result.stdout.splitlines()) == 3
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert _epochs(exp_dir) == [0, 1, 2]
    assert os.path.exists(exp_dir / "checkpoints" / "ckpt-2.index")
