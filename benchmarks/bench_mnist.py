r"""Trains the MNIST BiGAN on the full real data and prints metrics and speed.

    python benchmarks/bench_mnist.py --epochs=10 --disp_interval=5

Prints, per evaluated epoch, the original's two metric lines at the protocol
sizes (100k generated samples, 50k kNN reference, 10k validation), then:
training examples/s, the analytic FLOPs per training example, this machine's
dense matmul throughput measured in the same run, and the ratio of the two
(the fraction of the matmul roofline reached), for training and evaluation.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from absl import app, flags

from roofline import matmul_gflops  # noqa: E402,F401  (bench_speed reads it from here)

flags.DEFINE_integer("epochs", 10, "Training epochs (constant learning rate).")
flags.DEFINE_integer("disp_interval", 5, "Evaluate after epoch 1, every N epochs and at the end.")
flags.DEFINE_integer("deploy_iters", 1000, "BN deploy iterations before each evaluation.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the train step.")
flags.DEFINE_string("data_dir", os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                             "data", "mnist"), "MNIST IDX folder.")
flags.DEFINE_string("exp_dir", "/tmp/bigan_bench", "Scratch experiment folder.")
FLAGS = flags.FLAGS


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


def eval_flops(h=1024, d=784, k=50, num_val=10000, num_ref=50000, num_gen=100000,
               deploy_iters=1000, batch=128):
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
    import keras
    import tensorflow as tf
    from bigan_tf import EvaluationConfig, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.data import load_image_data
    from bigan_tf.config import ExperimentConfig, RunConfig
    from bigan_tf.training import train

    data = load_image_data("mnist", FLAGS.data_dir)
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

    train(
        tf.distribute.get_strategy(),
        ExperimentConfig(
            network=NetworkConfig(),
            objective=objective_from_preset("bigan"),
            optimizer=OptimizerConfig(epochs=FLAGS.epochs, decay_epochs=0),
            evaluation=EvaluationConfig(deploy_iters=FLAGS.deploy_iters),
            run=RunConfig(
                exp_dir=FLAGS.exp_dir,
                batch_size=FLAGS.batch_size,
                disp_interval=FLAGS.disp_interval,
                save_interval=None,
                jit_compile=FLAGS.jit_compile,
                verbose=2,
            ),
        ),
        data,
        print_fn=print,
        extra_callbacks=[Timer()],
    )
    steps = len(data.train_images) // FLAGS.batch_size
    examples = steps * FLAGS.batch_size
    # The first epoch includes tracing; report the median of the others.
    steady = sorted(epoch_times[1:] or epoch_times)[len(epoch_times[1:] or epoch_times) // 2]
    rate = examples / steady
    flops = train_flops_per_example()
    achieved = rate * flops / 1e9
    from bigan_tf.run_dir import read_metrics
    records = read_metrics(FLAGS.exp_dir)
    evals = [r for r in records if r["epoch"] > 0]
    print(f"epoch time: {steady:.1f} s ({rate:.0f} examples/s); "
          f"{flops / 1e6:.1f} MFLOP/example -> {achieved:.1f} GFLOP/s = "
          f"{100 * achieved / peak:.0f}% of the matmul roofline")
    eflops = eval_flops(deploy_iters=FLAGS.deploy_iters, batch=FLAGS.batch_size)
    for r in evals:
        seconds = r["eval_seconds"] + r["deploy_seconds"]
        print(f"epoch {r['epoch']}: eval {r['eval_seconds']:.1f} s + deploy "
              f"{r['deploy_seconds']:.1f} s = {eflops / 1e9 / seconds:.1f} GFLOP/s "
              f"({100 * eflops / 1e9 / seconds / peak:.0f}% of roofline); "
              + "  ".join(f"{k}: {v:.2f}" for k, v in r["metrics"].items()))
    return 0


if __name__ == "__main__":
    app.run(main)
