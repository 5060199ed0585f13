r"""Transfer benchmark: test accuracy of a classifier on an exported encoder.

    python -m benchmarks.bench_transfer --hub_module=exports/mnist_encoder
    python -m benchmarks.bench_transfer --hub_module=exports/fashion_conv_encoder \
        --dataset=fashion_mnist                     # the conv encoder (issue 19)

For every labels-per-class budget (10, 100, 1000 by default), mode (linear,
finetune) and initialisation (the module's weights vs the same architecture
freshly initialised), trains `bigan_tf.transfer.train_classifier` and prints
one table row; the margin column is pretrained minus random, in points.
MNIST or Fashion-MNIST (IDX, trained on the 60k training images, tested on
t10k) is resized to the module's input (e.g. 32 px RGB for the 32-px conv
encoder) when its images are not already that shape.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string("hub_module", None, "Encoder module (export.export_hub).", required=True)
flags.DEFINE_enum("dataset", "mnist", ("mnist", "fashion_mnist"), "Labelled images.")
flags.DEFINE_string("data_dir", None, "The dataset's IDX folder (default ../shared/data/DATASET).")
flags.DEFINE_list("labels_per_class", ["10", "100", "1000"], "Label budgets.")
flags.DEFINE_list("modes", ["linear", "finetune"], "Transfer modes.")
flags.DEFINE_integer("steps", 2000, "Adam steps per run.")
flags.DEFINE_integer("seed", 0, "Seed of the label subsets and classifiers.")
flags.DEFINE_string("json_out", None, "Also write the rows as JSON here.")
flags.DEFINE_string("plot_out", None, "Also draw test accuracy against labels per class here "
                    "(PNG: the encoder vs random init, one panel per mode).")


def main(argv):
    del argv
    import tensorflow as tf

    from bigan_tf.config import NetworkConfig
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import resize_image_data
    from bigan_tf.export.exporters import export_random_init_like
    from bigan_tf.hub import read_export_metadata, resolve_handle
    from bigan_tf.transfer import train_classifier

    data_dir = FLAGS.data_dir or os.path.join(_REPO_ROOT, "..", "shared", "data", FLAGS.dataset)
    data = load_image_data(FLAGS.dataset, os.path.normpath(data_dir), use_test_set=True)
    meta = read_export_metadata(resolve_handle(FLAGS.hub_module)) or {}
    if "network" in meta:  # a bigan_tf export: its encoder's input shape
        height, _, channels = NetworkConfig.from_dict(meta["network"]).encoder_image_shape
        if tuple(data.image_shape) != (height, height, channels):
            data = resize_image_data(data, height, channels)
            print(f"{FLAGS.dataset} resized to the module's input, {height}x{height}x{channels}.")
    strategy = tf.distribute.get_strategy()
    rows = []
    print("labels/class | mode     | pretrained | random | margin (points) | seconds")
    with tempfile.TemporaryDirectory() as tmp:
        random_handle = export_random_init_like(FLAGS.hub_module, os.path.join(tmp, "random"),
                                                FLAGS.seed)
        for per_class in map(int, FLAGS.labels_per_class):
            for mode in FLAGS.modes:
                start = time.time()
                acc = {init: train_classifier(strategy, handle, data, mode, per_class,
                                              steps=FLAGS.steps, seed=FLAGS.seed,
                                              print_fn=lambda line: None)["test_accuracy"]
                       for init, handle in (("pretrained", FLAGS.hub_module),
                                            ("random", random_handle))}
                row = {"labels_per_class": per_class, "mode": mode, **acc,
                       "margin": 100 * (acc["pretrained"] - acc["random"]),
                       "seconds": time.time() - start}
                rows.append(row)
                print(f"{per_class:12d} | {mode:8s} | {100 * acc['pretrained']:9.2f}% | "
                      f"{100 * acc['random']:5.2f}% | {row['margin']:+15.2f} | "
                      f"{row['seconds']:7.1f}", flush=True)
    if FLAGS.json_out:
        with open(FLAGS.json_out, "w") as f:
            json.dump(rows, f, indent=2)
    if FLAGS.plot_out:
        from bigan_tf.plots import plot_transfer
        print(f"Wrote {plot_transfer(rows, FLAGS.plot_out, title=FLAGS.hub_module)}")


if __name__ == "__main__":
    app.run(main)
