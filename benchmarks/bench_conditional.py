r"""Conditional vs unconditional BiGAN on real MNIST: NNC_e- and class consistency.

    python -m benchmarks.bench_conditional --config.optimizer.epochs=10 --exp_dir=/tmp/bench_conditional

Trains a BiGAN and a conditional BiGAN (`--modes`, default unconditional and
simple) with identical settings and epochs: `configs/mnist_bigan.py` with this
benchmark's protocol on top (10 epochs at a constant rate, XLA, one evaluation
at the end with a 100-batch deploy pass and 10,000 generated samples); every
setting is `--config.SECTION.FIELD` (the former `--epochs`, `--seed`, ... still
work). Evaluated with the protocol's NNC_e- (50k reference / 10k validation).
Class consistency: a small MLP classifier trained on the real MNIST training
images (its test accuracy is printed) labels `--samples_per_class` conditional
samples of every class; the figure is the fraction it assigns to the class the
sample was generated for. For the unconditional model the same classifier
gives the class histogram of its samples (coverage), since it has no label to
be consistent with.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers import config_flags  # noqa: E402

FLAGS = flags.FLAGS
PROTOCOL = {
    "optimizer.epochs": 10,
    "optimizer.decay_epochs": 0,
    "run.jit_compile": True,
    "evaluation.deploy_iters": 100,
    "evaluation.num_generated": 10000,
}
DEFAULT_OUT_DIR = "/tmp/bench_conditional"
config_flags.define_config_flags(
    "configs/mnist_bigan.py",
    setting_defaults=PROTOCOL,
    run_control=False,
    legacy={**config_flags.TRAINING_LEGACY_FLAGS, "out_dir": "--exp_dir"},
    exp_dir_help=f"Experiment folders go here, one per mode (default {DEFAULT_OUT_DIR}).",
)
flags.DEFINE_list("modes", ["none", "simple"], "Conditioning of each model to train.")
flags.DEFINE_integer("samples_per_class", 1000, "Conditional samples per class.")


def train_digit_classifier(data, test, seed):
    """A 784-256-10 ReLU MLP on the real training images; returns (model, test accuracy)."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    x = data.train_images.reshape(len(data.train_images), -1).astype(np.float32) / 255.0
    model = keras.Sequential(
        [keras.Input([784]), keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, data.train_labels, batch_size=128, epochs=5, verbose=0)
    test_x = test.val_images.reshape(len(test.val_images), -1).astype(np.float32) / 255.0
    accuracy = model.evaluate(test_x, test.val_labels, verbose=0)[1]
    return model, float(accuracy)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    experiment = config_flags.experiment_from_flags()
    out_dir = FLAGS.exp_dir or DEFAULT_OUT_DIR
    epochs = experiment.optimizer.epochs
    if "run.disp_interval" not in config_flags.given_settings():
        experiment = dataclasses.replace(
            experiment, run=dataclasses.replace(experiment.run, disp_interval=epochs)
        )  # one evaluation, at the end
    if FLAGS.print_config:
        config_flags.print_config(experiment)
        return 0
    import numpy as np

    import bigan_tf
    from bigan_tf.data import load
    from bigan_tf.sampling import random_latents

    seed = experiment.run.seed
    data = load(experiment.data)
    test = load(dataclasses.replace(experiment.data, use_test_set=True))
    classifier, classifier_accuracy = train_digit_classifier(data, test, seed)
    print(f"digit classifier: {100 * classifier_accuracy:.2f}% on the MNIST test set")
    rows = []
    for mode in FLAGS.modes:
        start = time.time()
        config = dataclasses.replace(
            experiment,
            network=dataclasses.replace(experiment.network, conditional=mode),
            run=dataclasses.replace(experiment.run, exp_dir=os.path.join(out_dir, mode), verbose=0),
        )
        result = bigan_tf.train(config, data=data, print_fn=print)
        model, metrics = result["model"], result["metrics"]
        n = FLAGS.samples_per_class
        z = random_latents(10 * n, model.latent_dim, seed + 1)
        wanted = np.repeat(np.arange(10), n)
        samples = model.generate(z, wanted if model.is_conditional else None).numpy()
        samples = samples.reshape(len(samples), -1)  # the classifier reads flat [0, 1] pixels
        predicted = np.argmax(classifier.predict(samples, batch_size=1000, verbose=0), axis=1)
        row = {
            "conditional": mode,
            "epochs": epochs,
            "NNC_e-": metrics["NNC_e-"],
            "NNC_e": metrics["NNC_e"],
            "EGr": metrics["EGr"],
            "EGr_b": metrics["EGr_b"],
            "NND": metrics["NND"],
            "class_histogram": np.bincount(predicted, minlength=10).tolist(),
            "seconds": round(time.time() - start, 1),
        }
        if model.is_conditional:
            row["class_consistency"] = float(np.mean(predicted == wanted))
        rows.append(row)
        print(json.dumps(row))
    print("\nconditional | epochs | NNC_e- | class consistency | samples per predicted class")
    for row in rows:
        consistency = (
            f"{100 * row['class_consistency']:.2f}%" if "class_consistency" in row else "n/a"
        )
        print(
            f"{row['conditional']:11s} | {row['epochs']:6d} | {row['NNC_e-']:.2f}% | "
            f"{consistency:17s} | {row['class_histogram']}"
        )
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"classifier_test_accuracy": classifier_accuracy, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_conditional", rewrite_argv=config_flags.rewrite_argv_or_exit)
