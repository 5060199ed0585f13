"""Splits, the epoch-seeded tf.data pipeline, and TFDS loading (mocked, offline)."""

import socket

import numpy as np
import pytest

from bigan_tf.data import load_image_data, split_validation, training_dataset, tfds_source
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
    assert x.shape == (8, 4) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_allclose(x, images[y].reshape(8, 4) / 255.0, rtol=1e-6)
    epoch_labels = [np.concatenate([b[1] for b in full[5 * e:5 * e + 5]]) for e in range(3)]
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
    with pytest.raises(DataError, match=r"'mnist' is not prepared in .* cannot be reached to "
                                        r"download it: .*trainers.prepare_tfds --name=mnist"):
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
    assert next(iter(ds))[0].shape == (5, 784)
