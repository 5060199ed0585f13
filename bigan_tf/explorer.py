"""What the explorer page shows, as pictures: each panel a call of the sampling tasks.

`Explorer` holds one loaded model (`sampling.LatentModel`: a run's checkpoint or an
export) and the dataset it was trained on (the held-out images the sampling tasks
pick from, the training images neighbours are searched in). Every panel returns
a `Picture`: a captioned PNG (what it is, the seed or indices, the model and its
epoch), a GIF for sweeps, and the `trainers.sample` command that makes the same
grid. Images are computed by `bigan_tf.sampling_tasks.run_task` (never a second
implementation); nearest neighbours are a batched matrix product
(`figures.nearest_indices`), in E's "e-" features and in raw pixels (the paper's
Appendix C.2). Uploaded images are checked and fitted to the model's input by
`prepare_upload`, which says what it changed. Nothing here serves HTTP
(`trainers.explore` does).
"""

from __future__ import annotations

import dataclasses
import io
import os
import shlex
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from bigan_tf.errors import ConfigError
from bigan_tf.figures import nearest_indices
from bigan_tf.images import captioned, gif_bytes, make_grid, png_bytes, upscaled
from bigan_tf.sampling import LatentModel, frames_along_rows
from bigan_tf.sampling_tasks import TaskRequest, run_task
from bigan_tf.array_types import Array

MAX_SEED = 2**31 - 1
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 4096 * 4096


@dataclasses.dataclass
class Picture:
    """One panel's result: captioned PNG (and GIF for sweeps) and how to make it again."""

    title: str
    caption: List[str]
    png: bytes
    gif: Optional[bytes] = None
    command: Optional[str] = None
    notice: Optional[str] = None
    frames: Optional[List[bytes]] = None  # a sweep's frames as PNGs (the page's slider)
    animated: bool = False  # the page shows the GIF itself (training), not the PNG
    table: Optional[str] = None  # a CSV that goes with the picture (encoded list: the codes)
    probabilities: Optional[List[float]] = None  # a classified image's class probabilities


def prepare_upload(data: bytes, image_shape: Sequence[int]) -> Tuple[np.ndarray, Optional[str]]:
    """An uploaded file -> float32 [H, W, C] in [0, 1] of the model's `image_shape`.

    Refuses (`ConfigError`, one line) an empty, oversized or undecodable file; a
    picture of another size or channel count is converted (centre-cropped to a
    square, resized, to grey or RGB) and the returned notice says so.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ConfigError("The upload is empty: choose an image file (PNG, JPEG, ...).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ConfigError(
            f"The upload is {len(data) / 2**20:.1f} MB; images up to "
            f"{MAX_UPLOAD_BYTES // 2**20} MB are accepted."
        )
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_UPLOAD_PIXELS:
                raise ConfigError(
                    f"The image is {opened.width}×{opened.height} pixels; at most "
                    f"{MAX_UPLOAD_PIXELS} pixels are accepted."
                )
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ConfigError(
            "The upload is not an image this page can read (PNG, JPEG, GIF, BMP, WebP)."
        ) from None
    height, width, channels = (int(d) for d in image_shape)
    changes = []
    if image.width != image.height:
        side = min(image.width, image.height)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        changes.append("centre-cropped to a square")
    if image.size != (width, height):
        changes.append(f"resized from {image.width}×{image.height} to {width}×{height}")
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, np.float32) / 255.0
    if channels == 1:
        if not np.allclose(pixels[..., 0], pixels[..., 1]) or not np.allclose(
            pixels[..., 0], pixels[..., 2]
        ):
            changes.append("converted to grey")
        pixels = pixels.mean(axis=-1, keepdims=True)
    notice = ("The image was " + ", ".join(changes) + " to fit the model.") if changes else None
    return pixels, notice


def _same_size(frames: List[np.ndarray]) -> List[np.ndarray]:
    """Pads frames (captions of different widths) to one size, white, for a GIF."""
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    return [
        np.pad(f, ((0, height - f.shape[0]), (0, width - f.shape[1]), (0, 0)), constant_values=255)
        for f in frames
    ]


# The most images one "encode list" request takes.
MAX_LIST_IMAGES = 32
# How far an attribute slider reaches, in units of the attribute vector.
MAX_ATTRIBUTE_AMOUNT = 3.0


def _check_seed(seed) -> int:
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"The seed must be a whole number, got {seed!r}.") from None
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"The seed must be in [0, {MAX_SEED}], got {seed}.")
    return seed


class Explorer:
    """The panels of one model. `images`/`labels`: the held-out images the tasks pick
    from (uint8 or [0, 1]); `reference`: training images searched for neighbours."""

    def __init__(
        self,
        model: LatentModel,
        model_path: str,
        images: Optional[Array] = None,
        labels: Optional[Array] = None,
        reference: Optional[Array] = None,
        dataset: Optional[str] = None,
        attribute_file: Optional[str] = None,
    ):
        self.model, self.model_path = model, model_path
        self.dataset, self.attribute_file = dataset, attribute_file
        to_unit = lambda a: (
            None
            if a is None
            else (np.asarray(a, np.float32) / (255.0 if np.asarray(a).dtype == np.uint8 else 1.0))
        )
        self.images, self.labels = to_unit(images), labels
        self.reference = to_unit(reference)
        self._reference_features: Optional[np.ndarray] = None

    # ------------------------------------------------------------- what exists
    def panels(self) -> Dict[str, Optional[str]]:
        """{panel: None when available, else the one-line reason it is hidden}."""
        encoder = None if self.model.has_encoder else "the model has no encoder (a plain GAN)"
        data = None if self.images is not None else "the model's dataset could not be read"
        conditional = None if self.model.is_conditional else "the model is not class-conditional"
        return {
            "samples": None,
            "style_sweep": None,
            "class_sweep": conditional,
            "encode": encoder,
            "encode_list": encoder,
            "interpolate": encoder,
            "analogy": None,
            "attributes": encoder
            or (
                None
                if self.attribute_file
                else "no attribute vectors (make them with "
                "trainers.sample --task=attribute_vectors)"
            ),
            "dataset": data,
            "classify": None
            if self.model.classify_fn is not None
            else "the model has no classifier (only a semi-supervised GAN run has one)",
            "training": None
            if self._training_gif_path()
            else (
                "an export has no training history"
                if not os.path.isdir(self.model_path)
                else "the run has no training.gif yet (written at its first evaluation)"
            ),
        }

    def _training_gif_path(self) -> Optional[str]:
        from bigan_tf.run_dir import TRAINING_GIF_FILE

        path = os.path.join(self.model_path, TRAINING_GIF_FILE)
        return path if os.path.isfile(path) else None

    def _require(self, panel: str) -> None:
        reason = self.panels()[panel]
        if reason:
            raise ConfigError(f"The {panel} panel is not available: {reason}.")

    def _held_out_images(self) -> np.ndarray:
        """The held-out images, which the dataset panels need."""
        self._require("dataset")
        assert self.images is not None  # _require: the dataset panel is available
        return self.images

    def _attribute_path(self) -> str:
        self._require("attributes")
        assert self.attribute_file is not None  # _require: the attributes panel is available
        return self.attribute_file

    def attribute_names(self) -> List[str]:
        """The names of the attribute vectors (empty without an attribute file)."""
        if not self.attribute_file:
            return []
        from bigan_tf.sampling import load_attribute_vectors

        return list(load_attribute_vectors(self.attribute_file)[1])

    def describe(self) -> Dict[str, object]:
        return {
            "model": self.model_path,
            "epoch": self.model.epoch,
            "attributes": self.attribute_names() if not self.panels()["attributes"] else [],
            "image_shape": list(self.model.image_shape),
            "latent_dim": self.model.latent_dim,
            "num_classes": self.model.num_classes,
            "dataset": self.dataset,
            "num_images": 0 if self.images is None else int(len(self.images)),
            "panels": self.panels(),
        }

    # ---------------------------------------------------------------- pictures
    def _model_line(self) -> str:
        epoch = f", epoch {self.model.epoch}" if self.model.epoch is not None else ""
        return f"model {self.model_path}{epoch}"

    def _command(
        self,
        task: str,
        rows: int,
        steps: int,
        seed: int,
        indices: Optional[str] = None,
        gif: bool = False,
    ) -> str:
        parts = [
            "python",
            "-m",
            "trainers.sample",
            f"--model={self.model_path}",
            f"--task={task}",
            f"--rows={rows}",
            f"--steps={steps}",
            f"--seed={seed}",
        ]
        if indices:
            parts.append(f"--indices={indices}")
        if self.dataset and task in ("reconstruct", "interpolate", "attributes", "analogy"):
            parts.append(f"--dataset={self.dataset}")
        parts.append(f"--output={task}.png")
        if gif:
            parts.append(f"--gif={task}.gif")
        return shlex.join(parts)

    def _picture(
        self,
        title: str,
        details: str,
        images,
        rows: int,
        is_sweep: bool,
        command: Optional[str],
        notice: Optional[str] = None,
    ) -> Picture:
        caption = [f"{title}: {details}", self._model_line()]
        grid = upscaled(make_grid(images, rows))
        gif = frames = None
        if is_sweep:
            labelled = [
                captioned(upscaled(f), caption + [f"frame {i + 1} of {steps}"])
                for steps in [len(images) // rows]
                for i, f in enumerate(frames_along_rows(images, rows))
            ]
            gif = gif_bytes(np.stack(_same_size(labelled)), duration_ms=150)
            frames = [png_bytes(f) for f in labelled]
        return Picture(
            title, caption, png_bytes(captioned(grid, caption)), gif, command, notice, frames
        )

    def _task(
        self,
        task: str,
        rows: int,
        steps: int,
        seed: int,
        real=None,
        labels=None,
        indices: Optional[str] = None,
    ):
        return run_task(
            task,
            TaskRequest(self.model, rows, steps, seed, real, labels, indices, self.attribute_file),
        )

    def samples(self, seed: int = 0, rows: int = 4, steps: int = 8) -> Picture:
        seed = _check_seed(seed)
        out = self._task("random", rows, steps, seed)
        return self._picture(
            "samples G(z)",
            f"seed {seed}, {rows}×{steps}",
            out.images,
            out.rows,
            False,
            self._command("random", rows, steps, seed),
        )

    def style_sweep(self, seed: int = 0, rows: int = 4, steps: int = 8) -> Picture:
        seed = _check_seed(seed)
        out = self._task("style_sweep", rows, steps, seed)
        return self._picture(
            "style sweep (slerp between two z per row)",
            f"seed {seed}",
            out.images,
            out.rows,
            True,
            self._command("style_sweep", rows, steps, seed, gif=True),
        )

    def class_sweep(self, seed: int = 0, rows: int = 4, steps: int = 8) -> Picture:
        self._require("class_sweep")
        seed = _check_seed(seed)
        out = self._task("class_sweep", rows, steps, seed)
        return self._picture(
            "class sweep (row r: class r to r+1)",
            f"seed {seed}",
            out.images,
            out.rows,
            True,
            self._command("class_sweep", rows, steps, seed, gif=True),
        )

    def dataset_image(self, index: Any) -> Tuple[np.ndarray, int]:
        """Held-out image `index` (float [H, W, C]) and its label."""
        images = self._held_out_images()
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise ConfigError(f"An image index is a whole number, got {index!r}.") from None
        if not 0 <= index < len(images):
            raise ConfigError(f"Image index {index} is outside [0, {len(images)}).")
        label = int(self.labels[index]) if self.labels is not None else 0
        return images[index], label

    def dataset_picture(self, index: Any) -> Picture:
        image, label = self.dataset_image(index)
        return self._picture(
            "dataset image",
            f"held-out index {int(index)}, label {label}",
            image[None],
            1,
            False,
            None,
        )

    def _neighbours(self, features, pool_features, k: int) -> np.ndarray:
        return nearest_indices(
            np.asarray(features, np.float32)[None], np.asarray(pool_features, np.float32), k
        )[0]

    def encode(
        self,
        image: Array,
        k: int = 8,
        label: int = 0,
        source: str = "upload",
        notice: Optional[str] = None,
    ) -> Dict[str, Picture]:
        """G(E(x)) of one image and its k nearest training images under E's features and
        under raw pixels."""
        self._require("encode")
        image = np.asarray(image, np.float32).reshape(self.model.encoder_image_shape)
        labels = np.array([label]) if self.model.is_conditional else None
        reconstruction = self.model.generate(self.model.encode(image[None]), labels)
        # A generalized BiGAN's x is larger than G(E(x)): then the reconstruction alone.
        same_size = self.model.image_shape == self.model.encoder_image_shape
        shown = np.concatenate([image[None], reconstruction]) if same_size else reconstruction
        pictures = {
            "reconstruction": self._picture(
                "x and its reconstruction G(E(x))" if same_size else "reconstruction G(E(x))",
                source,
                shown,
                1,
                False,
                None,
                notice,
            )
        }
        if self.reference is not None:
            if self._reference_features is None:
                self._reference_features = self.model.features(self.reference)
            flat = lambda a: np.asarray(a, np.float32).reshape(len(a), -1)
            by_features = self._neighbours(
                self.model.features(image[None])[0], self._reference_features, k
            )
            by_pixels = self._neighbours(flat(image[None])[0], flat(self.reference), k)
            for name, index, space in (
                ("neighbours_features", by_features, "E's features"),
                ("neighbours_pixels", by_pixels, "raw pixels"),
            ):
                pictures[name] = self._picture(
                    f"{k} nearest training images in {space}",
                    f"{source}; training indices {', '.join(str(int(i)) for i in index)}",
                    self.reference[index],
                    1,
                    False,
                    None,
                )
        return pictures

    def encode_list(
        self,
        images: Sequence[np.ndarray],
        names: Sequence[str],
        notices: Sequence[Optional[str]] = (),
    ) -> Picture:
        """DIGITS's "encode list": several images, their reconstructions G(E(x)) under them,
        and their codes E(x) as a CSV (one row per image, its name first)."""
        self._require("encode_list")
        if not len(images):
            raise ConfigError("Give at least one image to encode.")
        if len(images) > MAX_LIST_IMAGES:
            raise ConfigError(
                f"Encode at most {MAX_LIST_IMAGES} images at a time, got {len(images)}."
            )
        x = np.stack(
            [np.asarray(i, np.float32).reshape(self.model.encoder_image_shape) for i in images]
        )
        codes = self.model.encode(x)
        labels = np.zeros(len(x), np.int64) if self.model.is_conditional else None
        reconstructions = self.model.generate(codes, labels)
        same_size = self.model.image_shape == self.model.encoder_image_shape
        shown = np.concatenate([x, reconstructions]) if same_size else reconstructions
        picture = self._picture(
            "encoded list: the images, and G(E(x)) under them"
            if same_size
            else "encoded list: G(E(x)) of each image",
            f"{len(x)} images: {', '.join(names)}",
            shown,
            2 if same_size else 1,
            False,
            None,
            "; ".join(n for n in notices if n) or None,
        )
        lines = ["image," + ",".join(f"z{i}" for i in range(codes.shape[1]))]
        lines += [
            ",".join([name.replace(",", "_")] + [f"{v:.6g}" for v in code])
            for name, code in zip(names, np.asarray(codes))
        ]
        picture.table = "\n".join(lines) + "\n"
        return picture

    def interpolate(self, first: Array, second: Array, steps: int = 8, what: str = "") -> Picture:
        """A slerp between the codes of two images, shown between the two real images."""
        self._require("interpolate")
        real = np.stack([np.asarray(first, np.float32), np.asarray(second, np.float32)])
        labels = np.zeros(2, np.int64) if self.model.is_conditional else None
        out = self._task("interpolate", 1, steps, 0, real, labels, "0:1")  # ends: a and b
        return self._picture(
            "interpolation between E(a) and E(b), ends: a and b", what, out.images, 1, True, None
        )

    def interpolate_indices(self, a: Any, b: Any, steps: int = 8) -> Picture:
        (first, _), (second, _) = self.dataset_image(a), self.dataset_image(b)
        picture = self.interpolate(first, second, steps, f"held-out images {a} and {b}")
        picture.command = self._command("interpolate", 1, steps, 0, f"{int(a)}:{int(b)}", gif=True)
        return picture

    def interpolate_seeds(self, a: Any, b: Any, steps: int = 8) -> Picture:
        """A slerp between the z of two seeds (`sampling.random_latents`)."""
        from bigan_tf.sampling import random_latents, sweep

        a, b = _check_seed(a), _check_seed(b)
        za = random_latents(1, self.model.latent_dim, a)[0]
        zb = random_latents(1, self.model.latent_dim, b)[0]
        labels = np.zeros(steps, np.int64) if self.model.is_conditional else None
        images = self.model.generate(sweep(za, zb, steps), labels)
        return self._picture(
            "interpolation between two seeds' z", f"seeds {a} and {b}", images, 1, True, None
        )

    def attributes(self, index: Any, edits: Dict[str, Any], steps: int = 5) -> Picture:
        """Attribute sliders: held-out image `index`, then G(E(x) + t·Σ amount·vector) for t
        from 0 to 1 (the last frame is the full edit). `edits` maps attribute names to
        amounts in [−MAX_ATTRIBUTE_AMOUNT, MAX_ATTRIBUTE_AMOUNT]."""
        from bigan_tf.sampling import apply_attributes, load_attribute_vectors

        attribute_file = self._attribute_path()
        image, label = self.dataset_image(index)
        vectors, names = load_attribute_vectors(attribute_file)
        amounts = {}
        for name, amount in edits.items():
            try:
                amount = float(amount)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"The amount of {name!r} must be a number, got {amount!r}."
                ) from None
            if not abs(amount) <= MAX_ATTRIBUTE_AMOUNT:
                raise ConfigError(
                    f"The amount of {name!r} must be in "
                    f"[-{MAX_ATTRIBUTE_AMOUNT:g}, {MAX_ATTRIBUTE_AMOUNT:g}], "
                    f"got {amount:g}."
                )
            if amount:
                amounts[name] = amount
        z = self.model.encode(image[None])[0]
        edited = apply_attributes(z, vectors, names, amounts)
        codes = np.stack([z + t * (edited - z) for t in np.linspace(0.0, 1.0, steps)])
        labels = np.full(steps, label, np.int64) if self.model.is_conditional else None
        images = np.concatenate([image[None], self.model.generate(codes, labels)])
        what = ", ".join(f"{name} {amount:+g}" for name, amount in amounts.items()) or "no edit"
        command = shlex.join(
            [
                "python",
                "-m",
                "trainers.sample",
                f"--model={self.model_path}",
                "--task=attributes",
                f"--attribute_file={self.attribute_file}",
                f"--attributes={','.join(f'{n}={a:+g}' for n, a in amounts.items())}",
                "--output=attributes.png",
            ]
        )
        return self._picture(
            "attribute edit (x, then G(E(x) + t·edit) for t = 0..1)",
            f"held-out image {int(index)}: {what}",
            images,
            1,
            True,
            command if amounts else None,
        )

    def classify(
        self, image: Array, source: str = "upload", notice: Optional[str] = None
    ) -> Picture:
        """A semi-supervised GAN's class probabilities of one image (its K real classes)."""
        self._require("classify")
        image = np.asarray(image, np.float32).reshape(self.model.encoder_image_shape)
        probabilities = self.model.classify(image[None])[0]
        ranked = np.argsort(-probabilities)[:3]
        best = ", ".join(f"class {int(k)} {100 * probabilities[k]:.1f}%" for k in ranked)
        picture = self._picture(
            "classified by D's K real classes",
            f"{source}: {best}",
            image[None],
            1,
            False,
            None,
            notice,
        )
        picture.probabilities = [float(p) for p in probabilities]
        return picture

    def training(self) -> Picture:
        """The run's training.gif: its fixed-z sample grid at every evaluation, animated
        (each frame captioned with its epoch), and the last frame as the PNG."""
        self._require("training")
        path = self._training_gif_path()
        assert path is not None  # _require: the training panel is available
        with open(path, "rb") as f:
            gif = f.read()
        with Image.open(io.BytesIO(gif)) as animation:
            frames = getattr(animation, "n_frames", 1)  # 1 for a still image
            animation.seek(frames - 1)
            last = np.asarray(animation.convert("RGB"))
        caption = [
            f"training: the fixed-z samples at each of {frames} evaluations",
            self._model_line(),
        ]
        return Picture(
            "training", caption, png_bytes(captioned(last, caption)), gif, None, animated=True
        )

    def analogy(self, indices: Optional[str] = None, seed: int = 0, steps: int = 5) -> Picture:
        """DIGITS's analogy grid: destination = sink 1 + sink 2 − source."""
        seed = _check_seed(seed)
        real = labels = None
        if indices:
            parts = [p for p in str(indices).split(",") if p.strip()]
            if len(parts) != 3:
                raise ConfigError("An analogy takes three image indices: source,sink1,sink2.")
            for p in parts:
                self.dataset_image(p)
            self._require("encode")
            real, labels = self.images, self.labels
        out = self._task("analogy", steps, steps, seed, real, labels, indices)
        what = f"held-out images {indices}" if indices else f"random corners, seed {seed}"
        return self._picture(
            "analogy grid (corners: source, sink 1, sink 2)",
            what,
            out.images,
            out.rows,
            False,
            self._command("analogy", steps, steps, seed, indices),
        )
