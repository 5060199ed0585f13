r"""Semi-supervised GAN vs the supervised-only classifier on real MNIST, same labels.

    python -m benchmarks.bench_ssgan --config.epochs=3                    # conv family
    python -m benchmarks.bench_ssgan --config=configs/mnist_ssgan.py:network=mlp --config.epochs=3
    python -m benchmarks.bench_ssgan --config.model.classifier_norm=weight \
        --config.model.feature_matching=true --config.model.learning_rate=3e-4 \
        --config.epochs=3                                  # Salimans et al.'s conv D

The experiment is `configs/mnist_ssgan.py` (10 labels per class) with this
benchmark's protocol on top (10 epochs, evaluations every 2); every setting is
`--config.SECTION.FIELD` (`trainers.config_flags`; the former `--network`,
`--labels_per_class`, `--epochs`, `--learning_rate`, ... still work). Trains it
twice on the same balanced labelled subset: the K+1 SSGAN and the
supervised-only baseline (model.unsupervised_weight=0: the same classifier and
labelled batches, no GAN loss). Prints the MNIST test accuracy of each after
every `run.disp_interval` epochs, the final margin and the seconds per epoch.

    python -m benchmarks.bench_ssgan --measure=collapse --variant=per_batch

follows the conv generator's variety over a few hundred steps for one way of
batch-normalising D and one G loss (why the conv G collapsed, BENCHMARKS.md);
`--measure=steps` times the train step of each variant (`--step_shape=cifar10`: on
random images of CIFAR-10's shape, as benchmarks/gpu_check.sh runs it). Both
read the seed, XLA and labels per class from the config too.
"""

from __future__ import annotations

import dataclasses
from typing import Literal
import json
import os
import sys
import time

from absl import app, flags
from trainers.option_flags import define_option_flags  # noqa: E402

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers import config_flags  # noqa: E402

FLAGS = flags.FLAGS
LEGACY_FLAGS = {
    "network": "arg:network",
    "labels_per_class": "labels_per_class",
    "epochs": "epochs",
    "disp_interval": "run.disp_interval",
    "seed": "run.seed",
    "learning_rate": "model.learning_rate",
    "feature_matching": "model.feature_matching",
    "classifier_norm": "model.classifier_norm",
    "jit_compile": "run.jit_compile",
    "data_dir": "data.root",
    "out_dir": "--exp_dir",
}
DEFAULT_OUT_DIR = "/tmp/bench_ssgan"


def _define_flags():
    from bigan_tf.config import SSGANExperimentConfig

    config_flags.define_config_flags(
        "configs/mnist_ssgan.py",
        legacy=LEGACY_FLAGS,
        experiment_class=SSGANExperimentConfig,
        setting_defaults={"epochs": 10, "run.disp_interval": 2},
        run_control=False,
        exp_dir_help=f"Experiment folders go here (FAMILY/ssgan, FAMILY/supervised_only; "
        f"rerun: resumed; default {DEFAULT_OUT_DIR}).",
    )


_define_flags()
STEP_SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


@dataclasses.dataclass(frozen=True)
class MeasureOptions:
    """What is measured (each field is a flag of the same name).

    measure              accuracy: the SSGAN vs supervised-only runs; steps: seconds per train
                         step (random images of --step_shape) of the conv family with G's
                         first convolution tap-wise (SmallMapConv2D, ours) and as a plain
                         Conv2D, with the weight-normalised D, and of the MLP family,
                         interleaved in one process; collapse: the conv family's generator
                         variety over --collapse_steps steps of one --variant.
    variant              --measure=collapse: D's batch norm on per-batch or the real batch's
                         statistics (reference_batch_norm), or weight normalisation and no
                         batch norm (weight: Salimans et al.'s conv D); G's loss adversarial
                         or feature matching (_fm).
    collapse_steps       --measure=collapse: training steps.
    collapse_batch_size  --measure=collapse: unlabelled batch (SSGAN-TensorFlow's 32; 100
                         labelled images per step).
    rounds               --measure=steps: interleaved rounds of --steps_per_round steps each.
    steps_per_round      --measure=steps: timed steps per round.
    step_shape           --measure=steps: the images' shape (random data: MNIST's 28x28x1 or
                         CIFAR-10's 32x32x3).
    step_batch_size      --measure=steps: unlabelled (and labelled) images per step.
    """

    measure: Literal["accuracy", "steps", "collapse"] = "accuracy"
    variant: Literal[
        "per_batch", "per_batch_fm", "reference", "reference_fm", "weight", "weight_fm"
    ] = "reference_fm"
    collapse_steps: int = 400
    collapse_batch_size: int = 32
    rounds: int = 3
    steps_per_round: int = 5
    step_shape: Literal["mnist", "cifar10"] = "mnist"
    step_batch_size: int = 100


define_option_flags(MeasureOptions)


def measure_steps(experiment):
    """Median seconds per SSGAN train step for each variant, measured interleaved."""
    import statistics

    import keras
    import tensorflow as tf
    from bigan_tf.networks import ssgan_conv
    from bigan_tf.ssgan import SSGAN, SSGANConfig

    shape = STEP_SHAPES[FLAGS.step_shape]
    batch_size = FLAGS.step_batch_size

    def build(network, plain_first_conv=False, **overrides):
        tap_wise = ssgan_conv.SmallMapConv2D
        if plain_first_conv:  # the same layer in TensorFlow's own convolution
            ssgan_conv.SmallMapConv2D = keras.layers.Conv2D
        try:
            model = SSGAN(
                SSGANConfig.for_network(network, image_shape=shape, **overrides),
                name=f"ssgan_{network}",
            )
        finally:
            ssgan_conv.SmallMapConv2D = tap_wise
        model.compile_for_training(jit_compile=experiment.run.jit_compile)
        return tf.function(model.train_step, jit_compile=experiment.run.jit_compile)

    images = tf.random.stateless_uniform([batch_size, *shape], [1, 2])
    labels = tf.zeros([batch_size], tf.int32)
    batch = ((images, labels), (images, labels))
    steps = {
        "conv, tap-wise first conv": build("conv"),
        "conv, Conv2D first conv": build("conv", plain_first_conv=True),
        "conv, weight-normalised D": build("conv", classifier_norm="weight", feature_matching=True),
        "mlp": build("mlp"),
    }
    for step in steps.values():
        step(batch)  # trace
    seconds = {name: [] for name in steps}
    for _ in range(FLAGS.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(FLAGS.steps_per_round):
                logs = step(batch)
            float(logs["S"])
            seconds[name].append((time.perf_counter() - start) / FLAGS.steps_per_round)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"SSGAN train step, {FLAGS.step_shape} shape {shape}, {batch_size} unlabelled + "
        f"{batch_size} labelled images per step, random data, XLA {experiment.run.jit_compile}, "
        f"{device}; median of {FLAGS.rounds} rounds of {FLAGS.steps_per_round} steps"
    )
    base = statistics.median(seconds["conv, tap-wise first conv"])
    print("variant | s/step | unlabelled images/s | vs conv tap-wise")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name} | {median:.4f} | {batch_size / median:.1f} | {median / base:.2f}x")
    return 0


def measure_collapse(experiment, data, out_dir):
    """How varied G's images stay: every 50 steps, the per-pixel standard deviation
    over 100 fixed z (training-mode G) averaged over pixels; 0 = every z gives one image."""
    import numpy as np
    import tensorflow as tf
    from bigan_tf.data.pipeline import balanced_subset, ssgan_dataset
    from bigan_tf.images import make_grid, write_png
    from bigan_tf.ssgan import SSGAN, SSGANConfig, initialize_classifier

    config = SSGANConfig.for_network(
        "conv",
        reference_batch_norm=FLAGS.variant.startswith("reference"),
        classifier_norm="weight" if FLAGS.variant.startswith("weight") else "batch",
        feature_matching=FLAGS.variant.endswith("_fm"),
    )
    seed = experiment.run.seed
    model = SSGAN(config, noise_seed=seed)
    model.compile_for_training()
    initialize_classifier(model, data, seed)  # as train_ssgan does for a fresh run
    labelled = balanced_subset(data.train_labels, experiment.labels_per_class, seed)
    batches = iter(ssgan_dataset(data, labelled, FLAGS.collapse_batch_size, 100, seed, 0, 10))
    step = tf.function(model.train_step)
    z = tf.random.stateless_uniform([100, config.latent_dim], [seed, 3], -1.0, 1.0)
    print(
        f"variant {FLAGS.variant}: reference_batch_norm={config.reference_batch_norm}, "
        f"classifier_norm={config.classifier_norm}, "
        f"feature_matching={config.feature_matching}"
    )
    print("step | D | G | D_fake_acc | G variety (pixel std over z)")
    start = time.time()
    for i in range(1, FLAGS.collapse_steps + 1):
        logs = step(next(batches))
        if i % 50 == 0:
            variety = float(np.mean(np.std(model.generator(z, training=True).numpy(), axis=0)))
            print(
                f"{i:4d} | {float(logs['D']):.3f} | {float(logs['G']):.3f} | "
                f"{float(logs['D_fake_acc']):.3f} | {variety:.4f}",
                flush=True,
            )
    real = data.val_images[:100].astype(np.float32) / 255.0
    print(
        f"real images' variety: {float(np.mean(np.std(real, axis=0))):.4f}; "
        f"{time.time() - start:.0f} s"
    )
    path = os.path.join(out_dir, f"collapse_{FLAGS.variant}.png")
    os.makedirs(out_dir, exist_ok=True)
    write_png(path, make_grid(model.generator(z, training=False).numpy()[:64], 8))
    print(f"samples (inference mode): {path}")
    return 0


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # The step timings run on random images: they need no data folder.
    experiment = config_flags.experiment_from_flags(need_data=FLAGS.measure != "steps")
    if FLAGS.print_config:
        config_flags.print_config(experiment)
        return 0
    out_dir = FLAGS.exp_dir or DEFAULT_OUT_DIR
    if FLAGS.measure == "steps":
        return measure_steps(experiment)
    from bigan_tf.data import load

    data = load(experiment.data)
    if FLAGS.measure == "collapse":
        return measure_collapse(experiment, data, out_dir)
    import bigan_tf
    from bigan_tf.run_dir import read_metrics

    # A non-default D gets its own folders, so earlier runs are resumed, not mixed.
    model, given = experiment.model, config_flags.given_settings()
    family = (
        model.network
        if model.classifier_norm == "batch"
        else f"{model.network}_{model.classifier_norm}_norm"
    )
    if "model.feature_matching" in given:
        family += "_fm" if model.feature_matching else "_adversarial"
    if "model.learning_rate" in given:
        family += f"_lr{model.learning_rate:g}"
    rows = {}
    for name, weight in (("ssgan", 1.0), ("supervised_only", 0.0)):
        start = time.time()
        exp_dir = os.path.join(out_dir, family, name)
        config = dataclasses.replace(
            experiment,
            model=dataclasses.replace(model, unsupervised_weight=weight),
            run=dataclasses.replace(experiment.run, exp_dir=exp_dir, verbose=0),
        )
        bigan_tf.train(config, data=data, print_fn=lambda s, n=name: print(f"[{n}] {s}"))
        records = read_metrics(exp_dir)
        epoch_seconds = [r["epoch_seconds"] for r in records if "epoch_seconds" in r]
        rows[name] = {
            "accuracy_by_epoch": {r["epoch"]: r["metrics"]["ACC"] for r in records},
            "seconds_per_epoch": round(sum(epoch_seconds) / max(1, len(epoch_seconds)), 1),
            "seconds_this_session": round(time.time() - start, 1),
        }
    print(
        f"\nMNIST test accuracy, {family} networks, {10 * experiment.labels_per_class} "
        f"labels, seed {experiment.run.seed}"
    )
    print("epoch | SSGAN  | supervised only")
    for epoch, acc in rows["ssgan"]["accuracy_by_epoch"].items():
        baseline = rows["supervised_only"]["accuracy_by_epoch"][epoch]
        print(f"{epoch:5d} | {acc:.2f}% | {baseline:.2f}%")
    final = experiment.epochs
    margin = (
        rows["ssgan"]["accuracy_by_epoch"][final]
        - rows["supervised_only"]["accuracy_by_epoch"][final]
    )
    print(
        f"margin at epoch {final}: {margin:+.2f} points; seconds per epoch "
        f"{rows['ssgan']['seconds_per_epoch']} / {rows['supervised_only']['seconds_per_epoch']}"
    )
    with open(os.path.join(out_dir, family, "results.json"), "w") as f:
        json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_ssgan", rewrite_argv=config_flags.rewrite_argv_or_exit)
