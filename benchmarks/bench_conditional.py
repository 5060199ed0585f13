r"""Conditional vs unconditional BiGAN on real MNIST: NNC_e- and class consistency.

    python -m benchmarks.bench_conditional --epochs=10 --out_dir=/tmp/bench_conditional

Trains a BiGAN and a conditional BiGAN (`--modes`, default unconditional and
simple) with identical settings and epochs, evaluated with the protocol's
NNC_e- (50k reference / 10k validation). Class consistency: a small MLP
classifier trained on the real MNIST training images (its test accuracy is
printed) labels `--samples_per_class` conditional samples of every class; the
figure is the fraction it assigns to the class the sample was generated for.
For the unconditional model the same classifier gives the class histogram of
its samples (coverage), since it has no label to be consistent with.
"""

from __future__ import annotations

import json
import os
import sys
import time

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.data_paths import find_data_dir  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "MNIST IDX folder (default: trainers.data_paths's "
                    "search).")
flags.DEFINE_string("out_dir", "/tmp/bench_conditional", "Experiment folders go here.")
flags.DEFINE_list("modes", ["none", "simple"], "Conditioning of each model to train.")
flags.DEFINE_integer("epochs", 10, "Epochs per model (constant learning rate).")
flags.DEFINE_integer("samples_per_class", 1000, "Conditional samples per class.")
flags.DEFINE_integer("deploy_iters", 100, "Batch-norm deploy pass before each evaluation.")
flags.DEFINE_boolean("jit_compile", True, "XLA-compile the train step.")
flags.DEFINE_integer("seed", 0, "Seed of everything.")


def train_digit_classifier(data, seed):
    """A 784-256-10 ReLU MLP on the real training images; returns (model, test accuracy)."""
    import keras
    import numpy as np
    from bigan_tf.data import load_image_data
    keras.utils.set_random_seed(seed)
    x = data.train_images.reshape(len(data.train_images), -1).astype(np.float32) / 255.0
    model = keras.Sequential([keras.Input([784]), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, data.train_labels, batch_size=128, epochs=5, verbose=0)
    test = load_image_data("mnist", find_data_dir("mnist", FLAGS.data_dir), use_test_set=True)
    test_x = test.val_images.reshape(len(test.val_images), -1).astype(np.float32) / 255.0
    accuracy = model.evaluate(test_x, test.val_labels, verbose=0)[1]
    return model, float(accuracy)


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf
    from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.data import load_image_data
    from bigan_tf.sampling import random_latents
    from bigan_tf.config import ExperimentConfig, RunConfig
    from bigan_tf.training import train

    data = load_image_data("mnist", find_data_dir("mnist", FLAGS.data_dir))
    classifier, classifier_accuracy = train_digit_classifier(data, FLAGS.seed)
    print(f"digit classifier: {100 * classifier_accuracy:.2f}% on the MNIST test set")
    rows = []
    for mode in FLAGS.modes:
        start = time.time()
        result = train(
            tf.distribute.get_strategy(),
            ExperimentConfig(
                network=NetworkConfig(conditional=mode),
                objective=objective_from_preset("bigan"),
                optimizer=OptimizerConfig(epochs=FLAGS.epochs, decay_epochs=0),
                evaluation=EvaluationConfig(deploy_iters=FLAGS.deploy_iters, num_generated=10000),
                run=RunConfig(
                    exp_dir=os.path.join(FLAGS.out_dir, mode),
                    seed=FLAGS.seed,
                    disp_interval=FLAGS.epochs,
                    jit_compile=FLAGS.jit_compile,
                    verbose=0,
                ),
            ),
            data,
            print_fn=print,
        )
        model, metrics = result["model"], result["metrics"]
        n = FLAGS.samples_per_class
        z = random_latents(10 * n, model.latent_dim, FLAGS.seed + 1)
        wanted = np.repeat(np.arange(10), n)
        samples = model.generate(z, wanted if model.is_conditional else None).numpy()
        predicted = np.argmax(classifier.predict(samples, batch_size=1000, verbose=0), axis=1)
        row = {"conditional": mode, "epochs": FLAGS.epochs, "NNC_e-": metrics["NNC_e-"],
               "NNC_e": metrics["NNC_e"], "EGr": metrics["EGr"], "EGr_b": metrics["EGr_b"],
               "NND": metrics["NND"],
               "class_histogram": np.bincount(predicted, minlength=10).tolist(),
               "seconds": round(time.time() - start, 1)}
        if model.is_conditional:
            row["class_consistency"] = float(np.mean(predicted == wanted))
        rows.append(row)
        print(json.dumps(row))
    print("\nconditional | epochs | NNC_e- | class consistency | samples per predicted class")
    for row in rows:
        consistency = (f"{100 * row['class_consistency']:.2f}%" if "class_consistency" in row
                       else "n/a")
        print(f"{row['conditional']:11s} | {row['epochs']:6d} | {row['NNC_e-']:.2f}% | "
              f"{consistency:17s} | {row['class_histogram']}")
    os.makedirs(FLAGS.out_dir, exist_ok=True)
    with open(os.path.join(FLAGS.out_dir, "results.json"), "w") as f:
        json.dump({"classifier_test_accuracy": classifier_accuracy, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    app.run(lambda argv: sys.exit(main(argv)))
