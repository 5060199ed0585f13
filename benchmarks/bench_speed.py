r"""Speed of the MNIST BiGAN train step against this machine's limits, and where its time goes.

    python benchmarks/bench_speed.py
    python benchmarks/bench_speed.py --profile=/tmp/bigan_profile --evaluation=false

Prints, all measured in the same run:

* the step time for XLA off/on and each `--steps_per_execution`, as GFLOP/s
  (analytic matmul FLOPs, `bench_mnist.train_flops_per_example`) against the
  dense-matmul reading taken before and after the timed work (this machine's
  reading varies from run to run, so both readings and both ratios are printed);
* a second limit: the time to stream the two Adams' state once (parameters,
  gradients and two moments read, parameters and moments written) at the
  memory bandwidth measured here;
* with `--profile=DIR`: a TensorBoard profile of `--profile_steps` steps for
  each XLA setting (open DIR with TensorBoard's profile plugin) and a table of
  where the time went: matmuls, batch norm, element-wise, the Adam updates
  (without XLA; XLA fuses the last three), and the per-step time outside the
  compiled step (Keras and Python);
* the peak resident memory after the training timings and after one
  evaluation at the protocol's sizes.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import collections
import glob
import os
import re
import resource
import sys
import time

from absl import app, flags
from trainers.option_flags import define_option_flags  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_mnist  # noqa: E402  (its FLOP models and roofline; defines its own flags)

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class SpeedOptions:
    """What is timed (each field is a flag of the same name).

    timed_steps          Training steps per timed window (after a warm-up).
    windows              Timed windows per configuration (the median is printed).
    steps_per_execution  Keras steps_per_execution values to time.
    evaluation           Also time one evaluation at protocol sizes.
    profile              Write TensorBoard profiles here and print the table.
    profile_steps        Steps in each profile.
    """

    timed_steps: int = 40
    windows: int = 3
    steps_per_execution: Tuple[str, ...] = ("1", "8")
    evaluation: bool = True
    profile: Optional[str] = None
    profile_steps: int = 20


define_option_flags(SpeedOptions)


BATCH = 128
# Adam per parameter and step: read parameter, gradient, m, v; write parameter, m, v.
ADAM_FLOATS_STREAMED = 7


def build_model(jit_compile: bool, steps_per_execution: int = 1):
    import keras

    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset

    keras.utils.set_random_seed(0)
    model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
    model.compile_for_training(
        OptimizerConfig(epochs=1, decay_epochs=0),
        390,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def step_seconds(model, data, steps: int, windows: int) -> float:
    """Median seconds per training step of `fit` over `windows` fits of `steps` steps.

    A warm-up `fit` traces and compiles first. Each window's dataset holds
    exactly its steps: tearing down an iterator of a longer dataset costs
    seconds, which a run (whose iterator ends with its data) never pays. The
    trainers' `NaNGuard` reads every step's losses, so `fit` waits for each
    step, as in a run.
    """
    import numpy as np

    from bigan_tf.callbacks import NaNGuard
    from bigan_tf.data import training_dataset

    dataset = training_dataset(data.train_images, data.train_labels, BATCH, 0, 0, 10)
    model.fit(
        dataset, epochs=1, steps_per_epoch=16, verbose=0, shuffle=False, callbacks=[NaNGuard()]
    )
    times = []
    for _ in range(windows):
        start = time.perf_counter()
        model.fit(
            dataset.take(steps),
            epochs=1,
            steps_per_epoch=steps,
            verbose=0,
            shuffle=False,
            callbacks=[NaNGuard()],
        )
        times.append((time.perf_counter() - start) / steps)
    return float(np.median(times))


def memory_bandwidth_gbs(megabytes: int = 256, repeats: int = 10) -> float:
    """GB/s of an in-place element-wise update (`v += w`: v and w read, v written).

    In place, like an optimiser's update: a fresh output buffer per call would
    measure the kernel's page faults instead of the memory.
    """
    import tensorflow as tf

    size = megabytes * 2**20 // 4
    v = tf.Variable(tf.zeros([size]))
    w = tf.random.uniform([size])

    @tf.function
    def update():
        v.assign_add(w, read_value=False)

    update()
    v.read_value()[:1].numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        update()
    v.read_value()[:1].numpy()
    return 3 * size * 4 * repeats / (time.perf_counter() - start) / 1e9


def profile_table(model, data, logdir: str, steps: int) -> collections.OrderedDict:
    """Profiles `steps` steps into `logdir`; returns {category: ms per step}.

    Thread time of the operations (summed over the threads that ran them, so
    the categories can add up to more than the wall time), read from the
    profile's XSpace; "outside the step" is the wall time per step minus the
    compiled step's own duration.
    """
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    from bigan_tf.callbacks import NaNGuard
    from bigan_tf.data import training_dataset

    dataset = training_dataset(data.train_images, data.train_labels, BATCH, 0, 0, 10)
    model.fit(
        dataset, epochs=1, steps_per_epoch=16, verbose=0, shuffle=False, callbacks=[NaNGuard()]
    )
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    model.fit(
        dataset.take(steps),
        epochs=1,
        steps_per_epoch=steps,
        verbose=0,
        shuffle=False,
        callbacks=[NaNGuard()],
    )
    wall = time.perf_counter() - start
    tf.profiler.experimental.stop()
    path = sorted(
        glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")),
        key=os.path.getmtime,
    )[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    host = next(p for p in space.planes if p.name == "/host:CPU")
    ms = collections.Counter()
    in_step = 0.0
    for line in host.lines:
        for event in line.events:
            name = host.event_metadata[event.metadata_id].name
            seconds = event.duration_ps * 1e-12
            # The main thread's line is named after the program; Keras calls the
            # compiled step (1 or steps_per_execution steps) "multi_step_on_iterator".
            if not line.name.startswith("tf_") and name == "multi_step_on_iterator":
                in_step += seconds
            elif line.name.startswith("tf_Compute") and ":" in name and "::" not in name:
                ms[_tf_op_category(name)] += seconds  # a TensorFlow op: "node/path:OpType"
            elif "Eigen" in line.name and ":" not in name:
                ms[_xla_thunk_category(name)] += seconds  # an XLA CPU thunk: "fusion.12"
    table = collections.OrderedDict(
        (category, 1e3 * ms[category] / steps)
        for category in (
            "matmul",
            "batch norm",
            "element-wise & other",
            "Adam updates",
            "XLA fused element-wise (BN, activations, Adam)",
            "XLA copies & other",
        )
        if ms[category]
    )
    table["compiled step, wall"] = 1e3 * in_step / steps
    table["outside the step (Keras, Python, input)"] = 1e3 * (wall - in_step) / steps
    table["fit wall per step (profiling on)"] = 1e3 * wall / steps
    return table


def _tf_op_category(name: str) -> str:
    node, op_type = name.rsplit(":", 1)
    if op_type in ("MatMul", "_FusedMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        return "matmul"
    if "_adam/" in node:
        return "Adam updates"
    if re.search(r"/norm\d", node):  # the networks' batch-norm layers: norm1, norm2
        return "batch norm"
    return "element-wise & other"


def _xla_thunk_category(name: str) -> str:
    base = re.sub(r"[._]\d+$", "", name)
    if base.startswith(("MatMul", "dot")) or base.endswith("dot_add_fusion"):
        return "matmul"
    if "fusion" in base or base.startswith("wrapped_"):
        return "XLA fused element-wise (BN, activations, Adam)"
    return "XLA copies & other"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def eval_seconds(data, deploy_iters: int = 1000):
    """(seconds of one evaluation at the protocol's sizes, seconds of its deploy pass)."""
    import keras

    from bigan_tf import BiGAN, EvaluationConfig, NetworkConfig, objective_from_preset
    from bigan_tf.evaluation.deploy import TrainingBatches, deploy_batch_norm
    from bigan_tf.evaluation.evaluator import Evaluator

    keras.utils.set_random_seed(0)
    model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
    evaluator = Evaluator.for_model(model, data, EvaluationConfig(), seed=0)
    batches = TrainingBatches.for_model(model, data.train_images, data.train_labels, BATCH)
    deploy_batch_norm(model, batches.take(2))
    start = time.perf_counter()
    deploy_batch_norm(model, batches.take(deploy_iters))
    deploy = time.perf_counter() - start
    evaluator.evaluate()  # traces and compiles
    start = time.perf_counter()
    evaluator.evaluate()
    return time.perf_counter() - start, deploy


def main(argv):
    del argv
    from bigan_tf.data import load_image_data

    data = load_image_data("mnist", FLAGS.data_dir)
    before = bench_mnist.matmul_gflops()
    bandwidth = memory_bandwidth_gbs()
    flops_per_step = BATCH * bench_mnist.train_flops_per_example()
    seconds = {}
    for jit in (False, True):
        for spe in map(int, FLAGS.steps_per_execution):
            seconds[jit, spe] = step_seconds(
                build_model(jit, spe), data, FLAGS.timed_steps, FLAGS.windows
            )
    params = sum(int(v.shape.num_elements()) for v in build_model(False).trainable_variables)
    train_rss = peak_rss_mb()
    tables = {}
    if FLAGS.profile:
        for jit in (False, True):
            tables[jit] = profile_table(
                build_model(jit),
                data,
                os.path.join(FLAGS.profile, "xla" if jit else "no_xla"),
                FLAGS.profile_steps,
            )
    evaluation = eval_seconds(data) if FLAGS.evaluation else None
    after = bench_mnist.matmul_gflops()
    low, high = sorted((before, after))

    adam_ms = 1e3 * ADAM_FLOATS_STREAMED * 4 * params / (bandwidth * 1e9)
    matmul_ms = 1e3 * flops_per_step / (high * 1e9)
    print(
        f"matmul reading before/after: {before:.1f} / {after:.1f} GFLOP/s; element-wise "
        f"memory bandwidth {bandwidth:.1f} GB/s"
    )
    print(
        f"limits per step: matmuls {matmul_ms:.1f} ms at the higher reading "
        f"({flops_per_step / 1e9:.2f} GFLOP); streaming the Adam state once "
        f"({ADAM_FLOATS_STREAMED} x {params / 1e6:.2f}M floats) {adam_ms:.1f} ms"
    )
    for (jit, spe), s in seconds.items():
        rate = flops_per_step / s / 1e9
        print(
            f"train step, {'XLA   ' if jit else 'no XLA'}, steps_per_execution {spe}: "
            f"{1e3 * s:.1f} ms = {rate:.1f} GFLOP/s = {100 * rate / high:.0f}% of the higher "
            f"/ {100 * rate / low:.0f}% of the lower reading; "
            f"{100 * (matmul_ms + adam_ms) / (1e3 * s):.0f}% of matmul + Adam-stream limit"
        )
    for jit, table in tables.items():
        print(
            f"profile, {'XLA' if jit else 'no XLA'} ({FLAGS.profile_steps} steps, ms per step; "
            f"op rows are thread time):"
        )
        for category, value in table.items():
            print(f"  {category:48s} {value:8.2f}")
    print(f"peak resident memory: {train_rss:.0f} MB after the training timings", end="")
    if evaluation is not None:
        print(f", {peak_rss_mb():.0f} MB after one evaluation")
        metrics, deploy = evaluation
        epoch = min(seconds.values()) * 390
        print(
            f"evaluation at protocol sizes: {metrics:.1f} s metrics + {deploy:.1f} s deploy "
            f"pass (1000 batches) = {(metrics + deploy) / epoch:.2f} training epochs of 390 "
            f"steps at the fastest step above ({epoch:.1f} s)"
        )
    else:
        print()


if __name__ == "__main__":
    app.run(main)
