"""The feature study's committed encoder module: it loads with tensorflow and tensorflow_hub
alone, is small, and still computes the features its model card was written from."""

import json
import os

import pytest
from conftest import REPO_ROOT
from test_feature_study import check_module_alone

SUMMARY = os.path.join(REPO_ROOT, "results", "features", "summary.json")
SHARED_DATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data")
MAX_BYTES = 30 * 1024 * 1024


def _committed_modules():
    summary = json.load(open(SUMMARY))
    return {name: entry["hub_module"] for name, entry in summary.items() if entry.get("hub_module")}


def test_the_fashion_mnist_winner_is_committed_with_its_card():
    modules = _committed_modules()
    assert "fashion_mnist" in modules
    for dataset, module in modules.items():
        folder = os.path.join(REPO_ROOT, module)
        card = json.load(open(os.path.join(folder, "model_card.json")))
        summary = json.load(open(SUMMARY))[dataset]
        assert card["recipe"] == summary["recipe"] and card["epochs"] == summary["epochs"]
        assert card["probe"]["cls_e-"] == summary["t10k"]["cls_e-"]
        size = sum(
            os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files
        )
        assert size <= MAX_BYTES, f"{module} is {size / 1e6:.1f} MB"
        assert os.path.isfile(os.path.join(folder, "MODEL_CARD.md"))


@pytest.mark.parametrize("dataset", sorted(_committed_modules()))
def test_the_module_alone_reproduces_its_check_figure(dataset, tmp_path):
    idx_dir = os.path.join(SHARED_DATA, dataset)
    if not os.path.isdir(idx_dir):
        pytest.skip(f"{idx_dir} is not here (the data of the module's check)")
    folder = os.path.join(REPO_ROOT, _committed_modules()[dataset])
    check = json.load(open(os.path.join(folder, "model_card.json")))["check"]
    got = check_module_alone(folder, idx_dir, check, tmp_path)
    assert got == pytest.approx(check["accuracy"], abs=0.1)
