r"""Convolutional BiGAN: train-step speed, input-pipeline speed, a short Fashion-MNIST run.

    python benchmarks/bench_conv.py                      # all three parts
    python benchmarks/bench_conv.py --parts=step --config.run.mixed_precision=bfloat16 \
        --config.run.jit_compile=true
    python benchmarks/bench_conv.py --parts=step --config=configs/fashion_conv.py  # 32 px

1. step: images/s of the train step of `--config`'s DCGAN/AlexNet model (default
   `configs/imagenet_bigan.py`: the full-size 64-px BiGAN, base width 64, latent
   200) at its batch size (128), on random images, and its GFLOP/s against
   the dense float32 matmul roofline read in the same run (before and after).
   FLOPs are analytic: multiply-adds of every convolution, deconvolution and
   FC layer (`forward_macs_per_example`), times 2 (FLOPs) times 3 (forward +
   two backward products). Precision and XLA are the config's
   (`run.mixed_precision`, `run.jit_compile`; XLA off unless set).
2. pipeline: images/s of the file input pipeline (decode, short-edge resize
   to 72, random 64 crop, batch 128) on JPEGs this script writes: camera-sized
   (400×300) and presized (short edge 72, as `trainers.resize_imageset` makes).
3. fashion: a short run on real Fashion-MNIST resized to 32 px RGB; prints the
   loss and metric lines of every epoch's evaluation (epoch 0 = random init).
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import os
import sys
import tempfile
import time

from absl import app, flags
from trainers.option_flags import define_option_flags  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from roofline import matmul_gflops  # noqa: E402
from trainers import config_flags  # noqa: E402

FLAGS = flags.FLAGS
config_flags.define_config_flags(
    "configs/imagenet_bigan.py",
    legacy={
        **config_flags.TRAINING_LEGACY_FLAGS,
        "image_size": "hint:use --config=configs/fashion_conv.py for the 32-px model, or "
        "--config.network.image_shape=S,S,3.",
    },
    setting_defaults={"run.jit_compile": False},
    run_control=False,
)


@dataclasses.dataclass(frozen=True)
class ConvBenchOptions:
    """Which parts run, at which sizes (each field is a flag of the same name).

    parts             Which parts to run (step, pipeline, fashion).
    timed_steps       Timed train steps (after 2 warm-up steps).
    num_jpegs         JPEG files written for the pipeline benchmark.
    pipeline_batches  Timed pipeline batches (after 4 warm-up).
    fashion_dir       Fashion-MNIST IDX folder (default ../shared).
    fashion_train     Training images of the Fashion-MNIST run.
    fashion_epochs    Epochs of the Fashion-MNIST run.
    """

    parts: Tuple[str, ...] = ("step", "pipeline", "fashion")
    timed_steps: int = 5
    num_jpegs: int = 1024
    pipeline_batches: int = 24
    fashion_dir: Optional[str] = None
    fashion_train: int = 12800
    fashion_epochs: int = 2


define_option_flags(ConvBenchOptions)


def forward_macs_per_example(image_size=64, encoder_size=None, latent_dim=200, width=64):
    """Multiply-adds of one example's forward pass: E(x) once, G(z) once, D twice."""
    from bigan_tf.networks.conv import ALEXNET_WIDTHS, sampling_stages

    e = encoder_size or image_size
    w1, w2, w3, w4, w5 = ALEXNET_WIDTHS
    encoder = (
        (e // 4) ** 2 * 11 * 11 * 3 * w1
        + (e // 8) ** 2 * 25 * (w1 // 2) * w2
        + (e // 16) ** 2 * 9 * (w2 * w3 + (w3 // 2) * w4 + (w4 // 2) * w5)
        + (e // 16) ** 2 * w5 * latent_dim
    )
    stages = sampling_stages(image_size)
    widths = [width * 2 ** (stages - 1 - i) for i in range(stages)] + [3]
    generator = latent_dim * 16 * widths[0]
    for i in range(stages):  # deconvolution i: from 4·2^i to 4·2^(i+1) pixels
        generator += (4 * 2**i) ** 2 * 25 * widths[i] * widths[i + 1]
        generator += latent_dim * widths[i + 1] if i < stages - 1 else 0
    d_widths = [3] + [width * 2**i for i in range(stages)]
    discriminator = 0
    for i in range(stages):  # convolution i: to image_size / 2^(i+1) pixels
        discriminator += (image_size // 2 ** (i + 1)) ** 2 * 25 * d_widths[i] * d_widths[i + 1]
        discriminator += latent_dim * d_widths[i + 1] if i else 0
    discriminator += 16 * d_widths[-1]
    return encoder + generator + 2 * discriminator


def bench_step(experiment):
    import keras
    import tensorflow as tf

    from bigan_tf import BiGAN
    from bigan_tf.errors import ConfigError
    from bigan_tf.training import dtype_policy

    if experiment.network.family != "dcgan":
        raise ConfigError(
            f"The step part counts the FLOPs of the dcgan family (AlexNet E, DCGAN G and D), "
            f"not {experiment.network.family!r}: give a dcgan config."
        )

    keras.utils.set_random_seed(0)
    network, run = experiment.network, experiment.run
    size, latent_dim, batch_size = network.image_shape[0], network.latent_dim, run.batch_size
    precision, jit = run.mixed_precision, bool(run.jit_compile)
    with dtype_policy(precision):
        model = BiGAN.from_config_objects(network, experiment.objective)
    model.compile_for_training(
        experiment.optimizer, 1000, jit_compile=jit, loss_scale=precision == "float16"
    )
    x = tf.random.uniform([batch_size, *network.data_shape])
    step = tf.function(model.train_step, jit_compile=jit)
    before = matmul_gflops()
    for _ in range(2):
        step(x)["G"].numpy()
    start = time.perf_counter()
    for _ in range(FLAGS.timed_steps):
        logs = step(x)
    logs["G"].numpy()
    seconds = (time.perf_counter() - start) / FLAGS.timed_steps
    after = matmul_gflops()
    images = batch_size / seconds
    macs = forward_macs_per_example(
        size, network.encoder_size or None, latent_dim, network.base_width
    )
    gflops = images * 6 * macs / 1e9
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"conv train step ({device}, {size} px, latent {latent_dim}, batch {batch_size}, "
        f"precision {precision}, XLA {jit}): {seconds:.3f} s/step = "
        f"{images:.1f} images/s = {gflops:.1f} GFLOP/s "
        f"({6 * macs / 1e9:.2f} GFLOP/image)"
    )
    print(
        f"matmul roofline before/after: {before:.1f} / {after:.1f} GFLOP/s -> "
        f"{100 * gflops / max(before, after):.0f}% / {100 * gflops / min(before, after):.0f}%"
    )
    return images


def write_jpegs(folder, count, size):
    import numpy as np
    from PIL import Image

    rng = np.random.RandomState(0)
    for i in range(count):
        os.makedirs(os.path.join(folder, f"class{i % 10}"), exist_ok=True)
        # Smooth random images compress like photos (noise would not).
        small = rng.randint(0, 256, (size[1] // 16, size[0] // 16, 3)).astype(np.uint8)
        Image.fromarray(small).resize(size, Image.BILINEAR).save(
            os.path.join(folder, f"class{i % 10}", f"{i}.jpg"), quality=90
        )


def bench_pipeline(batch_size):
    from bigan_tf.data.image_files import file_training_dataset
    from bigan_tf.data.image_sources import scan_class_folders
    from bigan_tf.data.preprocessing import Preprocessing

    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in (("camera-sized 400x300", (400, 300)), ("presized 96x72", (96, 72))):
            folder = os.path.join(tmp, name.split()[0])
            write_jpegs(folder, FLAGS.num_jpegs, size)
            images = scan_class_folders(folder)
            epochs = 1 + (4 + FLAGS.pipeline_batches) * batch_size // len(images)
            dataset = file_training_dataset(images, Preprocessing(72, 64), batch_size, 0, 0, epochs)
            iterator = iter(dataset)
            for _ in range(4):
                next(iterator)
            start = time.perf_counter()
            for _ in range(FLAGS.pipeline_batches):
                next(iterator)[0].numpy()
            rate = FLAGS.pipeline_batches * batch_size / (time.perf_counter() - start)
            rates[name] = rate
            print(
                f"input pipeline, {name} JPEGs -> 64 px crops: {rate:.0f} images/s "
                f"({os.cpu_count()} CPUs)"
            )
    return rates


def bench_fashion():
    import tensorflow as tf

    from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import resize_image_data
    from bigan_tf.evaluation.evaluator import format_metrics
    from bigan_tf.config import ExperimentConfig, RunConfig
    from bigan_tf.training import train
    from trainers.data_paths import find_data_dir

    data = load_image_data("fashion_mnist", find_data_dir("fashion_mnist", FLAGS.fashion_dir))
    data = resize_image_data(data.take(num_train=FLAGS.fashion_train), 32, channels=3)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(
            tf.distribute.get_strategy(),
            ExperimentConfig(
                network=NetworkConfig(family="dcgan", latent_dim=64, base_width=64),
                objective=objective_from_preset("bigan"),
                optimizer=OptimizerConfig(epochs=FLAGS.fashion_epochs, decay_epochs=0),
                evaluation=EvaluationConfig(
                    num_val=5000,
                    num_train_reference=FLAGS.fashion_train,
                    num_generated=10000,
                    cls_steps=1000,
                    deploy_iters=50,
                ),
                run=RunConfig(exp_dir=tmp, batch_size=128, verbose=0, disp_interval=1),
            ),
            data,
            print_fn=lambda line: print("  " + line) if line.startswith(("NND", " ")) else None,
        )
    print(
        f"Fashion-MNIST 32 px RGB, {FLAGS.fashion_train} train / 5000 val images, "
        f"{FLAGS.fashion_epochs} epochs, batch 128, base width 64, latent 64, "
        f"{time.perf_counter() - start:.0f} s; last evaluation:"
    )
    print("  " + format_metrics(result["metrics"]))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # The step and pipeline parts run on generated images: no data folder needed.
    experiment = config_flags.experiment_from_flags(need_data=False)
    if FLAGS.print_config:
        config_flags.print_config(experiment)
        return 0
    step_rate = bench_step(experiment) if "step" in FLAGS.parts else None
    if "pipeline" in FLAGS.parts:
        rates = bench_pipeline(experiment.run.batch_size)
        if step_rate:
            for name, rate in rates.items():
                print(f"pipeline / train step, {name}: {rate / step_rate:.1f}x")
    if "fashion" in FLAGS.parts:
        bench_fashion()


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_conv", rewrite_argv=config_flags.rewrite_argv_or_exit)
