"""The explorer's panels through its HTTP API (Flask's test client), on a tiny trained run."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

from conftest import train_small_run

pytest.importorskip("flask")


@pytest.fixture(scope="module")
def run_dir(small_mnist, tmp_path_factory):
    run = str(tmp_path_factory.mktemp("explore") / "run")
    train_small_run(small_mnist, run)
    return run


@pytest.fixture(scope="module")
def explorer(run_dir, mnist_dir):
    from trainers.explore_app import load_explorer

    return load_explorer(
        run_dir, dataset="mnist", data_dir=mnist_dir, num_reference=300, print_fn=lambda s: None
    )


@pytest.fixture
def client(explorer):
    from trainers.explore_app import create_app

    return create_app(explorer).test_client()


def _image(b64):
    import base64

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def _png_upload(array, name="x.png", fmt="PNG"):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return {"image": (io.BytesIO(buffer.getvalue()), name)}


def test_page_and_info(client, run_dir):
    page = client.get("/")
    assert page.status_code == 200 and b"bigan_tf explorer" in page.data
    info = client.get("/api/info").get_json()
    assert info["model"] == run_dir and info["epoch"] == 1 and info["latent_dim"] == 8
    assert info["panels"]["samples"] is None and info["panels"]["encode"] is None
    assert "not class-conditional" in info["panels"]["class_sweep"]
    assert "attribute vectors" in info["panels"]["attributes"]
    assert info["dataset"] == "mnist" and info["num_images"] > 0


def test_samples_are_a_labelled_picture_of_their_seed(client, run_dir):
    first = client.get("/api/samples?seed=3").get_json()["picture"]
    assert first["caption"][0] == "samples G(z): seed 3, 4×8"
    assert first["caption"][1] == f"model {run_dir}, epoch 1"
    assert "--seed=3" in first["command"] and "--task=random" in first["command"]
    image = _image(first["png"])
    assert image.shape[0] > 4 * 28 and image.shape[1] >= 8 * 28  # upscaled, with a caption
    again = client.get("/api/samples?seed=3").get_json()["picture"]
    assert again["png"] == first["png"]
    assert client.get("/api/samples?seed=4").get_json()["picture"]["png"] != first["png"]


def test_sweeps_come_with_gif_and_frames(client):
    body = client.get("/api/style_sweep?seed=1").get_json()
    assert body["picture"]["gif"] and len(body["frames"]) == 8
    assert _image(body["frames"][0]).shape[0] > 4 * 28  # four rows, upscaled, captioned
    refused = client.get("/api/class_sweep")
    assert refused.status_code == 400
    assert "not class-conditional" in refused.get_json()["error"]


def test_encode_a_dataset_image_shows_reconstruction_and_both_neighbour_sets(client):
    pictures = client.post("/api/encode", data={"index": "5"}).get_json()["pictures"]
    titles = [p["title"] for p in pictures]
    assert titles == [
        "x and its reconstruction G(E(x))",
        "8 nearest training images in E's features",
        "8 nearest training images in raw pixels",
    ]
    assert "held-out image 5" in pictures[0]["caption"][0]
    indices = pictures[1]["caption"][0].split("training indices ")[1].split(", ")
    assert len(indices) == 8 and all(0 <= int(i) < 300 for i in indices)


def test_uploads_fitted_with_a_notice_or_refused_with_a_message(client):
    grey = (np.random.RandomState(0).rand(28, 28) * 255).astype(np.uint8)
    fitted = client.post("/api/encode", data=_png_upload(grey), content_type="multipart/form-data")
    assert fitted.status_code == 200
    assert fitted.get_json()["pictures"][0]["notice"] is None
    colour = (np.random.RandomState(1).rand(40, 64, 3) * 255).astype(np.uint8)
    converted = client.post(
        "/api/encode", data=_png_upload(colour, "c.jpg", "JPEG"), content_type="multipart/form-data"
    ).get_json()["pictures"][0]
    assert converted["notice"] == (
        "The image was centre-cropped to a square, resized from "
        "40×40 to 28×28, converted to grey to fit the model."
    )
    text = client.post(
        "/api/encode",
        data={"image": (io.BytesIO(b"hello"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert text.status_code == 400 and "not an image" in text.get_json()["error"]
    huge = client.post(
        "/api/encode",
        data={"image": (io.BytesIO(b"0" * (50 * 2**20)), "big.png")},
        content_type="multipart/form-data",
    )
    assert huge.status_code == 413 and "larger than" in huge.get_json()["error"]
    # The next good request still works.
    assert client.post("/api/encode", data={"index": "0"}).status_code == 200


def test_interpolation_strip_shows_its_two_end_images(client, explorer):
    body = client.get("/api/interpolate?a=2&b=7").get_json()
    assert "held-out images 2 and 7" in body["picture"]["caption"][0]
    assert "--indices=2:7" in body["picture"]["command"]
    assert len(body["frames"]) == 10  # the two real images and 8 decoded points
    first = _image(body["frames"][0])
    assert first.ndim == 3
    seeds = client.get("/api/interpolate?seed_a=1&seed_b=2").get_json()
    assert "seeds 1 and 2" in seeds["picture"]["caption"][0] and len(seeds["frames"]) == 8


def test_analogy_from_indices_or_random(client):
    body = client.get("/api/analogy?indices=1,2,3").get_json()["picture"]
    assert "held-out images 1,2,3" in body["caption"][0] and "--indices=1,2,3" in body["command"]
    assert client.get("/api/analogy?seed=9").status_code == 200
    bad = client.get("/api/analogy?indices=1,2")
    assert bad.status_code == 400 and "three image indices" in bad.get_json()["error"]


@pytest.mark.parametrize(
    "url,message",
    [
        ("/api/samples?seed=-1", "seed must be in"),
        ("/api/samples?seed=abc", "whole number"),
        ("/api/samples?seed=99999999999", "seed must be in"),
        ("/api/interpolate?a=0&b=999999", "outside"),
        ("/api/dataset/x", "whole number"),
    ],
)
def test_bad_values_are_messages(client, url, message):
    response = client.get(url)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_many_requests_at_once_are_answered_busy_and_the_server_stays_up(explorer):
    from trainers.explore_app import create_app

    release, entered = threading.Event(), threading.Event()
    original = explorer.samples

    def slow_samples(seed):
        entered.set()
        release.wait(30)
        return original(seed)

    explorer.samples = slow_samples
    try:
        app = create_app(explorer, max_waiting=0)
        results = []
        worker = threading.Thread(
            target=lambda: results.append(app.test_client().get("/api/samples?seed=1").status_code)
        )
        worker.start()
        assert entered.wait(30)
        busy = app.test_client().get("/api/samples?seed=2")
        assert busy.status_code == 503 and "busy" in busy.get_json()["error"]
        release.set()
        worker.join(60)
        assert results == [200]
        assert app.test_client().get("/api/samples?seed=2").status_code == 200
    finally:
        explorer.samples = original


def test_attribute_sliders_edit_a_held_out_image(explorer, tmp_path):
    """With attribute vectors the panel appears, one slider per vector; an edit is x, then
    G(E(x) + t·edit) for t = 0..1, labelled with the amounts and the reproducing command."""
    from bigan_tf.explorer import Explorer
    from bigan_tf.sampling import attribute_vectors, save_attribute_vectors
    from trainers.explore_app import create_app

    codes = explorer.model.encode(explorer.images[:200])
    labels = explorer.labels[:200]
    vectors = attribute_vectors(codes, np.stack([labels == 1, labels % 2 == 0], 1))
    path = str(tmp_path / "attrs.npz")
    save_attribute_vectors(path, vectors, ["one", "even"])
    with_attributes = Explorer(
        explorer.model, explorer.model_path, explorer.images, explorer.labels, None, "mnist", path
    )
    client = create_app(with_attributes).test_client()
    info = client.get("/api/info").get_json()
    assert info["panels"]["attributes"] is None and info["attributes"] == ["one", "even"]
    body = client.get("/api/attributes?index=5&one=1.5&even=0").get_json()
    picture = body["picture"]
    assert picture["caption"][0].endswith("held-out image 5: one +1.5")
    assert "--attributes=one=+1.5" in picture["command"]
    assert len(body["frames"]) == 6 and picture["gif"]  # x and five steps of the edit
    for url, message in (
        ("/api/attributes?index=5&one=9", "must be in [-3, 3]"),
        ("/api/attributes?index=5&three=1", "Unknown attribute"),
        ("/api/attributes?index=5&one=x", "must be a number"),
    ):
        answer = client.get(url)
        assert answer.status_code == 400 and message in answer.get_json()["error"]


def test_training_panel_animates_the_runs_sample_grids(client, explorer, run_dir):
    """A run's training.gif (one frame per evaluation) is its own panel; an export has none."""
    import os
    from bigan_tf.explorer import Explorer

    assert os.path.isfile(os.path.join(run_dir, "training.gif"))
    picture = client.get("/api/training").get_json()["picture"]
    assert picture["animated"] and picture["caption"][0].startswith("training: the fixed-z")
    import base64

    with Image.open(io.BytesIO(base64.b64decode(picture["gif"]))) as gif:
        assert gif.n_frames == 2  # the evaluations at epochs 0 and 1
    export_like = Explorer(explorer.model, "/nonexistent/export")
    assert export_like.panels()["training"] == "an export has no training history"


def test_encode_a_list_of_uploads_gives_reconstructions_and_a_csv_of_codes(client, explorer):
    """DIGITS's encode-list form: several files in, the images over their reconstructions
    and E(x) of each as CSV out; a bad file is named in the message."""
    files = []
    for i in range(3):
        image = (explorer.images[i, ..., 0] * 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        files.append((io.BytesIO(buffer.getvalue()), f"digit{i}.png"))
    body = client.post(
        "/api/encode_list", data={"images": files}, content_type="multipart/form-data"
    ).get_json()
    picture = body["picture"]
    assert picture["caption"][0].endswith("3 images: digit0.png, digit1.png, digit2.png")
    rows = picture["table"].strip().split("\n")
    assert rows[0].startswith("image,z0,") and len(rows) == 4
    codes = np.array([[float(v) for v in row.split(",")[1:]] for row in rows[1:]])
    expected = explorer.model.encode(explorer.images[:3])
    np.testing.assert_allclose(codes, expected, atol=2e-3)  # uint8 round trip, then 6 digits
    image = _image(picture["png"])
    assert image.shape[1] >= 3 * 28 * 2  # 3 columns, upscaled
    bad = client.post(
        "/api/encode_list",
        data={"images": [(io.BytesIO(b"not an image"), "notes.txt")]},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and bad.get_json()["error"].startswith("notes.txt: ")
    none = client.post("/api/encode_list", data={}, content_type="multipart/form-data")
    assert none.status_code == 400 and "at least one image" in none.get_json()["error"]


@pytest.fixture(scope="module")
def ssgan_explorer(small_mnist, mnist_dir, tmp_path_factory):
    import tensorflow as tf
    from bigan_tf.config import RunConfig, SSGANConfig
    from bigan_tf.ssgan import train_ssgan
    from trainers.explore_app import load_explorer

    run = str(tmp_path_factory.mktemp("explore_ssgan") / "run")
    train_ssgan(
        tf.distribute.get_strategy(),
        small_mnist,
        SSGANConfig(generator_units=32, classifier_units=(64, 32)),
        5,
        1,
        RunConfig(exp_dir=run, batch_size=100, verbose=0),
        print_fn=lambda s: None,
    )
    return load_explorer(
        run, dataset="mnist", data_dir=mnist_dir, num_reference=100, print_fn=lambda s: None
    )


def test_a_semi_supervised_gan_run_gets_samples_and_a_classify_panel(ssgan_explorer):
    """An SSGAN run: samples from its G and class probabilities from its D; the encoder
    panels are hidden with their reason."""
    from trainers.explore_app import create_app

    client = create_app(ssgan_explorer).test_client()
    info = client.get("/api/info").get_json()
    assert info["panels"]["classify"] is None and info["panels"]["samples"] is None
    assert "no encoder" in info["panels"]["encode"]
    assert client.get("/api/samples?seed=1").get_json()["picture"]["png"]
    body = client.post(
        "/api/classify", data={"index": "7"}, content_type="multipart/form-data"
    ).get_json()
    picture = body["picture"]
    probabilities = np.array(picture["probabilities"])
    assert probabilities.shape == (10,) and abs(probabilities.sum() - 1) < 1e-4
    top = int(np.argmax(probabilities))
    assert f"class {top} {100 * probabilities[top]:.1f}%" in picture["caption"][0]
    assert "held-out image 7 (label" in picture["caption"][0]
    expected = ssgan_explorer.model.classify(ssgan_explorer.images[7][None])[0]
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    upload = (ssgan_explorer.images[7, ..., 0] * 255).astype(np.uint8)
    uploaded = client.post(
        "/api/classify", data=_png_upload(upload), content_type="multipart/form-data"
    ).get_json()["picture"]
    np.testing.assert_allclose(uploaded["probabilities"], expected, atol=2e-2)


def test_a_bigan_has_no_classify_panel(client):
    info = client.get("/api/info").get_json()
    assert "only a semi-supervised GAN run has one" in info["panels"]["classify"]
    refused = client.post("/api/classify", data={"index": "1"}, content_type="multipart/form-data")
    assert refused.status_code == 400 and "not available" in refused.get_json()["error"]
