r"""Evaluates a semi-supervised GAN: test accuracy and a confusion-matrix PNG.

    python -m trainers.eval_ssgan --model=exp/mnist_ssgan [--epoch=20] \
        --output_dir=exp/mnist_ssgan/eval

--model is a train_ssgan experiment folder (its newest checkpoint, or
--epoch). The test data is the run's own (--dataset/--data_dir as recorded in
config.json, overridable). Writes confusion.png (rows: true class, columns:
predicted; darker = more) and results.json (accuracy, per-class accuracy,
the matrix).
"""

from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from trainers.cli import define_model_flags, renamed_flags, run_main

FLAGS = flags.FLAGS
define_model_flags("train_ssgan's run folder (--checkpoint, its former name, still works).")
flags.DEFINE_string(
    "output_dir", None, "Where to write confusion.png and results.json (default: MODEL/eval)."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import json

    import numpy as np

    from bigan_tf.run_dir import RESULTS_FILE, atomic_write_text
    from bigan_tf.data import DataConfig, load
    from bigan_tf.plots import plot_confusion
    from bigan_tf.ssgan import confusion_matrix, load_trained_ssgan, predict_classes

    model, record, epoch = load_trained_ssgan(FLAGS.model, FLAGS.epoch)
    recorded = record["data"]
    if recorded.get("config"):
        data_config = DataConfig.from_dict(recorded["config"])
    else:  # recorded before DataConfig existed: its source and folder
        data_config = DataConfig(recorded["source"], recorded.get("data_dir"), use_test_set=True)
    if FLAGS.dataset or FLAGS.data_dir:
        data_config = dataclasses.replace(
            data_config,
            source=FLAGS.dataset or data_config.source,
            root=os.path.abspath(FLAGS.data_dir) if FLAGS.data_dir else data_config.root,
        )
    data = load(data_config)
    predicted = predict_classes(model, data.val_images)
    matrix = confusion_matrix(data.val_labels, predicted, model.config.num_classes)
    accuracy = float(np.trace(matrix) / matrix.sum())
    output_dir = FLAGS.output_dir or os.path.join(FLAGS.model, "eval")
    plot_confusion(
        matrix,
        os.path.join(output_dir, "confusion.png"),
        title=f"{FLAGS.model}, epoch {epoch}: test accuracy {100 * accuracy:.2f}%",
    )
    per_class = (np.diag(matrix) / np.maximum(matrix.sum(1), 1)).tolist()
    atomic_write_text(
        os.path.join(output_dir, RESULTS_FILE),
        json.dumps(
            {
                "checkpoint": FLAGS.model,
                "epoch": epoch,
                "test_accuracy": accuracy,
                "num_test": int(matrix.sum()),
                "per_class_accuracy": per_class,
                "confusion_matrix": matrix.tolist(),
            },
            indent=2,
        )
        + "\n",
    )
    print(f"epoch {epoch}: test accuracy {100 * accuracy:.2f}% on {int(matrix.sum())} images")
    print("per class: " + "  ".join(f"{k}: {100 * a:.1f}%" for k, a in enumerate(per_class)))
    print(f"Wrote {output_dir}/confusion.png and results.json")
    return 0


def run():
    run_main(main, "eval_ssgan", rewrite_argv=renamed_flags({"checkpoint": "model"}))


if __name__ == "__main__":
    run()
