"""Semi-supervised GAN: K+1 losses by hand, label subsets, the HDF5 loader, end to end."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bigan_tf import losses as L
from bigan_tf.run_dir import read_metrics
from bigan_tf.data import DataConfig, balanced_subset, load, load_image_data
from bigan_tf.networks.layers import BatchNorm, reference_batch_norm
from bigan_tf.data.hdf5 import load_ssgan_hdf5
from bigan_tf.errors import ConfigError, DataError
from bigan_tf.ssgan import (
    SSGAN,
    SSGANConfig,
    build_ssgan_networks,
    confusion_matrix,
    load_trained_ssgan,
    predict_classes,
    ssgan_dataset,
    train_ssgan,
)
from bigan_tf.config import RunConfig
from conftest import REPO_ROOT

SMALL = SSGANConfig(latent_dim=16, generator_units=64, classifier_units=(128, 64))


def test_kplus1_losses_against_hand_computed_values():
    logits = np.array(
        [
            [1.0, 2.0, 0.5, -1.0],  # K = 3 classes + "generated"
            [0.0, 0.0, 0.0, 3.0],
        ],
        np.float32,
    )
    e = np.exp(logits)
    p_fake = e[:, 3] / e.sum(1)
    labels = np.array([1, 2])
    sup = -np.log(e[np.arange(2), labels] / e[:, :3].sum(1))
    np.testing.assert_allclose(L.kplus1_supervised_loss(logits, labels), sup, rtol=1e-5)
    np.testing.assert_allclose(L.kplus1_real_loss(logits, 1.0), -np.log(1 - p_fake), rtol=1e-5)
    smoothed = -0.9 * np.log(1 - p_fake) - 0.1 * np.log(p_fake)
    np.testing.assert_allclose(L.kplus1_real_loss(logits, 0.9), smoothed, rtol=1e-5)
    np.testing.assert_allclose(L.kplus1_fake_loss(logits), -np.log(p_fake), rtol=1e-5)
    np.testing.assert_allclose(L.kplus1_generator_loss(logits), -np.log(1 - p_fake), rtol=1e-5)
    real_f, fake_f = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [2.0, 2.0]])
    # means (2, 3) and (1, 1): (1² + 2²) = 5
    np.testing.assert_allclose(L.feature_matching_loss(real_f, fake_f), 5.0)


def test_labelled_subset_is_balanced_and_deterministic():
    labels = np.repeat(np.arange(10), 50)
    np.random.RandomState(3).shuffle(labels)
    a, b = balanced_subset(labels, 10, seed=4), balanced_subset(labels, 10, seed=4)
    np.testing.assert_array_equal(a, b)
    assert np.bincount(labels[a]).tolist() == [10] * 10 and len(set(a)) == 100
    assert not np.array_equal(a, balanced_subset(labels, 10, seed=5))
    with pytest.raises(DataError, match="only 50 examples"):
        balanced_subset(labels, 51)


def _write_hdf5(folder, images, labels, num_classes=10, ids=None):
    import h5py

    folder.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"{i:05d}" for i in range(len(images))]
    with h5py.File(folder / "data.hdf5", "w") as f:
        for key, image, label in zip(ids, images, labels):
            group = f.create_group(key)
            group["image"] = image
            group["label"] = np.eye(num_classes)[label]
    (folder / "id.txt").write_text("\n".join(ids) + "\n")


def test_hdf5_loader_and_its_errors(small_mnist, tmp_path):
    images, labels = small_mnist.train_images[:40], small_mnist.train_labels[:40]
    _write_hdf5(tmp_path / "u8", images, labels)
    loaded, loaded_labels = load_ssgan_hdf5(str(tmp_path / "u8"))
    np.testing.assert_array_equal(loaded, images)
    np.testing.assert_array_equal(loaded_labels, labels)
    # Float images in [0, 1] come back as the same uint8 values.
    _write_hdf5(tmp_path / "f", images.astype(np.float32) / 255.0, labels)
    np.testing.assert_array_equal(load_ssgan_hdf5(str(tmp_path / "f"))[0], images)
    data = load_image_data("hdf5", str(tmp_path / "u8"))
    assert len(data.val_images) == 4 and len(data.train_images) == 36
    with pytest.raises(DataError, match="No HDF5 data file"):
        load_ssgan_hdf5(str(tmp_path))
    (tmp_path / "u8" / "id.txt").write_text("00000\nnope\n")
    with pytest.raises(DataError, match="line 2: id 'nope' is not in"):
        load_ssgan_hdf5(str(tmp_path / "u8"))
    os.remove(tmp_path / "u8" / "id.txt")
    with pytest.raises(DataError, match="id.txt does not exist"):
        load_ssgan_hdf5(str(tmp_path / "u8"))
    _write_hdf5(tmp_path / "flat", images.reshape(40, -1), labels)
    with pytest.raises(DataError, match=r"expected \[height, width, channels\]"):
        load_ssgan_hdf5(str(tmp_path / "flat"))
    import h5py

    _write_hdf5(tmp_path / "soft", images[:2], labels[:2])
    with h5py.File(tmp_path / "soft" / "data.hdf5", "a") as f:
        del f["00001"]["label"]
        f["00001"]["label"] = np.full(10, 0.5)
    with pytest.raises(DataError, match="must be one-hot"):
        load_ssgan_hdf5(str(tmp_path / "soft"))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "data.hdf5").write_bytes(b"not hdf5")
    (tmp_path / "junk" / "id.txt").write_text("a\n")
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        load_ssgan_hdf5(str(tmp_path / "junk"))


def test_config_validation():
    with pytest.raises(ConfigError, match="label_smoothing"):
        SSGANConfig(label_smoothing=0.3).validate()
    with pytest.raises(ConfigError, match="generator_updates"):
        SSGANConfig(generator_updates=0).validate()
    with pytest.raises(ConfigError, match="classifier_norm must be one of batch, weight"):
        SSGANConfig.for_network("conv", classifier_norm="layer").validate()
    with pytest.raises(ConfigError, match="is for the conv D"):
        SSGANConfig.for_network("mlp", classifier_norm="weight").validate()
    with pytest.raises(ConfigError, match="reference_batch_norm needs D's batch norm"):
        SSGANConfig.for_network(
            "conv", classifier_norm="weight", reference_batch_norm=True
        ).validate()


def test_dataset_pairs_unlabelled_and_labelled_batches(small_mnist):
    index = balanced_subset(small_mnist.train_labels, 2, seed=0)
    batches = list(ssgan_dataset(small_mnist, index, 64, 10, seed=1, first_epoch=0, last_epoch=2))
    assert len(batches) == 2 * (len(small_mnist.train_images) // 64)
    (x_u, _), (x_l, y_l) = batches[0]
    assert x_u.shape == (64, 28, 28, 1) and x_l.shape == (10, 28, 28, 1)  # images, both families
    assert set(y_l.numpy()) <= set(small_mnist.train_labels[index])
    # Resuming at epoch 1 gives the same batches as the uninterrupted stream.
    resumed = list(ssgan_dataset(small_mnist, index, 64, 10, seed=1, first_epoch=1, last_epoch=2))
    np.testing.assert_array_equal(resumed[0][1][0], batches[len(resumed)][1][0])


def test_generator_updates_and_clipping_change_the_step():
    model = SSGAN(SMALL, name="a")
    model.compile_for_training()
    x_u = tf.random.stateless_uniform([8, 784], [1, 1])
    x_l = tf.random.stateless_uniform([4, 784], [2, 2])
    y_l = tf.constant([0, 1, 2, 3])
    logs = model.train_step(((x_u, tf.zeros([8], tf.int32)), (x_l, y_l)))
    assert {"S", "D", "G", "S_acc"} <= set(logs)
    assert int(model.generator_optimizer.iterations) == 1
    twice = SSGAN(
        SSGANConfig(
            **{
                **SMALL.to_dict(),
                "image_shape": (28, 28, 1),
                "classifier_units": (128, 64),
                "generator_updates": 2,
                "clip_norm": 1.0,
            }
        ),
        name="b",
    )
    twice.compile_for_training()
    twice.train_step(((x_u, tf.zeros([8], tf.int32)), (x_l, y_l)))
    assert int(twice.generator_optimizer.iterations) == 2
    # Checkpoints count training steps, not G updates (a stopped run resumes in place).
    from bigan_tf.checkpoints import TrainingCheckpoint

    assert TrainingCheckpoint(twice, tempfile.mkdtemp()).step == 1


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3)])
def test_conv_networks_have_the_ssgan_tensorflow_sizes(image_shape):
    config = SSGANConfig.for_network("conv", image_shape=image_shape)
    assert (config.latent_dim, config.learning_rate, config.clip_norm) == (128, 1e-4, 20.0)
    assert not config.feature_matching and SSGANConfig.for_network("mlp").feature_matching
    classifier, generator = build_ssgan_networks(config)
    images = generator(tf.random.stateless_uniform([4, 128], [1, 2], -1, 1), training=True)
    assert images.shape == (4, *image_shape)
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    out = classifier(images, training=False)
    assert out["logits"].shape == (4, 11) and out["features"].shape == (4, 64)
    # D: five 3x3 stride-2 convolutions, 32..256 channels, to 1x1; G: 1024 -> 512 .. 32.
    assert classifier.widths == (32, 64, 128, 256, 256)
    assert [getattr(generator, f"conv{i + 1}").filters for i in range(5)] == [512, 256, 128, 64, 32]
    flat = classifier(tf.reshape(images, [4, -1]), training=False)["logits"]
    np.testing.assert_array_equal(flat.numpy(), out["logits"].numpy())


def test_small_map_convolution_is_conv2d():
    import keras
    from bigan_tf.networks.ssgan_conv import SmallMapConv2D

    small, reference = SmallMapConv2D(8, 3), keras.layers.Conv2D(8, 3, padding="same")
    for shape in ([3, 2, 2, 16], [3, 5, 4, 16]):
        x = tf.random.stateless_normal(shape, [3, 4])
        small(x), reference(x)
        reference.set_weights(small.get_weights())
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            a, b = small(x), reference(x)
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
        np.testing.assert_allclose(
            tape.gradient(a, x).numpy(), tape.gradient(b, x).numpy(), atol=1e-4
        )


def test_weight_norm_convolution_is_a_convolution_with_unit_filters_times_gains():
    from bigan_tf.networks.ssgan_conv import WeightNormConv2D

    layer = WeightNormConv2D(6, 3, strides=2, padding="same")
    x = tf.random.stateless_normal([2, 8, 8, 4], [1, 2])
    layer(x)
    layer.gain.assign(tf.range(1.0, 7.0))
    layer.bias.assign(tf.fill([6], 0.5))
    v = layer.kernel.numpy()
    w = v / np.sqrt((v**2).sum(axis=(0, 1, 2))) * np.arange(1.0, 7.0)
    expected = tf.nn.conv2d(x, w, strides=2, padding="SAME") + 0.5
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    layer.kernel.assign(3.0 * v)  # only the direction of v counts
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_weight_normalised_conv_classifier_has_no_batch_norm_and_seeded_noise():
    from bigan_tf.networks.layers import batch_norm_layers
    from bigan_tf.networks.ssgan_conv import ConvKPlusOneClassifier, WeightNormConv2D

    config = SSGANConfig.for_network("conv", classifier_norm="weight")
    classifier, _ = build_ssgan_networks(config)
    x = tf.random.stateless_uniform([4, 28, 28, 1], [3, 4])
    out = classifier(x, training=False)
    assert out["logits"].shape == (4, 11) and out["features"].shape == (4, 64)
    assert not batch_norm_layers(classifier) and classifier.widths == (32, 64, 128, 256, 256)
    assert all(isinstance(getattr(classifier, f"conv{i + 1}"), WeightNormConv2D) for i in range(5))
    assert sum("gain" in v.path for v in classifier.trainable_variables) == 7
    seed, other = tf.constant([1, 2], tf.int64), tf.constant([1, 3], tf.int64)
    noisy = classifier(x, training=True, seed=seed)["logits"].numpy()
    np.testing.assert_array_equal(noisy, classifier(x, training=True, seed=seed)["logits"])
    assert np.abs(noisy - classifier(x, training=True, seed=other)["logits"]).max() > 1e-3
    np.testing.assert_array_equal(out["logits"], classifier(x, training=False)["logits"])
    # Without noise, training and inference mode are one function (no batch statistics).
    quiet = ConvKPlusOneClassifier(
        10, (28, 28, 1), normalization="weight", input_noise=0.0, hidden_noise=0.0
    )
    np.testing.assert_allclose(
        quiet(x, training=True, seed=seed)["logits"], quiet(x, training=False)["logits"], atol=1e-6
    )


def test_weight_normalised_classifier_is_initialised_from_data():
    """Each layer's pre-activations over the init batch: zero mean, unit variance per
    channel (the logits 0.1), computed in order through the initialised layers."""
    from bigan_tf.networks.ssgan_conv import ConvKPlusOneClassifier

    classifier = ConvKPlusOneClassifier(10, (28, 28, 1), normalization="weight")
    x = tf.random.stateless_uniform([64, 28, 28, 1], [5, 6]) ** 3
    classifier(x)
    classifier.initialize_from_data(x)
    h = 2.0 * x - 1.0
    layers = [getattr(classifier, f"conv{i + 1}") for i in range(5)]
    for layer in layers + [classifier.features_conv, classifier.logits_conv]:
        mean, variance = tf.nn.moments(layer(h), [0, 1, 2])
        scale = 0.1 if layer is classifier.logits_conv else 1.0
        np.testing.assert_allclose(mean.numpy(), 0.0, atol=1e-4 * scale + 1e-5)
        np.testing.assert_allclose(np.sqrt(variance.numpy()), scale, rtol=1e-3)
        h = tf.nn.leaky_relu(layer(h), 0.2)
    # The batch-norm D has nothing to initialise.
    plain = ConvKPlusOneClassifier(10, (28, 28, 1))
    plain(x)
    before = [w.numpy() for w in plain.weights]
    plain.initialize_from_data(x)
    for a, b in zip(before, plain.weights):
        np.testing.assert_array_equal(a, b.numpy())


def test_weight_normalised_conv_family_trains_restores_and_exports(ssgan_run, tmp_path):
    data = ssgan_run["data"].take(num_train=200, num_val=100)
    config = SSGANConfig.for_network(
        "conv", latent_dim=16, classifier_norm="weight", feature_matching=True
    )
    exp_dir = str(tmp_path / "weight_norm")
    trained = train_ssgan(
        tf.distribute.get_strategy(),
        data,
        config,
        5,
        1,
        RunConfig(exp_dir=exp_dir, batch_size=100, verbose=0),
        print_fn=lambda s: None,
    )["model"]
    model, record, epoch = load_trained_ssgan(exp_dir)
    assert epoch == 1 and record["ssgan"]["classifier_norm"] == "weight"
    for a, b in zip(trained.classifier.weights, model.classifier.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)  # gains too
    from bigan_tf.export.exporters import export_ssgan_saved_model

    exported = tf.saved_model.load(
        export_ssgan_saved_model(model, str(tmp_path / "export"), record=record, epoch=epoch)
    )
    images = data.val_images[:16].astype(np.float32) / 255.0
    np.testing.assert_array_equal(
        exported.signatures["classify"](images=tf.constant(images))["classes"].numpy(),
        predict_classes(model, data.val_images[:16]),
    )


def test_conv_batch_norm_statistics_come_from_each_networks_first_real_call():
    """D's moving statistics from the unlabelled real batch only (not the labelled or the
    generated one), G's from its first call of the step (not the G updates' calls)."""
    model = SSGAN(SSGANConfig.for_network("conv", latent_dim=8), name="bn")
    model.compile_for_training()
    x_u = tf.random.stateless_uniform([8, 28, 28, 1], [1, 1])
    x_l = tf.random.stateless_uniform([4, 28, 28, 1], [2, 2])
    d, g = model.classifier, model.generator
    first_d = tf.nn.leaky_relu(d.conv1(2.0 * x_u - 1.0), 0.2)
    z = model._noise(8, 0)
    h = tf.nn.leaky_relu(g.fc(z), 0.2)[:, None, None, :]
    first_g = tf.nn.relu(g.conv1(g.upsample1(h)))
    model.train_step(((x_u, tf.zeros([8], tf.int32)), (x_l, tf.constant([0, 1, 2, 3]))))
    # Keras's update from zero: moving = 0.99 * 0 + 0.01 * batch mean.
    np.testing.assert_allclose(
        d.norm1.moving_mean.numpy(), 0.01 * tf.reduce_mean(first_d, [0, 1, 2]).numpy(), atol=1e-6
    )
    np.testing.assert_allclose(
        g.norm1.moving_mean.numpy(), 0.01 * tf.reduce_mean(first_g, [0, 1, 2]).numpy(), atol=1e-6
    )


def test_reference_batch_norm_normalises_later_batches_with_the_first_ones_moments():
    layer = BatchNorm(epsilon=1e-3)
    first = tf.random.stateless_normal([16, 3], [1, 2]) * 2.0 + 5.0
    later = tf.random.stateless_normal([4, 3], [3, 4])
    layer(first, training=False)  # built
    with reference_batch_norm(layer):
        layer(first, training=True)
        out = layer(later, training=True)
    mean, variance = tf.nn.moments(first, [0])
    np.testing.assert_allclose(
        out.numpy(), ((later - mean) / tf.sqrt(variance + 1e-3)).numpy(), rtol=1e-5, atol=1e-5
    )
    # Only the first call moved the averages (Keras's rule: 0.99 * 0 + 0.01 * mean).
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * mean.numpy(), rtol=1e-5)
    # Outside the context every call has its own statistics again.
    alone = layer(later, training=True).numpy()
    np.testing.assert_allclose(alone.mean(0), 0.0, atol=1e-5)


@pytest.mark.parametrize("reference", [True, False])
def test_a_collapsed_generator_gets_a_gradient_only_with_reference_batch_norm(reference):
    """G(z) identical for the whole batch: with per-batch statistics D's last batch norm
    (a 1x1 map, so zero variance) outputs its offset whatever the image, and G's loss
    has no gradient; normalised by the real batch's statistics it has one."""
    model = SSGAN(
        SSGANConfig.for_network("conv", latent_dim=8, reference_batch_norm=reference),
        name="collapse",
    )
    x_u = tf.random.stateless_uniform([16, 28, 28, 1], [5, 6])
    collapsed = tf.Variable(tf.fill([16, 28, 28, 1], 0.3))
    with tf.GradientTape() as tape:
        with model._normalized_by_real():
            model.classifier(x_u, training=True)
            logits = model.classifier(collapsed, training=True)["logits"]
        loss = tf.reduce_mean(L.kplus1_generator_loss(logits))
    gradient = tf.reduce_max(tf.abs(tape.gradient(loss, collapsed))).numpy()
    assert (gradient > 1e-4) if reference else (gradient < 1e-6), gradient


def test_supervised_only_trains_the_classifier_alone():
    model = SSGAN(
        SSGANConfig(
            **{
                **SMALL.to_dict(),
                "image_shape": (28, 28, 1),
                "classifier_units": (128, 64),
                "unsupervised_weight": 0.0,
            }
        ),
        name="supervised",
    )
    model.compile_for_training()
    before = [w.numpy() for w in model.generator.weights]
    x = tf.random.stateless_uniform([8, 28, 28, 1], [1, 1])
    logs = model.train_step(((x, tf.zeros([8], tf.int32)), (x[:4], tf.constant([0, 1, 2, 3]))))
    assert set(logs) == {"S", "S_acc"}
    assert int(model.discriminator_optimizer.iterations) == 1
    assert int(model.generator_optimizer.iterations) == 0
    for a, b in zip(before, model.generator.weights):
        np.testing.assert_array_equal(a, b.numpy())


def test_conv_family_trains_evaluates_and_resumes_exactly(ssgan_run, tmp_path):
    data = ssgan_run["data"].take(num_train=400, num_val=200)
    config = SSGANConfig.for_network("conv", latent_dim=16)
    run = lambda epochs, name: train_ssgan(  # noqa: E731
        tf.distribute.get_strategy(),
        data,
        config,
        5,
        epochs,
        RunConfig(exp_dir=str(tmp_path / name), batch_size=100, verbose=0),
        print_fn=lambda s: None,
    )
    straight = run(2, "straight")
    exp_dir = str(tmp_path / "straight")
    assert [r["epoch"] for r in read_metrics(exp_dir)] == [0, 1, 2]
    assert 0.0 <= read_metrics(exp_dir)[-1]["metrics"]["ACC"] <= 100.0
    with Image.open(os.path.join(exp_dir, "training.gif")) as gif:
        assert gif.n_frames == 3 and gif.size == (280, 280 + 20)  # the grid under its epoch caption
    model, record, epoch = load_trained_ssgan(exp_dir)
    assert epoch == 2 and record["ssgan"]["network"] == "conv"
    assert isinstance(model.classifier, type(straight["model"].classifier))
    for a, b in zip(straight["model"].classifier.weights, model.classifier.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # incl. batch-norm statistics
    # Exported like the MLP family: the SavedModel classifies as the trained model does.
    from bigan_tf.export.exporters import export_ssgan_saved_model

    exported = tf.saved_model.load(
        export_ssgan_saved_model(model, str(tmp_path / "export"), record=record, epoch=epoch)
    )
    images = data.val_images[:16].astype(np.float32) / 255.0
    out = exported.signatures["classify"](images=tf.constant(images))
    np.testing.assert_array_equal(
        out["classes"].numpy(), predict_classes(model, data.val_images[:16])
    )
    assert out["probabilities"].shape == (16, 10) and out["logits"].shape == (16, 11)
    z = tf.random.stateless_uniform([3, 16], [1, 2], -1.0, 1.0)
    np.testing.assert_allclose(
        exported.signatures["generate"](z=z)["images"].numpy(),
        model.generator(z, training=False).numpy(),
        atol=1e-5,
    )
    run(1, "resumed")
    resumed = run(2, "resumed")  # the same call again continues the run
    assert [r["epoch"] for r in read_metrics(str(tmp_path / "resumed"))] == [0, 1, 2]
    for a, b in zip(straight["model"].weights, resumed["model"].weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


@pytest.fixture(scope="module")
def ssgan_run(mnist_dir, tmp_path_factory):
    # Loaded from a DataConfig, which the run records for trainers.eval_ssgan.
    data = load(DataConfig("mnist", mnist_dir, use_test_set=True)).take(
        num_train=3000, num_val=1000
    )
    exp_dir = str(tmp_path_factory.mktemp("ssgan") / "exp")
    result = train_ssgan(
        tf.distribute.get_strategy(),
        data,
        SSGANConfig(),
        10,
        2,
        RunConfig(exp_dir=exp_dir, batch_size=100, verbose=0),
        print_fn=lambda s: None,
    )
    return {"result": result, "exp_dir": exp_dir, "data": data}


def test_end_to_end_on_real_mnist(ssgan_run):
    exp_dir = ssgan_run["exp_dir"]
    records = read_metrics(exp_dir)
    assert [r["epoch"] for r in records] == [0, 1, 2]
    assert records[-1]["metrics"]["ACC"] > 50.0  # 100 labels, 2 short epochs: far above 10%
    assert {"S", "D", "G"} <= set(records[-1]["losses"])
    for name in ("real.png", "0.png", "2.png"):
        assert os.path.exists(os.path.join(exp_dir, "samples", name))
    config = json.load(open(os.path.join(exp_dir, "config.json")))
    labelled = np.array(config["labelled_index"])
    assert np.bincount(ssgan_run["data"].train_labels[labelled]).tolist() == [10] * 10
    model, record, epoch = load_trained_ssgan(exp_dir)
    assert epoch == 2 and record["labels_per_class"] == 10
    predicted = predict_classes(model, ssgan_run["data"].val_images)
    accuracy = 100 * np.mean(predicted == ssgan_run["data"].val_labels)
    assert accuracy == pytest.approx(records[-1]["metrics"]["ACC"], abs=1e-6)
    matrix = confusion_matrix(ssgan_run["data"].val_labels, predicted, 10)
    assert matrix.sum() == 1000 and np.trace(matrix) == round(accuracy * 10)


def test_resume_and_eval_command_line(ssgan_run, mnist_dir, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    evaluated = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.eval_ssgan",
            f"--checkpoint={ssgan_run['exp_dir']}",
            f"--output_dir={tmp_path}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    results = json.load(open(tmp_path / "results.json"))
    assert results["epoch"] == 2 and results["num_test"] == 10000
    assert Image.open(tmp_path / "confusion.png").size == (630, 612)  # matplotlib, 10 classes
    trained = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.train_ssgan",
            f"--data_dir={mnist_dir}",
            f"--exp_dir={tmp_path / 'run'}",
            "--epochs=1",
            "--labels_per_class=5",
            "--max_train_images=300",
            "--generator_updates=2",
            "--clip_norm=5",
            "--reconstruction_weight=0.5",
            "--verbose=0",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "ACC:" in trained.stdout
    config = json.load(open(tmp_path / "run" / "config.json"))
    assert config["ssgan"]["network"] == "conv" and config["ssgan"]["latent_dim"] == 128
    assert config["ssgan"]["clip_norm"] == 5 and config["data"]["num_train"] == 300
    assert config["ssgan"]["feature_matching"] is False  # the conv family's default
    assert config["ssgan"]["reference_batch_norm"] is False
    assert config["data"]["config"]["source"] == "mnist"
    assert config["data"]["config"]["root"] == os.path.abspath(mnist_dir)
    assert config["data"]["config"]["max_train_images"] == 300
    # A run recorded before DataConfig (data.source + data.data_dir) evaluates the same.
    old = tmp_path / "old_run"
    shutil.copytree(ssgan_run["exp_dir"], old)
    record = json.load(open(old / "config.json"))
    record["data"] = {"source": "mnist", "data_dir": mnist_dir, "num_train": 3000}
    json.dump(record, open(old / "config.json", "w"))
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.eval_ssgan",
            f"--checkpoint={old}",
            f"--output_dir={tmp_path / 'old_eval'}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert (
        json.load(open(tmp_path / "old_eval" / "results.json"))["test_accuracy"]
        == results["test_accuracy"]
    )
    # The MLP family through the exporter's command line.
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.export_saved_model",
            f"--exp_dir={ssgan_run['exp_dir']}",
            f"--output={tmp_path / 'mlp_export'}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    meta = json.load(open(tmp_path / "mlp_export" / "bigan_tf.json"))
    assert meta["format"] == "bigan_tf.ssgan_saved_model" and meta["epoch"] == 2
    assert meta["signatures"]["classify"]["outputs"]["probabilities"] == [None, 10]
    module = tf.saved_model.load(str(tmp_path / "mlp_export"))
    images = ssgan_run["data"].val_images[:8].astype(np.float32) / 255.0
    model, _, _ = load_trained_ssgan(ssgan_run["exp_dir"])
    np.testing.assert_array_equal(
        module.signatures["serving_default"](images=tf.constant(images))["classes"].numpy(),
        predict_classes(model, ssgan_run["data"].val_images[:8]),
    )
    assert module.signatures["generate"](z=tf.zeros([2, 100]))["images"].shape == (2, 28, 28, 1)
    bad = subprocess.run(
        [sys.executable, "-m", "trainers.eval_ssgan", f"--checkpoint={tmp_path / 'none'}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "eval_ssgan: error:" in bad.stderr


def test_resume_continues(ssgan_run, tmp_path):
    data = ssgan_run["data"].take(num_train=1000, num_val=200)
    run = lambda epochs, resume=None: train_ssgan(  # noqa: E731
        tf.distribute.get_strategy(),
        data,
        SMALL,
        5,
        epochs,
        RunConfig(
            exp_dir=str(tmp_path / "r"), batch_size=100, verbose=0, resume=resume, save_interval=1
        ),
        print_fn=lambda s: None,
    )
    straight = run(2)["model"]
    straight_weights = [w.numpy() for w in straight.classifier.weights]
    # As if killed before ckpt-2 was written (a lone data file would be an error).
    for name in os.listdir(tmp_path / "r" / "checkpoints"):
        if name.startswith("ckpt-2."):
            os.remove(tmp_path / "r" / "checkpoints" / name)
    resumed = run(2, resume="latest")["model"]
    for a, b in zip(straight_weights, resumed.classifier.weights):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["svhn_cropped", "cifar10"])
def test_conv_family_on_the_readmes_tfds_datasets(name, tmp_path):
    """--dataset=tfds:svhn_cropped / tfds:cifar10 (TFDS's mock data: 32x32x3, 10 classes)."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40):
        data = load_image_data(f"tfds:{name}", None, use_test_set=True)
    assert data.image_shape == (32, 32, 3) and data.num_classes == 10
    result = train_ssgan(
        tf.distribute.get_strategy(),
        data,
        SSGANConfig.for_network("conv", latent_dim=16),
        2,
        1,
        RunConfig(exp_dir=str(tmp_path / name), batch_size=20, verbose=0),
        print_fn=lambda s: None,
    )
    assert result["epoch"] == 1 and result["model"].generator.image_shape == (32, 32, 3)
    grid = Image.open(tmp_path / name / "samples" / "1.png")
    assert grid.size == (320, 320) and grid.mode == "RGB"  # 10 x 10 colour samples
    with Image.open(tmp_path / name / "training.gif") as gif:
        assert gif.n_frames == 2
