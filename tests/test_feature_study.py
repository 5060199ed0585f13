"""benchmarks.feature_study end to end in its quick mode: train, probe, report, skip, resume."""

import json
import os
import subprocess
import sys

import numpy as np

import pytest
from conftest import REPO_ROOT

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _study(tmp_path, mnist_dir, *args):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.feature_study",
            f"--study_dir={tmp_path / 'study'}",
            f"--results_dir={tmp_path / 'results'}",
            "--quick",
            "--dataset=mnist",
            f"--data_dir={mnist_dir}",
            *args,
        ],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )


def check_module_alone(module_dir, idx_dir, check, tmp_path):
    """The card's check figure recomputed from features that tensorflow and
    tensorflow_hub alone computed (tests/module_features_alone.py)."""
    from bigan_tf.evaluation.probes import ridge_probe_accuracy

    out = tmp_path / "module_features.npz"
    result = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "tests", "module_features_alone.py"),
            str(module_dir),
            str(idx_dir),
            str(check["references"]),
            str(check["queries"]),
            str(out),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = np.load(out)
    return ridge_probe_accuracy(
        found["train_features"],
        found["train_labels"],
        found["t10k_features"],
        found["t10k_labels"],
        10,
        check["l2"],
    )


def test_quick_study_trains_probes_reports_skips_and_resumes(tmp_path, mnist_dir):
    first = _study(tmp_path, mnist_dir, "--recipes=baseline,resnet", "--epochs=1")
    assert first.returncode == 0, first.stderr[-3000:]
    results = tmp_path / "results" / "mnist"
    table = (results / "table.md").read_text()
    assert "| baseline | 1 |" in table and "| resnet | 1 |" in table
    rows = (results / "table.csv").read_text().splitlines()
    assert rows[0].startswith("recipe,epoch,s/epoch") and len(rows) == 3
    for recipe in ("baseline", "resnet"):
        assert (results / "curves" / f"{recipe}.png").stat().st_size > 0
        probe = json.loads((results / "runs" / recipe / "probe.json").read_text())
        assert probe["epoch"] == 1 and probe["num_query"] == 64
        e = probe["e-"]
        for measure in ("NNC", "CLS"):
            assert 0 <= e[f"{measure} trained"] <= 100
            assert (
                abs(
                    e[f"{measure} margin"] - (e[f"{measure} trained"] - e[f"{measure} random init"])
                )
                < 1e-9
            )
        assert set(probe["parameters"]) == {"encoder", "generator", "discriminator"}
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())["mnist"]
    assert summary["recipe"] in ("baseline", "resnet") and summary["epochs"] == 1
    assert summary["command"].endswith(f"--recipes={summary['recipe']}")
    assert set(summary["t10k"]) >= {
        "cls_e-",
        "cls_e-_random_init",
        "cls_pixels",
        "nnc_e-",
        "nnc_e-_random_init",
        "nnc_pixels",
    }

    # The same command again: nothing trains, the probes are read back.
    probe_file = tmp_path / "study" / "mnist" / "baseline" / "probe.json"
    stamp = probe_file.stat().st_mtime_ns
    again = _study(tmp_path, mnist_dir, "--recipes=baseline,resnet", "--epochs=1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("finished") == 2 and "training into" not in again.stdout
    assert probe_file.stat().st_mtime_ns == stamp

    # A longer budget continues each run from its checkpoint and probes the new epoch.
    longer = _study(tmp_path, mnist_dir, "--recipes=baseline", "--epochs=2")
    assert longer.returncode == 0, longer.stderr[-3000:]
    assert "Resumed from epoch 1" in longer.stdout + longer.stderr
    assert json.loads(probe_file.read_text())["epoch"] == 2


def test_unknown_recipe_is_one_line(tmp_path, mnist_dir):
    result = _study(tmp_path, mnist_dir, "--recipes=baseline,bigger")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("feature_study: error: --recipes: unknown ['bigger']")
    )


def test_long_stage_continues_a_screening_run_and_exports_the_winner(tmp_path, mnist_dir):
    first = _study(tmp_path, mnist_dir, "--recipes=resnet", "--epochs=1")
    assert first.returncode == 0, first.stderr[-3000:]
    hub_dir = tmp_path / "hub_module"
    long_args = ("--recipes=resnet", "--epochs=2", "--stage=long", f"--hub_module={hub_dir}")
    long = _study(tmp_path, mnist_dir, *long_args)
    assert long.returncode == 0, long.stderr[-3000:]
    assert "Copied the screening run" in long.stdout
    assert "Resumed from epoch 1" in long.stdout + long.stderr
    # The screening run and its report are left as they were.
    screening_probe = tmp_path / "study" / "mnist" / "resnet" / "probe.json"
    assert json.loads(screening_probe.read_text())["epoch"] == 1
    results = tmp_path / "results" / "mnist"
    assert "| resnet | 1 |" in (results / "table.md").read_text()
    assert "| resnet | 2 |" in (results / "long" / "table.md").read_text()
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())["mnist"]
    assert summary["stage"] == "long" and summary["epochs"] == 2
    # The long stage chooses on the held-out split with the test probe's protocol.
    assert summary["selected_on"].startswith("held-out probe CLS_e-")
    held_out = json.loads(
        (results / "long" / "runs" / "resnet" / "probe_held_out.json").read_text()
    )
    assert held_out["split"] == "held-out" and held_out["epoch"] == 2
    assert held_out["e-"]["CLS trained"] != summary["t10k"]["cls_e-"] or (
        held_out["e-"]["NNC trained"] != summary["t10k"]["nnc_e-"]
    )
    assert summary["hub_module"] == str(hub_dir)
    assert "--stage=long" in summary["command"]

    card = json.loads((hub_dir / "model_card.json").read_text())
    assert card["recipe"] == "resnet" and card["epochs"] == 2
    assert card["probe"]["cls_e-"] == summary["t10k"]["cls_e-"]
    assert "Check figure" in (hub_dir / "MODEL_CARD.md").read_text()
    # The module alone (tensorflow + tensorflow_hub) reproduces the card's check figure.
    check = card["check"]
    assert check_module_alone(hub_dir, mnist_dir, check, tmp_path) == pytest.approx(
        check["accuracy"], abs=0.1
    )

    # Rerun: nothing trains, the export is kept; a screening report keeps the long entry.
    again = _study(tmp_path, mnist_dir, *long_args)
    assert again.returncode == 0 and "exists: kept" in again.stdout, again.stderr[-3000:]
    # A folder holding another recipe's encoder is not credited to the selected one.
    other = tmp_path / "other_module"
    other.mkdir()
    (other / "model_card.json").write_text(json.dumps({"recipe": "augment"}))
    refused = _study(tmp_path, mnist_dir, *long_args[:-1], f"--hub_module={other}")
    assert refused.returncode != 0
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "holds the encoder of 'augment', not of the selected 'resnet': name a new folder to "
            "export it."
        )
    )
    assert json.loads((tmp_path / "results" / "summary.json").read_text())["mnist"] == summary
    report = _study(tmp_path, mnist_dir, "--recipes=resnet", "--epochs=1", "--report_only")
    assert report.returncode == 0, report.stderr[-3000:]
    assert json.loads((tmp_path / "results" / "summary.json").read_text())["mnist"] == summary
