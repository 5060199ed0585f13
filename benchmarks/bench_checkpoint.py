r"""What a rolling checkpoint costs against one MNIST training epoch (target <= 3%).

    python -m benchmarks.bench_checkpoint [--steps=60] [--saves=5] [--config.run.jit_compile=true]

Builds the model of `--config` (default `configs/mnist_bigan.py`, the
full-size MNIST BiGAN: 1024 hidden units, both Adam states; any setting is
`--config.SECTION.FIELD`, XLA off unless set), times
`--steps` training steps of batch 128 and scales them to an epoch of the 60k
training images (468 steps of 128), then times `--saves` rolling saves of the same
state, the median of which is one save. Prints both and their ratio, with the
checkpoint's size on disk.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from absl import app, flags

from trainers import config_flags

FLAGS = flags.FLAGS
config_flags.define_config_flags(
    "configs/mnist_bigan.py", setting_defaults={"run.jit_compile": False}, run_control=False
)
flags.DEFINE_integer("steps", 60, "Training steps timed (after 5 warm-up steps).")
flags.DEFINE_integer("saves", 5, "Rolling saves timed.")

NUM_TRAIN = 60000  # MNIST's training images


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Random images: the benchmark reads no data folder.
    config = config_flags.experiment_from_flags(need_data=False)
    if FLAGS.print_config:
        config_flags.print_config(config)
        return 0
    import numpy as np
    import tensorflow as tf

    from bigan_tf import BiGAN
    from bigan_tf.checkpoints import ROLLING_DIR, TrainingCheckpoint

    jit = bool(config.run.jit_compile)
    batch_size = config.run.batch_size
    steps_per_epoch = NUM_TRAIN // batch_size
    model = BiGAN.from_config_objects(config.network, config.objective)
    model.compile_for_training(config.optimizer, steps_per_epoch, jit_compile=jit)
    shape = (batch_size, *config.network.data_shape)
    x = tf.constant(np.random.RandomState(0).rand(*shape).astype(np.float32))
    step = tf.function(model.train_step, jit_compile=jit)
    for _ in range(5):
        step((x, None))
    start = time.perf_counter()
    for _ in range(FLAGS.steps):
        logs = step((x, None))
    float(logs["G"])  # wait for the last step
    epoch_seconds = (time.perf_counter() - start) / FLAGS.steps * steps_per_epoch

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
        f"epoch ({steps_per_epoch} steps of {batch_size}, {'XLA' if jit else 'no XLA'}): "
        f"{epoch_seconds:.2f} s"
    )
    print(
        f"rolling save: median {save:.3f} s of {FLAGS.saves} "
        f"({', '.join(f'{s:.3f}' for s in seconds)}), {size / 2**20:.1f} MiB on disk"
    )
    print(f"save / epoch: {100 * save / epoch_seconds:.2f}%")
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_checkpoint", rewrite_argv=config_flags.rewrite_argv_or_exit)
