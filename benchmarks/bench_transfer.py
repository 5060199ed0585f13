r"""Transfer benchmark: test accuracy of a classifier on an exported encoder.

    python -m benchmarks.bench_transfer --hub_module=exports/mnist_encoder
    python -m benchmarks.bench_transfer --hub_module=exports/fashion_conv_encoder \
        --dataset=fashion_mnist                     # the 32-px conv encoder

For every labels-per-class budget (10, 100, 1000 by default), mode (linear,
finetune) and initialisation (the module's weights vs the same architecture
freshly initialised, its batch-norm statistics set by a deploy pass over the
training images as the trained encoder's were), trains
`bigan_tf.transfer.train_classifier` and prints one table row; the margin
column is pretrained minus random, in points.
With --json_out every finished row is saved at once, and the same command
continues a stopped benchmark from the rows it has (the random-init encoder
is rebuilt from --seed, so the reused and new rows compare the same nets).
MNIST or Fashion-MNIST (IDX, trained on the 60k training images, tested on
t10k) is resized to the module's input (e.g. 32 px RGB for the 32-px conv
encoder) when its images are not already that shape.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from typing import Dict, Literal, Optional, Tuple

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.data_paths import define_data_dir_flag  # noqa: E402
from trainers.option_flags import define_option_flags  # noqa: E402

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class TransferOptions:
    """The transfer grid (each field is a flag of the same name).

    hub_module        Encoder module (export.export_hub).
    dataset           Labelled images.
    labels_per_class  Label budgets.
    modes             Transfer modes.
    steps             Adam steps per run.
    seed              Seed of the label subsets and classifiers.
    json_out          Also write the rows as JSON here, each as soon as it is measured;
                      rerunning with the same settings keeps the rows already there and
                      measures only the missing ones (a stopped run continues).
    plot_out          Also draw test accuracy against labels per class here (PNG: the
                      encoder vs random init, one panel per mode).
    """

    hub_module: str
    dataset: Literal["mnist", "fashion_mnist"] = "mnist"
    labels_per_class: Tuple[str, ...] = ("10", "100", "1000")
    modes: Tuple[str, ...] = ("linear", "finetune")
    steps: int = 2000
    seed: int = 0
    json_out: Optional[str] = None
    plot_out: Optional[str] = None


define_option_flags(TransferOptions)
define_data_dir_flag("DATASET")


# How the random-init baseline is made: batch norm deployed over training batches.
RANDOM_INIT = "batch norm deployed"


def _settings() -> Dict:
    """What a saved row was measured with: a row is reused only under the same values."""
    module = FLAGS.hub_module
    return {
        "hub_module": os.path.abspath(module) if os.path.exists(module) else module,
        "dataset": FLAGS.dataset,
        "steps": FLAGS.steps,
        "seed": FLAGS.seed,
        # Rows measured before the random init's batch norm was deployed are not reused.
        "random_init": RANDOM_INIT,
    }


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import tensorflow as tf

    from bigan_tf.config import NetworkConfig
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import resize_image_data
    from bigan_tf.export.exporters import export_random_init_like
    from bigan_tf.hub import read_export_metadata, resolve_handle
    from bigan_tf.transfer import train_classifier
    from benchmarks.run_records import read_saved_rows, write_rows

    settings = _settings()  # bad input (no module, another run's rows) fails first
    meta = read_export_metadata(resolve_handle(FLAGS.hub_module)) or {}
    saved = read_saved_rows(FLAGS.json_out, settings) if FLAGS.json_out else []
    from trainers.data_paths import find_data_dir

    data_dir = find_data_dir(FLAGS.dataset, FLAGS.data_dir)
    data = load_image_data(FLAGS.dataset, os.path.normpath(data_dir), use_test_set=True)
    if "network" in meta:  # a bigan_tf export: its encoder's input shape
        height, _, channels = NetworkConfig.from_dict(meta["network"]).encoder_image_shape
        if tuple(data.image_shape) != (height, height, channels):
            data = resize_image_data(data, height, channels)
            print(f"{FLAGS.dataset} resized to the module's input, {height}x{height}x{channels}.")
    strategy = tf.distribute.get_strategy()
    cells = [
        (per_class, mode) for per_class in map(int, FLAGS.labels_per_class) for mode in FLAGS.modes
    ]
    done = {(row["labels_per_class"], row["mode"]): row for row in saved}
    # Rows of the file that this run does not ask for stay in it, after the asked ones.
    kept = [row for key, row in done.items() if key not in cells]
    rows = []
    print("labels/class | mode     | pretrained | random | margin (points) | seconds")
    with tempfile.TemporaryDirectory() as tmp:
        random_handle = None
        for per_class, mode in cells:
            row = done.get((per_class, mode))
            if row is None:
                if random_handle is None:
                    # Its batch norm deployed over training images, as the trained one's.
                    random_handle = export_random_init_like(
                        FLAGS.hub_module,
                        os.path.join(tmp, "random"),
                        FLAGS.seed,
                        data.train_images,
                        data.train_labels,
                    )
                start = time.time()
                acc = {
                    init: train_classifier(
                        strategy,
                        handle,
                        data,
                        mode,
                        per_class,
                        steps=FLAGS.steps,
                        seed=FLAGS.seed,
                        print_fn=lambda line: None,
                    )["test_accuracy"]
                    for init, handle in (
                        ("pretrained", FLAGS.hub_module),
                        ("random", random_handle),
                    )
                }
                row = {
                    "labels_per_class": per_class,
                    "mode": mode,
                    **acc,
                    "margin": 100 * (acc["pretrained"] - acc["random"]),
                    "seconds": time.time() - start,
                    **settings,
                }
            rows.append(row)
            if FLAGS.json_out:
                write_rows(FLAGS.json_out, rows + kept)
            print(
                f"{per_class:12d} | {mode:8s} | {100 * row['pretrained']:9.2f}% | "
                f"{100 * row['random']:5.2f}% | {row['margin']:+15.2f} | "
                f"{row['seconds']:7.1f}"
                + ("  (saved earlier)" if (per_class, mode) in done else ""),
                flush=True,
            )
    if FLAGS.plot_out:
        from bigan_tf.plots import plot_transfer

        print(f"Wrote {plot_transfer(rows, FLAGS.plot_out, title=FLAGS.hub_module)}")
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_transfer")
