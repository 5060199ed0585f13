r"""Speed of the MNIST BiGAN train step (with and without XLA) and of one evaluation.

    python benchmarks/bench_speed.py

Prints GFLOP/s (analytic matmul FLOPs, `bench_mnist.train_flops_per_example`
and `eval_flops`) against the dense-matmul roofline read before and after the
timed work: this machine's reading varies from run to run, so both readings
and both ratios are printed.
"""

from __future__ import annotations

import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_mnist  # noqa: E402  (its FLOP models and roofline; defines its own flags)

FLAGS = flags.FLAGS
flags.DEFINE_integer("timed_steps", 200, "Timed training steps (after 20 warm-up steps).")
flags.DEFINE_boolean("evaluation", True, "Also time one evaluation at protocol sizes.")


def train_gflops(data, jit_compile: bool) -> float:
    import keras

    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.data import training_dataset

    warmup = 20
    keras.utils.set_random_seed(0)
    model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
    model.compile_for_training(OptimizerConfig(epochs=1, decay_epochs=0), 390,
                               jit_compile=jit_compile)
    dataset = training_dataset(data.train_images, data.train_labels, 128, 0, 0, 10)

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 == warmup:
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + FLAGS.timed_steps, callbacks=[timer],
              verbose=0, shuffle=False)
    flops = FLAGS.timed_steps * 128 * bench_mnist.train_flops_per_example()
    return flops / timer.seconds / 1e9


def eval_gflops(data):
    import keras

    from bigan_tf import BiGAN, EvaluationConfig, NetworkConfig, objective_from_preset
    from bigan_tf.evaluation.evaluator import Evaluator

    keras.utils.set_random_seed(0)
    model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
    evaluator = Evaluator(model, data, EvaluationConfig(), seed=0, deploy_batch_size=128)
    evaluator.evaluate()  # traces and compiles
    start = time.perf_counter()
    evaluator.evaluate()
    seconds = time.perf_counter() - start
    flops = bench_mnist.eval_flops(deploy_iters=0)
    return flops / seconds / 1e9, seconds, flops


def main(argv):
    del argv
    from bigan_tf.data import load_image_data

    data = load_image_data("mnist", FLAGS.data_dir)
    before = bench_mnist.matmul_gflops()
    rates = {jit: train_gflops(data, jit) for jit in (False, True)}
    evaluation = eval_gflops(data) if FLAGS.evaluation else None
    after = bench_mnist.matmul_gflops()
    low, high = sorted((before, after))

    def ratio(x):
        return f"{100 * x / high:.0f}% of the higher / {100 * x / low:.0f}% of the lower reading"
    print(f"matmul roofline read before/after: {before:.1f} / {after:.1f} GFLOP/s")
    print(f"train step, no XLA: {rates[False]:.1f} GFLOP/s = {ratio(rates[False])}")
    print(f"train step, XLA:    {rates[True]:.1f} GFLOP/s = {ratio(rates[True])}")
    if evaluation:
        gflops, seconds, flops = evaluation
        print(f"evaluation (no deploy pass, {flops / 1e12:.2f} TFLOP): {seconds:.1f} s = "
              f"{gflops:.1f} GFLOP/s = {ratio(gflops)}")


if __name__ == "__main__":
    app.run(main)
