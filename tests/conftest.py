"""Shared fixtures. One pytest process shares TensorFlow's import for every test.

The CPU is split into two logical devices before TensorFlow initialises, so the
distribution tests can mirror over them; other tests run on the default
strategy (the first CPU device).

Two tiers: every test of a module whose Bazel target is tagged "slow" in
tests/BUILD gets the `slow` marker here, so BUILD is the one list of slow
modules. `pytest -m "not slow" tests` is the fast tier, `pytest -m slow tests`
the rest.

Real MNIST is read from ../shared/data/mnist when it is there; otherwise (or
with BIGAN_TF_TEST_SYNTHETIC_MNIST=1) the `mnist_dir` fixture writes a
synthetic stand-in of the same format and sizes (`synthetic_mnist`), so a
clone without ../shared passes the fast tier (the slow tier's trainer runs
read ../shared/data).
"""

import os
import sys

import numpy as np
import pytest

# Under Bazel this file runs from a runfiles tree of symlinks: import the code from
# there (only what the BUILD files declare), but find ../shared and start
# subprocesses from the real checkout.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from bigan_tf.distribute import split_cpu  # noqa: E402

split_cpu(2)

MNIST_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data", "mnist"))
TESTS_DIR = os.path.join(REPO_ROOT, "tests")


def _slow_modules():
    """Names of the test modules whose py_test in tests/BUILD is tagged "slow"."""
    from build_files import read_build

    return {
        attrs["name"]
        for kind, attrs in read_build(TESTS_DIR)
        if kind == "py_test" and "slow" in attrs.get("tags", [])
    }


def pytest_collection_modifyitems(config, items):
    slow = _slow_modules()
    for item in items:
        if item.path.stem in slow:
            item.add_marker(pytest.mark.slow)


def real_mnist_available() -> bool:
    return os.path.isdir(MNIST_DIR) and os.environ.get("BIGAN_TF_TEST_SYNTHETIC_MNIST", "") in (
        "",
        "0",
    )


def make_compiled_bigan(preset="bigan", network=None, seed=0, weight_decay=2.5e-5):
    """A small compiled BiGAN of `preset` (default network: 32 hidden units, latent 8)."""
    import keras
    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset

    network = network or NetworkConfig(hidden_units=32, latent_dim=8)
    keras.utils.set_random_seed(seed)
    model = BiGAN.from_config_objects(network, objective_from_preset(preset), weight_decay, seed)
    model.compile_for_training(OptimizerConfig(epochs=1, decay_epochs=0), steps_per_epoch=10)
    return model


def train_small_run(data, exp_dir, preset="bigan", seed=0, learning_rate=2e-4, cls_steps=5):
    """One epoch of a small MLP `preset` run on `data` (protocol sizes for ~1k images)."""
    from bigan_tf import (
        EvaluationConfig,
        ExperimentConfig,
        NetworkConfig,
        OptimizerConfig,
        objective_from_preset,
    )
    from bigan_tf.config import RunConfig
    from bigan_tf.training import train

    train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(hidden_units=32, latent_dim=8),
            objective=objective_from_preset(preset),
            optimizer=OptimizerConfig(epochs=1, decay_epochs=0, learning_rate=learning_rate),
            evaluation=EvaluationConfig(
                num_val=100,
                num_train_reference=256,
                num_generated=200,
                cls_steps=cls_steps,
                num_sample_images=20,
            ),
            run=RunConfig(exp_dir=exp_dir, batch_size=64, seed=seed, verbose=0),
        ),
        data,
        print_fn=lambda s: None,
    )


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """The real MNIST IDX folder, or a synthetic one of the same format and sizes."""
    if real_mnist_available():
        return MNIST_DIR
    from synthetic_mnist import write_synthetic_mnist

    return write_synthetic_mnist(str(tmp_path_factory.mktemp("synthetic_mnist")))


@pytest.fixture(scope="session")
def mnist_data(mnist_dir):
    """The real MNIST split (50k train / 10k val), loaded once."""
    from bigan_tf.data import load_image_data

    return load_image_data("mnist", mnist_dir)


@pytest.fixture(scope="session")
def small_mnist(mnist_data):
    """A small slice of real MNIST for quick training runs."""
    return mnist_data.take(num_train=512, num_val=200)


def write_idx(path, array, magic=None, gz=False):
    """Writes `array` (uint8) as an IDX file, optionally gzipped or with a wrong magic."""
    import gzip

    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) if magic is None else magic
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if gz else data)


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs, shared by every test.

    Separate MirroredStrategy objects in one process draw collective instance
    keys that can collide, so the tests share one, as a trainer does.
    """
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


# A small natural-image tree for the image-source tests (tests/test_image_files.py).
CLASSES = ("cat", "dog", "empty", "fish")


def write_image(path, size, seed, mode="RGB"):
    """A random-noise image of `size` (w, h) saved in the format of `path`'s extension."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    w, h = size
    array = rng.randint(0, 256, (h, w, 3 if mode == "RGB" else 1)).astype(np.uint8)
    Image.fromarray(array.squeeze()).convert(mode).save(path)


@pytest.fixture
def image_tree(tmp_path):
    """root/train/<class>/ with JPEGs, PNGs (one grayscale), a corrupt .jpg, a notes.txt,
    and an empty class; root/val/<class>/ with two images per non-empty class."""
    root = tmp_path / "images"
    for split, count in (("train", 6), ("val", 2)):
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            if name == "empty":
                continue
            for i in range(count):
                ext = "jpg" if i % 2 == 0 else "png"
                mode = "L" if (i == 1 and c == 0) else "RGB"
                write_image(
                    folder / f"{name}_{i}.{ext}", (40 + 7 * i, 36 + 3 * c), 100 * c + i, mode
                )
    (root / "train" / "dog" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a JPEG at all")
    (root / "train" / "fish" / "notes.txt").write_text("not an image")
    return root
