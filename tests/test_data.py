"""Splits, the epoch-seeded tf.data pipeline, and TFDS loading (mocked, offline)."""

import socket

import numpy as np
import pytest

from bigan_tf.data import (
    held_out_indices,
    load_image_data,
    split_validation,
    training_dataset,
    tfds_source,
)
from bigan_tf.errors import ConfigError, DataError


def test_original_split_sizes(mnist_data):
    assert mnist_data.train_images.shape == (50000, 28, 28, 1)
    assert mnist_data.val_images.shape == (10000, 28, 28, 1)
    assert mnist_data.image_shape == (28, 28, 1) and mnist_data.num_classes == 10


def test_split_is_fixed_and_disjoint():
    images = np.arange(100, dtype=np.uint8).reshape(100, 1, 1, 1)
    labels = np.arange(100, dtype=np.int32)
    a = split_validation(images, labels, num_val=10)
    b = split_validation(images, labels, num_val=10)
    np.testing.assert_array_equal(a[3], b[3])
    assert len(set(a[1]) & set(a[3])) == 0 and len(a[1]) == 90


def test_held_out_split_is_the_originals(mnist_dir, mnist_data):
    # The original's load.mnist_with_valid_set: sklearn.utils.shuffle of the 60k training
    # images with lib/rng.py's RandomState(42), the last 10k held out (in that order).
    from sklearn.utils import shuffle

    original_order = shuffle(np.arange(60000), random_state=np.random.RandomState(42))
    train, val = held_out_indices(60000, 10000)
    np.testing.assert_array_equal(val, original_order[50000:])
    np.testing.assert_array_equal(train, np.sort(original_order[:50000]))
    all_training = load_image_data("mnist", mnist_dir, use_test_set=True)
    np.testing.assert_array_equal(mnist_data.val_images, all_training.train_images[val])
    np.testing.assert_array_equal(mnist_data.train_labels, all_training.train_labels[train])
    with pytest.raises(DataError, match="Cannot hold out 0 validation images"):
        held_out_indices(100, 0)


def test_use_test_set(mnist_dir):
    data = load_image_data("mnist", mnist_dir, use_test_set=True)
    assert len(data.train_images) == 60000 and len(data.val_images) == 10000


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="Unknown --dataset 'cifar'"):
        load_image_data("cifar", "/tmp")


def _batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_pipeline_shapes_range_and_epoch_seeding():
    images = np.random.RandomState(0).randint(0, 256, size=(40, 2, 2, 1)).astype(np.uint8)
    labels = np.arange(40, dtype=np.int32)
    full = _batches(training_dataset(images, labels, 8, seed=3, first_epoch=0, last_epoch=3))
    assert len(full) == 3 * 5  # drop_remainder: 5 full batches per epoch
    x, y = full[0]
    assert x.shape == (8, 2, 2, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_allclose(x, images[y] / 255.0, rtol=1e-6)
    epoch_labels = [np.concatenate([b[1] for b in full[5 * e : 5 * e + 5]]) for e in range(3)]
    assert sorted(epoch_labels[0]) == list(range(40))
    assert not np.array_equal(epoch_labels[0], epoch_labels[1])
    # A run resumed at epoch 1 sees exactly the batches of epochs 1 and 2.
    resumed = _batches(training_dataset(images, labels, 8, seed=3, first_epoch=1, last_epoch=3))
    for (xa, ya), (xb, yb) in zip(full[5:], resumed):
        np.testing.assert_array_equal(ya, yb)


def test_network_probe_answers_for_open_and_closed_ports():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert tfds_source.network_reachable("127.0.0.1", port, timeout=2)
    # The port just closed: nothing listens there now.
    assert not tfds_source.network_reachable("127.0.0.1", port, timeout=2)


def test_unprepared_tfds_dataset_fails_fast_without_a_network(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    downloads = []
    real_load = tfds.load

    def recording_load(*args, **kwargs):
        downloads.append(kwargs.get("download"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(tfds, "load", recording_load)
    monkeypatch.setattr(tfds_source, "network_reachable", lambda *a, **k: False)
    with pytest.raises(
        DataError,
        match=r"'mnist' is not prepared in .* cannot be reached to "
        r"download it: .*trainers.prepare_tfds --name=mnist",
    ):
        load_image_data("tfds:mnist", str(tmp_path), num_val=10)
    assert downloads == [False]  # never asked TFDS to download
    with pytest.raises(DataError, match="Unknown TFDS dataset 'no_such_dataset_xyz'"):
        tfds_source.tfds_load("no_such_dataset_xyz", "train", str(tmp_path))


def test_tfds_by_name_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=30):
        data = load_image_data("tfds:mnist", None, num_val=10)
    assert data.train_images.shape == (20, 28, 28, 1) and data.train_images.dtype == np.uint8
    assert data.val_images.shape == (10, 28, 28, 1)
    assert data.train_labels.dtype == np.int32 and data.source == "tfds:mnist"
    ds = training_dataset(data.train_images, data.train_labels, 5, 0, 0, 1)
    assert next(iter(ds))[0].shape == (5, 28, 28, 1)


# ------------------------------------------------------------- DataConfig + load
def test_data_config_round_trips_through_json():
    import json
    from bigan_tf.data import DataConfig
    from bigan_tf.data.preprocessing import Preprocessing

    config = DataConfig(
        "folder",
        "/data/images",
        num_val=50,
        max_train_images=10,
        include_labels=(0, 2),
        preprocessing=Preprocessing(40, 32, 3, True),
        image_check="full",
        bad_images="skip",
        seed=3,
    ).validate()
    assert DataConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.is_streamed and not DataConfig("mnist").is_streamed
    assert DataConfig("tfds:cifar10", preprocessing=Preprocessing(32, 32)).is_streamed
    with pytest.raises(ConfigError, match="another version"):
        DataConfig.from_dict({**config.to_dict(), "colour": "blue"})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(source="cifar"), "Unknown --dataset 'cifar'"),
        (dict(source="tfds:"), "Unknown --dataset"),
        (dict(source="folder"), "needs its folder"),
        (dict(source="list", root="/x"), "--raw_size and --crop_size"),
        (dict(max_train_images=0), "--max_train_images must be >= 1"),
        (dict(include_labels=()), "--include_labels"),
        (dict(image_check="all"), "--image_check"),
    ],
)
def test_data_config_names_the_bad_setting(kwargs, message):
    from bigan_tf.data import DataConfig

    with pytest.raises(ConfigError, match=message):
        DataConfig(**kwargs).validate()


def test_load_selects_labels_and_counts_and_records_its_config(mnist_dir):
    from bigan_tf.data import DataConfig, load

    config = DataConfig("mnist", mnist_dir, use_test_set=True, max_labels=3, max_train_images=500)
    data = load(config)
    assert data.config == config
    assert len(data.train_images) == 500 and data.train_labels.max() == 2
    assert set(np.unique(data.val_labels)) == {0, 1, 2}
    record = data.record()
    assert record["config"]["max_labels"] == 3 and record["num_train"] == 500
    assert record["num_val"] == len(data.val_images)
    # The same images as the split a program without DataConfig reads.
    plain = load_image_data("mnist", mnist_dir, use_test_set=True)
    keep = plain.train_labels < 3
    np.testing.assert_array_equal(data.train_images, plain.train_images[keep][:500])


def test_load_resizes_in_memory_images_to_the_preprocessing(mnist_dir):
    from bigan_tf.data import DataConfig, load
    from bigan_tf.data.preprocessing import Preprocessing

    data = load(
        DataConfig(
            "mnist",
            mnist_dir,
            include_labels=(7,),
            max_train_images=20,
            preprocessing=Preprocessing(32, 32, 3),
        )
    )
    assert data.image_shape == (32, 32, 3) and set(data.train_labels) == {7}
    assert data.config.preprocessing.crop_size == 32


def test_load_streams_an_image_folder(image_tree):
    from bigan_tf.data import DataConfig, load
    from bigan_tf.data.image_files import StreamedImageData
    from bigan_tf.data.preprocessing import Preprocessing

    config = DataConfig(
        "folder",
        str(image_tree),
        preprocessing=Preprocessing(36, 32, 3),
        bad_images="skip",
        num_reference=5,
    )
    data = load(config)
    assert isinstance(data, StreamedImageData) and data.config == config
    assert data.image_shape == (32, 32, 3) and len(data.train_images) == 5
    assert any("broken.jpg" in note for note in data.notes)
    x, y = next(iter(data.training_dataset(4, 0, 0, 1)))
    assert x.shape == (4, 32, 32, 3)
