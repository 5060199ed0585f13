r"""Samples and explores a trained generator: grids, sweeps, interpolations, analogies, attributes.

    python -m trainers.sample --model=exp/mnist_bigan --task=random --output=random.png
    python -m trainers.sample --model=exports/mnist_bigan --task=style_sweep --gif=sweep.gif --output=sweep.png
    python -m trainers.sample --model=exp/mnist_bigan --task=reconstruct --output=recon.png
    python -m trainers.sample --model=exp/mnist_bigan --task=interpolate --indices=3:7,10:42 --output=interp.png
    python -m trainers.sample --model=exp/mnist_bigan --task=analogy --indices=1,2,3 --output=analogy.png
    python -m trainers.sample --model=exp/mnist_bigan --task=attribute_vectors --output=digits.npz
    python -m trainers.sample --model=exp/mnist_bigan --task=attributes \
        --attribute_file=digits.npz --attributes="digit_3=-1,digit_8=+1" --output=edits.png

--model is a training run's folder (newest checkpoint, or --epoch) or a SavedModel
from export.export_saved_model. Real images (reconstruct, interpolate, analogy
with --indices, attribute vectors) come from the validation split of --dataset.
"""

from __future__ import annotations

import sys

from absl import app, flags

from trainers.cli import define_model_flags, run_main

TASKS = ("random", "reconstruct", "style_sweep", "interpolate", "analogy", "attributes",
         "attribute_vectors")

FLAGS = flags.FLAGS
define_model_flags()
flags.DEFINE_enum("task", "random", TASKS, "What to make.")
flags.DEFINE_string("output", None, "PNG grid to write (.npz for attribute_vectors).",
                    required=True)
flags.DEFINE_string("gif", None, "Also write the sweep as an animated GIF here.")
flags.DEFINE_integer("rows", 10, "Rows of the grid (sweeps: one row per pair).")
flags.DEFINE_integer("steps", 10, "Columns: samples per row, or points per sweep.")
flags.DEFINE_integer("seed", 0, "Seed of z and of the images picked.")
flags.DEFINE_string("indices", None,
                    "Validation images to use: interpolate 'i:j,k:l' (pairs), analogy "
                    "'source,sink1,sink2'; unset: picked with --seed (analogy: random z).")
flags.DEFINE_string("attribute_file", None, ".npz of attribute vectors (task attributes).")
flags.DEFINE_string("attributes", None, "Edits, e.g. 'digit_3=-1,digit_8=+1'.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import numpy as np
    from bigan_tf import BiganError
    from bigan_tf import sampling as S
    from bigan_tf.data import load_image_data
    from bigan_tf.images import make_grid, write_png

    try:
        model = S.LatentModel.load(FLAGS.model, FLAGS.epoch)
        needs_data = FLAGS.task in ("reconstruct", "interpolate", "attribute_vectors",
                                    "attributes") or (FLAGS.task == "analogy" and FLAGS.indices)
        data = load_image_data(FLAGS.dataset, FLAGS.data_dir) if needs_data else None
        if FLAGS.task == "attribute_vectors":
            images = data.val_images.astype(np.float32) / 255.0
            one_hot = np.eye(data.num_classes)[data.val_labels]
            vectors = S.attribute_vectors(model.encode(images), one_hot)
            names = [f"digit_{k}" if FLAGS.dataset == "mnist" else f"class_{k}"
                     for k in range(data.num_classes)]
            S.save_attribute_vectors(FLAGS.output, vectors, names)
            print(f"Wrote {len(names)} attribute vectors to {FLAGS.output} (+ .json names)")
            return 0
        real = None if data is None else data.val_images.astype(np.float32) / 255.0
        images, rows, is_sweep = S.task_images(
            model, FLAGS.task, real, FLAGS.rows, FLAGS.steps, FLAGS.seed, FLAGS.indices,
            FLAGS.attribute_file, FLAGS.attributes)
        write_png(FLAGS.output, make_grid(images, rows))
        print(f"Wrote {FLAGS.output}")
        if FLAGS.gif:
            frames = (S.frames_along_rows(images, rows) if is_sweep
                      else make_grid(images, rows)[None])
            S.write_gif(FLAGS.gif, frames)
            print(f"Wrote {FLAGS.gif}")
    except BiganError as e:
        print(f"sample: error: {e}", file=sys.stderr)
        return 2
    return 0


def run():
    run_main(main)


if __name__ == "__main__":
    run()
