"""benchmarks.evaluation_sets: the same features scored on t10k and on held-out splits."""

import json
import os
import subprocess
import sys

import numpy as np

from bigan_tf.data import held_out_indices, load_image_data
from conftest import MNIST_DIR, REPO_ROOT, train_small_run

QUICK_TRAIN, QUICK_TEST = 6000, 1000  # the script's --quick sizes


def _script(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.evaluation_sets",
            f"--data_dir={MNIST_DIR}",
            "--quick",
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _one_nn_accuracy(reference, reference_labels, query, query_labels):
    """1-NN in NumPy float64 (the check on the float32 TensorFlow metric)."""
    distances = (
        (query**2).sum(1)[:, None] + (reference**2).sum(1)[None, :] - 2.0 * query @ reference.T
    )
    return 100.0 * np.mean(reference_labels[distances.argmin(1)] == query_labels)


def test_scores_each_evaluation_set_of_raw_pixels_a_random_init_and_a_run(small_mnist, tmp_path):
    run = str(tmp_path / "gan")
    train_small_run(small_mnist, run, "gan", seed=1)
    out = tmp_path / "rows.json"
    result = _script(
        "--deploy_iters=2",
        "--random_splits=2",
        f"--runs={run}",
        f"--json_out={out}",
        f"--table_out={tmp_path / 'table.md'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [r["features"] for r in rows] == [
        "raw pixels",
        "random init: E penultimate (NNC_e-)",
        "random init: E logits (NNC_e)",
        "tmp_path0/gan (epoch 1): D penultimate (NNC_d)".replace(
            "tmp_path0", os.path.basename(str(tmp_path))
        ),
    ]
    assert "| raw pixels |" in result.stdout  # the printed table
    table = (tmp_path / "table.md").read_text().splitlines()
    assert len(table) == 2 + 2 + len(rows) and table[4].startswith("| raw pixels | ")

    # Raw pixels, checked against a brute-force 1-NN on the same quick-size images.
    data = load_image_data("mnist", MNIST_DIR, use_test_set=True).take(QUICK_TRAIN, QUICK_TEST)
    train_x = data.train_images.reshape(QUICK_TRAIN, -1) / 255.0
    test_x = data.val_images.reshape(QUICK_TEST, -1) / 255.0
    first = QUICK_TRAIN - QUICK_TEST  # the test set's references: the first 5000
    t10k = _one_nn_accuracy(train_x[:first], data.train_labels[:first], test_x, data.val_labels)
    reference, query = held_out_indices(QUICK_TRAIN, QUICK_TEST)
    held_out = _one_nn_accuracy(
        train_x[reference], data.train_labels[reference], train_x[query], data.train_labels[query]
    )
    raw = rows[0]
    # float32 vs float64 may order a near-tie differently: one query of 1000 is 0.1 point.
    assert abs(raw["t10k"] - t10k) <= 0.1 and abs(raw["original held-out"] - held_out) <= 0.1
    for row in rows:
        assert abs(row["shift"] - (row["original held-out"] - row["t10k"])) < 1e-9
        assert row["other min"] <= row["other mean"] <= row["other max"]
        assert 10 < row["t10k"] <= 100  # every feature set beats chance on 10 classes

    # The same file grows: a second reading keeps the earlier rows and replaces its own.
    table_out = tmp_path / "grown.md"
    result = _script(
        "--deploy_iters=2",
        "--random_splits=2",
        "--norandom_init",
        f"--json_out={out}",
        f"--table_out={table_out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    grown = json.loads(out.read_text())
    assert [r["features"] for r in grown] == [r["features"] for r in rows]
    assert grown[0]["t10k"] == raw["t10k"] and grown[1:] == rows[1:]
    assert len(table_out.read_text().splitlines()) == len(table)
    # Rows read with other settings are never mixed in: one line, the file kept.
    result = _script(
        "--deploy_iters=2", "--random_splits=1", "--norandom_init", f"--json_out={out}"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"evaluation_sets: error: --json_out={out} holds rows measured with another "
        "--random_splits: give another path (that file is kept)."
    )
    assert json.loads(out.read_text()) == grown


def test_a_folder_that_is_not_a_trained_mnist_run_is_one_line(tmp_path):
    result = _script(f"--runs={tmp_path / 'missing'}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"evaluation_sets: error: {tmp_path / 'missing'}/config.json does not exist")
    )
