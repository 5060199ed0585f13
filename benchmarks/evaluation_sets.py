r"""How much does the choice of evaluation set move Table 1's 1-NN accuracy?

    python -m benchmarks.evaluation_sets --random_init \
        --runs=$HOME/bigan_runs/autoencoder_l2/seed0,$HOME/bigan_runs/bigan/seed0

The paper calls its Table 1 set the "test set"; the original code's default
(`train_mnist.sh`, whose log gives the README's 97.35%) scores the 10k images
that `load.mnist_with_valid_set` holds out of the 60k training images against
the other 50k. `benchmarks.reproduce_mnist` reads t10k against 50k of the 60k
training images. For the same features this prints the 1-NN accuracy (%) on each evaluation set:

* `t10k`: the 10k test images against the first 50k training images (what
  reproduce_mnist's evaluation reads: its kNN reference set is 50k);
* `original held-out`: the original's 10k against its 50k
  (`bigan_tf.data.held_out_indices`, the original's permutation);
* `other held-out`: the same rule with `--random_splits` other seeds
  (mean, min..max): how much the draw of a held-out split alone moves it.

Features: raw pixels; `--random_init`, a freshly initialised MNIST BiGAN
encoder (Keras seed 0: a --seed=0 run's epoch-0 weights; its t10k row reproduces
the runs' epoch-0 figures); each `--runs`
folder's latest checkpoint — E's penultimate features (NNC_e-) and raw logits (NNC_e), or D's
(NNC_d) for a GAN — with batch norm deployed over `--deploy_iters` training
batches as the protocol does. Raw pixels and the random init have seen no image;
a run trained on all 60k (as reproduce_mnist's) has seen the held-out images
unlabelled, which could favour the held-out sets a little.

With --json_out the table grows one run at a time: rows already in the file
are kept (a row of the same features is replaced by the new reading), each new
row is saved as soon as it is read, and --table_out then shows every row;
a file of other --quick/--random_splits/--deploy_iters is an error.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
from absl import flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.data_paths import define_data_dir_flag  # noqa: E402
from trainers.option_flags import define_option_flags  # noqa: E402

from bigan_tf.evaluation.evaluation_sets import (  # noqa: E402
    ORIGINAL,
    TEST_SET,
    accuracies,
    evaluation_sets,
    model_features,
    summary,
)

QUICK_SIZES = (6000, 1000)  # training, test images under --quick

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class EvaluationSetsOptions:
    """What is read, on which splits (each field is a flag of the same name).

    runs           Trained MNIST run folders (their latest checkpoint is read).
    random_init    Also read a freshly initialised MNIST BiGAN encoder.
    random_splits  Other held-out splits (seeds 0..N-1) for the spread.
    deploy_iters   Training batches of 128 that set batch norm's test-time statistics (the
                   protocol's deploy pass).
    quick          6000 training and 1000 test images (the tests' size).
    json_out       Also save the rows as JSON here, each as it is read, merged into the rows
                   the file already holds (same settings only).
    table_out      Also write the table (with --json_out: of every row in that file) as
                   Markdown here.
    """

    runs: Tuple[str, ...] = ()
    random_init: bool = True
    random_splits: int = 4
    deploy_iters: int = 1000
    quick: bool = False
    json_out: Optional[str] = None
    table_out: Optional[str] = None


define_option_flags(EvaluationSetsOptions)
define_data_dir_flag("mnist")


def format_table(rows: List[Dict[str, object]]) -> str:
    lines = [
        "| features | t10k vs 50k | original held-out vs 50k | shift | other held-out "
        "(mean, min..max) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        others = (
            f"{r['other mean']:.2f} ({r['other min']:.2f}..{r['other max']:.2f})"
            if "other mean" in r
            else "–"
        )
        lines.append(
            f"| {r['features']} | {r[TEST_SET]:.2f} | {r[ORIGINAL]:.2f} | "
            f"{r['shift']:+.2f} | {others} |"
        )
    return "\n".join(lines)


def models(runs: List[str], random_init: bool, data_shape) -> List[Tuple[str, object, int]]:
    """(name, model, seed) of the random init and each run's latest checkpoint; raises
    `ConfigError`/`CheckpointError` for a folder that is not a trained MNIST run."""
    from bigan_tf import BiGAN, NetworkConfig, objective_from_preset
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.errors import ConfigError

    loaded = []
    for run in runs:
        trained = load_trained_model(run)
        if int(np.prod(trained.model.data_shape)) != int(np.prod(data_shape)):
            raise ConfigError(
                f"{run} was trained on {tuple(trained.model.data_shape)} images, "
                "not MNIST's 28x28x1: name MNIST run folders in --runs."
            )
        name = (
            f"{os.path.basename(os.path.dirname(os.path.normpath(run)))}/"
            f"{os.path.basename(os.path.normpath(run))} (epoch {trained.epoch})"
        )
        loaded.append((name, trained.model, trained.experiment.run.seed))
    if random_init:
        import keras

        keras.utils.set_random_seed(0)  # as training seeds a --seed=0 run before building
        loaded.insert(
            0,
            (
                "random init",
                BiGAN.from_config_objects(NetworkConfig(), objective_from_preset("bigan")),
                0,
            ),
        )
    return loaded


def merge_rows(
    saved: List[Dict[str, object]], new: List[Dict[str, object]]
) -> List[Dict[str, object]]:
    """`saved` with each row of the same features replaced by `new`'s, then `new`'s others."""
    by_features = {row["features"]: row for row in new}
    merged = [by_features.pop(row["features"], row) for row in saved]
    return merged + [row for row in new if row["features"] in by_features]


def compare(
    data,
    loaded_models: List[Tuple[str, object, int]],
    random_splits: int,
    deploy_iters: int,
    print_fn=print,
    on_row=lambda rows: None,
) -> List[Dict[str, object]]:
    """The table's rows for `data` (ImageData with the test set as its validation split):
    raw pixels, then each of `models`' features; each row is printed as it is done, and
    `on_row` is called with the rows so far."""
    from bigan_tf.data.pipeline import to_model_range
    from bigan_tf.evaluation.deploy import deploy_batch_norm_on_images
    from bigan_tf.evaluation.metrics import batched_map

    images = np.concatenate([data.train_images, data.val_images])
    labels = np.concatenate([data.train_labels, data.val_labels])
    sets = evaluation_sets(len(data.train_images), len(data.val_images), random_splits)
    x = to_model_range(images).numpy()
    rows = [summary("raw pixels", accuracies(x.reshape(len(x), -1), labels, sets))]
    print_fn(format_table(rows[-1:]).splitlines()[-1])
    on_row(rows)
    for name, model, seed in loaded_models:
        deploy_batch_norm_on_images(model, data.train_images, data.train_labels, deploy_iters, seed)
        model_x = x.reshape(-1, *model.data_shape)
        for row_name, features in model_features(model, name):
            values = batched_map(features, model_x, 1000)
            rows.append(summary(row_name, accuracies(values, labels, sets)))
            print_fn(format_table(rows[-1:]).splitlines()[-1])
            on_row(rows)
    return rows


def main(argv):
    from absl import app

    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from benchmarks.run_records import read_saved_rows, write_rows
    from bigan_tf.data import load_image_data
    from bigan_tf.errors import ConfigError
    from bigan_tf.run_dir import atomic_write_text
    from trainers.data_paths import find_data_dir

    if FLAGS.random_splits < 0 or FLAGS.deploy_iters < 1:
        raise ConfigError("--random_splits must be ≥ 0 and --deploy_iters ≥ 1.")
    data = load_image_data("mnist", find_data_dir("mnist", FLAGS.data_dir), use_test_set=True)
    if FLAGS.quick:
        data = data.take(*QUICK_SIZES)
    settings = {
        "quick": FLAGS.quick,
        "random_splits": FLAGS.random_splits,
        "deploy_iters": FLAGS.deploy_iters,
    }
    saved = read_saved_rows(FLAGS.json_out, settings) if FLAGS.json_out else []
    loaded = models(FLAGS.runs, FLAGS.random_init, data.image_shape)  # bad folders fail first

    def save(rows):
        if FLAGS.json_out:
            write_rows(FLAGS.json_out, merge_rows(saved, [{**r, **settings} for r in rows]))

    print(format_table([]))
    rows = compare(data, loaded, FLAGS.random_splits, FLAGS.deploy_iters, on_row=save)
    if FLAGS.table_out:
        shown = merge_rows(saved, rows) if FLAGS.json_out else rows
        atomic_write_text(
            FLAGS.table_out,
            f"1-NN accuracy (%) of the same features on each MNIST evaluation set "
            f"({'quick sizes' if FLAGS.quick else 'full sizes'}, batch norm deployed "
            f"over {FLAGS.deploy_iters} batches). Made by `python -m "
            f"benchmarks.evaluation_sets`.\n\n{format_table(shown)}\n",
        )
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "evaluation_sets")
