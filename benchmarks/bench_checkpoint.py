r"""What a rolling checkpoint costs against one MNIST training epoch (target <= 3%).

    python -m benchmarks.bench_checkpoint [--steps=60] [--saves=5] [--jit_compile]

Builds the full-size MNIST BiGAN (1024 hidden units, both Adam states), times
`--steps` training steps of batch 128 and scales them to an epoch of the 60k
training images (468 steps), then times `--saves` rolling saves of the same
state, the median of which is one save. Prints both and their ratio, with the
checkpoint's size on disk.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("steps", 60, "Training steps timed (after 5 warm-up steps).")
flags.DEFINE_integer("saves", 5, "Rolling saves timed.")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the train step.")

STEPS_PER_EPOCH = 60000 // 128


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf
    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.checkpoints import ROLLING_DIR, TrainingCheckpoint

    model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
    model.compile_for_training(OptimizerConfig(), STEPS_PER_EPOCH, jit_compile=FLAGS.jit_compile)
    x = tf.constant(np.random.RandomState(0).rand(128, 784).astype(np.float32))
    step = tf.function(model.train_step, jit_compile=FLAGS.jit_compile)
    for _ in range(5):
        step((x, None))
    start = time.perf_counter()
    for _ in range(FLAGS.steps):
        logs = step((x, None))
    float(logs["G"])  # wait for the last step
    epoch_seconds = (time.perf_counter() - start) / FLAGS.steps * STEPS_PER_EPOCH

    with tempfile.TemporaryDirectory() as directory:
        checkpoint = TrainingCheckpoint(model, directory, keep_rolling=2)
        seconds = []
        for i in range(FLAGS.saves):
            step((x, None))  # a new step number for each save
            start = time.perf_counter()
            checkpoint.save_rolling(i)
            seconds.append(time.perf_counter() - start)
        rolling = os.path.join(directory, ROLLING_DIR)
        newest = max(
            (f for f in os.listdir(rolling) if f.endswith(".index")),
            key=lambda f: os.path.getmtime(os.path.join(rolling, f)),
        )[: -len(".index")]
        size = sum(
            os.path.getsize(os.path.join(rolling, f))
            for f in os.listdir(rolling)
            if f.startswith(newest + ".")
        )
    save = statistics.median(seconds)
    print(
        f"epoch (468 steps of 128, {'XLA' if FLAGS.jit_compile else 'no XLA'}): "
        f"{epoch_seconds:.2f} s"
    )
    print(
        f"rolling save: median {save:.3f} s of {FLAGS.saves} "
        f"({', '.join(f'{s:.3f}' for s in seconds)}), {size / 2**20:.1f} MiB on disk"
    )
    print(f"save / epoch: {100 * save / epoch_seconds:.2f}%")
    return 0


if __name__ == "__main__":
    app.run(main)
