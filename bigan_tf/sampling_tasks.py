"""The image tasks of `trainers.sample`: one small function per task, in a table.

Each task takes a `TaskRequest` and returns `TaskImages`: the images
(float32 [N, H, W, C] in [0, 1]), the grid's row count, and whether the rows
are sweeps (then a GIF shows one column per frame). `run_task(name, request)`
checks what the task needs and dispatches through `TASKS`.

Tasks: random (rows × steps samples), style_sweep (a slerp between two random
z per row), class_sweep (conditional models: per row a fixed random z while
the label slerps from class r to r+1), reconstruct (rows rows of real images,
each followed by a row of their G(E(x))), interpolate (a slerp between two
encoded real images per row, `indices` "i:j,k:l" or random pairs, each row between
the two real images), analogy (a
steps × steps grid; corners from real images `indices` "source,sink1,sink2" or
random z), attributes (per row: a real image, G(E(x)), then the edits of
`attributes` applied in growing amounts, vectors from `attribute_file`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, NamedTuple, Optional

import numpy as np

from bigan_tf.errors import ConfigError
from bigan_tf.sampling import (
    LatentModel,
    analogy_grid,
    apply_attributes,
    class_sweep,
    load_attribute_vectors,
    parse_attribute_edits,
    random_latents,
    style_sweep,
    sweep,
)


@dataclasses.dataclass
class TaskRequest:
    """What a task works from. `real` are images in [0, 1] (the real-image tasks draw
    from them) and `real_labels` their int labels (needed by conditional models)."""

    model: LatentModel
    rows: int
    steps: int
    seed: int = 0
    real: Optional[np.ndarray] = None
    real_labels: Optional[np.ndarray] = None
    indices: Optional[str] = None
    attribute_file: Optional[str] = None
    attributes: Optional[str] = None

    def __post_init__(self):
        self.rng = np.random.RandomState(self.seed)

    @property
    def images(self) -> np.ndarray:
        """`real`, which the real-image tasks need (`run_task` checks it is given)."""
        if self.real is None:
            raise ConfigError("This task draws real images: give the dataset they come from.")
        return self.real

    def labels_of(self, index: Any) -> Optional[np.ndarray]:
        """The real images' labels at `index` (None for unconditional models)."""
        return None if not self.model.is_conditional else np.asarray(self.real_labels)[index]

    def row_labels(self, per_row: int) -> Optional[np.ndarray]:
        """Class r mod K for every image of row r (None for unconditional models)."""
        if not self.model.is_conditional:
            return None
        return np.repeat(np.arange(self.rows) % self.model.num_classes, per_row)


class TaskImages(NamedTuple):
    images: np.ndarray
    rows: int
    is_sweep: bool


def _random(r: TaskRequest) -> TaskImages:
    z = random_latents(r.rows * r.steps, r.model.latent_dim, r.seed)
    return TaskImages(r.model.generate(z, r.row_labels(r.steps)), r.rows, False)


def _style_sweep(r: TaskRequest) -> TaskImages:
    z = style_sweep(r.model.latent_dim, r.rows, r.steps, r.seed)
    return TaskImages(r.model.generate(z, r.row_labels(r.steps)), r.rows, True)


def _class_sweep(r: TaskRequest) -> TaskImages:
    model = r.model
    if not model.is_conditional:
        raise ConfigError(
            f"{model.source} is not class-conditional; class_sweep needs a "
            "model trained with --conditional."
        )
    z = random_latents(r.rows, model.latent_dim, r.seed)
    # Row i: its own z, the label moving from class i to i+1.
    parts = [
        class_sweep(z[i], model.num_classes, r.steps, [i % model.num_classes])
        for i in range(r.rows)
    ]
    return TaskImages(
        model.generate(
            np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        ),
        r.rows,
        True,
    )


def _reconstruct(r: TaskRequest) -> TaskImages:
    index = r.rng.choice(len(r.images), r.rows * r.steps, replace=False)
    picked = r.images[index]
    recon = r.model.generate(r.model.encode(picked), r.labels_of(index))
    # 2·rows grid rows: each row of real images is followed by its G(E(x)).
    grid = np.concatenate(
        [
            part
            for i in range(r.rows)
            for part in (
                picked[i * r.steps : (i + 1) * r.steps],
                recon[i * r.steps : (i + 1) * r.steps],
            )
        ]
    )
    return TaskImages(grid, 2 * r.rows, False)


def _pairs(text: Optional[str], count: int, limit: int, rng) -> np.ndarray:
    if not text:
        return rng.randint(0, limit, size=(count, 2))
    try:
        pairs = [tuple(int(i) for i in part.split(":")) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--indices {text!r}: write pairs as 'i:j,k:l'.") from None
    if any(len(p) != 2 or not all(0 <= i < limit for i in p) for p in pairs):
        raise ConfigError(f"--indices {text!r}: pairs of image indices in [0, {limit}).")
    return np.array(pairs)


def _interpolate(r: TaskRequest) -> TaskImages:
    """Per row: real image a, the slerp from E(a) to E(b) decoded (`steps` images), real b.

    A generalized BiGAN's real images are larger than G's: its rows hold the decoded
    slerp alone.
    """
    pairs = _pairs(r.indices, r.rows, len(r.images), r.rng)
    ends = pairs.reshape(-1)
    z = r.model.encode(r.images[ends])
    sweeps = np.concatenate([sweep(z[2 * i], z[2 * i + 1], r.steps) for i in range(len(pairs))])
    labels = None
    if r.model.is_conditional:  # the labels slerp with the codes
        c = r.model.label_vectors(r.labels_of(ends))
        labels = np.concatenate([sweep(c[2 * i], c[2 * i + 1], r.steps) for i in range(len(pairs))])
    decoded = r.model.generate(sweeps, labels)
    if r.model.image_shape != r.model.encoder_image_shape:
        return TaskImages(decoded, len(pairs), True)
    real = np.asarray(r.images[ends], np.float32).reshape((-1,) + r.model.image_shape)
    rows = [
        part
        for i in range(len(pairs))
        for part in (
            real[2 * i : 2 * i + 1],
            decoded[i * r.steps : (i + 1) * r.steps],
            real[2 * i + 1 : 2 * i + 2],
        )
    ]
    return TaskImages(np.concatenate(rows), len(pairs), True)


def _analogy(r: TaskRequest) -> TaskImages:
    model = r.model
    if r.indices:
        index = [int(i) for i in r.indices.split(",")]
        if len(index) != 3:
            raise ConfigError("--indices for analogy: 'source,sink1,sink2'.")
        corners = model.encode(r.images[index])
        source_label = r.labels_of(index[:1])
    else:
        corners = random_latents(3, model.latent_dim, r.seed)
        source_label = np.zeros([1], np.int64) if model.is_conditional else None
    labels = None if source_label is None else np.repeat(source_label, r.steps * r.steps)
    return TaskImages(
        model.generate(analogy_grid(corners[0], corners[1], corners[2], r.steps), labels),
        r.steps,
        False,
    )


def _attributes(r: TaskRequest) -> TaskImages:
    if not r.attribute_file or not r.attributes:
        raise ConfigError("--task=attributes needs --attribute_file and --attributes.")
    if r.steps < 3:
        raise ConfigError("The attributes task needs --steps >= 3 (image, G(E(x)), edits).")
    vectors, names = load_attribute_vectors(r.attribute_file)
    edits = parse_attribute_edits(r.attributes)
    index = r.rng.choice(len(r.images), r.rows, replace=False)
    picked = r.images[index]
    z = r.model.encode(picked)
    # Each row: the image, its reconstruction, then the edits at 1/(steps−2), ..., 1 times.
    amounts = np.linspace(0.0, 1.0, r.steps - 1)[1:]
    out = []
    for i in range(r.rows):
        edited = [
            apply_attributes(z[i], vectors, names, {k: a * v for k, v in edits.items()})
            for a in amounts
        ]
        row_label = r.labels_of(index[i : i + 1])
        labels = None if row_label is None else np.repeat(row_label, len(edited) + 1)
        out += [picked[i : i + 1], r.model.generate(np.stack([z[i], *edited]), labels)]
    return TaskImages(np.concatenate(out), r.rows, True)


TASKS: Dict[str, Callable[[TaskRequest], TaskImages]] = {
    "random": _random,
    "style_sweep": _style_sweep,
    "class_sweep": _class_sweep,
    "reconstruct": _reconstruct,
    "interpolate": _interpolate,
    "analogy": _analogy,
    "attributes": _attributes,
}
# Tasks that draw real images (the others make everything from z).
NEEDS_REAL_IMAGES = ("reconstruct", "interpolate", "attributes")


def run_task(task: str, request: TaskRequest) -> TaskImages:
    """The images of one task, after checking that it has what it needs."""
    if task not in TASKS:
        raise ConfigError(f"Unknown task {task!r}: one of {', '.join(TASKS)}.")
    if task in NEEDS_REAL_IMAGES and request.real is None:
        raise ConfigError(f"Task {task} needs real images.")
    if request.model.is_conditional and request.real is not None and request.real_labels is None:
        raise ConfigError("A conditional model needs the labels of the real images.")
    return TASKS[task](request)


def caption_line(model_path: str, epoch: int, task: str, seed: int) -> str:
    """A sample grid's caption: 'MODEL, epoch N: TASK, seed S' (an export has no epoch)."""
    import os

    name = os.path.basename(os.path.normpath(model_path)) or model_path
    at = f", epoch {epoch}" if epoch is not None else " (export)"
    return f"{name}{at}: {task}, seed {seed}"
