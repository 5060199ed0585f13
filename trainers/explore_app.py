"""The explorer's web app (Flask) and its loading: no flags, shared by `trainers.explore`,
its benchmark and its tests."""

from __future__ import annotations

import base64
import threading

MAX_REQUEST_BYTES = 12 * 1024 * 1024


def _picture_json(picture) -> dict:
    encode = lambda data: base64.b64encode(data).decode("ascii") if data else None
    return {
        "title": picture.title,
        "caption": picture.caption,
        "png": encode(picture.png),
        "gif": encode(picture.gif),
        "command": picture.command,
        "notice": picture.notice,
        "animated": picture.animated,
        "table": picture.table,
        "probabilities": picture.probabilities,
    }


def create_app(explorer, max_waiting: int = 8):
    """The Flask app of one `Explorer`: the page and its JSON API."""
    from flask import Flask, jsonify, request
    from werkzeug.exceptions import HTTPException

    from bigan_tf.errors import BiganError
    from bigan_tf.explorer import prepare_upload
    from trainers.explore_page import PAGE

    app = Flask("bigan_tf_explorer")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    model_lock = threading.Lock()
    waiting = threading.BoundedSemaphore(max_waiting + 1)

    def answer(make):
        """Runs `make()` with the model to itself; errors become a message, not a crash."""
        if not waiting.acquire(blocking=False):
            return jsonify({"error": "The server is busy: try again in a moment."}), 503
        try:
            with model_lock:
                result = make()
            if isinstance(result, dict):
                pictures = [_picture_json(p) for p in result.values()]
                return jsonify({"pictures": pictures})
            body = {"picture": _picture_json(result)}
            if result.frames:
                body["frames"] = [base64.b64encode(f).decode("ascii") for f in result.frames]
            return jsonify(body)
        except BiganError as e:
            return jsonify({"error": str(e)}), 400
        except HTTPException:
            raise  # e.g. an upload over MAX_CONTENT_LENGTH: its own handler answers
        except Exception as e:  # noqa: BLE001 - one request's failure never stops the server
            return jsonify({"error": f"Internal error ({type(e).__name__}: {e})."}), 500
        finally:
            waiting.release()

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code == 413:
            return jsonify(
                {"error": f"The upload is larger than {MAX_REQUEST_BYTES // 2**20} MB."}
            ), 413
        return jsonify({"error": f"{e.name}: {e.description}"}), e.code

    @app.get("/")
    def page():
        return PAGE

    @app.get("/api/info")
    def info():
        return jsonify(explorer.describe())

    seed = lambda: request.args.get("seed", "0")

    @app.get("/api/samples")
    def samples():
        return answer(lambda: explorer.samples(seed()))

    @app.get("/api/style_sweep")
    def style_sweep():
        return answer(lambda: explorer.style_sweep(seed()))

    @app.get("/api/class_sweep")
    def class_sweep():
        return answer(lambda: explorer.class_sweep(seed()))

    @app.get("/api/dataset/<index>")
    def dataset(index):
        return answer(lambda: explorer.dataset_picture(index))

    def request_image():
        """(image, label or None, what it is, notice) of a POST: an upload ("image") or a
        held-out image ("index")."""
        upload = request.files.get("image")
        if upload is not None:
            image, notice = prepare_upload(upload.read(), explorer.model.encoder_image_shape)
            return image, None, f"upload {upload.filename or ''}".strip(), notice
        index = request.form.get("index")
        image, label = explorer.dataset_image(index)
        return image, label, f"held-out image {index}", None

    @app.post("/api/encode")
    def encode():
        def make():
            image, label, source, notice = request_image()
            return explorer.encode(image, label=label or 0, source=source, notice=notice)

        return answer(make)

    @app.post("/api/classify")
    def classify():
        def make():
            image, label, source, notice = request_image()
            if label is not None:
                source += f" (label {label})"
            return explorer.classify(image, source, notice)

        return answer(make)

    @app.post("/api/encode_list")
    def encode_list():
        def make():
            images, names, notices = [], [], []
            for upload in request.files.getlist("images"):
                name = upload.filename or f"image {len(names)}"
                try:
                    image, notice = prepare_upload(
                        upload.read(), explorer.model.encoder_image_shape
                    )
                except BiganError as e:
                    raise type(e)(f"{name}: {e}") from None
                images.append(image)
                names.append(name)
                notices.append(f"{name}: {notice}" if notice else None)
            return explorer.encode_list(images, names, notices)

        return answer(make)

    @app.get("/api/interpolate")
    def interpolate():
        args = request.args
        if "seed_a" in args or "seed_b" in args:
            return answer(
                lambda: explorer.interpolate_seeds(args.get("seed_a", "0"), args.get("seed_b", "1"))
            )
        return answer(lambda: explorer.interpolate_indices(args.get("a", "0"), args.get("b", "1")))

    @app.get("/api/analogy")
    def analogy():
        return answer(lambda: explorer.analogy(request.args.get("indices") or None, seed()))

    @app.get("/api/training")
    def training():
        return answer(explorer.training)

    @app.get("/api/attributes")
    def attributes():
        # ?index=I&NAME=AMOUNT&...: every other parameter is an attribute's slider.
        edits = {k: v for k, v in request.args.items() if k != "index"}
        return answer(lambda: explorer.attributes(request.args.get("index", "0"), edits))

    return app


def load_explorer(
    model_path: str,
    epoch="latest",
    dataset=None,
    data_dir=None,
    num_reference: int = 5000,
    attribute_file=None,
    print_fn=print,
):
    """The `Explorer` of a run or an export, with its dataset when that can be read."""
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.errors import BiganError
    from bigan_tf.explorer import Explorer
    from bigan_tf.sampling import LatentModel
    from trainers.cli import model_dataset

    model = LatentModel.load(model_path, epoch)
    images = labels = reference = None
    name = None
    try:
        name, folder = model_dataset(model_path, dataset, data_dir)
        data = match_image_shape(load_image_data(name, folder), model.encoder_image_shape)
        images, labels = data.val_images, data.val_labels
        reference = data.train_images[:num_reference]
    except BiganError as e:
        print_fn(f"No dataset panels: {e}")
    return Explorer(model, model_path, images, labels, reference, name, attribute_file)
