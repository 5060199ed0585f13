"""Learning-curve pictures: every run's curves.png, trainers.plot_runs, the harness's curves."""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from bigan_tf.plots import plot_groups, plot_learning_curves
from conftest import REPO_ROOT


def _records(shift=0.0, gan=False, epochs=(0, 1, 5, 10)):
    records = []
    for e in epochs:
        metrics = {"NND": 13 - e / 2 + shift, "NND/10": 13.2 - e / 2, "NND/100": 13.4 - e / 2}
        if gan:
            metrics.update({"NNC_d": 90 + e / 2 + shift, "CLS_d": 80 + e})
            losses = {"D": 0.69 - e / 100, "G": 0.69 + e / 50}
        else:
            metrics.update(
                {
                    "NNC_e-": 95 + e / 5 + shift,
                    "NNC_e": 90 + e / 5,
                    "CLS_e-": 85 + e,
                    "EGr": 13 - e / 2,
                    "EGr_b": 13.5 - e / 10,
                }
            )
            losses = {"JD": 0.69 - e / 100, "E": 0.69 + e / 50, "G": 0.69 + e / 50}
        records.append({"epoch": e, "metrics": metrics, "losses": losses})
    return records


def _png_size(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        return image.size


def test_learning_curves_of_one_run(tmp_path):
    path = plot_learning_curves(
        _records(), str(tmp_path / "curves.png"), title="run", constant_epochs=5, total_epochs=10
    )
    assert _png_size(path) == (990, 972)  # 5 panels: 2 columns x 3 rows at 90 dpi
    gan = plot_learning_curves(_records(gan=True), str(tmp_path / "gan.png"))
    assert _png_size(gan) == (990, 648)  # no reconstruction panel: NNC_d, CLS_d, NND, losses
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "gan.png"]  # no temporary files
    # The epoch-0 (random-init) value of a feature metric as a dotted line: only
    # its panel changes.
    marked = plot_learning_curves(
        _records(),
        str(tmp_path / "marked.png"),
        title="run",
        constant_epochs=5,
        total_epochs=10,
        mark_initial=("NNC_e-",),
    )
    plain_pixels = np.asarray(Image.open(path).convert("L"), dtype=int)
    marked_pixels = np.asarray(Image.open(marked).convert("L"), dtype=int)
    changed = np.argwhere(plain_pixels != marked_pixels)
    assert len(changed) and changed[:, 0].max() < 972 // 3 and changed[:, 1].max() < 990 // 2


def test_groups_overlay_and_average_seeds(tmp_path):
    groups = {"BiGAN": [_records(0.0), _records(1.0)], "GAN": [_records(gan=True)]}
    path = plot_groups(groups, str(tmp_path / "cmp.png"), title="objectives")
    assert _png_size(path) == (990, 648)  # 4 panels, 2 x 2
    pixels = np.asarray(Image.open(path).convert("RGB"))
    # The seed band (min..max) is drawn: a light shade of C0's blue exists.
    assert (np.abs(pixels.astype(int) - [210, 226, 239]).sum(-1) < 30).any()


def test_plot_runs_command_line(tmp_path):
    for name, records in (("bigan", _records()), ("gan", _records(gan=True))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in records)
        )
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "trainers.plot_runs", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ok = run(str(tmp_path / "bigan"), str(tmp_path / "gan"), f"--output={tmp_path / 'c.png'}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert _png_size(tmp_path / "c.png") == (990, 648)
    missing = run(str(tmp_path / "nowhere"), f"--output={tmp_path / 'd.png'}")
    assert missing.returncode == 2 and "has no metrics.jsonl" in missing.stderr
    assert "Traceback" not in missing.stderr


# ------------------------------------------------------- the paper's figures
def test_filter_tiles_one_per_filter_each_normalised():
    from bigan_tf.figures import filter_tiles

    rng = np.random.RandomState(0)
    dense = rng.randn(784, 32).astype(np.float32)
    tiles = filter_tiles(dense, (28, 28, 1))
    assert tiles.shape == (32, 28, 28, 1)
    assert np.allclose(tiles.reshape(32, -1).min(1), 0) and np.allclose(
        tiles.reshape(32, -1).max(1), 1
    )
    dense[:, 7] *= 10  # the largest filter comes first
    top = filter_tiles(dense, (28, 28, 1), top=5)
    assert top.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(top[0], filter_tiles(dense[:, 7:8], (28, 28, 1))[0], atol=1e-6)
    assert filter_tiles(rng.randn(11, 11, 3, 96), top=100).shape == (96, 11, 11, 3)
    assert filter_tiles(rng.randn(1024, 784), (28, 28, 1), 10, reads_input=False).shape == (
        10,
        28,
        28,
        1,
    )


def test_first_layer_filters_of_the_convolutional_family():
    from bigan_tf import NetworkConfig
    from bigan_tf.figures import first_layer_filters
    from conftest import make_compiled_bigan

    model = make_compiled_bigan(
        "bigan", NetworkConfig(family="dcgan", image_shape=(32, 32, 3), latent_dim=8, base_width=8)
    )
    tiles = first_layer_filters(model, (32, 32, 3))
    # AlexNet conv1: 96 kernels of 11x11x3 (in group order); D's conv0 and G's last
    # deconvolution: base_width 5x5x3 kernels.
    assert {k: v.shape for k, v in tiles.items()} == {
        "E": (96, 11, 11, 3),
        "D": (8, 5, 5, 3),
        "G": (8, 5, 5, 3),
    }


def test_nearest_indices_match_brute_force():
    from bigan_tf.figures import nearest_indices

    rng = np.random.RandomState(1)
    queries, references = rng.randn(37, 20), rng.randn(500, 20)
    expected = np.argsort(((queries[:, None] - references[None]) ** 2).sum(-1), axis=1)[:, :4]
    np.testing.assert_array_equal(nearest_indices(queries, references, 4, block=16), expected)


def test_visualize_command_line(tmp_path, mnist_dir):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = lambda module, *args: subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    small = [
        f"--data_dir={mnist_dir}",
        "--epochs=1",
        "--decay_epochs=0",
        "--max_train_images=512",
        "--hidden_units=32",
        "--num_val=100",
        "--num_train_reference=256",
        "--num_generated=200",
        "--cls_steps=5",
    ]
    for name, objective in (("bigan", "bigan"), ("gan", "gan")):
        trained = run(
            "trainers.train_mnist",
            f"--exp_dir={tmp_path / name}",
            f"--objective={objective}",
            *small,
        )
        assert trained.returncode == 0, trained.stderr[-2000:]
    for what in ("filters", "neighbours", "figure4"):
        out = tmp_path / f"{what}.png"
        result = run(
            "trainers.visualize",
            f"--model={tmp_path / 'bigan'}",
            f"--what={what}",
            f"--output={out}",
            f"--data_dir={mnist_dir}",
            "--num=4",
        )
        assert result.returncode == 0, result.stderr[-2000:]
        width, height = _png_size(out)
        assert width == 855 and height > 100
    gan = run(
        "trainers.visualize",
        f"--model={tmp_path / 'gan'}",
        "--what=figure4",
        f"--output={tmp_path / 'x.png'}",
        f"--data_dir={mnist_dir}",
    )
    assert gan.returncode == 2 and "has no encoder" in gan.stderr and "Traceback" not in gan.stderr
    filters = run(
        "trainers.visualize",
        f"--model={tmp_path / 'gan'}",
        "--what=filters",
        f"--output={tmp_path / 'gan_filters.png'}",
    )
    assert filters.returncode == 0, filters.stderr[-2000:]  # D and G only


def test_transfer_plot(tmp_path):
    from bigan_tf.plots import plot_transfer

    rows = [
        {
            "labels_per_class": n,
            "mode": mode,
            "pretrained": 0.5 + n / 3000,
            "random": 0.4 + n / 3000,
        }
        for n in (10, 100, 1000)
        for mode in ("linear", "finetune")
    ]
    assert _png_size(plot_transfer(rows, str(tmp_path / "t.png"))) == (990, 324)  # 2 panels


def test_training_gif_animates_the_sample_grids_in_epoch_order(tmp_path):
    from bigan_tf.images import write_png, write_training_gif

    samples = tmp_path / "samples"
    samples.mkdir()
    for epoch in (0, 1, 2, 10, 25):  # epoch 10 sorts before 2 as text, not as a number
        grid = np.full((20, 30, 1), 10 * epoch, np.uint8)
        write_png(str(samples / f"{epoch}.png"), grid)
        write_png(str(samples / f"{epoch}.regen.png"), grid)  # other grids are not frames
    gif = tmp_path / "training.gif"
    assert write_training_gif(str(samples), str(gif)) == 5
    with Image.open(gif) as image:
        # Enlarged 13 times (to at least 256 rows) under a one-line caption band.
        assert image.n_frames == 5 and image.size == (390, 260 + 20)
        shades, captions = [], []
        for frame in range(5):
            image.seek(frame)
            pixels = np.asarray(image.convert("L"))
            shades.append(int(pixels[-1, -1]))
            captions.append(int(pixels[:20].min()))  # dark text on the white band
    assert shades == [0, 10, 20, 100, 250] and max(captions) < 128
    # Thinned evenly to max_frames, keeping the first and the last evaluation.
    assert write_training_gif(str(samples), str(gif), max_frames=3) == 3
    with Image.open(gif) as image:
        image.seek(2)
        assert int(np.asarray(image.convert("L"))[-1, -1]) == 250
    assert sorted(os.listdir(tmp_path)) == ["samples", "training.gif"]  # nothing temporary
    assert write_training_gif(str(tmp_path), str(tmp_path / "none.gif")) == 0  # no grids yet


def test_figure_programs_show_the_dataset_the_model_was_trained_on(tmp_path):
    """visualize/sample/embed read real images from the run's own dataset by default:
    a Fashion-MNIST run's figure4 must not show MNIST digits as its x."""
    from trainers.cli import model_dataset
    from trainers.data_paths import shared_data_dir as default_data_dir

    fashion = tmp_path / "fashion_idx"
    fashion.mkdir()
    (fashion / "train-images-idx3-ubyte.gz").write_bytes(b"")
    run = tmp_path / "run"
    run.mkdir()
    data = {"config": {"source": "fashion_mnist", "root": str(fashion)}}
    (run / "config.json").write_text(json.dumps({"data": data}))
    assert model_dataset(str(run), None, None) == ("fashion_mnist", str(fashion))
    # Flags as given win, each on its own.
    assert model_dataset(str(run), None, "/elsewhere") == ("fashion_mnist", "/elsewhere")
    assert model_dataset(str(run), "mnist", None) == ("mnist", default_data_dir("mnist"))
    # The run's folder is gone (another machine): the shared copy of that dataset.
    (fashion / "train-images-idx3-ubyte.gz").unlink()
    fashion.rmdir()
    assert model_dataset(str(run), None, None) == (
        "fashion_mnist",
        default_data_dir("fashion_mnist"),
    )
    # An export says it in bigan_tf.json; a run on image files, or none, falls back to MNIST.
    export = tmp_path / "export"
    export.mkdir()
    (export / "bigan_tf.json").write_text(json.dumps({"training_config": {"data": data}}))
    assert model_dataset(str(export), None, None)[0] == "fashion_mnist"
    (run / "config.json").write_text(json.dumps({"data": {"config": {"source": "folder"}}}))
    assert model_dataset(str(run), None, None) == ("mnist", default_data_dir("mnist"))
    assert model_dataset(str(tmp_path / "missing"), None, None)[0] == "mnist"
