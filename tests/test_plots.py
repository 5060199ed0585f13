"""Learning-curve pictures: every run's curves.png, trainers.plot_runs, the harness's curves."""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from bigan_tf.plots import plot_groups, plot_learning_curves
from conftest import REPO_ROOT


def _records(shift=0.0, gan=False, epochs=(0, 1, 5, 10)):
    records = []
    for e in epochs:
        metrics = {"NND": 13 - e / 2 + shift, "NND/10": 13.2 - e / 2, "NND/100": 13.4 - e / 2}
        if gan:
            metrics.update({"NNC_d": 90 + e / 2 + shift, "CLS_d": 80 + e})
            losses = {"D": 0.69 - e / 100, "G": 0.69 + e / 50}
        else:
            metrics.update({"NNC_e-": 95 + e / 5 + shift, "NNC_e": 90 + e / 5, "CLS_e-": 85 + e,
                            "EGr": 13 - e / 2, "EGr_b": 13.5 - e / 10})
            losses = {"JD": 0.69 - e / 100, "E": 0.69 + e / 50, "G": 0.69 + e / 50}
        records.append({"epoch": e, "metrics": metrics, "losses": losses})
    return records


def _png_size(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        return image.size


def test_learning_curves_of_one_run(tmp_path):
    path = plot_learning_curves(_records(), str(tmp_path / "curves.png"), title="run",
                                constant_epochs=5, total_epochs=10)
    assert _png_size(path) == (990, 972)  # 5 panels: 2 columns x 3 rows at 90 dpi
    gan = plot_learning_curves(_records(gan=True), str(tmp_path / "gan.png"))
    assert _png_size(gan) == (990, 648)  # no reconstruction panel: NNC_d, CLS_d, NND, losses
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "gan.png"]  # no temporary files


def test_groups_overlay_and_average_seeds(tmp_path):
    groups = {"BiGAN": [_records(0.0), _records(1.0)], "GAN": [_records(gan=True)]}
    path = plot_groups(groups, str(tmp_path / "cmp.png"), title="objectives")
    assert _png_size(path) == (990, 648)  # 4 panels, 2 x 2
    pixels = np.asarray(Image.open(path).convert("RGB"))
    # The seed band (min..max) is drawn: a light shade of C0's blue exists.
    assert (np.abs(pixels.astype(int) - [210, 226, 239]).sum(-1) < 30).any()


def test_plot_runs_command_line(tmp_path):
    for name, records in (("bigan", _records()), ("gan", _records(gan=True))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in records))
    run = lambda *args: subprocess.run([sys.executable, "-m", "trainers.plot_runs", *args],
                                       cwd=REPO_ROOT, capture_output=True, text=True,
                                       timeout=300)
    ok = run(str(tmp_path / "bigan"), str(tmp_path / "gan"), f"--output={tmp_path / 'c.png'}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert _png_size(tmp_path / "c.png") == (990, 648)
    missing = run(str(tmp_path / "nowhere"), f"--output={tmp_path / 'd.png'}")
    assert missing.returncode == 2 and "has no metrics.jsonl" in missing.stderr
    assert "Traceback" not in missing.stderr
