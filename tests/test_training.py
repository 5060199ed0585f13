"""Training runs: resume continuity, NaN guard, the trainer end to end, bad input."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, TrainingDivergedError
from bigan_tf import objective_from_preset
from bigan_tf.run_dir import read_metrics
from bigan_tf.errors import CheckpointError, ConfigError
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import resolve_jit_compile, train
from conftest import REPO_ROOT, write_idx

NET = NetworkConfig(hidden_units=32, latent_dim=8)
EVAL = EvaluationConfig(
    num_val=100, num_train_reference=256, num_generated=200, cls_steps=20, num_sample_images=20
)


def _train(data, exp_dir, epochs, resume=None, lr=2e-4, deploy_iters=0):
    return train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NET,
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(learning_rate=lr, epochs=epochs, decay_epochs=0),
            evaluation=EvaluationConfig(**{**EVAL.to_dict(), "deploy_iters": deploy_iters}),
            run=RunConfig(
                exp_dir=str(exp_dir),
                batch_size=64,
                seed=5,
                save_interval=1,
                resume=resume,
                verbose=0,
            ),
        ),
        data,
        print_fn=lambda s: None,
    )


def _weights(model):
    return [v.numpy() for v in model.weights]


def test_resume_continues_exactly(small_mnist, tmp_path):
    straight = _train(small_mnist, tmp_path / "a", epochs=2)
    _train(small_mnist, tmp_path / "b", epochs=1)
    resumed = _train(small_mnist, tmp_path / "b", epochs=2, resume="latest")
    assert resumed["epoch"] == 2
    for a, b in zip(_weights(straight["model"]), _weights(resumed["model"])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert int(resumed["model"].generator_optimizer.iterations) == 2 * (512 // 64)
    # One metrics record per evaluated epoch, none duplicated by the restart.
    assert [r["epoch"] for r in read_metrics(str(tmp_path / "b"))] == [0, 1, 2]


def test_jit_compile_auto_is_resolved_and_recorded(small_mnist, tmp_path, mirrored_strategy):
    one_device = tf.distribute.get_strategy()
    fresh = RunConfig(exp_dir=str(tmp_path / "fresh"))
    assert resolve_jit_compile("auto", True, one_device, fresh) is True
    assert resolve_jit_compile("auto", False, one_device, fresh) is False  # convolutions
    assert resolve_jit_compile("auto", True, mirrored_strategy, fresh) is False
    assert resolve_jit_compile(False, True, one_device, fresh) is False
    with pytest.raises(ConfigError, match="cannot compile a step mirrored over 2 CPU"):
        resolve_jit_compile(True, True, mirrored_strategy, fresh)
    # The run records the resolved value; a run made without XLA continues without it.
    result = _train(small_mnist, tmp_path / "run", epochs=1)
    stored = json.loads((tmp_path / "run" / "config.json").read_text())["run"]
    assert stored["jit_compile"] is True and result["model"].jit_compile is True
    stored["jit_compile"] = False
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    config["run"] = stored
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))
    continued = RunConfig(exp_dir=str(tmp_path / "run"))
    assert resolve_jit_compile("auto", True, one_device, continued) is False
    assert (
        resolve_jit_compile(
            "auto", True, one_device, RunConfig(exp_dir=str(tmp_path / "run"), overwrite=True)
        )
        is True
    )


def test_resume_errors(small_mnist, tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoints in"):
        _train(small_mnist, tmp_path / "empty", epochs=1, resume="latest")
    _train(small_mnist, tmp_path / "c", epochs=1)
    with pytest.raises(CheckpointError, match=r"No checkpoint for epoch 7 .* available: \[1\]"):
        _train(small_mnist, tmp_path / "c", epochs=2, resume=7)


def test_nan_loss_stops_and_keeps_the_last_checkpoint(small_mnist, tmp_path):
    _train(small_mnist, tmp_path, epochs=1)
    ckpt_dir = tmp_path / "checkpoints"
    # Every checkpoint file; config.json beside them is the run's settings (the resume
    # below changes the learning rate, on purpose), not a checkpoint.
    digests = lambda: {
        p: hashlib.md5((ckpt_dir / p).read_bytes()).hexdigest()
        for p in os.listdir(ckpt_dir)
        if p != "config.json"
    }
    digest = digests()
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch 2.*non-finite.*resume"):
        _train(small_mnist, tmp_path, epochs=3, resume="latest", lr=1e30)
    assert digests() == digest


def test_deploy_pass_in_training(small_mnist, tmp_path):
    result = _train(small_mnist, tmp_path, epochs=1, deploy_iters=3)
    record = read_metrics(str(tmp_path))[-1]
    assert record["deploy_seconds"] > 0 and set(record["losses"]) == {"JD", "E", "G"}
    assert set(result["metrics"]) == {
        "NND/100",
        "NND/10",
        "NND",
        "PIX_CHI2",
        "NNC_e",
        "NNC_e-",
        "CLS_e-",
        "EGr",
        "EGr_b",
        "EGg",
        "EGg_b",
    }


def _run_trainer(*args, timeout=300):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "-m", "trainers.train_mnist", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_trainer_end_to_end_on_real_mnist(mnist_dir, tmp_path):
    exp = tmp_path / "exp"
    proc = _run_trainer(
        f"--exp_dir={exp}",
        f"--data_dir={mnist_dir}",
        "--hidden_units=64",
        "--epochs=1",
        "--decay_epochs=1",
        "--max_train_images=1024",
        "--num_val=200",
        "--num_train_reference=1024",
        "--num_generated=500",
        "--cls_steps=20",
        "--deploy_iters=2",
        "--verbose=2",
        "--cpu_replicas=2",
        "--strategy=mirrored",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(line.startswith("  0) JD: ") for line in lines)
    assert any(line.startswith("  2) JD: ") for line in lines)
    assert any(
        line.startswith("NND/100: ") and "NNC_e-: " in line and "EGg_b: " in line for line in lines
    )
    for name in ["real.png"] + [
        f"{e}{s}.png" for e in (0, 1, 2) for s in ("", ".regen", ".real_regen")
    ]:
        assert (exp / "samples" / name).stat().st_size > 100, name
    png = tf.io.decode_png((exp / "samples" / "2.png").read_bytes())
    assert png.shape == (280, 560, 1)  # 10 rows x 20 columns of 28x28 (200 samples)
    assert sorted(os.listdir(exp / "checkpoints")) == [
        "checkpoint",
        "ckpt-1.data-00000-of-00001",
        "ckpt-1.index",
        "ckpt-2.data-00000-of-00001",
        "ckpt-2.index",
        "config.json",
    ]
    config = json.loads((exp / "config.json").read_text())
    assert config["objective"]["joint_discrim_weight"] == 1 and config["num_replicas"] == 2
    assert config["run"]["jit_compile"] is False  # auto: XLA cannot compile 2 CPU replicas
    assert [r["epoch"] for r in read_metrics(str(exp))] == [0, 1, 2]
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(exp / "tensorboard"))
    # Learning curves, redrawn at every evaluation: 5 panels (2 x 3) at 90 dpi.
    assert tf.io.decode_png((exp / "curves.png").read_bytes()).shape[:2] == (972, 990)
    # The fixed-z sample grids of the three evaluations, animated.
    from PIL import Image

    with Image.open(exp / "training.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (560, 280 + 20)  # the grid under its epoch caption


@pytest.mark.parametrize(
    "args, message",
    [
        (["--objective=wgan"], "Unknown objective 'wgan'; expected one of"),
        (["--encode_weight=-1"], "--encode_weight must be >= 0"),
        (["--data_dir=/nonexistent/mnist"], "Data folder not found: /nonexistent/mnist"),
        (["--resume=latest"], "No checkpoints in"),
        (
            ["--jit_compile", "--strategy=mirrored", "--cpu_replicas=2"],
            "--jit_compile cannot compile a step mirrored over 2 CPU devices",
        ),
    ],
)
def test_trainer_bad_input_exits_with_one_clear_message(tmp_path, args, message):
    proc = _run_trainer(f"--exp_dir={tmp_path / 'x'}", *args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_trainer_reports_a_corrupt_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_idx(data / "train-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    (data / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    proc = _run_trainer(f"--exp_dir={tmp_path / 'x'}", f"--data_dir={data}")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "train-labels-idx1-ubyte is truncated" in proc.stderr


def test_helpfull_explains_every_flag():
    proc = _run_trainer("--helpfull")
    text = proc.stdout + proc.stderr
    for flag in (
        "--config",
        "--config.objective.joint_discrim_weight",
        "--config.evaluation.deploy_iters",
        "--resume",
        "--strategy",
        "--config.data.use_test_set",
        "--config.run.save_interval",
        "--config.run.jit_compile",
        "--[no]print_config",
    ):
        assert f"  {flag}" in text, flag


def test_train_loads_the_experiments_own_data_and_records_the_resolved_config(tmp_path):
    """train(strategy, experiment) with a DataConfig and no data: the README's Python use."""
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.data import DataConfig
    from conftest import MNIST_DIR

    experiment = ExperimentConfig(
        run=RunConfig(exp_dir=str(tmp_path / "run"), batch_size=64, verbose=0),
        network=NetworkConfig(hidden_units=32, latent_dim=8, image_shape=(1, 1, 1)),
        objective=objective_from_preset("latent_regressor"),
        optimizer=OptimizerConfig(epochs=1, decay_epochs=0),
        evaluation=EVAL,
        data=DataConfig(source="mnist", root=MNIST_DIR, max_train_images=256),
    )
    result = train(tf.distribute.get_strategy(), experiment, print_fn=lambda s: None)
    resolved = result["experiment"]
    assert resolved.network.image_shape == (28, 28, 1)  # from the data, not the placeholder
    assert resolved.data == experiment.data and resolved.run.jit_compile in (True, False)
    record = json.load(open(tmp_path / "run" / "config.json"))
    assert record["data"]["num_train"] == 256 and record["num_replicas"] == 1
    assert ExperimentConfig.from_record(record) == resolved
    assert load_trained_model(str(tmp_path / "run")).experiment == resolved
    with pytest.raises(ConfigError, match="The experiment has no data"):
        train(tf.distribute.get_strategy(), ExperimentConfig(run=RunConfig(exp_dir="x")))


def test_a_model_without_a_deploy_pass_refuses_deploy_iters(tmp_path):
    """The SSGAN and transfer classifiers get no TrainingBatches: --deploy_iters > 0 is
    refused when the run starts, not at its first evaluation."""
    from bigan_tf.callbacks import EvaluationCallback

    with pytest.raises(ConfigError, match="no batch-norm deploy pass: set --deploy_iters 0"):
        EvaluationCallback(object(), str(tmp_path), lambda epoch: True, deploy_iters=5)


def test_a_run_replayed_from_its_config_json_trains_the_same_weights(mnist_dir, tmp_path):
    """--config=RUN/config.json --exp_dir=NEW: the same experiment, the same numbers."""
    original = tmp_path / "original"
    proc = _run_trainer(
        f"--exp_dir={original}",
        f"--config.data.root={mnist_dir}",
        "--config=configs/mnist_bigan.py:objective=latent_regressor",
        "--config.network.hidden_units=32",
        "--config.optimizer.epochs=1",
        "--config.optimizer.decay_epochs=1",
        "--config.data.max_train_images=512",
        "--config.evaluation.num_val=100",
        "--config.evaluation.num_train_reference=512",
        "--config.evaluation.num_generated=100",
        "--config.evaluation.cls_steps=5",
        "--config.run.seed=3",
        "--verbose=0",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    replay = tmp_path / "replay"
    proc = _run_trainer(f"--config={original}", f"--exp_dir={replay}", "--verbose=0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = (
        json.loads((folder / "config.json").read_text()) for folder in (original, replay)
    )
    for record in (first, second):
        record["run"].pop("exp_dir")
        record.pop("history", None)
    assert first == second
    metrics = [
        [
            {k: v for k, v in r.items() if "seconds" not in k and k != "time"}
            for r in read_metrics(str(folder))
        ]
        for folder in (original, replay)
    ]
    assert metrics[0] == metrics[1] and metrics[0][-1]["epoch"] == 2
