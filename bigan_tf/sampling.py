"""Exploring the generator: sweeps, interpolations, analogies and attribute vectors.

The tools of the DIGITS GAN walkthrough, for any model with a generator (and,
for the encoder-based ones, an encoder). Everything here works on latent
vectors (numpy, [N, latent_dim]) and on a `LatentModel`, which wraps either a
training run's checkpoint or an exported SavedModel behind `generate(z)` and
`encode(images)`; images are float32 [N, H, W, C] in [0, 1].

Latent arithmetic (analogies, attributes) can leave the prior's cube
[−1, 1]^d; the vectors are passed to G as they are, as DIGITS does.

Class-conditional models also take labels (int ids or [N, K] label vectors):
random grids and style sweeps put class r on row r, the class sweep slerps
one-hot labels at fixed z, reconstructions use the images' true labels,
interpolations slerp the two images' labels with their codes, and analogies and
attribute edits keep the label of the source image.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from bigan_tf.checkpoints import load_trained_model
from bigan_tf.errors import ConfigError, DataError
from bigan_tf.images import make_grid
from bigan_tf.run_dir import CONFIG_FILE, atomic_write_bytes
from bigan_tf.array_types import Array


# ----------------------------------------------------------------- latent math
def slerp(a: Array, b: Array, t: Any) -> np.ndarray:
    """Spherical interpolation from `a` (t=0) to `b` (t=1) along the last axis.

    slerp(a, b, t) = sin((1−t)ω)/sin ω · a + sin(tω)/sin ω · b, with ω the angle
    between a and b. The end points are exact, and between two unit vectors the
    path stays on the unit sphere. Nearly parallel vectors fall back to linear
    interpolation. `t` may be a scalar or a 1-D array (a leading axis is added).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)
    ts = t.reshape((-1,) + (1,) * a.ndim) if t.ndim else t
    unit_a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    unit_b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    omega = np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1, keepdims=True), -1.0, 1.0))
    sin_omega = np.sin(omega)
    parallel = sin_omega < 1e-6
    safe = np.where(parallel, 1.0, sin_omega)
    spherical = (np.sin((1.0 - ts) * omega) * a + np.sin(ts * omega) * b) / safe
    linear = (1.0 - ts) * a + ts * b
    return np.where(parallel, linear, spherical).astype(np.float32)


def sweep(a: Array, b: Array, steps: int) -> np.ndarray:
    """`steps` points from a to b (both included) by slerp: [steps, ...]."""
    if steps < 2:
        raise ConfigError(f"A sweep needs at least 2 steps, got {steps}.")
    return slerp(a, b, np.linspace(0.0, 1.0, steps))


def random_latents(num: int, latent_dim: int, seed: int) -> np.ndarray:
    """z ~ U(−1, 1)^latent_dim (the models' prior), from a seeded numpy RNG: the
    exploration tools' latents. Training and evaluation draw theirs with
    `bigan_tf.sample_prior`, TensorFlow's stateless RNG keyed by (seed, step)."""
    return np.random.RandomState(seed).uniform(-1.0, 1.0, (num, latent_dim)).astype(np.float32)


def style_sweep(latent_dim: int, rows: int, steps: int, seed: int) -> np.ndarray:
    """One row per pair of random z: the slerp from the first to the second, [rows·steps, d]."""
    ends = random_latents(2 * rows, latent_dim, seed)
    return np.concatenate([sweep(ends[2 * r], ends[2 * r + 1], steps) for r in range(rows)])


def class_sweep(
    z: Array, num_classes: int, steps: int, start_classes: Optional[Sequence[int]] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """Fixed z, labels slerped from a class to the next: (z [N, d], labels [N, K]).

    One row per class k of `start_classes` (default: every class), going from
    one-hot class k to one-hot class k+1 (wrapping) in `steps` points, for
    conditional generators that take soft labels.
    """
    eye = np.eye(num_classes, dtype=np.float32)
    starts = range(num_classes) if start_classes is None else start_classes
    labels = np.concatenate([sweep(eye[k], eye[(k + 1) % num_classes], steps) for k in starts])
    return np.repeat(np.asarray(z, np.float32)[None], len(labels), axis=0), labels


def analogy_grid(source: Array, sink1: Array, sink2: Array, size: int) -> np.ndarray:
    """The DIGITS analogy grid: destination = sink1 + sink2 − source.

    Returns [size·size, d], row-major: source top-left, sink1 top-right, sink2
    bottom-left, destination bottom-right, bilinear in between (so every row
    and column is an arithmetic progression).
    """
    if size < 2:
        raise ConfigError(f"An analogy grid needs size >= 2, got {size}.")
    source, sink1, sink2 = (np.asarray(v, np.float32) for v in (source, sink1, sink2))
    destination = sink1 + sink2 - source
    u = np.linspace(0.0, 1.0, size, dtype=np.float32)
    rows = []
    for v in u:  # down
        left = (1 - v) * source + v * sink2
        right = (1 - v) * sink1 + v * destination
        rows.append((1 - u)[:, None] * left + u[:, None] * right)
    return np.concatenate(rows)


# ------------------------------------------------------------ attribute vectors
def attribute_vectors(latents: Array, attributes: Array) -> np.ndarray:
    """Per attribute: mean latent of examples with it minus mean of those without.

    `attributes` is [N, A] with 1/True for "has it" and 0, −1 or False for
    "has not" (CelebA's list uses ±1). Returns [A, d]. An attribute that every
    or no example has is an error naming its column.
    """
    latents = np.asarray(latents, np.float64)
    present = np.asarray(attributes) > 0
    if present.ndim != 2 or present.shape[0] != latents.shape[0]:
        raise DataError(
            f"attributes must be [N, A] for {latents.shape[0]} latents, got shape {present.shape}."
        )
    counts = present.sum(axis=0)
    bad = [i for i, c in enumerate(counts) if c in (0, len(present))]
    if bad:
        raise DataError(
            f"Attribute column(s) {bad} are present in all or none of the "
            "examples; their vectors are undefined."
        )
    with_mean = present.T.astype(np.float64) @ latents / counts[:, None]
    without_mean = (~present).T.astype(np.float64) @ latents / (len(present) - counts)[:, None]
    return (with_mean - without_mean).astype(np.float32)


def save_attribute_vectors(path: str, vectors: Array, names: Sequence[str]) -> None:
    """Writes `path` (.npz, the vectors) and `path`.json (the names): never pickle."""
    vectors = np.asarray(vectors, np.float32)
    if len(names) != len(vectors):
        raise ConfigError(f"{len(names)} names for {len(vectors)} attribute vectors.")
    buffer = io.BytesIO()
    np.savez(buffer, vectors=vectors)
    atomic_write_bytes(path, buffer.getvalue())
    atomic_write_bytes(path + ".json", json.dumps({"names": list(names)}, indent=2).encode())


def load_attribute_vectors(path: str) -> Tuple[np.ndarray, list]:
    """(vectors [A, d], names) written by `save_attribute_vectors`."""
    for p in (path, path + ".json"):
        if not os.path.isfile(p):
            raise DataError(
                f"{p} does not exist; create it with "
                "`python -m trainers.sample --task=attribute_vectors`."
            )
    with np.load(path, allow_pickle=False) as f:
        vectors = f["vectors"]
    with open(path + ".json") as f:
        names = json.load(f)["names"]
    return vectors, names


def parse_attribute_edits(text: str) -> Dict[str, float]:
    """ "Smiling=-1,Black_Hair=+1" -> {"Smiling": -1.0, "Black_Hair": 1.0}."""
    edits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"([^=]+)=([+-]?\d+(\.\d*)?)", part)
        if not match:
            raise ConfigError(
                f'Bad attribute edit {part!r}: write NAME=AMOUNT, e.g. "Smiling=-1,Black_Hair=+1".'
            )
        edits[match.group(1).strip()] = float(match.group(2))
    return edits


def apply_attributes(
    z: Array, vectors: Array, names: Sequence[str], edits: Mapping[str, float]
) -> np.ndarray:
    """z + Σ amount·vector[name] for every edit; unknown names are an error listing the known."""
    index = {name: i for i, name in enumerate(names)}
    unknown = [name for name in edits if name not in index]
    if unknown:
        raise ConfigError(f"Unknown attribute(s) {unknown}; known: {list(names)}.")
    z = np.array(z, np.float32, copy=True)
    for name, amount in edits.items():
        z = z + amount * np.asarray(vectors, np.float32)[index[name]]
    return z


# --------------------------------------------------------------------- files
# ------------------------------------------------------------------- models
class LatentModel:
    """`generate(z)` and `encode(images)` of a checkpoint or an export, in numpy.

    Build with `LatentModel.load(path)`: `path` is a training run's folder
    (config.json + checkpoints/, the newest checkpoint) or a SavedModel written
    by `python -m export.export_saved_model`.
    """

    def __init__(
        self,
        generate_fn: Callable[..., Any],
        encode_fn: Optional[Callable[..., Any]],
        latent_dim: int,
        image_shape: Sequence[int],
        source: str,
        num_classes: int = 0,
        encoder_image_shape: Optional[Sequence[int]] = None,
    ):
        self._generate, self._encode = generate_fn, encode_fn
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(d) for d in image_shape)
        # A generalized BiGAN's encoder reads larger images than G makes.
        self.encoder_image_shape = tuple(int(d) for d in (encoder_image_shape or image_shape))
        self.source = source
        self.num_classes = int(num_classes)
        self.epoch: Optional[int] = None  # a training run's checkpoint epoch (None: export)
        # E's penultimate ("e-") features of images, when the model has an encoder.
        self.features_fn: Optional[Callable[[Any], Any]] = None
        # A semi-supervised GAN's K-class probabilities (`classify`), else None.
        self.classify_fn = None
        self.class_count = 0

    @property
    def is_conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def has_encoder(self) -> bool:
        return self._encode is not None

    @classmethod
    def load(cls, path: str, epoch: Union[int, str] = "latest") -> "LatentModel":
        if cls._is_ssgan_run(path):
            return cls._load_ssgan(path, epoch)
        if os.path.isfile(os.path.join(path, CONFIG_FILE)):
            trained = load_trained_model(path, epoch)
            model, shape = trained.model, trained.network.image_shape

            @tf.function
            def generate(z, labels=None):
                return tf.reshape(model.generate(z, labels, training=False), [-1, *shape])

            encode = None
            if model.encoder is not None:
                encode = tf.function(lambda x: model.encoder(x, training=False)["latent"])
            loaded = cls(
                generate,
                encode,
                trained.network.latent_dim,
                shape,
                path,
                model.num_classes,
                trained.network.encoder_image_shape,
            )
            loaded.epoch = trained.epoch
            if model.encoder is not None:
                loaded.features_fn = tf.function(
                    lambda x: model.encoder(x, training=False)["features"]
                )
            return loaded
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            signatures = tf.saved_model.load(path).signatures
            if "generate" not in signatures:
                raise DataError(
                    f"{path} is a SavedModel without a `generate` signature; export "
                    "the full model with `python -m export.export_saved_model`."
                )
            generate_sig = signatures["generate"]
            inputs = generate_sig.structured_input_signature[1]
            image_spec = generate_sig.structured_outputs["images"]
            num_classes = inputs["labels"].shape[-1] if "labels" in inputs else 0
            encode, encoder_shape = None, None
            features = None
            if "reconstruct" in signatures:
                encode_sig = signatures["encode"]
                encode = lambda x: encode_sig(images=x)["latent"]  # noqa: E731
                features = lambda x: encode_sig(images=x)["features"]  # noqa: E731
                encoder_shape = encode_sig.structured_input_signature[1]["images"].shape[1:]

            def generate(z, labels=None):
                if labels is None:
                    return generate_sig(z=z)["images"]
                return generate_sig(z=z, labels=labels)["images"]

            loaded = cls(
                generate,
                encode,
                inputs["z"].shape[-1],
                image_spec.shape[1:],
                path,
                num_classes,
                encoder_shape,
            )
            loaded.features_fn = features
            return loaded
        raise DataError(
            f"{path} is neither a training run (config.json) nor a SavedModel "
            "export (saved_model.pb)."
        )

    def label_vectors(self, labels: Optional[Array]) -> np.ndarray:
        """int class ids [N] or label vectors [N, K] -> float32 [N, K]."""
        labels = np.asarray(labels)
        if labels.ndim == 1:
            if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ConfigError(
                    f"Class ids must be in [0, {self.num_classes}), got "
                    f"{labels.min()}..{labels.max()}."
                )
            return np.eye(self.num_classes, dtype=np.float32)[labels]
        if labels.ndim != 2 or labels.shape[1] != self.num_classes:
            raise ConfigError(f"Label vectors must be [N, {self.num_classes}], got {labels.shape}.")
        return labels.astype(np.float32)

    @staticmethod
    def _is_ssgan_run(path: str) -> bool:
        from bigan_tf.run_dir import read_config

        return os.path.isdir(path) and (read_config(path) or {}).get("model") == "ssgan"

    @classmethod
    def _load_ssgan(cls, path: str, epoch="latest") -> "LatentModel":
        """A semi-supervised GAN run: its generator, and its K+1 classifier as `classify`
        (no encoder)."""
        from bigan_tf.ssgan import load_trained_ssgan

        model, record, trained_epoch = load_trained_ssgan(path, epoch)
        shape = tuple(model.config.image_shape)
        generate = tf.function(
            lambda z, labels=None: tf.reshape(model.generator(z, training=False), [-1, *shape])
        )
        loaded = cls(generate, None, model.latent_dim, shape, path)
        loaded.epoch = trained_epoch
        loaded.classify_fn = tf.function(lambda x: model(x, training=False))
        loaded.class_count = model.config.num_classes
        return loaded

    def classify(self, images: Array, batch_size: int = 500) -> np.ndarray:
        """Class probabilities [N, K] of a semi-supervised GAN's classifier (images in [0, 1])."""
        if self.classify_fn is None:
            raise ConfigError(f"{self.source} has no classifier (not a semi-supervised GAN).")
        x = np.asarray(images, np.float32).reshape(-1, *self.encoder_image_shape)
        return np.concatenate(
            [
                np.asarray(self.classify_fn(tf.constant(x[i : i + batch_size])))
                for i in range(0, len(x), batch_size)
            ]
        )

    def generate(
        self, z: Array, labels: Optional[Array] = None, batch_size: int = 500
    ) -> np.ndarray:
        """G(z) in [0, 1]; a conditional model needs `labels` (ids or label vectors)."""
        z = np.asarray(z, np.float32)
        if not self.is_conditional:
            return np.concatenate(
                [
                    np.asarray(self._generate(tf.constant(z[i : i + batch_size])))
                    for i in range(0, len(z), batch_size)
                ]
            )
        if labels is None:
            raise ConfigError(f"{self.source} is a class-conditional model: give labels.")
        c = self.label_vectors(labels)
        if len(c) != len(z):
            raise ConfigError(f"{len(c)} labels for {len(z)} latent vectors.")
        return np.concatenate(
            [
                np.asarray(
                    self._generate(
                        tf.constant(z[i : i + batch_size]), tf.constant(c[i : i + batch_size])
                    )
                )
                for i in range(0, len(z), batch_size)
            ]
        )

    def encode(self, images: Array, batch_size: int = 500) -> np.ndarray:
        if self._encode is None:
            raise ConfigError(f"{self.source} has no encoder (a plain GAN); this task needs one.")
        images = np.asarray(images, np.float32)
        if images.size % int(np.prod(self.encoder_image_shape)):
            raise ConfigError(
                f"{self.source} encodes images of shape {self.encoder_image_shape}, "
                f"got {images.shape[1:]}: resize the images to the model's input."
            )
        images = images.reshape((-1,) + self.encoder_image_shape)
        return np.concatenate(
            [
                np.asarray(self._encode(tf.constant(images[i : i + batch_size])))
                for i in range(0, len(images), batch_size)
            ]
        )

    def features(self, images: Array, batch_size: int = 500) -> np.ndarray:
        """E's penultimate ("e-") features of images in [0, 1], float32 [N, F]."""
        if self.features_fn is None:
            raise ConfigError(f"{self.source} has no encoder (a plain GAN): no features.")
        images = np.asarray(images, np.float32).reshape((-1,) + self.encoder_image_shape)
        return np.concatenate(
            [
                np.asarray(self.features_fn(tf.constant(images[i : i + batch_size])))
                for i in range(0, len(images), batch_size)
            ]
        )


def frames_along_rows(images: Array, rows: int) -> np.ndarray:
    """[rows·steps, H, W, C] sweep images -> GIF frames: frame t shows column t of every row."""
    images = np.asarray(images)
    steps = len(images) // rows
    per_step = images.reshape((rows, steps) + images.shape[1:]).transpose(
        (1, 0) + tuple(range(2, images.ndim + 1))
    )
    return np.stack([make_grid(frame, rows) for frame in per_step])
