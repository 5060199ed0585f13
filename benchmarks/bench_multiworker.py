r"""Training throughput: one process vs N multi-worker processes on this machine.

    python benchmarks/bench_multiworker.py                 # both, prints the table
    python benchmarks/bench_multiworker.py --workers=2 --steps=200

Runs the MNIST BiGAN's `fit` (full-size networks, global batch 128) for
--warmup_steps, then times --steps more. The multi-worker run starts
`trainers.launch_local` with this script as the worker program
(`--strategy=multi_worker`); every worker trains on the same global batch, so
the figures compare the same work. On a CPU-only box the workers share the
cores, so the figure documents the collective all-reduce overhead, not a
speed-up.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import os
import re
import subprocess
import sys
import time

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.cli import strategy_from_flags  # noqa: E402
from trainers.data_paths import define_data_dir_flag, find_data_dir  # noqa: E402
from trainers.option_flags import define_option_flags  # noqa: E402

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class MultiWorkerOptions:
    """What is compared (each field is a flag of the same name).

    workers       Multi-worker processes to compare with one process.
    steps         Timed steps.
    warmup_steps  Untimed steps first (tracing, collectives set-up).
    batch_size    Global batch size.
    mode          compare: run both and print the table; worker: one timed run (internal).
    strategy      For --mode=worker.
    """

    workers: int = 2
    steps: int = 100
    warmup_steps: int = 10
    batch_size: int = 128
    mode: Literal["compare", "worker"] = "compare"
    strategy: Literal["default", "multi_worker"] = "default"


define_option_flags(MultiWorkerOptions)
define_data_dir_flag("mnist")


def timed_fit(strategy) -> float:
    """Steps per second of `fit` after warm-up, on this process's strategy."""
    import keras

    from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset
    from bigan_tf.data import load_image_data, training_dataset

    data = load_image_data("mnist", find_data_dir("mnist", FLAGS.data_dir))
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan"))
        model.compile_for_training(OptimizerConfig(epochs=1, decay_epochs=0), 1000)
    dataset = training_dataset(data.train_images, data.train_labels, FLAGS.batch_size, 0, 0, 10)

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 == FLAGS.warmup_steps:
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    with strategy.scope():
        model.fit(
            dataset,
            epochs=1,
            steps_per_epoch=FLAGS.warmup_steps + FLAGS.steps,
            callbacks=[timer],
            verbose=0,
            shuffle=False,
        )
    return FLAGS.steps / timer.seconds


def main(argv):
    del argv
    if FLAGS.mode == "worker":
        strategy = strategy_from_flags("bench_multiworker", FLAGS.strategy)
        print(f"STEPS_PER_SECOND {timed_fit(strategy):.3f}", flush=True)
        return
    rates = {}
    script = os.path.abspath(__file__)
    data_dir = find_data_dir("mnist", FLAGS.data_dir)
    common = [
        f"--steps={FLAGS.steps}",
        f"--warmup_steps={FLAGS.warmup_steps}",
        f"--batch_size={FLAGS.batch_size}",
        f"--data_dir={data_dir}",
        "--mode=worker",
    ]
    runs = {
        "1 process": [sys.executable, script, *common, "--strategy=default"],
        f"{FLAGS.workers} workers": [
            sys.executable,
            "-m",
            "trainers.launch_local",
            f"--num_workers={FLAGS.workers}",
            "--max_restarts=0",
            "--",
            sys.executable,
            script,
            *common,
            "--strategy=multi_worker",
        ],
    }
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for name, command in runs.items():
        out = subprocess.run(
            command, cwd=_REPO_ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout
        rates[name] = [float(x) for x in re.findall(r"STEPS_PER_SECOND ([\d.]+)", out)]
    print(f"global batch {FLAGS.batch_size}, {FLAGS.steps} timed steps, {os.cpu_count()} CPU cores")
    for name, values in rates.items():
        print(
            f"{name:>12s}: {min(values):7.2f} steps/s  "
            f"({min(values) * FLAGS.batch_size:8.0f} examples/s; per process: "
            f"{', '.join(f'{v:.2f}' for v in values)})"
        )


if __name__ == "__main__":
    app.run(main)
