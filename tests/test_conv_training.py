"""End to end: a convolutional BiGAN on real Fashion-MNIST (32 px RGB) and train_imagenet."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf.data import load_image_data
from bigan_tf.data.image_files import resize_image_data
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import train
from conftest import REPO_ROOT

FASHION_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data", "fashion_mnist"))


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    if not os.path.isdir(FASHION_DIR):
        pytest.fail(f"Fashion-MNIST is expected in {FASHION_DIR} (../shared/data/fashion_mnist).")
    data = load_image_data("fashion_mnist", FASHION_DIR).take(num_train=1024, num_val=300)
    data = resize_image_data(data, 32, channels=3)
    assert data.image_shape == (32, 32, 3)
    exp_dir = str(tmp_path_factory.mktemp("conv") / "run")
    lines = []
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(family="dcgan", latent_dim=32, base_width=16),
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=2, decay_epochs=0),
            evaluation=EvaluationConfig(
                num_val=300,
                num_train_reference=1024,
                num_generated=600,
                cls_steps=50,
                num_sample_images=50,
                deploy_iters=4,
            ),
            run=RunConfig(exp_dir=exp_dir, batch_size=64, verbose=0),
        ),
        data,
        print_fn=lines.append,
    )
    return {"result": result, "exp_dir": exp_dir, "lines": lines, "data": data}


def test_conv_training_writes_metrics_grids_and_checkpoints(conv_run):
    exp_dir, metrics = conv_run["exp_dir"], conv_run["result"]["metrics"]
    for name in ("NND", "NNC_e", "NNC_e-", "CLS_e-", "EGr", "EGr_b", "EGg"):
        assert np.isfinite(metrics[name]), name
    # Fashion-MNIST's 10 classes: AlexNet features of a briefly trained E beat chance easily.
    assert metrics["NNC_e-"] > 40
    assert any(line.startswith("NND/100:") for line in conv_run["lines"])
    samples = os.listdir(os.path.join(exp_dir, "samples"))
    assert {"2.png", "2.regen.png", "2.real_regen.png", "real.png"} <= set(samples)
    from PIL import Image

    with Image.open(os.path.join(exp_dir, "samples", "2.png")) as grid:
        assert grid.mode == "RGB" and grid.size == (5 * 32, 10 * 32)  # 50 samples, 10 rows
    config = json.load(open(os.path.join(exp_dir, "config.json")))
    assert config["network"]["family"] == "dcgan"
    assert config["network"]["image_shape"] == [32, 32, 3]
    assert sorted(os.listdir(os.path.join(exp_dir, "checkpoints")))[0].startswith("checkpoint")
    records = [json.loads(line) for line in open(os.path.join(exp_dir, "metrics.jsonl"))]
    assert [r["epoch"] for r in records] == [0, 1, 2]


def test_fashion_conv_report_of_a_conv_run(conv_run, tmp_path):
    """benchmarks.fashion_conv --report_only: the table with its random-init line and
    verdict, the curves, the last grids, and E's filters and Figure 4 from the checkpoint."""
    out = tmp_path / "results"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.fashion_conv",
            f"--exp_dir={conv_run['exp_dir']}",
            f"--results_dir={out}",
            "--report_only",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = (out / "table.md").read_text()
    assert "| 0 (random init) |" in table and "| 2 |" in table
    records = [
        json.loads(line) for line in open(os.path.join(conv_run["exp_dir"], "metrics.jsonl"))
    ]
    init, last = records[0]["metrics"], records[-1]["metrics"]
    passed = last["NNC_e-"] > init["NNC_e-"] and last["CLS_e-"] > init["CLS_e-"]
    assert ("pass the random-init encoder's" in table) == (
        passed
        or records[1]["metrics"]["NNC_e-"] > init["NNC_e-"]
        and records[1]["metrics"]["CLS_e-"] > init["CLS_e-"]
    )
    assert f"{init['NNC_e-']:.2f}%" in table
    for name in (
        "curves.png",
        "filters.png",
        "figure4.png",
        "metrics.jsonl",
        "config.json",
        "samples/2.png",
        "samples/2.real_regen.png",
    ):
        assert (out / name).read_bytes()[:1], name
    assert sorted(os.listdir(out / "samples")) == [
        "2.png",
        "2.real_regen.png",
        "2.regen.png",
        "real.png",
    ]


def test_conv_hub_export_loads_three_ways(conv_run, tmp_path):
    import keras
    import tensorflow_hub as hub
    import tf_keras

    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.hub import EncoderLayer
    from bigan_tf.export.exporters import export_hub_module

    trained = load_trained_model(conv_run["exp_dir"])
    path = export_hub_module(trained.model, trained.network, str(tmp_path / "hub"), trained=trained)
    images = conv_run["data"].val_images[:8].astype(np.float32) / 255.0
    expected = trained.model.encoder(images, training=False)["features"].numpy()
    module = hub.load(path)
    np.testing.assert_allclose(module(images, training=False), expected, rtol=1e-4, atol=1e-4)
    assert expected.shape == (8, 1024)
    legacy = tf_keras.Sequential(
        [tf_keras.Input((32, 32, 3)), hub.KerasLayer(path), tf_keras.layers.Dense(10)]
    )
    assert legacy(images).shape == (8, 10)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(10)(EncoderLayer(path)(inputs)))
    assert model(images).shape == (8, 10)
    meta = json.load(open(os.path.join(path, "bigan_tf.json")))
    assert meta["input"]["shape"] == [None, 32, 32, 3] and meta["input"]["range"] == [0.0, 1.0]


def test_train_imagenet_generalized_on_an_image_folder(image_tree, tmp_path):
    def run(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "trainers.train_imagenet",
                "--dataset=folder",
                f"--data_dir={image_tree}",
                "--latent_dim=16",
                "--base_width=8",
                "--batch_size=6",
                "--epochs=1",
                "--decay_epochs=0",
                "--num_val=6",
                "--num_train_reference=18",
                "--num_generated=60",
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
        "--raw_size=72",
        "--crop_size=64",
        "--crop_resize=32",
        "--bad_images=skip",
        f"--exp_dir={tmp_path / 'gen'}",
    )
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "skipped 1 unreadable image(s)" in ok.stdout and "broken.jpg" in ok.stdout
    assert "NNC_e-:" in ok.stdout and "EGr:" in ok.stdout and "EGg:" not in ok.stdout
    assert "EGg and the regen sample grid are unavailable" in ok.stdout
    config = json.load(open(tmp_path / "gen" / "config.json"))
    assert config["network"]["encoder_size"] == 64
    assert config["network"]["image_shape"] == [32, 32, 3]
    assert not os.path.exists(tmp_path / "gen" / "samples" / "1.regen.png")
    assert os.path.exists(tmp_path / "gen" / "samples" / "1.real_regen.png")
    # The encoder export takes the encoder's 64-px input; G makes 32-px images.
    from bigan_tf.export.exporters import export_saved_model
    from bigan_tf.checkpoints import load_trained_model

    trained = load_trained_model(str(tmp_path / "gen"))
    signatures = tf.saved_model.load(
        export_saved_model(trained.model, trained.network, str(tmp_path / "sm"))
    ).signatures
    assert signatures["encode"](images=tf.zeros([2, 64, 64, 3]))["latent"].shape == (2, 16)
    assert signatures["generate"](z=tf.zeros([2, 16]))["images"].shape == (2, 32, 32, 3)
    # The paper's Table 2 step on the same files: the exported encoder's first layer fixed,
    # the rest trained on every labelled image, streamed and cropped to its 64-px input.
    from bigan_tf.export.exporters import export_hub_module

    hub_dir = export_hub_module(
        trained.model, trained.network, str(tmp_path / "hub"), trained=trained
    )
    tuned = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.finetune",
            f"--hub_module={hub_dir}",
            "--mode=freeze:1",
            "--dataset=folder",
            f"--data_dir={image_tree}",
            "--raw_size=72",
            "--bad_images=skip",
            "--steps=6",
            "--steps_per_epoch=3",
            "--batch_size=4",
            f"--exp_dir={tmp_path / 'tuned'}",
            "--verbose=0",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    result = json.load(open(tmp_path / "tuned" / "results.json"))
    assert result["num_labelled"] == 18 and result["steps"] == 6  # 19 files, 1 unreadable
    record = json.load(open(tmp_path / "tuned" / "config.json"))
    assert record["data"]["config"]["preprocessing"] == {
        "raw_size": 72,
        "crop_size": 64,
        "channels": 3,
        "flip": False,
    }
    subset = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.finetune",
            f"--hub_module={hub_dir}",
            "--dataset=folder",
            f"--data_dir={image_tree}",
            "--bad_images=skip",
            "--labels_per_class=2",
            f"--exp_dir={tmp_path / 'subset'}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        subset.returncode == 2 and "--labels_per_class draws from images in memory" in subset.stderr
    )
    failed = run("--raw_size=72", "--crop_size=64", f"--exp_dir={tmp_path / 'bad'}")
    assert failed.returncode == 2 and "broken.jpg" in failed.stderr
    assert "--bad_images=skip" in failed.stderr
    refused = run(
        "--crop_size=64",
        "--crop_resize=32",
        "--objective=latent_regressor",
        f"--exp_dir={tmp_path / 'lr'}",
    )
    assert refused.returncode == 2 and "unavailable" in refused.stderr


def test_samplers_resize_mnist_format_images_for_a_conv_model(conv_run):
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.errors import ConfigError, DataError
    from bigan_tf.sampling import LatentModel

    model = LatentModel.load(conv_run["exp_dir"])
    assert model.encoder_image_shape == (32, 32, 3)
    raw = load_image_data("fashion_mnist", FASHION_DIR).take(num_train=0, num_val=20)
    with pytest.raises(ConfigError, match="encodes images of shape \\(32, 32, 3\\)"):
        model.encode(raw.val_images.astype(np.float32) / 255.0)
    fitted = match_image_shape(raw, model.encoder_image_shape)
    assert fitted.val_images.shape == (20, 32, 32, 3) and len(fitted.train_images) == 0
    z = model.encode(fitted.val_images.astype(np.float32) / 255.0)
    assert z.shape == (20, 32) and np.abs(z).max() <= 1
    assert model.generate(z).shape == (20, 32, 32, 3)
    with pytest.raises(DataError, match="give data of that shape"):
        match_image_shape(raw, (32, 48, 3))


def test_train_imagenet_offline_demo_on_fashion_mnist_labels(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.train_imagenet",
            "--dataset=fashion_mnist",
            f"--data_dir={FASHION_DIR}",
            "--raw_size=32",
            "--crop_size=32",
            "--max_labels=3",
            "--max_images=256",
            "--latent_dim=16",
            "--base_width=8",
            "--batch_size=64",
            "--epochs=1",
            "--decay_epochs=0",
            "--num_val=60",
            "--num_train_reference=256",
            "--num_generated=100",
            "--cls_steps=5",
            "--disp_samples=20",
            "--verbose=0",
            f"--exp_dir={tmp_path / 'demo'}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "NNC_e-:" in result.stdout and "EGg:" in result.stdout
    config = json.load(open(tmp_path / "demo" / "config.json"))
    assert config["data"]["num_train"] == 256
    assert config["network"]["image_shape"] == [32, 32, 3]
