"""Latent-space tools: slerp, analogies, attribute vectors, GIFs, and every sampling task
from both a training run's checkpoint and a SavedModel export."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf import sampling as S
from bigan_tf import sampling_tasks as T
from bigan_tf.errors import ConfigError, DataError
from bigan_tf.images import write_gif
from bigan_tf.config import ExperimentConfig, RunConfig
from bigan_tf.training import train
from conftest import REPO_ROOT
from bigan_tf.export import exporters as export_lib


def test_slerp_end_points_sphere_and_parallel_fallback():
    rng = np.random.RandomState(0)
    a, b = rng.randn(2, 16)
    path = S.slerp(a, b, np.linspace(0, 1, 11))
    assert path.shape == (11, 16)
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    ua, ub = a / np.linalg.norm(a), b / np.linalg.norm(b)
    on_sphere = S.slerp(ua, ub, np.linspace(0, 1, 25))
    np.testing.assert_allclose(np.linalg.norm(on_sphere, axis=1), 1.0, atol=1e-5)
    # Equal angular steps: consecutive points are equally far apart.
    gaps = np.linalg.norm(np.diff(on_sphere, axis=0), axis=1)
    np.testing.assert_allclose(gaps, gaps[0], rtol=1e-4)
    np.testing.assert_allclose(S.slerp(a, 2 * a, 0.5), 1.5 * a, rtol=1e-5)  # parallel: linear
    assert S.slerp(a, b, 0.3).shape == (16,)
    with pytest.raises(ConfigError):
        S.sweep(a, b, 1)


def test_style_and_class_sweeps():
    z = S.style_sweep(latent_dim=8, rows=3, steps=5, seed=1)
    ends = S.random_latents(6, 8, 1)
    assert z.shape == (15, 8)
    np.testing.assert_allclose(z[0], ends[0], atol=1e-6)
    np.testing.assert_allclose(z[4], ends[1], atol=1e-6)
    fixed, labels = S.class_sweep(ends[0], num_classes=4, steps=3)
    assert fixed.shape == (12, 8) and labels.shape == (12, 4)
    assert np.all(fixed == ends[0])
    np.testing.assert_allclose(labels[0], [1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(labels[2], [0, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(labels[-1], [1, 0, 0, 0], atol=1e-6)  # wraps to the first


def test_analogy_grid_arithmetic():
    source, sink1, sink2 = (
        np.array([1.0, 0, 0, 0]),
        np.array([0.0, 2, 0, 0]),
        np.array([0.0, 0, 3, 0]),
    )
    grid = S.analogy_grid(source, sink1, sink2, size=4).reshape(4, 4, 4)
    np.testing.assert_allclose(grid[0, 0], source)
    np.testing.assert_allclose(grid[0, -1], sink1)
    np.testing.assert_allclose(grid[-1, 0], sink2)
    np.testing.assert_allclose(grid[-1, -1], sink1 + sink2 - source, atol=1e-6)
    # Every row and column is an arithmetic progression.
    np.testing.assert_allclose(np.diff(grid, 2, axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(np.diff(grid, 2, axis=0), 0, atol=1e-6)


def test_attribute_vectors_with_known_means(tmp_path):
    rng = np.random.RandomState(0)
    attributes = rng.rand(4000, 2) > 0.5
    shift = np.array([[3.0, 0, 0, 0], [0, -2.0, 0, 0]])
    latents = rng.randn(4000, 4) * 0.1 + attributes.astype(float) @ shift
    vectors = S.attribute_vectors(latents, np.where(attributes, 1, -1))  # CelebA's ±1
    np.testing.assert_allclose(vectors, shift, atol=0.02)
    with pytest.raises(DataError, match=r"column\(s\) \[1\]"):
        S.attribute_vectors(latents, np.stack([attributes[:, 0], np.ones(4000)], 1))
    path = str(tmp_path / "attrs.npz")
    S.save_attribute_vectors(path, vectors, ["Smiling", "Black_Hair"])
    loaded, names = S.load_attribute_vectors(path)
    np.testing.assert_array_equal(loaded, vectors)
    assert names == ["Smiling", "Black_Hair"] and json.load(open(path + ".json"))
    edits = S.parse_attribute_edits("Smiling=-1, Black_Hair=+0.5")
    assert edits == {"Smiling": -1.0, "Black_Hair": 0.5}
    z = np.zeros(4, np.float32)
    np.testing.assert_allclose(
        S.apply_attributes(z, vectors, names, edits), -vectors[0] + 0.5 * vectors[1], rtol=1e-6
    )
    with pytest.raises(ConfigError, match="Unknown attribute"):
        S.apply_attributes(z, vectors, names, {"Bald": 1})
    with pytest.raises(ConfigError, match="NAME=AMOUNT"):
        S.parse_attribute_edits("Smiling")
    with pytest.raises(DataError, match="does not exist"):
        S.load_attribute_vectors(str(tmp_path / "none.npz"))


def test_gif_frames(tmp_path):
    frames = (np.arange(3)[:, None, None, None] * 100 * np.ones((3, 8, 6, 1))).astype(np.uint8)
    write_gif(str(tmp_path / "a.gif"), frames)
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 3 and gif.size == (6, 8)
    sweep = np.zeros((2 * 5, 4, 4, 1), np.float32)
    assert S.frames_along_rows(sweep, rows=2).shape == (5, 8, 4, 1)


@pytest.fixture(scope="module")
def sources(small_mnist, tmp_path_factory):
    """A one-epoch BiGAN as a training run and as a SavedModel export."""
    root = tmp_path_factory.mktemp("sampling")
    exp_dir = str(root / "exp")
    result = train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(hidden_units=32, latent_dim=8),
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=1, decay_epochs=0),
            evaluation=EvaluationConfig(
                num_val=100,
                num_train_reference=256,
                num_generated=200,
                cls_steps=5,
                num_sample_images=20,
            ),
            run=RunConfig(exp_dir=exp_dir, batch_size=64, verbose=0),
        ),
        small_mnist,
        print_fn=lambda s: None,
    )
    export = export_lib.export_saved_model(
        result["model"], NetworkConfig(hidden_units=32, latent_dim=8), str(root / "export")
    )
    return {"checkpoint": exp_dir, "export": export}


@pytest.mark.parametrize("source", ["checkpoint", "export"])
def test_every_task_from_a_checkpoint_and_an_export(sources, small_mnist, source, tmp_path):
    model = S.LatentModel.load(sources[source])
    assert model.latent_dim == 8 and model.image_shape == (28, 28, 1) and model.has_encoder
    real = small_mnist.val_images.astype(np.float32) / 255.0
    vectors = S.attribute_vectors(model.encode(real), np.eye(10)[small_mnist.val_labels])
    S.save_attribute_vectors(str(tmp_path / "v.npz"), vectors, [f"digit_{k}" for k in range(10)])
    expected = {
        "random": (12, 3),
        "style_sweep": (12, 3),
        "reconstruct": (24, 6),
        "interpolate": (18, 3),
        "analogy": (16, 4),
        "attributes": (12, 3),
    }
    for task, (count, rows) in expected.items():
        images, grid_rows, _ = T.run_task(
            task,
            T.TaskRequest(
                model,
                rows=3,
                steps=4,
                seed=2,
                real=real,
                attribute_file=str(tmp_path / "v.npz"),
                attributes="digit_1=+1,digit_7=-1",
            ),
        )
        assert images.shape == (count, 28, 28, 1) and grid_rows == rows, task
        assert 0.0 <= images.min() and images.max() <= 1.0
    # Interpolation between two encoded images: the real images at both ends, then their
    # reconstructions, the slerp's first and last points.
    images, _, _ = T.run_task(
        "interpolate", T.TaskRequest(model, rows=1, steps=5, real=real, indices="3:9")
    )
    assert len(images) == 7
    np.testing.assert_allclose(images[[0, -1]], real[[3, 9]], atol=1e-6)
    recon = model.generate(model.encode(real[[3, 9]]))
    np.testing.assert_allclose(images[[1, -2]], recon, atol=1e-5)


def test_sample_command_line(sources, mnist_dir, tmp_path):
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "trainers.sample", f"--data_dir={mnist_dir}", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    ok = run(
        f"--model={sources['export']}",
        "--task=style_sweep",
        "--rows=2",
        "--steps=6",
        f"--output={tmp_path / 'sweep.png'}",
        f"--gif={tmp_path / 'sweep.gif'}",
        "--nocaption",
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert Image.open(tmp_path / "sweep.png").size == (6 * 28, 2 * 28)
    # By default the grid sits under a caption naming the model, the task and the seed.
    captioned = run(
        f"--model={sources['export']}",
        "--task=style_sweep",
        "--rows=2",
        "--steps=6",
        f"--output={tmp_path / 'captioned.png'}",
    )
    assert captioned.returncode == 0, captioned.stderr[-2000:]
    width, height = Image.open(tmp_path / "captioned.png").size
    assert height == 2 * 28 + 20 and width >= 6 * 28
    assert Image.open(tmp_path / "sweep.gif").n_frames == 6
    bad = run(f"--model={tmp_path}", "--task=random", f"--output={tmp_path / 'x.png'}")
    assert bad.returncode == 2 and "neither a training run" in bad.stderr


def test_projector_files_are_what_tensorboard_reads(sources, small_mnist, tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins import projector

    from bigan_tf.embeddings import EMBEDDING_TENSOR, write_projector

    model = S.LatentModel.load(sources["export"])
    images = small_mnist.val_images[:50].astype(np.float32) / 255.0
    labels = small_mnist.val_labels[:50]
    vectors = model.encode(images)
    write_projector(str(tmp_path), vectors, labels, images)
    config = text_format.Parse(
        (tmp_path / "projector_config.pbtxt").read_text(), projector.ProjectorConfig()
    )
    (embedding,) = config.embeddings
    assert embedding.tensor_name == EMBEDDING_TENSOR
    reader = tf.train.load_checkpoint(str(tmp_path))
    np.testing.assert_allclose(reader.get_tensor(EMBEDDING_TENSOR), vectors)
    lines = (tmp_path / embedding.metadata_path).read_text().splitlines()
    assert lines[0] == "index\tlabel" and lines[1:] == [f"{i}\t{y}" for i, y in enumerate(labels)]
    assert Image.open(tmp_path / embedding.sprite.image_path).size == (8 * 28, 8 * 28)
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    assert len((tmp_path / "vectors.tsv").read_text().splitlines()) == 50


def test_embed_command_line(sources, mnist_dir, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.embed",
            f"--model={sources['checkpoint']}",
            f"--data_dir={mnist_dir}",
            "--num_images=200",
            f"--output_dir={tmp_path}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert Image.open(tmp_path / "tsne.png").size == (720, 630)  # matplotlib, 8 x 7 in at 90 dpi
    assert (tmp_path / "projector_config.pbtxt").exists()


def test_attribute_table_formats_and_errors(tmp_path):
    from bigan_tf.data.attributes import read_attribute_table

    celeba = tmp_path / "list_attr_celeba.txt"
    celeba.write_text("2\nSmiling Black_Hair\n000001.jpg  1 -1\n000002.jpg -1  1\n")
    files, names, values = read_attribute_table(str(celeba))
    assert files == ["000001.jpg", "000002.jpg"] and names == ["Smiling", "Black_Hair"]
    np.testing.assert_array_equal(values, [[1, -1], [-1, 1]])
    csv_table = tmp_path / "attrs.csv"
    csv_table.write_text("image_id,Smiling,Black_Hair\n000001.jpg,1,-1\n000002.jpg,-1,1\n")
    assert read_attribute_table(str(csv_table))[1:][0] == names
    np.testing.assert_array_equal(read_attribute_table(str(csv_table))[2], values)
    short = tmp_path / "short.txt"
    short.write_text("Smiling Black_Hair\n000001.jpg 1 -1\n000002.jpg 1\n")
    with pytest.raises(DataError, match=r"short.txt, line 3: expected a file name and 2"):
        read_attribute_table(str(short))
    words = tmp_path / "words.csv"
    words.write_text("image_id,Smiling\n1.jpg,yes\n")
    with pytest.raises(DataError, match="line 2: attribute values must be numbers"):
        read_attribute_table(str(words))
    with pytest.raises(DataError, match="does not exist"):
        read_attribute_table(str(tmp_path / "none.txt"))


def test_image_files_are_cropped_resized_and_converted(tmp_path):
    from bigan_tf.data.attributes import load_image_files

    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, 5:35] = 255  # the centred 30x30 crop is all white
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    (tmp_path / "notes.txt").write_text("not an image")
    images, kept = load_image_files(str(tmp_path), ["wide.png"], (28, 28, 1))
    assert images.shape == (1, 28, 28, 1) and kept.tolist() == [0]
    np.testing.assert_allclose(images, 1.0, atol=1e-2)
    with pytest.raises(DataError, match=r"2 of 3 images .*notes.txt \(UnidentifiedImageError\)"):
        load_image_files(str(tmp_path), ["wide.png", "notes.txt", "gone.png"], (28, 28, 1))
    images, kept = load_image_files(
        str(tmp_path), ["gone.png", "wide.png"], (28, 28, 3), skip_missing=True
    )
    assert images.shape == (1, 28, 28, 3) and kept.tolist() == [1]


def test_attribute_vectors_from_a_labelled_image_folder(sources, small_mnist, tmp_path):
    """The CelebA route on MNIST digits written as PNGs: table columns become vectors."""
    folder = tmp_path / "images"
    folder.mkdir()
    images = small_mnist.val_images[:80]
    labels = small_mnist.val_labels[:80]
    rows = []
    for i, (image, label) in enumerate(zip(images, labels)):
        Image.fromarray(image[..., 0]).save(folder / f"{i:06d}.png")
        rows.append(f"{i:06d}.png {1 if label == 1 else -1} {1 if label % 2 == 0 else -1}")
    table = tmp_path / "list_attr.txt"
    table.write_text(f"{len(rows)}\nIs_One Even\n" + "\n".join(rows) + "\n")
    output = tmp_path / "attrs.npz"
    run = lambda *args: subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.sample",
            f"--model={sources['checkpoint']}",
            f"--attribute_table={table}",
            f"--image_dir={folder}",
            *args,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    ok = run("--task=attribute_vectors", f"--output={output}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    vectors, names = S.load_attribute_vectors(str(output))
    assert names == ["Is_One", "Even"]
    model = S.LatentModel.load(sources["checkpoint"])
    attributes = np.stack([np.where(labels == 1, 1, -1), np.where(labels % 2 == 0, 1, -1)], 1)
    expected = S.attribute_vectors(model.encode(images.astype(np.float32) / 255.0), attributes)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    edits = run(
        "--task=attributes",
        f"--attribute_file={output}",
        "--attributes=Is_One=+1",
        "--rows=2",
        "--steps=4",
        f"--output={tmp_path / 'edits.png'}",
        "--nocaption",
    )
    assert edits.returncode == 0, edits.stderr[-2000:]
    assert Image.open(tmp_path / "edits.png").size == (4 * 28, 2 * 28)
    (folder / "000003.png").unlink()
    missing = run("--task=attribute_vectors", f"--output={tmp_path / 'b.npz'}")
    assert missing.returncode == 2 and "000003.png (FileNotFoundError)" in missing.stderr
    assert "--skip_missing_images" in missing.stderr
    skipped = run(
        "--task=attribute_vectors", f"--output={tmp_path / 'c.npz'}", "--skip_missing_images"
    )
    assert skipped.returncode == 0 and "Read 79 images" in skipped.stdout


def test_the_sample_trainer_offers_every_task_of_the_table():
    from trainers import sample

    assert set(sample.TASKS) == set(T.TASKS) | {"attribute_vectors"}
