"""benchmarks.reproduce_mnist end to end in --quick mode: train, skip, resume, report."""

import csv
import json
import os
import shutil
import subprocess
import sys

from conftest import MNIST_DIR, REPO_ROOT

OBJECTIVES = (
    "bigan",
    "gan",
    "latent_regressor",
    "joint_latent_regressor",
    "autoencoder_l2",
    "autoencoder_l1",
)


def _harness(tmp_path, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.reproduce_mnist",
            f"--root={tmp_path / 'runs'}",
            f"--results_dir={tmp_path / 'results'}",
            f"--data_dir={MNIST_DIR}",
            "--quick",
            "--nojit_compile",
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_quick_reproduction_end_to_end(tmp_path):
    result = _harness(tmp_path, f"--objectives={','.join(OBJECTIVES)}")
    assert result.returncode == 0, result.stderr[-3000:]
    results = tmp_path / "results"
    table = (results / "table.md").read_text()
    for label in ("BiGAN", "D (GAN)", "LR", "JLR", "AE (l2)", "AE (l1)"):
        assert f"| {label} |" in table
    assert "97.39" in table and "97.63" in table and "97.35" in table  # paper + official
    with open(results / "table.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["objective"] for r in rows] == ["BiGAN", "D (GAN)", "LR", "JLR", "AE (l2)", "AE (l1)"]
    for row in rows:
        assert row["seeds"] == "1" and row["epoch"] == "2 of 2"
        final = float(row["NNC (1-NN %)"])
        assert 10 < final <= 100
        best, epoch = row["best NNC (epoch)"].split(" (epoch ")
        assert float(best) >= final and epoch in ("1)", "2)")  # epoch 0 is the random init
    gan = rows[1]
    assert gan["EGr/EGr_b"] == "–" and gan["NNC_e (raw E(x))"] == "–"
    autoencoder = _records(results / "runs" / "autoencoder_l2" / "seed0" / "metrics.jsonl")
    assert autoencoder[-1]["metrics"]["EGr"] < autoencoder[0]["metrics"]["EGr"]  # it learns
    png = (results / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for objective in OBJECTIVES:
        run = results / "runs" / objective / "seed0"
        records = _records(run / "metrics.jsonl")
        assert [r["epoch"] for r in records] == [0, 1, 2]
        assert "epoch_seconds" in records[-1]
        config = json.loads((run / "config.json").read_text())
        assert config["evaluation"]["deploy_iters"] == 5
        assert config["data"]["num_train"] == 1024
        assert (run / "samples" / "2.png").exists() and (run / "samples" / "real.png").exists()
        expected_regen = objective != "gan"
        assert (run / "samples" / "2.real_regen.png").exists() == expected_regen
    objective = json.loads(
        (results / "runs" / "autoencoder_l1" / "seed0" / "config.json").read_text()
    )["objective"]
    assert objective["reconstruct_norm"] == "l1" and objective["joint_discrim_weight"] == 0


def test_finished_runs_are_skipped_and_unfinished_resumed(tmp_path):
    assert _harness(tmp_path, "--objectives=autoencoder_l2").returncode == 0
    run = tmp_path / "runs" / "autoencoder_l2" / "seed0"
    first = _records(run / "metrics.jsonl")
    again = _harness(tmp_path, "--objectives=autoencoder_l2")
    assert again.returncode == 0 and "finished (epoch 2); skipped" in again.stdout
    assert _records(run / "metrics.jsonl") == first
    # Make it unfinished: the run as if killed after epoch 1's checkpoint.
    for name in os.listdir(run / "checkpoints"):
        if name.startswith("ckpt-2"):
            os.remove(run / "checkpoints" / name)
    with open(run / "metrics.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in first if r["epoch"] <= 1)
    shutil.rmtree(tmp_path / "results")  # killed before its report: no finished copy there
    resumed = _harness(tmp_path, "--objectives=autoencoder_l2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resumed from epoch 1" in resumed.stdout
    records = _records(run / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [0, 1, 2]
    # Exact resume: the same weights, so the same final metrics.
    assert records[-1]["metrics"] == first[-1]["metrics"]
    # The run folder lost (a new machine): the records the report copied into
    # results/ still make the run finished, and the table keeps it.
    shutil.rmtree(tmp_path / "runs")
    lost = _harness(tmp_path, "--objectives=autoencoder_l2")
    assert lost.returncode == 0, lost.stderr[-3000:]
    assert "finished (epoch 2, recorded in" in lost.stdout
    assert not (tmp_path / "runs" / "autoencoder_l2").exists()  # nothing retrained
    rows = list(csv.DictReader(open(tmp_path / "results" / "table.csv")))
    assert rows[0]["seeds"] == "1" and rows[0]["epoch"] == "2 of 2"
    recorded = tmp_path / "results" / "runs" / "autoencoder_l2" / "seed0"
    assert _records(recorded / "metrics.jsonl") == records
    assert (recorded / "samples" / "2.png").exists()  # not wiped by the report


def test_bad_flags_are_one_line_errors(tmp_path):
    result = _harness(tmp_path, "--objectives=bigan,vae")
    assert result.returncode == 2 and "unknown --objectives ['vae']" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.reproduce_mnist", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "--root is required" in result.stderr


def test_report_only_writes_the_table_of_what_exists(tmp_path):
    assert _harness(tmp_path, "--objectives=gan").returncode == 0
    shutil.rmtree(tmp_path / "results")
    result = _harness(tmp_path, "--objectives=gan,bigan", "--report_only")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "results" / "table.csv")))
    assert rows[0]["seeds"] == "1" and rows[1]["seeds"] == "0" and rows[1]["NNC (1-NN %)"] == "–"
    assert rows[1]["best NNC (epoch)"] == "–"


def test_fashion_conv_report_says_when_features_pass_random_init(tmp_path):
    """The verdict of benchmarks.fashion_conv on a run folder with metrics only."""
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    values = [(0, 80.0, 82.0), (2, 70.0, 76.0), (4, 79.0, 83.0), (6, 81.0, 84.0)]
    (run / "metrics.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "epoch": e,
                    "losses": {"JD": 0.69},
                    "metrics": {
                        "NNC_e-": nnc,
                        "CLS_e-": cls,
                        "NNC_e": nnc - 3,
                        "EGr": 20.0,
                        "EGr_b": 21.0,
                        "NND": 11.0,
                    },
                }
            )
            + "\n"
            for e, nnc, cls in values
        )
    )
    (run / "config.json").write_text(json.dumps({"optimizer": {"epochs": 5, "decay_epochs": 5}}))
    (run / "samples" / "6.png").write_bytes(b"grid")
    command = [
        sys.executable,
        "-m",
        "benchmarks.fashion_conv",
        f"--exp_dir={run}",
        f"--results_dir={tmp_path / 'out'}",
        "--report_only",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = (tmp_path / "out" / "table.md").read_text()
    # Epoch 4 passes CLS_e- but not NNC_e-; epoch 6 passes both.
    assert "at epoch 6; last evaluation: epoch 6." in table
    # Margins of epochs 2, 4, 6: NNC_e- −10, −1, +1; CLS_e- −6, +1, +2.
    assert "Mean margin over the evaluations of epochs 2–6: NNC_e- -3.33, CLS_e- -1.00" in table
    assert "| 0 (random init) | 80.00% | 82.00% | 77.00% | 20.00 | 21.00 | 11.00 |" in table
    assert (tmp_path / "out" / "samples" / "6.png").read_bytes() == b"grid"
    assert (tmp_path / "out" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    # No run folder: one line naming the fix, exit 2.
    missing = subprocess.run(
        command[:3] + [f"--exp_dir={tmp_path / 'none'}", "--report_only"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and "run without --report_only first" in missing.stderr
