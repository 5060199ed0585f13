"""Natural-image sources on a generated image tree: folders, list files, TFDS, the presize tool."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bigan_tf.data.image_files import load_file_images, load_image_folder_data, load_tfds_image_data
from bigan_tf.data.image_sources import (
    ImageList,
    check_images,
    parse_label_list,
    presized_root,
    read_list_file,
    scan_class_folders,
    select_images,
)
from bigan_tf.data.preprocessing import Preprocessing
from bigan_tf.errors import ConfigError, DataError
from conftest import CLASSES, REPO_ROOT


def test_class_folders_number_classes_and_report_what_they_skip(image_tree):
    listed = scan_class_folders(str(image_tree / "train"))
    assert listed.class_names == list(CLASSES)
    assert sorted(set(listed.labels.tolist())) == [0, 1, 3]  # "empty" keeps label 2
    assert len(listed) == 3 * 6 + 1  # the corrupt .jpg is listed by extension
    notes = " ".join(listed.notes)
    assert "1 non-image file" in notes and "notes.txt" in notes
    assert "1 class folder(s)" in notes and "empty" in notes


def test_unreadable_images_fail_by_name_or_are_skipped_with_a_count(image_tree):
    listed = scan_class_folders(str(image_tree / "train"))
    with pytest.raises(DataError, match="broken.jpg.*--bad_images=skip"):
        check_images(listed, "header", "fail")
    kept = check_images(listed, "header", "skip")
    assert len(kept) == 18 and "skipped 1 unreadable image(s)" in kept.notes[-1]
    assert "broken.jpg" in kept.notes[-1]
    # A listed file that does not exist is "missing".
    listed.paths[0] = str(image_tree / "train" / "cat" / "gone.jpg")
    with pytest.raises(DataError, match="gone.jpg \\(missing\\)"):
        check_images(listed, "full", "fail")
    with pytest.raises(ConfigError, match="--bad_images"):
        check_images(listed, "header", "ignore")


def test_list_files_and_their_errors(tmp_path, image_tree):
    good = tmp_path / "train.txt"
    good.write_text("# comment\ncat/cat_0.jpg 0\n\nmy dir/with space.png 3\n")
    listed = read_list_file(str(good), "/data")
    assert listed.paths == ["/data/cat/cat_0.jpg", "/data/my dir/with space.png"]
    assert listed.labels.tolist() == [0, 3]
    for text, message in [
        ("cat/cat_0.jpg\n", "line 1: expected 'relative/path label'"),
        ("a.jpg 0\nb.jpg one\n", "line 2: the label must be an integer"),
        ("a.jpg -1\n", "line 1: labels must be >= 0"),
        ("\n# nothing\n", "lists no images"),
    ]:
        bad = tmp_path / "bad.txt"
        bad.write_text(text)
        with pytest.raises(DataError, match=message):
            read_list_file(str(bad), "/data")
    with pytest.raises(DataError, match="does not exist"):
        read_list_file(str(tmp_path / "missing.txt"), "/data")
    # The presized <root><raw_size> folder is used when it exists.
    assert presized_root(str(tmp_path / "imagenet"), 72) == str(tmp_path / "imagenet")
    (tmp_path / "imagenet72").mkdir()
    assert presized_root(str(tmp_path / "imagenet") + "/", 72) == str(tmp_path / "imagenet72")


def test_label_selection():
    listed = ImageList([f"{i}.jpg" for i in range(40)], np.arange(40, dtype=np.int32) % 8, "t")
    assert set(select_images(listed, max_labels=3).labels) == {0, 1, 2}
    assert set(select_images(listed, include_labels=[5, 7]).labels) == {5, 7}
    subset = select_images(listed, max_images=10, seed=1)
    assert len(subset) == 10 and len(set(subset.labels)) > 1
    assert subset.paths == select_images(listed, max_images=10, seed=1).paths
    with pytest.raises(DataError, match="No images"):
        select_images(listed, include_labels=[99])
    assert parse_label_list("3, 7,12") == [3, 7, 12]
    with pytest.raises(ConfigError, match="--include_labels"):
        parse_label_list("3,x")


def test_preprocessing_resizes_the_short_edge_and_crops_the_centre(tmp_path):
    # A 40x20 (w x h) image whose columns count up: after a short-edge resize to 20
    # (nothing to do) the centre 16x16 crop starts at column 12.
    array = np.tile(np.arange(40, dtype=np.uint8)[None, :, None] * 5, (20, 1, 3))
    Image.fromarray(array).save(tmp_path / "ramp.png")
    listed = ImageList([str(tmp_path / "ramp.png")], np.zeros(1, np.int32), "t")
    crops, labels = load_file_images(listed, Preprocessing(raw_size=20, crop_size=16))
    assert crops.shape == (1, 16, 16, 3) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[0, 0, :, 0], np.arange(12, 28) * 5)
    # Short edge 20 -> 10 halves both sides (antialiased: a smooth ramp stays a ramp).
    half, _ = load_file_images(listed, Preprocessing(raw_size=10, crop_size=10))
    assert half.shape == (1, 10, 10, 3)
    assert np.all(np.diff(half[0, 0, :, 0].astype(int)) > 0)
    with pytest.raises(ConfigError, match="--raw_size"):
        Preprocessing(raw_size=8, crop_size=16).validate()


def test_folder_data_streams_random_crops_deterministically(image_tree):
    config = Preprocessing(raw_size=36, crop_size=32)
    data = load_image_folder_data("folder", str(image_tree), config, on_bad="skip", seed=3)
    assert data.num_train == 18 and data.num_classes == 4
    assert data.val_images.shape == (6, 32, 32, 3) and data.val_images.dtype == np.uint8
    assert data.train_images.shape == (18, 32, 32, 3)  # the in-memory reference set
    assert any("broken.jpg" in note for note in data.notes)
    batches = list(
        data.training_dataset(4, seed=5, first_epoch=0, last_epoch=2).as_numpy_iterator()
    )
    assert len(batches) == 2 * (18 // 4)
    x, y = batches[0]
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and set(y.tolist()) <= {0, 1, 3}
    # A run resumed at epoch 1 sees the batches of the uninterrupted run.
    resumed = list(
        data.training_dataset(4, seed=5, first_epoch=1, last_epoch=2).as_numpy_iterator()
    )
    for (a, la), (b, lb) in zip(batches[4:], resumed):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    # Random crops: the same file cropped in two epochs differs somewhere.
    assert not all(np.array_equal(a[0], b[0]) for (a, _), (b, _) in zip(batches[:4], batches[4:]))
    with pytest.raises(DataError, match="broken.jpg"):
        load_image_folder_data("folder", str(image_tree), config, on_bad="fail")


def test_list_data_uses_the_presized_folder(tmp_path, image_tree):
    root = tmp_path / "imagenet"
    root.mkdir()
    entries = [
        f"{name}/{name}_{i}.{'jpg' if i % 2 == 0 else 'png'} {label}"
        for label, name in enumerate(CLASSES)
        if name != "empty"
        for i in range(2)
    ]
    (root / "train.txt").write_text("\n".join(entries) + "\n")
    (root / "val.txt").write_text("\n".join(entries[:3]) + "\n")
    os.rename(image_tree / "train", tmp_path / "imagenet36")  # <root><raw_size>
    data = load_image_folder_data(
        "list", str(root), Preprocessing(raw_size=36, crop_size=32), max_labels=2
    )
    assert data.num_train == 4 and set(data.train_labels.tolist()) == {0, 1}
    assert data.val_images.shape[1:] == (32, 32, 3)
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder_data("list", str(tmp_path / "nowhere"), Preprocessing(36, 32))


def test_tfds_images_by_name_with_label_selection():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=48):
        data = load_tfds_image_data(
            "cifar10",
            Preprocessing(raw_size=36, crop_size=32),
            max_labels=5,
            num_val=8,
            num_reference=16,
            seed=0,
        )
        assert data.source == "tfds:cifar10"
        assert data.val_images.shape[1:] == (32, 32, 3) and len(data.val_images) <= 8
        assert data.train_labels.max() < 5 and 0 < data.num_train <= 48
        x, y = next(iter(data.training_dataset(4, seed=0, first_epoch=0, last_epoch=1)))
        assert x.shape == (4, 32, 32, 3) and x.dtype == tf.float32 and int(tf.reduce_max(y)) < 5
        with pytest.raises(DataError, match="Unknown TFDS dataset 'no_such_dataset_xyz'"):
            load_tfds_image_data("no_such_dataset_xyz", Preprocessing(36, 32))
    with tfds.testing.mock_data(num_examples=12):
        # celeb_a has attributes, no "label": every image gets label 0.
        faces = load_tfds_image_data(
            "celeb_a", Preprocessing(raw_size=36, crop_size=32), num_val=4, num_reference=8
        )
        assert faces.val_images.shape == (4, 32, 32, 3) and faces.num_train == 12
        assert not faces.train_labels.any()


def test_resize_imageset_tool(tmp_path, image_tree):
    def main(args):
        result = subprocess.run(
            [sys.executable, "-m", "trainers.resize_imageset", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result.returncode, result.stdout, result.stderr

    out = tmp_path / "small"
    status, stdout, _ = main(["-j", "2", "20", str(image_tree / "val"), str(out)])
    assert status == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))
    assert len(written) == 6 and "cat/cat_0.jpg" in written
    for path in out.rglob("*.*"):
        with Image.open(path) as image:
            assert min(image.size) == 20
    assert "6/6 images" in stdout
    status, stdout, _ = main(["-j", "0", "20", str(image_tree / "val"), str(out)])
    assert status == 0 and "skipped 6" in stdout  # existing outputs are kept
    # A corrupt file is named, the others are still written, the exit status says so.
    status, _, stderr = main(["-q", "20", str(image_tree / "train" / "dog"), str(tmp_path / "dog")])
    assert status == 1 and "broken.jpg" in stderr
    assert len(list((tmp_path / "dog").glob("*.*"))) == 6
    status, _, stderr = main(["20", str(tmp_path / "nowhere"), str(tmp_path / "x")])
    assert status == 2 and "is not a folder" in stderr
