r"""Trains the MNIST BiGAN on the full real data and prints metrics and speed.

    python -m benchmarks.bench_mnist                                   # 10 epochs
    python -m benchmarks.bench_mnist --config.run.jit_compile=true --config.optimizer.epochs=3

The experiment is `configs/mnist_bigan.py` with this benchmark's protocol on
top (10 epochs at a constant rate, evaluations every 5 epochs, a 1,000-batch
deploy pass); every setting is `--config.SECTION.FIELD` (`trainers.config_flags`;
the former `--epochs`, `--batch_size`, `--jit_compile`, ... still work).
Prints, per evaluated epoch, the original's two metric lines at the protocol
sizes (100k generated samples, 50k kNN reference, 10k validation), then:
training examples/s, the analytic FLOPs per training example, this machine's
dense matmul throughput measured in the same run, and the ratio of the two
(the fraction of the matmul roofline reached), for training and evaluation.
"""

import dataclasses
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from roofline import matmul_gflops  # noqa: E402,F401  (bench_speed reads it from here)
from trainers import config_flags  # noqa: E402

PROTOCOL = {
    "optimizer.epochs": 10,
    "optimizer.decay_epochs": 0,
    "run.disp_interval": 5,
    "run.save_interval": "none",
    "evaluation.deploy_iters": 1000,
}
config_flags.define_config_flags(
    "configs/mnist_bigan.py",
    setting_defaults=PROTOCOL,
    run_control=False,
    exp_dir_help="Scratch run folder (default /tmp/bigan_bench).",
)


def train_flops_per_example(h=1024, d=784, k=50):
    """Analytic FLOPs of one BiGAN training example: matmuls only, forward + backward.

    Forward multiply-adds: E (d·h + h·h + h·k), G (k·h + h·h + k·h + h·d),
    D twice (d·h + h·h + k·h + h). Backward costs twice the forward (input and
    weight gradients), so FLOPs = 3 · 2 · MACs.
    """
    encoder = d * h + h * h + h * k
    generator = k * h + h * h + k * h + h * d
    discriminator = 2 * (d * h + h * h + k * h + h)
    return 6 * (encoder + generator + discriminator)


def eval_flops(
    h=1024, d=784, k=50, num_val=10000, num_ref=50000, num_gen=100000, deploy_iters=1000, batch=128
):
    """Analytic FLOPs of one evaluation (matmuls only).

    NND: 10k val x (1k + 10k + 100k) generated, d-dim distances; NNC: 10k x 50k in
    k and h dims; forward passes: G on 100k z, E+G on 10k val and on 100k
    quantised samples, E on 50k references; deploy: forward E, G, 2xD per batch.
    """
    e_fwd = d * h + h * h + h * k
    g_fwd = k * h + h * h + k * h + h * d
    d_fwd = d * h + h * h + k * h + h
    macs = num_val * (num_gen // 100 + num_gen // 10 + num_gen) * d
    macs += num_val * num_ref * (k + h)
    macs += num_gen * g_fwd + (num_val + num_gen) * (e_fwd + g_fwd) + num_ref * e_fwd
    macs += deploy_iters * batch * (e_fwd + g_fwd + 2 * d_fwd)
    return 2 * macs


def main(argv):
    config = config_flags.experiment_from_flags()
    # A scratch folder, and one line per epoch whatever the terminal.
    config = dataclasses.replace(
        config,
        run=dataclasses.replace(
            config.run, exp_dir=config_flags.FLAGS.exp_dir or "/tmp/bigan_bench", verbose=2
        ),
    )
    if config_flags.FLAGS.print_config:
        config_flags.print_config(config)
        return 0
    import keras
    import tensorflow as tf

    from bigan_tf.data import load
    from bigan_tf.training import train

    data = load(config.data)
    peak = matmul_gflops()
    print(f"matmul roofline: {peak:.1f} GFLOP/s (2048x2048 float32, {os.cpu_count()} CPUs)")
    epoch_times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.end = time.perf_counter()  # excludes the epoch-end evaluation

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(self.end - self.start)

    train(tf.distribute.get_strategy(), config, data, print_fn=print, extra_callbacks=[Timer()])
    batch_size = config.run.batch_size
    steps = len(data.train_images) // batch_size
    examples = steps * batch_size
    # The first epoch includes tracing; report the median of the others.
    steady = sorted(epoch_times[1:] or epoch_times)[len(epoch_times[1:] or epoch_times) // 2]
    rate = examples / steady
    flops = train_flops_per_example()
    achieved = rate * flops / 1e9
    from bigan_tf.run_dir import read_metrics

    records = read_metrics(config.run.exp_dir)
    evals = [r for r in records if r["epoch"] > 0]
    print(
        f"epoch time: {steady:.1f} s ({rate:.0f} examples/s); "
        f"{flops / 1e6:.1f} MFLOP/example -> {achieved:.1f} GFLOP/s = "
        f"{100 * achieved / peak:.0f}% of the matmul roofline"
    )
    eflops = eval_flops(deploy_iters=config.evaluation.deploy_iters, batch=batch_size)
    for r in evals:
        seconds = r["eval_seconds"] + r["deploy_seconds"]
        print(
            f"epoch {r['epoch']}: eval {r['eval_seconds']:.1f} s + deploy "
            f"{r['deploy_seconds']:.1f} s = {eflops / 1e9 / seconds:.1f} GFLOP/s "
            f"({100 * eflops / 1e9 / seconds / peak:.0f}% of roofline); "
            + "  ".join(f"{k}: {v:.2f}" for k, v in r["metrics"].items())
        )
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_mnist", rewrite_argv=config_flags.rewrite_argv_or_exit)
