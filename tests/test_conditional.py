"""Conditional GAN/BiGAN wiring, training, sampling and export; the post-hoc encoder."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import BiGAN, EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf import sampling as S
from bigan_tf import sampling_tasks as T
from bigan_tf.run_dir import read_metrics
from bigan_tf.config import Objective
from bigan_tf.errors import ConfigError
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import copy_generator, train
from conftest import REPO_ROOT
from bigan_tf.export import exporters as export_lib

EVAL = EvaluationConfig(
    num_val=100, num_train_reference=256, num_generated=200, cls_steps=5, num_sample_images=20
)


def _model(mode, objective="bigan", latent_dim=8):
    network = NetworkConfig(
        hidden_units=32, latent_dim=latent_dim, conditional=mode, num_classes=10
    )
    return BiGAN.from_config_objects(network, objective_from_preset(objective))


def test_config_errors():
    with pytest.raises(ConfigError, match="at least 2 classes"):
        NetworkConfig(conditional="simple", num_classes=1).validate()
    with pytest.raises(ConfigError, match="none, simple or extended"):
        NetworkConfig(conditional="fancy", num_classes=10).validate()
    with pytest.raises(ConfigError, match="reconstruct_weight or --encode_weight"):
        Objective(0, 0, 0, 0, 0).validate()
    with pytest.raises(ConfigError, match="needs --reconstruct_weight above 0"):
        Objective(0, 0, 1, 0.5, 0).validate()
    # With a reconstruction term it is an autoencoder that also regresses z: valid.
    assert Objective(0, 0, 1, 0.5, 1).validate().trains_generator
    posthoc = objective_from_preset("posthoc_encoder")
    assert posthoc.has_encoder and not posthoc.trains_generator


@pytest.mark.parametrize("mode", ["simple", "extended"])
@pytest.mark.parametrize("objective", ["bigan", "gan"])
def test_labels_reach_g_and_d_but_not_the_encoder(mode, objective):
    model = _model(mode, objective)
    z = tf.random.stateless_uniform([6, 8], [1, 2], -1, 1)
    x = tf.random.stateless_uniform([6, 784], [3, 4])
    g3, g7 = (model.generate(z, tf.fill([6], k)).numpy() for k in (3, 7))
    assert np.abs(g3 - g7).max() > 1e-4
    # Label vectors and int ids are the same input.
    np.testing.assert_allclose(model.generate(z, tf.one_hot(tf.fill([6], 3), 10)), g3, atol=1e-6)
    # D's output layer starts at zero (as the original's): labels show in its features.
    d3, d7 = (model.discriminate(x, z, tf.fill([6], k))["features"].numpy() for k in (3, 7))
    assert np.abs(d3 - d7).max() > 1e-6
    with pytest.raises(ValueError, match="class-conditional"):
        model.generate(z)
    if model.encoder is not None:
        # The encoder's input is the image alone: no label columns anywhere in it.
        assert model.encoder.hidden1.kernel.shape[0] == 784
        output = model.joint_discriminator.network.output_logit.kernel  # starts at zero
        output.assign(tf.random.stateless_normal(output.shape, [5, 6], stddev=0.02))
        losses = {k: model.compute_losses(x, z, tf.fill([6], k), training=False) for k in (3, 7)}
        assert np.abs(losses[3].joint.real_logits - losses[7].joint.real_logits).max() > 1e-6


def test_conditional_model_keras_round_trip(tmp_path):
    model = _model("extended")
    model.save(str(tmp_path / "m.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "m.keras"))
    z, labels = tf.random.stateless_uniform([4, 8], [5, 6], -1, 1), tf.constant([0, 1, 2, 9])
    np.testing.assert_array_equal(loaded.generate(z, labels), model.generate(z, labels))
    assert loaded.num_classes == 10


@pytest.fixture(scope="module")
def conditional_run(small_mnist, tmp_path_factory):
    root = tmp_path_factory.mktemp("conditional")
    exp_dir = str(root / "exp")
    network = NetworkConfig(hidden_units=32, latent_dim=8, conditional="simple")
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=network,
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=1, decay_epochs=0),
            evaluation=EVAL,
            run=RunConfig(exp_dir=exp_dir, batch_size=64, verbose=0),
        ),
        small_mnist,
        print_fn=lambda s: None,
    )
    # train() resolved the class count from the data.
    trained_network = result["experiment"].network
    assert trained_network == NetworkConfig(
        hidden_units=32, latent_dim=8, conditional="simple", num_classes=10
    )
    export = export_lib.export_saved_model(result["model"], trained_network, str(root / "export"))
    return {"result": result, "checkpoint": exp_dir, "export": export}


def test_conditional_training_writes_the_usual_outputs(conditional_run):
    exp_dir = conditional_run["checkpoint"]
    config = json.load(open(os.path.join(exp_dir, "config.json")))
    assert config["network"]["conditional"] == "simple" and config["network"]["num_classes"] == 10
    records = read_metrics(exp_dir)
    assert [r["epoch"] for r in records] == [0, 1]
    assert {"NND", "NNC_e", "NNC_e-", "CLS_e-", "EGr", "EGg", "PIX_CHI2"} <= set(
        records[-1]["metrics"]
    )
    assert os.path.exists(os.path.join(exp_dir, "samples", "1.png"))
    assert os.path.exists(os.path.join(exp_dir, "checkpoints", "ckpt-1.index"))


def test_sample_grid_rows_are_classes(conditional_run):
    from bigan_tf.evaluation.evaluator import Evaluator

    evaluator = Evaluator.for_model(conditional_run["result"]["model"], _labelled_stub(), EVAL)
    # 20 samples in 10 rows of 2: row r is class r.
    np.testing.assert_array_equal(evaluator.eval_labels[:20], np.repeat(np.arange(10), 2))
    counts = np.bincount(evaluator.eval_labels, minlength=10)
    assert counts.min() == counts.max()  # class-balanced generation for the metrics


def _labelled_stub():
    from bigan_tf.data.pipeline import ImageData

    rng = np.random.RandomState(0)
    images = rng.randint(0, 255, (300, 28, 28, 1)).astype(np.uint8)
    labels = np.arange(300) % 10
    return ImageData(images, labels, images[:100], labels[:100], "stub")


@pytest.mark.parametrize("source", ["checkpoint", "export"])
def test_conditional_sampling_from_checkpoint_and_export(conditional_run, small_mnist, source):
    model = S.LatentModel.load(conditional_run[source])
    assert model.num_classes == 10 and model.has_encoder
    real = small_mnist.val_images.astype(np.float32) / 255.0
    for task, count, rows in (
        ("class_sweep", 12, 3),
        ("random", 12, 3),
        ("style_sweep", 12, 3),
        ("reconstruct", 24, 6),
        ("interpolate", 18, 3),
        ("analogy", 16, 4),
    ):
        images, grid_rows, _ = T.run_task(
            task,
            T.TaskRequest(
                model, rows=3, steps=4, seed=1, real=real, real_labels=small_mnist.val_labels
            ),
        )
        assert images.shape == (count, 28, 28, 1) and grid_rows == rows, task
    # The class sweep starts at class r's image and ends at class r+1's, for the same z.
    sweep, _, _ = T.run_task("class_sweep", T.TaskRequest(model, rows=1, steps=5, seed=4))
    z = S.random_latents(1, 8, 4)
    np.testing.assert_allclose(
        sweep[[0, -1]], model.generate(np.repeat(z, 2, 0), [0, 1]), atol=1e-5
    )
    with pytest.raises(ConfigError, match="class-conditional"):
        model.generate(z)
    with pytest.raises(ConfigError, match="Class ids"):
        model.generate(z, [10])


def test_class_sweep_needs_a_conditional_model(conditional_run, small_mnist, tmp_path):
    network = NetworkConfig(hidden_units=32, latent_dim=8)
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=network,
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=1, decay_epochs=0),
            evaluation=EVAL,
            run=RunConfig(exp_dir=str(tmp_path / "u"), batch_size=64, verbose=0),
        ),
        small_mnist.take(num_train=128),
        print_fn=lambda s: None,
    )
    assert result["model"].num_classes == 0
    model = S.LatentModel.load(str(tmp_path / "u"))
    with pytest.raises(ConfigError, match="not class-conditional"):
        T.run_task("class_sweep", T.TaskRequest(model, rows=1, steps=3))


def test_export_signatures_take_label_vectors(conditional_run):
    signatures = tf.saved_model.load(conditional_run["export"]).signatures
    assert set(signatures["generate"].structured_input_signature[1]) == {"z", "labels"}
    assert set(signatures["reconstruct"].structured_input_signature[1]) == {"images", "labels"}
    assert set(signatures["discriminate"].structured_input_signature[1]) == {
        "images",
        "z",
        "labels",
    }
    assert set(signatures["encode"].structured_input_signature[1]) == {"images"}


# ------------------------------------------------------------ post-hoc encoder
@pytest.fixture(scope="module")
def gan_run(mnist_data, tmp_path_factory):
    """A short plain GAN (no encoder) on 4096 real MNIST images, BN statistics deployed."""
    exp_dir = str(tmp_path_factory.mktemp("gan") / "exp")
    data = mnist_data.take(num_train=4096, num_val=200)
    evaluation = EvaluationConfig(**{**EVAL.to_dict(), "deploy_iters": 10})
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(hidden_units=128, latent_dim=8),
            objective=objective_from_preset("gan"),
            optimizer=OptimizerConfig(epochs=4, decay_epochs=0, learning_rate=1e-3),
            evaluation=evaluation,
            run=RunConfig(exp_dir=exp_dir, batch_size=64, verbose=0, disp_interval=100),
        ),
        data,
        print_fn=lambda s: None,
    )
    return {"model": result["model"], "exp_dir": exp_dir, "data": data, "eval": evaluation}


def test_posthoc_encoder_reduces_reconstruction_error(gan_run, tmp_path):
    gan = gan_run["model"]
    assert gan.encoder is None
    exp_dir = str(tmp_path / "encoder")
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(hidden_units=128, latent_dim=8),
            objective=objective_from_preset("posthoc_encoder"),
            optimizer=OptimizerConfig(epochs=2, decay_epochs=0, learning_rate=1e-3),
            evaluation=gan_run["eval"],
            run=RunConfig(exp_dir=exp_dir, batch_size=64, verbose=0),
        ),
        gan_run["data"],
        print_fn=lambda s: None,
        initialize=lambda m: copy_generator(gan, m),
    )
    model = result["model"]
    # G was copied and stayed frozen (weights and batch-norm statistics).
    for before, after in zip(gan.generator.get_weights(), model.generator.get_weights()):
        np.testing.assert_array_equal(before, after)
    records = read_metrics(exp_dir)
    first, last = records[0], records[-1]
    assert set(first["losses"]) == {"E"}
    assert last["losses"]["E"] < first["losses"]["E"]
    # ||x - G(E(x))|| on held-out real images falls, and beats the random-pairing baseline.
    assert last["metrics"]["EGr"] < 0.98 * first["metrics"]["EGr"]
    assert last["metrics"]["EGr"] < last["metrics"]["EGr_b"]
    # The new encoder is evaluated like any other: NNC_e improves on the untrained one.
    assert last["metrics"]["NNC_e"] > first["metrics"]["NNC_e"]


def test_copy_generator_rejects_another_shape(gan_run):
    other = BiGAN.from_config_objects(
        NetworkConfig(hidden_units=64, latent_dim=8), objective_from_preset("posthoc_encoder")
    )
    with pytest.raises(ConfigError, match="does not match"):
        copy_generator(gan_run["model"], other)


def test_train_encoder_command_line(gan_run, mnist_dir, tmp_path):
    def run(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "trainers.train_encoder",
                f"--data_dir={mnist_dir}",
                "--max_train_images=512",
                "--epochs=1",
                "--decay_epochs=0",
                "--num_val=100",
                "--num_train_reference=256",
                "--num_generated=200",
                "--cls_steps=5",
                "--disp_samples=20",
                "--verbose=0",
                *args,
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            capture_output=True,
            text=True,
            timeout=300,
        )

    ok = run(
        f"--gan_dir={gan_run['exp_dir']}", f"--exp_dir={tmp_path / 'enc'}", "--encode_weight=0.5"
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "EGr:" in ok.stdout and " E: " in ok.stdout
    config = json.load(open(tmp_path / "enc" / "config.json"))
    assert config["objective"]["reconstruct_weight"] == 1.0
    assert config["objective"]["encode_weight"] == 0.5
    bad = run(f"--gan_dir={tmp_path / 'missing'}", f"--exp_dir={tmp_path / 'x'}")
    assert bad.returncode == 2 and "train_encoder: error:" in bad.stderr
    assert "not a bigan_tf experiment folder" in bad.stderr
