r"""Samples and explores a trained generator: grids, sweeps, interpolations, analogies, attributes.

    python -m trainers.sample --model=exp/mnist_bigan --task=random --output=random.png
    python -m trainers.sample --model=exports/mnist_bigan --task=style_sweep --gif=sweep.gif --output=sweep.png
    python -m trainers.sample --model=exp/mnist_bigan --task=reconstruct --output=recon.png
    python -m trainers.sample --model=exp/mnist_cbigan --task=class_sweep --gif=classes.gif --output=classes.png
    python -m trainers.sample --model=exp/mnist_bigan --task=interpolate --indices=3:7,10:42 --output=interp.png
    python -m trainers.sample --model=exp/mnist_bigan --task=analogy --indices=1,2,3 --output=analogy.png
    python -m trainers.sample --model=exp/mnist_bigan --task=attribute_vectors --output=digits.npz
    python -m trainers.sample --model=exp/mnist_bigan --task=attributes \
        --attribute_file=digits.npz --attributes="digit_3=-1,digit_8=+1" --output=edits.png
    python -m trainers.sample --model=exp/celeba --task=attribute_vectors \
        --attribute_table=list_attr_celeba.txt --image_dir=img_align_celeba --output=celeba.npz

--model is a training run's folder (newest checkpoint, or --epoch) or a SavedModel
from export.export_saved_model. Real images (reconstruct, interpolate, analogy
with --indices, attribute vectors) come from the validation split of --dataset.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

from absl import app, flags

from trainers.cli import define_model_flags, model_dataset, run_main
from trainers.option_flags import define_option_flags, options_from_flags

TASKS = (
    "random",
    "reconstruct",
    "style_sweep",
    "class_sweep",
    "interpolate",
    "analogy",
    "attributes",
    "attribute_vectors",
)

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class SampleOptions:
    """What to make of the model (each field is a flag of the same name).

    task                 What to make.
    output               PNG grid to write (.npz for attribute_vectors).
    gif                  Also write the sweep as an animated GIF here.
    caption              Write the model, its epoch, the task and the seed above the PNG
                         grid (--nocaption: the bare grid).
    rows                 Rows of the grid (sweeps: one row per pair).
    steps                Columns: samples per row, or points per sweep.
    seed                 Seed of z and of the images picked.
    indices              Validation images to use: interpolate 'i:j,k:l' (pairs), analogy
                         'source,sink1,sink2'; unset: picked with --seed (analogy: random z).
    attribute_file       .npz of attribute vectors (task attributes).
    attributes           Edits, e.g. 'digit_3=-1,digit_8=+1'.
    attribute_table      A CelebA-style attribute table (list_attr_celeba.txt or a CSV with
                         an image_id column) naming images in --image_dir: the real images of
                         every task come from there instead of --dataset, and
                         attribute_vectors uses its columns (e.g. Smiling, Black_Hair)
                         instead of the dataset's classes.
    image_dir            Folder of the images --attribute_table lists.
    max_images           Use only the first N rows of --attribute_table.
    skip_missing_images  Leave out images of --attribute_table that are missing or
                         unreadable (counted) instead of failing.
    """

    output: str
    task: Literal[TASKS] = "random"  # type: ignore[valid-type]
    gif: Optional[str] = None
    caption: bool = True
    rows: int = 10
    steps: int = 10
    seed: int = 0
    indices: Optional[str] = None
    attribute_file: Optional[str] = None
    attributes: Optional[str] = None
    attribute_table: Optional[str] = None
    image_dir: Optional[str] = None
    max_images: Optional[int] = None
    skip_missing_images: bool = False


define_model_flags()
define_option_flags(SampleOptions)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import numpy as np
    from bigan_tf import sampling as S
    from bigan_tf.sampling_tasks import TaskRequest, caption_line, run_task
    from bigan_tf.data import load_image_data
    from bigan_tf.data.attributes import load_attribute_dataset
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.errors import ConfigError
    from bigan_tf.images import captioned, make_grid, write_gif, write_png

    options = options_from_flags(SampleOptions)

    if bool(options.attribute_table) != bool(options.image_dir):
        raise ConfigError("--attribute_table and --image_dir go together.")
    model = S.LatentModel.load(FLAGS.model, FLAGS.epoch)
    needs_data = options.task in (
        "reconstruct",
        "interpolate",
        "attribute_vectors",
        "attributes",
    ) or (options.task == "analogy" and options.indices)
    real = real_labels = attributes = None
    if needs_data and options.attribute_table:
        real, attributes, names = load_attribute_dataset(
            options.attribute_table,
            options.image_dir,
            model.encoder_image_shape,
            options.max_images,
            options.skip_missing_images,
        )
        print(f"Read {len(real)} images with {len(names)} attributes from {options.image_dir}")
    elif needs_data:
        # A convolutional model reads e.g. 32-px RGB: MNIST-format images are resized to it.
        dataset, data_dir = model_dataset(FLAGS.model, FLAGS.dataset, FLAGS.data_dir)
        data = match_image_shape(load_image_data(dataset, data_dir), model.encoder_image_shape)
        real, real_labels = data.val_images.astype(np.float32) / 255.0, data.val_labels
        attributes = np.eye(data.num_classes)[data.val_labels]
        names = [
            f"digit_{k}" if dataset == "mnist" else f"class_{k}" for k in range(data.num_classes)
        ]
    if options.task == "attribute_vectors":
        vectors = S.attribute_vectors(model.encode(real), attributes)
        S.save_attribute_vectors(options.output, vectors, names)
        print(f"Wrote {len(names)} attribute vectors to {options.output} (+ .json names)")
        return 0
    images, rows, is_sweep = run_task(
        options.task,
        TaskRequest(
            model,
            options.rows,
            options.steps,
            options.seed,
            real,
            real_labels,
            options.indices,
            options.attribute_file,
            options.attributes,
        ),
    )
    grid = make_grid(images, rows)
    if options.caption:
        grid = captioned(grid, [caption_line(FLAGS.model, model.epoch, options.task, options.seed)])
    write_png(options.output, grid)
    print(f"Wrote {options.output}")
    if options.gif:
        frames = S.frames_along_rows(images, rows) if is_sweep else make_grid(images, rows)[None]
        write_gif(options.gif, frames)
        print(f"Wrote {options.gif}")
    return 0


def run():
    run_main(main, "sample")


if __name__ == "__main__":
    run()
