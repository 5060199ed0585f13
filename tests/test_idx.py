"""IDX parsing: both naming conventions, gzipped or raw, and every corruption."""

import gzip
import os

import numpy as np
import pytest

from bigan_tf.data.idx import find_idx_file, load_idx_dataset, read_idx
from bigan_tf.errors import DataError
from conftest import write_idx

IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
LABELS = np.array([7, 1, 2], dtype=np.uint8)


def _write_split(folder, split, dotted=False, gz=False, images=IMAGES, labels=LABELS):
    sep = "." if dotted else "-"
    ext = ".gz" if gz else ""
    write_idx(os.path.join(folder, f"{split}-images{sep}idx3-ubyte{ext}"), images, gz=gz)
    write_idx(os.path.join(folder, f"{split}-labels{sep}idx1-ubyte{ext}"), labels, gz=gz)


@pytest.mark.parametrize("dotted", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_both_names_gzipped_or_raw(tmp_path, dotted, gz):
    _write_split(tmp_path, "train", dotted, gz)
    _write_split(tmp_path, "t10k", dotted, gz)
    data = load_idx_dataset(str(tmp_path))
    images, labels = data["train"]
    assert images.shape == (3, 4, 5, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[..., 0], IMAGES)
    np.testing.assert_array_equal(labels, LABELS.astype(np.int32))
    assert data["t10k"][0].shape == (3, 4, 5, 1)


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"  # gzipped although the name says raw
    write_idx(path, IMAGES, gz=True)
    np.testing.assert_array_equal(read_idx(str(path)), IMAGES)


def test_real_mnist_files(mnist_dir):
    data = load_idx_dataset(mnist_dir)
    assert data["train"][0].shape == (60000, 28, 28, 1)
    assert data["t10k"][0].shape == (10000, 28, 28, 1)
    assert set(np.unique(data["train"][1])) == set(range(10))


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="Data folder not found: .*nope"):
        load_idx_dataset(str(tmp_path / "nope"))


def test_missing_file_lists_names_tried(tmp_path):
    _write_split(tmp_path, "train")
    os.remove(tmp_path / "train-labels-idx1-ubyte")
    with pytest.raises(
        DataError,
        match=r"No train labels file .*train-labels-idx1-ubyte\.gz.*"
        r"train-labels\.idx1-ubyte",
    ):
        load_idx_dataset(str(tmp_path), ("train",))


def test_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match=r"bad has magic number 0x3c68746d.*0x00000803"):
        read_idx(str(path))


def test_swapped_files(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, LABELS)
    with pytest.raises(DataError, match="1 dimensions; expected images"):
        read_idx(str(path), expected_ndim=3)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, IMAGES)
    raw = path.read_bytes()[:-7]
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(
        DataError,
        match=r"is truncated: the header declares shape \(3, 4, 5\) "
        r"\(60 bytes of data\) but the file holds 53",
    ):
        read_idx(str(path))


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, IMAGES, gz=True)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(str(path))


def test_count_mismatch(tmp_path):
    _write_split(tmp_path, "train", labels=LABELS[:2])
    with pytest.raises(DataError, match="holds 3 images but .* holds 2 labels"):
        load_idx_dataset(str(tmp_path), ("train",))


def test_find_prefers_existing_convention(tmp_path):
    _write_split(tmp_path, "t10k", dotted=True)
    assert find_idx_file(str(tmp_path), "t10k", "images").endswith("t10k-images.idx3-ubyte")


def test_an_unreadable_file_is_one_data_error(tmp_path, monkeypatch):
    import builtins
    from bigan_tf.data.idx import read_idx

    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, IMAGES)
    real_open = builtins.open

    def denied(file, *args, **kwargs):  # root reads any file: deny it here instead
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(
        DataError,
        match=r"Cannot read .*train-images-idx3-ubyte \(Permission "
        r"denied\): check its permissions",
    ):
        read_idx(str(path))
