"""The real TensorFlow Datasets path, offline: mnist prepared by TFDS's own builder from
the shared IDX archives (registered checksums, no network), then read by name."""

import os
import subprocess
import sys

import numpy as np
import pytest

from bigan_tf.data import load_image_data
from bigan_tf.data.tfds_source import prepare_offline
from bigan_tf.errors import DataError
from conftest import MNIST_DIR, REPO_ROOT


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.prepare_tfds",
            "--name=mnist",
            f"--manual_dir={MNIST_DIR}",
            f"--data_dir={data_dir}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "use --dataset=tfds:mnist" in result.stdout
    return data_dir


def _fingerprint(images, labels):
    """Order-free: the sorted per-image pixel sums and the label counts."""
    return np.sort(images.reshape(len(images), -1).sum(1)), np.bincount(labels, minlength=10)


def test_tfds_mnist_by_name_holds_the_idx_files_images(tfds_dir, mnist_dir):
    tfds_data = load_image_data("tfds:mnist", tfds_dir, use_test_set=True)
    idx_data = load_image_data("mnist", mnist_dir, use_test_set=True)
    assert tfds_data.train_images.shape == (60000, 28, 28, 1)
    assert tfds_data.val_images.shape == (10000, 28, 28, 1)
    assert tfds_data.train_images.dtype == np.uint8
    for a, b in zip(
        _fingerprint(tfds_data.train_images, tfds_data.train_labels),
        _fingerprint(idx_data.train_images, idx_data.train_labels),
    ):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(
        _fingerprint(tfds_data.val_images, tfds_data.val_labels),
        _fingerprint(idx_data.val_images, idx_data.val_labels),
    ):
        np.testing.assert_array_equal(a, b)


def test_trainer_runs_on_tfds_by_name(tfds_dir, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.train_mnist",
            "--dataset=tfds:mnist",
            f"--data_dir={tfds_dir}",
            f"--exp_dir={tmp_path / 'run'}",
            "--epochs=1",
            "--decay_epochs=0",
            "--max_train_images=512",
            "--hidden_units=16",
            "--num_val=100",
            "--num_train_reference=256",
            "--num_generated=200",
            "--cls_steps=5",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "NNC_e-" in result.stdout


def test_prepare_offline_names_what_is_missing(tmp_path):
    empty = tmp_path / "downloads"
    empty.mkdir()
    with pytest.raises(DataError, match="without a network: .* lacks t10k-images-idx3-ubyte.gz"):
        prepare_offline("mnist", str(empty), str(tmp_path / "tfds"))
    with pytest.raises(DataError, match="is not a folder"):
        prepare_offline("mnist", str(tmp_path / "nowhere"), str(tmp_path / "tfds"))


def test_a_truncated_shard_is_one_data_error(tfds_dir, tmp_path):
    import glob
    import shutil

    damaged = str(tmp_path / "damaged")
    shutil.copytree(tfds_dir, damaged)
    shard = sorted(glob.glob(os.path.join(damaged, "mnist", "*", "mnist-test.tfrecord*")))[0]
    with open(shard, "r+b") as f:
        f.truncate(os.path.getsize(shard) // 2)
    with pytest.raises(DataError, match="cannot be read .*a shard is missing or damaged"):
        load_image_data("tfds:mnist", damaged, use_test_set=True)
