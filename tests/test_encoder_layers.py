"""benchmarks.encoder_layers and the encoders' `layer_features`."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf.networks.conv import AlexNetEncoder
from bigan_tf.networks.mlp import MLPEncoder
from conftest import MNIST_DIR, REPO_ROOT, train_small_run


@pytest.mark.parametrize(
    "encoder, shape, widths",
    [
        (MLPEncoder(latent_dim=8, hidden_units=32), (4, 28, 28, 1), {"hidden1": 32, "hidden2": 32}),
        # 32 px: conv1 /4 and a pool -> 4x4, the second pool -> 2x2.
        (
            AlexNetEncoder(latent_dim=8),
            (4, 32, 32, 3),
            {
                "conv1": 4 * 4 * 96,
                "conv2": 2 * 2 * 256,
                "conv3": 2 * 2 * 384,
                "conv4": 2 * 2 * 384,
                "conv5": 2 * 2 * 256,
            },
        ),
    ],
)
def test_layer_features_end_in_the_e_minus_features(encoder, shape, widths):
    x = tf.random.stateless_uniform(shape, seed=(1, 2))
    layers = encoder.layer_features(x)
    assert {name: int(v.shape[1]) for name, v in layers.items()} == widths
    assert list(layers) == list(widths)  # in the order the encoder computes them
    np.testing.assert_array_equal(list(layers.values())[-1], encoder(x)["features"])


def _script(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.encoder_layers",
            f"--data_dir={MNIST_DIR}",
            "--num_reference=1000",
            "--num_query=300",
            "--deploy_iters=2",
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_scores_every_layer_against_the_runs_own_random_init(small_mnist, tmp_path):
    # A learning rate far below float32's resolution of the weights leaves them at their
    # initial values: the script's random init must then be the same net, bit for bit.
    frozen = str(tmp_path / "frozen")
    train_small_run(small_mnist, frozen, "bigan", seed=3, learning_rate=1e-30, cls_steps=20)
    out = tmp_path / "rows.json"
    result = _script(f"--run={frozen}", f"--json_out={out}", f"--table_out={tmp_path / 'table.md'}")
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["epoch"] == 1 and record["num_query"] == 300
    assert [r["layer"] for r in record["rows"]] == ["hidden1", "hidden2"]
    for row in record["rows"]:
        assert row["NNC margin"] == 0.0 and row["CLS margin"] == 0.0, row
        assert row["NNC margin SE"] == 0.0 and row["CLS margin SE"] == 0.0, row  # same answers
        assert 10 < row["NNC trained"] <= 100 and 10 < row["CLS trained"] <= 100
    assert 10 < record["pixels"]["NNC"] <= 100 and record["pixels"]["width"] == 784
    table = (tmp_path / "table.md").read_text()
    assert "| hidden2 | 32 |" in table and "| hidden2 | 32 |" in result.stdout
    assert record["cls_standardized"] is False

    # The feature study's probe (standardised features): the same net still scores the same.
    result = _script(f"--run={frozen}", f"--json_out={out}", "--standardize")
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["cls_standardized"] is True
    assert all(r["CLS margin"] == 0.0 and r["NNC margin"] == 0.0 for r in record["rows"])

    # A run that learned: the same layers, now differing from the random init.
    learned = str(tmp_path / "learned")
    train_small_run(small_mnist, learned, "bigan", seed=3, learning_rate=2e-3, cls_steps=20)
    result = _script(f"--run={learned}", f"--json_out={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert any(r["NNC margin"] != 0.0 or r["CLS margin"] != 0.0 for r in rows)
    for row in rows:  # a changed margin comes from changed answers, which have a spread
        for measure in ("NNC", "CLS"):
            assert row[f"{measure} margin"] == pytest.approx(
                row[f"{measure} trained"] - row[f"{measure} random init"], abs=1e-9
            )
            assert row[f"{measure} margin SE"] > 0 or row[f"{measure} margin"] == 0.0, row


def test_a_run_without_an_encoder_is_one_line(small_mnist, tmp_path):
    run = str(tmp_path / "gan")
    train_small_run(small_mnist, run, "gan", seed=3, cls_steps=20)
    result = _script(f"--run={run}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"encoder_layers: error: {run} has no encoder (a plain GAN): give a run that has one."
    )
