"""The run folder's guarantees, piece by piece: one writer, provenance, nothing finished
rewritten, records that survive a torn write, readable permissions."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys

import numpy as np
import pytest

from bigan_tf import run_dir as experiment
from bigan_tf.checkpoints import branch_checkpoints, epochs_in
from bigan_tf.errors import ConfigError
from bigan_tf.locks import FolderLock


def _write_lock(path, pid, host=None):
    path.write_text(
        json.dumps(
            {
                "pid": pid,
                "host": host or socket.gethostname(),
                "started": "2026-12-05T10:00:00+00:00",
            }
        )
    )


def test_a_live_holder_stops_a_second_writer_with_its_name(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_file = tmp_path / ".lock"
        _write_lock(lock_file, holder.pid)
        with pytest.raises(
            ConfigError,
            match=rf"being written by pid {holder.pid} on "
            rf"{socket.gethostname()}, started 2026-12-05",
        ):
            FolderLock(str(lock_file), "the run in X").acquire()
        assert json.loads(lock_file.read_text())["pid"] == holder.pid  # untouched
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over_with_a_notice_and_released(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_file = tmp_path / ".lock"
    _write_lock(lock_file, dead.pid)
    notes = []
    with FolderLock(str(lock_file), "the run in X", notes.append):
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        with pytest.raises(ConfigError, match=f"pid {os.getpid()}"):  # not re-entrant
            FolderLock(str(lock_file), "the run in X").acquire()
    assert "stale lock" in notes[0] and str(dead.pid) in notes[0]
    assert not lock_file.exists()


def test_a_lock_held_on_another_host_names_its_file(tmp_path):
    lock_file = tmp_path / ".lock"
    _write_lock(lock_file, 1, host="elsewhere")
    with pytest.raises(ConfigError, match=r"pid 1 on elsewhere.*remove that file"):
        FolderLock(str(lock_file), "the run in X").acquire()


def test_a_torn_last_record_is_skipped_reported_and_repaired(tmp_path):
    good = [{"epoch": 0, "metrics": {"a": 1.0}}, {"epoch": 1, "metrics": {"a": 2.0}}]
    path = tmp_path / experiment.METRICS_FILE
    path.write_text("".join(json.dumps(r) + "\n" for r in good) + '{"epoch": 2, "metr')
    notes = []
    assert experiment.read_metrics(str(tmp_path), notes.append) == good
    assert "torn last record" in notes[0]
    note = experiment.append_metrics(str(tmp_path), {"epoch": 2, "metrics": {"a": 3.0}})
    assert "Removed a torn last record" in note
    assert [r["epoch"] for r in experiment.read_metrics(str(tmp_path))] == [0, 1, 2]
    # A whole record that lost only its newline is kept.
    path.write_text(json.dumps(good[0]))
    assert experiment.append_metrics(str(tmp_path), good[1]) is None
    assert experiment.read_metrics(str(tmp_path)) == good
    # Damage before the last line is not a torn write: it is named.
    path.write_text("garbage\n" + json.dumps(good[0]) + "\n")
    with pytest.raises(ConfigError, match="line 1 is not a JSON record"):
        experiment.read_metrics(str(tmp_path))


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664)])
def test_atomic_writes_keep_the_umasks_permissions(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        experiment.atomic_write_text(str(tmp_path / "config.json"), "{}")
        experiment.append_metrics(str(tmp_path), {"epoch": 0})
    finally:
        os.umask(previous)
    for name in ("config.json", experiment.METRICS_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode


def _prepare(
    exp_dir, record=None, resume="auto", overwrite=False, checkpoints=(), branch=None, notes=None
):
    return experiment.prepare(
        str(exp_dir),
        record or {},
        resume,
        overwrite,
        lambda: bool(checkpoints),
        (notes if notes is not None else []).append,
        checkpoint_epochs=lambda: list(checkpoints),
        branch=branch,
    )


def test_a_folder_of_other_files_is_refused_even_with_overwrite(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_text("x")
    for overwrite in (False, True):
        with pytest.raises(
            ConfigError,
            match=r"holds files that are not a bigan_tf run "
            r"\(holiday.jpg\)",
        ):
            _prepare(folder, overwrite=overwrite)
    assert (folder / "holiday.jpg").exists()


def test_a_lost_config_is_read_from_the_copy_beside_the_checkpoints(tmp_path):
    run = tmp_path / "run"
    record = {"optimizer": {"learning_rate": 2e-4}}
    experiment.write_config(str(run), record)
    os.remove(run / "config.json")
    notes = []
    assert _prepare(run, record, checkpoints=[1], notes=notes) == "latest"
    assert "read the copy kept with its checkpoints" in notes[0]
    with pytest.raises(ConfigError, match="optimizer.learning_rate differ"):
        _prepare(run, {"optimizer": {"learning_rate": 1e-3}}, checkpoints=[1])


def test_checkpoints_without_a_config_resume_only_when_asked(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no config.json .* --resume=latest"):
        _prepare(run, checkpoints=[3])
    notes = []
    assert _prepare(run, resume="latest", checkpoints=[3], notes=notes) == "latest"
    assert "no config.json" in notes[0]


def test_other_training_data_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    stored = {"data": {"source": "mnist", "fingerprint": "sha256:aaaa"}}
    experiment.write_config(str(run), stored)
    new = {"data": {"source": "mnist", "fingerprint": "sha256:bbbb"}}
    for resume in ("auto", "latest"):
        with pytest.raises(ConfigError, match="training data differ.*sha256:aaaa vs sha256:bbbb"):
            _prepare(run, new, resume=resume, checkpoints=[1])


def test_fingerprint_follows_content_not_location():
    from bigan_tf.data.pipeline import ImageData

    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (1000, 8, 8, 1)).astype(np.uint8)
    labels = rng.randint(0, 10, 1000).astype(np.int32)
    data = ImageData(images, labels, images[:10], labels[:10], "mnist")
    same = ImageData(images.copy(), labels.copy(), images[:5], labels[:5], "idx")
    assert data.fingerprint() == same.fingerprint() == data.record()["fingerprint"]
    other = images.copy()
    other[0, 0, 0, 0] += 1
    assert ImageData(other, labels, images[:10], labels[:10], "mnist").fingerprint() != (
        data.fingerprint()
    )


def _fake_run(run, epochs):
    """A run folder with permanent checkpoints (files only), rolling ones and records."""
    checkpoints = run / "checkpoints"
    (checkpoints / "rolling").mkdir(parents=True)
    for e in epochs:
        for suffix in (".index", ".data-00000-of-00001"):
            (checkpoints / f"ckpt-{e}{suffix}").write_text(str(e))
    (checkpoints / "rolling" / "ckpt-400.index").write_text("")
    experiment.write_config(str(run), {"optimizer": {"learning_rate": 2e-4}})
    for e in [0] + list(epochs):
        experiment.append_metrics(str(run), {"epoch": e})


def test_resuming_an_older_checkpoint_is_refused_unless_branching(tmp_path):
    run = tmp_path / "run"
    _fake_run(run, [1, 2, 3, 4])
    with pytest.raises(
        ConfigError,
        match=r"--resume=2 is older than the run's newest epoch "
        r"\(4\).*rewrite epochs 3-4.*--branch",
    ):
        _prepare(run, resume=2, checkpoints=[1, 2, 3, 4])
    assert sorted(epochs_in(str(run / "checkpoints"))) == [1, 2, 3, 4]
    notes = []
    assert (
        _prepare(
            run,
            resume=2,
            checkpoints=[1, 2, 3, 4],
            notes=notes,
            branch=lambda e: branch_checkpoints(str(run / "checkpoints"), e),
        )
        == 2
    )
    assert sorted(epochs_in(str(run / "checkpoints"))) == [1, 2]
    abandoned = run / "checkpoints" / "abandoned-1"
    assert sorted(epochs_in(str(abandoned))) == [3, 4]
    assert (abandoned / "rolling" / "ckpt-400.index").exists()
    assert (abandoned / "ckpt-4.data-00000-of-00001").read_text() == "4"
    assert [r["epoch"] for r in experiment.read_metrics(str(run))] == [0, 1, 2]
    kept = [
        json.loads(line)["epoch"]
        for line in (run / "metrics.abandoned-1.jsonl").read_text().splitlines()
    ]
    assert kept == [3, 4] and "--branch" in notes[0]


def test_config_history_records_the_epoch_a_setting_changed():
    stored = {"optimizer": {"learning_rate": 2e-4, "epochs": 3}}
    new = {"optimizer": {"learning_rate": 1e-4, "epochs": 4}}
    record = experiment.with_history(new, stored, 3)
    assert record["history"] == [
        {"from_epoch": 3, "changed": {"optimizer.learning_rate": [2e-4, 1e-4]}}
    ]
    again = experiment.with_history(new, record, 4)  # the same settings: nothing new
    assert again["history"] == record["history"]
    assert "history" not in experiment.with_history(new, None, 0)


def test_sighup_stops_a_run_as_sigterm_does():
    from bigan_tf.interrupts import HANDLED_SIGNALS

    assert signal.SIGHUP in HANDLED_SIGNALS


def test_output_to_a_closed_pipe_is_dropped_not_raised():
    code = (
        "import sys, time; sys.path.insert(0, '.');"
        "from trainers.cli import PipeSafeStream; sys.stdout = PipeSafeStream(sys.stdout)\n"
        "for i in range(2000): print('line', i, flush=True)\n"
        "sys.stderr.write('finished\\n')"
    )
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        f'{sys.executable} -c "{code}" | head -1',
        shell=True,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == "line 0\n"
    assert "finished" in result.stderr and "Traceback" not in result.stderr


def test_the_config_records_the_evaluation_sizes_the_data_allow():
    from bigan_tf import EvaluationConfig, ExperimentConfig
    from bigan_tf.config import RunConfig
    from bigan_tf.data.pipeline import ImageData

    images = np.zeros((1280, 28, 28, 1), np.uint8)
    labels = np.zeros(1280, np.int32)
    data = ImageData(images, labels, images[:300], labels[:300], "mnist")
    resolved = ExperimentConfig(
        run=RunConfig(exp_dir="x"),
        evaluation=EvaluationConfig(num_val=10000, num_train_reference=50000),
    ).resolve(data)
    assert resolved.evaluation.num_train_reference == 1280
    assert resolved.evaluation.num_val == 300


def test_a_full_disk_while_drawing_pictures_is_a_notice(tmp_path, monkeypatch, small_mnist):
    """The samples, the GIF and the curves fail to write; the run records every epoch."""
    import errno
    import bigan_tf.callbacks as callbacks
    from conftest import train_small_run

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    for name in ("write_png", "write_training_gif", "plot_learning_curves"):
        monkeypatch.setattr(callbacks, name, full)
    run = str(tmp_path / "run")
    train_small_run(small_mnist, run)
    assert [r["epoch"] for r in experiment.read_metrics(run)] == [0, 1]
    notes = []
    stub = type("Stub", (), {"print_fn": staticmethod(notes.append)})()
    callbacks.EvaluationCallback._pictures(stub, full, 3)
    assert notes == [
        "Could not write the pictures of epoch 3 (No space left on device); "
        "training goes on. Free disk space to get them back."
    ]


def test_an_export_holds_a_lock_and_clears_killed_exports(tmp_path):
    from bigan_tf.export.exporters import atomic_export_dir

    output = tmp_path / "module"
    killed = tmp_path / ".module.tmp-abc123"
    killed.mkdir()
    (killed / "saved_model.pb").write_text("half")
    previous = os.umask(0o022)
    try:
        with atomic_export_dir(str(output)) as tmp:
            assert not killed.exists()
            assert (tmp_path / ".module.lock").exists()
            with pytest.raises(
                ConfigError, match=f"the export {output} is being written by pid {os.getpid()}"
            ):
                with atomic_export_dir(str(tmp_path / "module"), overwrite=True):
                    pass
            (open(os.path.join(tmp, "a.txt"), "w")).write("done")
    finally:
        os.umask(previous)
    assert (output / "a.txt").read_text() == "done"
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o755
    assert not (tmp_path / ".module.lock").exists()


def test_programs_start_without_tensorflows_log_lines(tmp_path):
    """A program's stderr is its own line; --tf_log brings TensorFlow's back."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [
        sys.executable,
        "-m",
        "trainers.sample",
        f"--model={tmp_path / 'none'}",
        f"--output={tmp_path / 'x.png'}",
    ]
    quiet = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 2
    assert quiet.stderr.strip().splitlines() == [
        f"sample: error: {tmp_path / 'none'} is neither a training run (config.json) nor a "
        "SavedModel export (saved_model.pb)."
    ]
    loud = subprocess.run(
        command + ["--tf_log"], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert len(loud.stderr.strip().splitlines()) > 1


def test_overwrite_that_cannot_move_the_folder_is_one_line(tmp_path, monkeypatch):
    import errno

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")

    def busy(*args):
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(experiment.os, "rename", busy)
    with pytest.raises(
        ConfigError,
        match=r"--overwrite cannot move .* aside \(Device or "
        r"resource busy\): choose another --exp_dir",
    ):
        _prepare(run, overwrite=True)
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text("mine")
    with pytest.raises(ConfigError, match="not a bigan_tf run"):  # --exp_dir=. --overwrite
        _prepare(".", overwrite=True)


def test_the_continue_command_names_the_module_that_runs(monkeypatch):
    """A stopped harness (python -m benchmarks.X) is told to rerun benchmarks.X, not trainers.X."""
    import types
    from trainers.cli import continue_command

    main = types.SimpleNamespace(__spec__=types.SimpleNamespace(name="benchmarks.feature_study"))
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", ["feature_study.py", "--study_dir=/r", "--overwrite"])
    command = continue_command("feature_study")
    assert command.endswith("-m benchmarks.feature_study --study_dir=/r")
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__spec__=None))
    assert "-m trainers.train_mnist --study_dir=/r" in continue_command("train_mnist")
