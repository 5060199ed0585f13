"""Exports and transfer: SavedModel signatures, the TF-Hub module, its three loaders,
Keras-native saving, export safety, and the fine-tuning trainer end to end."""

import glob
import json
import logging
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import BiGAN, EvaluationConfig, NetworkConfig, OptimizerConfig
from bigan_tf import objective_from_preset
from bigan_tf.run_dir import read_metrics
from bigan_tf.checkpoints import load_trained_model
from bigan_tf.data import balanced_subset, load_image_data
from bigan_tf.errors import CheckpointError, ConfigError, DataError
from bigan_tf.hub import EncoderLayer, ExportError
from bigan_tf.interrupts import TrainingInterrupted
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import train
from bigan_tf.transfer import parse_mode, train_classifier
from conftest import REPO_ROOT
from bigan_tf.export import exporters as export_lib

NET = NetworkConfig(hidden_units=32, latent_dim=8)
WEIGHT_DECAY = 2.5e-5


@pytest.fixture(scope="module")
def trained(small_mnist, tmp_path_factory):
    """A BiGAN trained one epoch on real MNIST, restored from its checkpoint."""
    exp_dir = str(tmp_path_factory.mktemp("exp"))
    train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NET,
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=1, decay_epochs=0, weight_decay=WEIGHT_DECAY),
            evaluation=EvaluationConfig(
                num_val=100,
                num_train_reference=256,
                num_generated=200,
                cls_steps=5,
                num_sample_images=20,
            ),
            run=RunConfig(exp_dir=exp_dir, batch_size=64, seed=3, verbose=0),
        ),
        small_mnist,
        print_fn=lambda s: None,
    )
    return load_trained_model(exp_dir)


@pytest.fixture(scope="module")
def hub_dir(trained, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("exports") / "hub")
    export_lib.export_hub_module(
        trained.model, trained.network, out, "features", WEIGHT_DECAY, trained=trained
    )
    return out


@pytest.fixture(scope="module")
def saved_model_dir(trained, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("exports") / "saved_model")
    export_lib.export_saved_model(trained.model, trained.network, out, trained=trained)
    return out


@pytest.fixture(scope="module")
def images(small_mnist):
    return small_mnist.val_images[:32].astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def labels(small_mnist):
    return small_mnist.val_labels[:32].astype(np.int32)


def _encoder_outputs(model, images):
    return {
        k: v.numpy()
        for k, v in model.encoder(images.reshape(len(images), -1), training=False).items()
    }


# ----------------------------------------------------------------- the hub module
def test_hub_module_matches_the_encoder_and_follows_the_contract(trained, hub_dir, images):
    module = tf.saved_model.load(hub_dir)
    expected = _encoder_outputs(trained.model, images)
    features = module(images).numpy()
    assert features.shape == (32, 32)  # [batch, num_features]: hidden_units "e-" features
    assert np.abs(features - expected["features"]).max() <= 1e-5
    assert np.abs(module.latent(images).numpy() - expected["latent"]).max() <= 1e-5
    assert np.abs(module.features(images, training=False).numpy() - features).max() == 0
    # Only what the features use: hidden1, hidden2 and norm2's moving statistics.
    names = sorted(v.name for v in module.variables)
    assert len(module.variables) == 4 and len(module.trainable_variables) == 2, names
    kernels = [v for v in module.trainable_variables]
    expected_decay = WEIGHT_DECAY * sum(float(tf.reduce_sum(k**2)) / 2 for k in kernels)
    (reg,) = module.regularization_losses
    assert reg().numpy() == pytest.approx(expected_decay, rel=1e-5)
    # The training trace exists: batch statistics and a moving-average update.
    moving = [v for v in module.variables if not v.trainable]
    before = [v.numpy().copy() for v in moving]
    train_out = module(images, training=True).numpy()
    assert np.abs(train_out - features).max() > 1e-4
    assert any(np.abs(v.numpy() - b).max() > 0 for v, b in zip(moving, before))

    meta = json.load(open(os.path.join(hub_dir, "bigan_tf.json")))
    assert meta["input"] == {
        "dtype": "float32",
        "shape": [None, 28, 28, 1],
        "range": [0.0, 1.0],
        "layout": "NHWC",
    }
    assert meta["output"] == {"name": "features", "size": 32, "source": "encoder"}
    assert meta["epoch"] == 1 and meta["last_evaluation"]["epoch"] == 1
    assert "NNC_e-" in meta["last_evaluation"]["metrics"]
    assert meta["training_config"]["objective"]["joint_discrim_weight"] == 1
    assert [layer["name"] for layer in meta["layers"]] == ["hidden1", "hidden2"]


def test_exports_load_without_gradient_warnings_and_keep_the_gradient(
    trained, hub_dir, saved_model_dir, images
):
    """Exports are traced single-replica (no cross-replica all-reduce in batch norm, whose
    custom gradient cannot be saved): loading one logs no "unsaved custom gradients"
    warning, the training-mode gradient is the live encoder's, and the model's batch
    norms are synchronized again afterwards."""
    from bigan_tf.networks import batch_norm_layers, frozen_batch_statistics

    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("absl")  # where TF's SavedModel loader logs
    logger.addHandler(handler)
    try:
        module = tf.saved_model.load(hub_dir)
        tf.saved_model.load(saved_model_dir)
    finally:
        logger.removeHandler(handler)
    assert not [m for m in messages if "custom gradients" in m], messages[:3]
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        exported = tf.reduce_sum(module(x, training=True) ** 2)
    with tf.GradientTape() as tape_live, frozen_batch_statistics(trained.model.encoder):
        tape_live.watch(x)
        live = tf.reduce_sum(trained.model.encoder(x, training=True)["features"] ** 2)
    np.testing.assert_allclose(
        tape.gradient(exported, x), tape_live.gradient(live, x), rtol=1e-4, atol=1e-5
    )
    layers = batch_norm_layers(*trained.model.networks)
    assert layers and all(layer.synchronized for layer in layers)


def test_latent_root_and_plain_gan_exports(tmp_path, images):
    keras.utils.set_random_seed(1)
    bigan = BiGAN.from_config_objects(NET, objective_from_preset("bigan"))
    out = export_lib.export_hub_module(bigan, NET, str(tmp_path / "z"), "latent", WEIGHT_DECAY)
    module = tf.saved_model.load(out)
    expected = _encoder_outputs(bigan, images)["latent"]
    assert np.abs(module(images).numpy() - expected).max() <= 1e-5
    assert module(images).shape == (32, NET.latent_dim)

    # The plain GAN has no encoder: its module is D's penultimate features.
    gan = BiGAN.from_config_objects(NET, objective_from_preset("gan"))
    out = export_lib.export_hub_module(gan, NET, str(tmp_path / "gan"))
    module = tf.saved_model.load(out)
    expected = gan.discriminator(images.reshape(32, -1), training=False)["features"].numpy()
    assert np.abs(module(images).numpy() - expected).max() <= 1e-5
    assert not hasattr(module, "latent")
    with pytest.raises(ValueError, match="no encoder"):
        export_lib.export_hub_module(gan, NET, str(tmp_path / "gan_z"), "latent")
    saved = tf.saved_model.load(export_lib.export_saved_model(gan, NET, str(tmp_path / "gan_sm")))
    assert "reconstruct" not in saved.signatures
    assert set(saved.signatures["discriminate"](images=images)) == {"logits", "probabilities"}


# --------------------------------------------------------------- the SavedModel
def test_serving_signatures_refuse_pixels_outside_the_contract(saved_model_dir, hub_dir, images):
    sigs = tf.saved_model.load(saved_model_dir).signatures
    hub_default = tf.saved_model.load(hub_dir).signatures["serving_default"]
    nan = images.copy()
    nan[0, 0, 0, 0] = np.nan
    for bad, message in (
        (images * 255.0, "Pixel values above 1"),
        (images - 0.5, "Pixel values below 0"),
        (nan, "NaN or infinite"),
    ):
        for call in (
            lambda x: sigs["encode"](images=x),
            lambda x: sigs["reconstruct"](images=x),
            lambda x: hub_default(images=x),
        ):
            with pytest.raises(
                tf.errors.InvalidArgumentError,
                match=f"{message}.*float32 images \\[batch, 28, 28, 1\\] with values in \\[0, 1\\]",
            ):
                call(tf.constant(bad))
    # The fine-tuning call stays unchecked (and fast).
    assert tf.saved_model.load(hub_dir)(tf.constant(images * 255.0)).shape[0] == len(images)


def test_saved_model_signatures_match_the_networks(trained, saved_model_dir, images):
    sigs = tf.saved_model.load(saved_model_dir).signatures
    assert set(sigs) == {"serving_default", "encode", "generate", "reconstruct", "discriminate"}
    model = trained.model
    expected = _encoder_outputs(model, images)
    encoded = sigs["encode"](images=tf.constant(images))
    assert np.abs(encoded["latent"].numpy() - expected["latent"]).max() <= 1e-5
    assert np.abs(encoded["features"].numpy() - expected["features"]).max() <= 1e-5
    default = sigs["serving_default"](images=tf.constant(images))
    assert np.abs(default["latent"].numpy() - expected["latent"]).max() <= 1e-5

    z = np.random.RandomState(0).uniform(-1, 1, (5, NET.latent_dim)).astype(np.float32)
    generated = sigs["generate"](z=tf.constant(z))["images"].numpy()
    assert generated.shape == (5, 28, 28, 1) and 0 <= generated.min() and generated.max() <= 1
    g = model.generator(z, training=False).numpy().reshape(5, 28, 28, 1)
    assert np.abs(generated - g).max() <= 1e-5

    recon = sigs["reconstruct"](images=tf.constant(images))
    g_of_e = model.generator(expected["latent"], training=False).numpy().reshape(-1, 28, 28, 1)
    assert np.abs(recon["images"].numpy() - g_of_e).max() <= 1e-5

    scores = sigs["discriminate"](images=tf.constant(images), z=tf.constant(expected["latent"]))
    logits = model.joint_discriminator(images.reshape(32, -1), expected["latent"], training=False)[
        "logits"
    ].numpy()
    assert np.abs(scores["logits"].numpy() - logits).max() <= 1e-5
    np.testing.assert_allclose(
        scores["probabilities"].numpy(), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6
    )
    meta = json.load(open(os.path.join(saved_model_dir, "bigan_tf.json")))
    assert meta["signatures"]["generate"] == {
        "inputs": {"z": [None, 8]},
        "outputs": {"images": [None, 28, 28, 1]},
    }


_FRESH_PROCESS = r"""
import sys, numpy as np, tensorflow as tf, tensorflow_hub as hub
hub_dir, sm_dir, images_path, out_path = sys.argv[1:]
images = np.load(images_path)
module = hub.load(hub_dir)
sigs = tf.saved_model.load(sm_dir).signatures
np.savez(out_path, features=module(images).numpy(), latent=module.latent(images).numpy(),
         encode=sigs["encode"](images=tf.constant(images))["latent"].numpy(),
         served=tf.saved_model.load(hub_dir).signatures["serving_default"](
             images=tf.constant(images))["default"].numpy())
assert not any(name.startswith(("bigan_tf", "export")) for name in sys.modules), "imported us"
"""


def test_a_fresh_process_with_only_tensorflow_and_hub_gets_the_same_numbers(
    trained, hub_dir, saved_model_dir, images, tmp_path
):
    np.save(tmp_path / "images.npy", images)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _FRESH_PROCESS,
            hub_dir,
            saved_model_dir,
            str(tmp_path / "images.npy"),
            str(tmp_path / "out.npz"),
        ],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    expected = _encoder_outputs(trained.model, images)
    for key, ref in (
        ("features", "features"),
        ("served", "features"),
        ("latent", "latent"),
        ("encode", "latent"),
    ):
        assert np.abs(out[key] - expected[ref]).max() <= 1e-5, key


# ------------------------------------------------------------------ the loaders
def _fit_few_steps(model, images, labels, steps=3):
    for i in range(steps):
        model.train_on_batch(images, labels)


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def _changed(variables, before):
    return [bool(np.abs(np.asarray(v.numpy()) - b).max() > 0) for v, b in zip(variables, before)]


def _keras3_classifier(layer):
    model = keras.Sequential([keras.Input((28, 28, 1)), layer, keras.layers.Dense(10)])
    model.compile(
        keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


@pytest.mark.parametrize("trainable", [True, False])
def test_keras3_encoder_layer_follows_hub_keras_layer_semantics(hub_dir, images, labels, trainable):
    layer = EncoderLayer(hub_dir, trainable=trainable)
    model = _keras3_classifier(layer)
    kernels = [w for w in layer.weights if "kernel" in w.name]
    moving = [w for w in layer.weights if "moving" in w.name]
    assert len(kernels) == 2 and len(moving) == 2
    k0, m0 = _snapshot(kernels), _snapshot(moving)
    model(images, training=True)
    assert len(model.losses) == (1 if trainable else 0)
    if trainable:
        assert float(model.losses[0]) > 0
    _fit_few_steps(model, images, labels)
    assert _changed(kernels, k0) == [trainable] * 2
    assert _changed(moving, m0) == [trainable] * 2
    # Inference never moves the statistics.
    m1 = _snapshot(moving)
    model.predict(images, verbose=0)
    assert _changed(moving, m1) == [False, False]


def test_keras3_encoder_layer_freezes_the_first_layers(hub_dir, images, labels):
    layer = EncoderLayer(hub_dir, trainable=True, frozen_layers=1)
    model = _keras3_classifier(layer)
    meta = json.load(open(os.path.join(hub_dir, "bigan_tf.json")))
    paths = meta["variable_paths"]
    module_vars = list(layer._module.variables)
    by_path = {
        paths[i]: w for i, v in enumerate(module_vars) for w in layer.weights if w.value is v
    }
    hidden1, hidden2 = by_path["encoder/hidden1/kernel"], by_path["encoder/hidden2/kernel"]
    assert not hidden1.trainable and hidden2.trainable
    before = _snapshot([hidden1, hidden2])
    _fit_few_steps(model, images, labels)
    assert _changed([hidden1, hidden2], before) == [False, True]
    with pytest.raises(ExportError, match="has 2 layers"):
        EncoderLayer(hub_dir, trainable=True, frozen_layers=3)


def test_keras_model_with_the_encoder_layer_round_trips(hub_dir, images, labels, tmp_path):
    model = _keras3_classifier(EncoderLayer(hub_dir, trainable=True))
    _fit_few_steps(model, images, labels)  # fine-tuned values must survive, not the export's
    path = str(tmp_path / "classifier.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(
        reloaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6
    )
    assert isinstance(reloaded.layers[0], EncoderLayer) and reloaded.layers[0].trainable
    _fit_few_steps(reloaded, images, labels, steps=1)  # and it keeps training
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.saving.load_model(path)


@pytest.mark.parametrize("trainable", [True, False])
def test_hub_keras_layer_in_tf_keras(hub_dir, images, labels, trainable):
    import tensorflow_hub as hub
    import tf_keras

    layer = hub.KerasLayer(hub_dir, trainable=trainable)
    model = tf_keras.Sequential([tf_keras.Input((28, 28, 1)), layer, tf_keras.layers.Dense(10)])
    model.compile(
        tf_keras.optimizers.SGD(0.1),
        tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    kernels = [w for w in layer.weights if "kernel" in w.name]
    moving = [w for w in layer.weights if "moving" in w.name]
    k0, m0 = _snapshot(kernels), _snapshot(moving)
    # hub.KerasLayer adds the decay term always, as a constant 0 while frozen.
    assert (float(tf.add_n(model.losses)) > 0) == trainable
    _fit_few_steps(model, images, labels)
    assert _changed(kernels, k0) == [trainable] * 2
    assert _changed(moving, m0) == [trainable] * 2


@pytest.mark.parametrize("trainable", [True, False])
def test_tfsm_layer_loads_the_module(hub_dir, images, labels, trainable):
    layer = keras.layers.TFSMLayer(
        hub_dir,
        call_endpoint="call_inference",
        call_training_endpoint="call_training",
        trainable=trainable,
    )
    model = _keras3_classifier(layer)
    np.testing.assert_allclose(
        layer(images).numpy(), tf.saved_model.load(hub_dir)(images).numpy(), atol=1e-6
    )
    kernels = [w for w in layer.weights if "kernel" in w.name]
    moving = [w for w in layer.weights if "moving" in w.name]
    k0, m0 = _snapshot(kernels), _snapshot(moving)
    _fit_few_steps(model, images, labels)
    assert _changed(kernels, k0) == [trainable] * 2
    # TFSMLayer's documented gap (README): it picks the endpoint from `training`
    # alone, so even a frozen one updates batch-norm statistics in fit, and it
    # never adds the module's regularization losses.
    assert _changed(moving, m0) == [True, True]
    assert model.losses == []


# --------------------------------------------------------- whole-model .keras save
def test_bigan_keras_save_reloads_and_keeps_training(small_mnist, tmp_path):
    keras.utils.set_random_seed(2)
    model = BiGAN.from_config_objects(NET, objective_from_preset("bigan"), noise_seed=4)
    model.compile_for_training(OptimizerConfig(epochs=1, decay_epochs=1), steps_per_epoch=4)
    x = small_mnist.train_images[:128].reshape(128, -1).astype(np.float32) / 255.0
    model.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    path = str(tmp_path / "bigan.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded, BiGAN)
    assert int(reloaded.generator_optimizer.iterations) == 2
    assert reloaded.objective == model.objective
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(
        model.discriminator_optimizer.variables, reloaded.discriminator_optimizer.variables
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # The next step is the same step: same weights, slots, step count and noise.
    model.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    reloaded.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.weights, reloaded.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------- safety
def test_export_refuses_existing_output_and_replaces_atomically(trained, tmp_path):
    out = str(tmp_path / "hub")
    export_lib.export_hub_module(trained.model, trained.network, out)
    with pytest.raises(ExportError, match="already exists.*--overwrite"):
        export_lib.export_hub_module(trained.model, trained.network, out)
    export_lib.export_hub_module(trained.model, trained.network, out, "latent", overwrite=True)
    assert json.load(open(os.path.join(out, "bigan_tf.json")))["output"]["name"] == "latent"
    assert sorted(os.listdir(tmp_path)) == ["hub"]  # no temporary or old folders left


def test_overwrite_never_replaces_what_is_not_an_export(trained, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    for output, message in (
        (run, "is not one"),
        (tmp_path, "is not one"),
        (a_file, "is not a folder"),
    ):
        with pytest.raises(ExportError, match=message):
            export_lib.export_hub_module(
                trained.model, trained.network, str(output), overwrite=True
            )
    assert (run / "config.json").exists() and a_file.read_text() == "mine"
    with pytest.raises(ExportError, match="Cannot write the export"):
        export_lib.export_hub_module(trained.model, trained.network, str(a_file / "hub"))


def test_a_crash_mid_export_leaves_no_module(trained, tmp_path, monkeypatch):
    out = str(tmp_path / "hub")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        export_lib.export_hub_module(trained.model, trained.network, out)
    assert os.listdir(tmp_path) == []


def test_export_from_missing_or_incompatible_checkpoints(trained, tmp_path):
    exp_dir = os.path.dirname(os.path.dirname(trained.checkpoint_path))
    with pytest.raises(CheckpointError, match="not a bigan_tf experiment folder"):
        load_trained_model(str(tmp_path))
    with pytest.raises(CheckpointError, match="No checkpoint for epoch 9"):
        load_trained_model(exp_dir, 9)
    # Same checkpoint, but a config that describes other networks.
    other = tmp_path / "other"
    os.makedirs(other)
    os.symlink(os.path.join(exp_dir, "checkpoints"), other / "checkpoints")
    config = json.load(open(os.path.join(exp_dir, "config.json")))
    config["network"]["hidden_units"] = 48
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="does not match the networks"):
        load_trained_model(str(other))


def test_export_command_lines(trained, tmp_path):
    exp_dir = os.path.dirname(os.path.dirname(trained.checkpoint_path))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ok = run(
        "export.export_saved_model",
        f"--exp_dir={exp_dir}",
        "--epoch=1",
        f"--output={tmp_path / 'sm'}",
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "encode" in tf.saved_model.load(str(tmp_path / "sm")).signatures
    refused = run(
        "export.export_saved_model", f"--exp_dir={exp_dir}", f"--output={tmp_path / 'sm'}"
    )
    assert refused.returncode == 2 and "already exists" in refused.stderr
    missing = run(
        "export.export_hub", f"--exp_dir={tmp_path / 'nowhere'}", f"--output={tmp_path / 'hub'}"
    )
    assert missing.returncode == 2 and "not a bigan_tf experiment folder" in missing.stderr
    assert not os.path.exists(tmp_path / "hub")


# --------------------------------------------------------------- transfer trainer
def test_parse_mode_and_balanced_subset():
    assert parse_mode("linear") == ("linear", False, 0)
    assert parse_mode("finetune") == ("finetune", True, 0)
    assert parse_mode("freeze:2") == ("freeze:2", True, 2)
    for bad in ("freeze", "freeze:0", "fine", ""):
        with pytest.raises(ConfigError, match="linear, finetune or freeze:K"):
            parse_mode(bad)
    labels = np.repeat(np.arange(10), 30)[np.random.RandomState(0).permutation(300)]
    index = balanced_subset(labels, 7, seed=3)
    assert np.bincount(labels[index]).tolist() == [7] * 10
    np.testing.assert_array_equal(index, balanced_subset(labels, 7, seed=3))
    assert not np.array_equal(index, balanced_subset(labels, 7, seed=4))
    with pytest.raises(DataError, match="only 30 examples"):
        balanced_subset(labels, 31)


def test_random_init_baseline_deploys_batch_norm_over_training_images(
    hub_dir, small_mnist, tmp_path
):
    """Inference-mode batch norm of the random-init baseline is set from data, as the trained
    encoder's: without the deploy pass it keeps mean 0 / variance 1, and its inference-mode
    features are far from what the same net computes with the batch's own statistics."""
    import tensorflow_hub as hub
    from bigan_tf.data.pipeline import to_model_range

    images = small_mnist.train_images
    plain = export_lib.export_random_init_like(hub_dir, str(tmp_path / "plain"), seed=1)
    deployed = export_lib.export_random_init_like(
        hub_dir,
        str(tmp_path / "deployed"),
        seed=1,
        training_images=images,
        training_labels=small_mnist.train_labels,
        deploy_iters=10,
    )

    def inference_vs_batch_statistics(handle):
        module = hub.load(handle)
        x = to_model_range(images[:500])  # uint8 -> float32 in [0, 1]
        return float(tf.reduce_mean(tf.abs(module(x, training=False) - module(x, training=True))))

    moving = [v.numpy() for v in hub.load(plain).variables if not v.trainable]
    assert sorted(float(np.unique(v)[0]) for v in moving) == [0.0, 1.0]  # the initial values
    assert inference_vs_batch_statistics(deployed) < 0.2 * inference_vs_batch_statistics(plain)
    # The same weights: only the statistics differ.
    trainable = [sorted(v.numpy().ravel().tolist()) for v in hub.load(plain).trainable_variables]
    assert trainable == [
        sorted(v.numpy().ravel().tolist()) for v in hub.load(deployed).trainable_variables
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["--mode=linear"],
        ["--mode=finetune", "--init=random"],
        ["--mode=freeze:1", "--strategy=mirrored", "--cpu_replicas=2"],
    ],
)
def test_finetune_trainer_end_to_end(hub_dir, mnist_dir, tmp_path, args):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.finetune",
            f"--hub_module={hub_dir}",
            f"--data_dir={mnist_dir}",
            "--labels_per_class=5",
            "--steps=60",
            "--batch_size=50",
            "--learning_rate=0.01",
            "--steps_per_epoch=30",
            f"--exp_dir={tmp_path / 'run'}",
            f"--output_dir={tmp_path}",
            *args,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy" in result.stdout
    record = json.load(open(tmp_path / "results.json"))
    assert record == json.load(open(tmp_path / "run" / "results.json"))
    assert record["num_labelled"] == 50 and record["num_test"] == 10000
    assert 0.2 < record["test_accuracy"] <= 1.0  # far above chance after 60 steps
    # A run folder like the GAN trainers': evaluations, a checkpoint per epoch of 30 steps.
    assert [r["epoch"] for r in read_metrics(str(tmp_path / "run"))] == [0, 1, 2]
    config = json.load(open(tmp_path / "run" / "config.json"))
    assert config["transfer"]["hub_module"] == os.path.abspath(hub_dir)  # not a temporary copy
    assert os.listdir(tmp_path / "run" / "checkpoints" / "rolling")


def test_finetune_run_stops_on_a_signal_and_continues_exactly(hub_dir, mnist_dir, tmp_path):
    """SIGINT mid-epoch 2 of 3, then the same call: the weights of an uninterrupted run."""
    data = load_image_data("mnist", mnist_dir, use_test_set=True)
    common = dict(
        labels_per_class=5,
        steps=60,
        steps_per_epoch=20,
        batch_size=50,
        learning_rate=0.01,
        print_fn=lambda s: None,
    )
    strategy = tf.distribute.get_strategy()
    whole = train_classifier(
        strategy, hub_dir, data, "finetune", exp_dir=str(tmp_path / "a"), **common
    )

    class InterruptAt(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps == 27:  # epoch 2, step 7 of 20
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(
        TrainingInterrupted, match=r"Stopped by SIGINT at epoch 2, step 7/20"
    ) as stopped:
        train_classifier(
            strategy,
            hub_dir,
            data,
            "finetune",
            exp_dir=str(tmp_path / "b"),
            extra_callbacks=[InterruptAt()],
            **common,
        )
    assert stopped.value.exit_code == 130
    again = train_classifier(
        strategy, hub_dir, data, "finetune", exp_dir=str(tmp_path / "b"), **common
    )
    for a, b in zip(whole["model"].weights, again["model"].weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert again["test_accuracy"] == whole["test_accuracy"]
    assert [r["epoch"] for r in read_metrics(str(tmp_path / "b"))] == [0, 1, 3]
    finished = train_classifier(
        strategy, hub_dir, data, "finetune", exp_dir=str(tmp_path / "b"), **common
    )
    assert finished["test_accuracy"] == whole["test_accuracy"]
    assert [r["epoch"] for r in read_metrics(str(tmp_path / "b"))] == [0, 1, 3]


def test_finetune_trainer_bad_input(hub_dir, tmp_path):
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "trainers.finetune", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    bad_mode = run(f"--hub_module={hub_dir}", "--mode=freeze")
    assert bad_mode.returncode == 2 and "linear, finetune or freeze:K" in bad_mode.stderr
    missing = run(f"--hub_module={tmp_path / 'nothing'}")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    # Inputs are checked before outputs: no run folder was made in the checkout.
    assert not glob.glob(os.path.join(REPO_ROOT, "exp", "finetune", "nothing-*"))


def test_bench_transfer_resizes_the_dataset_to_the_modules_input(tmp_path):
    """bench_transfer on Fashion-MNIST with a module whose encoder reads 8x8x1 images
    (the v1 fixture): the images are resized to it and every row is written; rerun with
    more budgets, it keeps the saved row and measures only the new one; rows of other
    settings and a missing module are one-line errors."""
    rows = tmp_path / "rows.json"
    module = os.path.join(REPO_ROOT, "tests", "fixtures", "v1", "hub")

    def bench(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_transfer",
                "--dataset=fashion_mnist",
                "--modes=linear",
                *args,
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""},
        )

    result = bench(
        f"--hub_module={module}", "--labels_per_class=10", "--steps=5", f"--json_out={rows}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fashion_mnist resized to the module's input, 8x8x1." in result.stdout
    [row] = json.loads(rows.read_text())
    assert row["labels_per_class"] == 10 and row["mode"] == "linear"
    assert 0 <= row["pretrained"] <= 1 and 0 <= row["random"] <= 1
    assert (row["steps"], row["seed"], row["dataset"]) == (5, 0, "fashion_mnist")

    resumed = bench(
        f"--hub_module={module}", "--labels_per_class=10,20", "--steps=5", f"--json_out={rows}"
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = [line for line in resumed.stdout.splitlines() if "| linear" in line]
    assert len(lines) == 2 and lines[0].endswith("(saved earlier)")
    assert not lines[1].endswith("(saved earlier)")
    first, second = json.loads(rows.read_text())
    assert first == row and second["labels_per_class"] == 20

    other = bench(
        f"--hub_module={module}", "--labels_per_class=10", "--steps=6", f"--json_out={rows}"
    )
    assert other.returncode == 2
    assert other.stderr.strip().splitlines()[-1] == (
        f"bench_transfer: error: --json_out={rows} holds rows measured with another --steps: "
        "give another path (that file is kept)."
    )
    assert json.loads(rows.read_text()) == [first, second]
    missing = bench(f"--hub_module={tmp_path / 'nothing'}")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert (
        missing.stderr.strip().splitlines()[-1].startswith("bench_transfer: error: Module ")
        and "does not exist" in missing.stderr
    )
