r"""Reproduces the paper's Table 1 (permutation-invariant MNIST) end to end.

    python -m benchmarks.reproduce_mnist --root=/data/bigan_runs \
        --objectives=bigan,gan,latent_regressor,joint_latent_regressor,autoencoder_l2,autoencoder_l1 \
        --seeds=0,1,2
    python -m benchmarks.reproduce_mnist --root=/tmp/quick --quick     # minutes, what the tests run
    python -m benchmarks.reproduce_mnist --root=/data/bigan_runs --report_only

Each (objective, seed) trains with the original's full schedule (200 epochs at
a constant learning rate, 200 of decay), its 1000-batch batch-norm deploy pass,
trained on all 60k training images and evaluated on the t10k test set (the set
the paper reports), into `ROOT/OBJECTIVE/seedN`. Finished runs are skipped and
unfinished ones resumed from their newest checkpoint, so the command can be
stopped and restarted at any time. A run whose folder was lost (a new machine)
but whose records an earlier report copied into --results_dir counts as far as
those records go: finished there means skipped, and the table keeps it.
Then it writes into --results_dir:

* `table.md`, `table.csv`: per objective, mean ± std over seeds of the last
  evaluation's NNC_e-, NNC_e (NNC_d for the GAN), CLS_e- (CLS_d), EGr/EGr_b and
  NND, beside the paper's Table 1 figure and the official README's epoch-400 line,
  and each run's best NNC after epoch 0 with the epoch it was reached at;
* `curves.png`: those metrics against epoch, mean over seeds, band = min..max;
* `runs/OBJECTIVE/seedN/`: each run's `metrics.jsonl`, `config.json` and last
  sample grids.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from absl import app, flags

from trainers.data_paths import define_data_dir_flag
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS
ALL_OBJECTIVES = (
    "bigan",
    "gan",
    "latent_regressor",
    "joint_latent_regressor",
    "autoencoder_l2",
    "autoencoder_l1",
)


@dataclasses.dataclass(frozen=True)
class Table1Options:
    """Which runs, and where (each field is a flag of the same name).

    objectives    Objectives to run (of bigan, gan, latent_regressor, joint_latent_regressor,
                  autoencoder_l2, autoencoder_l1).
    seeds         Seeds to run for each objective.
    root          Folder of the runs (outside the work tree: they are large).
    results_dir   Where the table, curves and run records go.
    quick         A few epochs at reduced protocol sizes (the test suite's).
    report_only   Train nothing: write the results of what exists.
    jit_compile   XLA-compile the train step (default: the config's, on: about 1.5x on a CPU).
    """

    objectives: Tuple[str, ...] = ALL_OBJECTIVES
    seeds: Tuple[str, ...] = ("0",)
    root: Optional[str] = None
    results_dir: str = "results/mnist"
    quick: bool = False
    report_only: bool = False
    jit_compile: Optional[bool] = None


define_option_flags(Table1Options)
define_data_dir_flag("mnist")


# The paper's Table 1 (1-NN accuracy %, permutation-invariant MNIST test set) and
# the official README's epoch-400 BiGAN line (official_code_notes.md §6).
PAPER_TABLE1 = {
    "bigan": 97.39,
    "gan": 97.30,
    "latent_regressor": 97.44,
    "joint_latent_regressor": 97.13,
    "autoencoder_l2": 97.58,
    "autoencoder_l1": 97.63,
}
OFFICIAL_EPOCH400 = {
    "bigan": {
        "NNC_e-": 97.35,
        "NNC_e": 92.10,
        "CLS_e-": 79.48,
        "EGr": 5.95,
        "EGr_b": 9.60,
        "NND": 4.14,
    }
}
LABELS = {
    "bigan": "BiGAN",
    "gan": "D (GAN)",
    "latent_regressor": "LR",
    "joint_latent_regressor": "JLR",
    "autoencoder_l2": "AE (l2)",
    "autoencoder_l1": "AE (l1)",
}


# The protocol of every run is the config file's (`configs/mnist_table1.py`).
CONFIG_FILE = "configs/mnist_table1.py"


def run_config(
    objective: str, seed: int, quick: bool, root: str = "", jit_compile: Optional[bool] = None
):
    """The `ExperimentConfig` of one run: the config file's, in its folder under `root`."""
    from bigan_tf.config.files import load_config
    from trainers.data_paths import repo_root

    config = load_config(
        f"{CONFIG_FILE}:objective={objective},seed={seed},quick={quick}", search_dirs=(repo_root(),)
    )
    run = dataclasses.replace(config.run, exp_dir=run_dir(root, objective, seed))
    if jit_compile is not None:
        run = dataclasses.replace(run, jit_compile=jit_compile)
    return dataclasses.replace(config, run=run)


def run_dir(root: str, objective: str, seed: int) -> str:
    return os.path.join(root, objective, f"seed{seed}")


def recorded_run_dir(results_dir: str, objective: str, seed: int) -> str:
    """Where the report keeps a copy of the run's records (committed under results/)."""
    return run_dir(os.path.join(results_dir, "runs"), objective, seed)


def run_records(root: str, results_dir: str, objective: str, seed: int) -> Tuple[List[Dict], bool]:
    """The run's evaluations, and whether they come from its folder under `root`.

    A run folder can be lost (a new machine, a deleted root) while the copy of
    its records that an earlier report wrote into `results_dir` survives: the
    further-along of the two is the run's record, the folder on a tie (it also
    has the sample grids).
    """
    from bigan_tf.run_dir import read_metrics

    live = read_metrics(run_dir(root, objective, seed))
    recorded = read_metrics(recorded_run_dir(results_dir, objective, seed))
    if recorded and (not live or recorded[-1]["epoch"] > live[-1]["epoch"]):
        return recorded, False
    return live, True


def is_finished(records: List[Dict], total_epochs: int) -> bool:
    """A run is finished when its last evaluation is the schedule's last epoch."""
    return any(r["epoch"] == total_epochs for r in records)


def train_one(
    objective: str,
    seed: int,
    root: str,
    results_dir: str,
    quick: bool,
    data,
    jit_compile: Optional[bool],
) -> None:
    """Trains (or resumes) one run to the end of the schedule."""
    import tensorflow as tf
    from bigan_tf.training import train

    config = run_config(objective, seed, quick, root, jit_compile)
    total = config.optimizer.epochs + config.optimizer.decay_epochs
    records, live = run_records(root, results_dir, objective, seed)
    if is_finished(records, total):
        where = "" if live else (f", recorded in {recorded_run_dir(results_dir, objective, seed)}")
        print(f"[{objective} seed {seed}] finished (epoch {total}{where}); skipped.")
        return
    prefix = f"[{objective} seed {seed}] "
    train(
        tf.distribute.get_strategy(),
        config,
        data,
        print_fn=lambda line: print(prefix + line if line.strip() else line, flush=True),
    )


# --------------------------------------------------------------------- report
def feature_metrics(objective: str) -> Dict[str, str]:
    """Column -> metric name: the GAN's features are D's, everyone else's E's."""
    if objective == "gan":
        return {"NNC": "NNC_d", "NNC_raw": None, "CLS": "CLS_d"}
    return {"NNC": "NNC_e-", "NNC_raw": "NNC_e", "CLS": "CLS_e-"}


def _mean_std(values: Sequence[float]) -> str:
    import numpy as np

    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


def _best_after_init(found: List[Dict], name: str) -> str:
    """Each run's highest `name` over its evaluations after epoch 0, mean ± std over seeds,
    with the epochs it was reached at: tells a run that converged short of the paper from one
    that passed it and drifted back (the GAN's D features peak early, then wear down)."""
    best = []
    for run in found:
        scored = [
            (r["metrics"][name], r["epoch"])
            for r in run["records"]
            if r["epoch"] >= 1 and name in r.get("metrics", {})
        ]
        if scored:
            best.append(max(scored))
    if not best:
        return "–"
    return f"{_mean_std([value for value, _ in best])} (epoch {','.join(str(e) for _, e in best)})"


def collect(
    root: str, results_dir: str, objectives: Sequence[str], seeds: Sequence[int]
) -> Dict[str, List[Dict]]:
    """objective -> one dict per existing run: seed, records (metrics.jsonl), last record,
    and whether they come from the run's folder (`live`) or only from results_dir."""
    runs = {}
    for objective in objectives:
        found = []
        for seed in seeds:
            records, live = run_records(root, results_dir, objective, seed)
            if records:
                found.append({"seed": seed, "records": records, "last": records[-1], "live": live})
        runs[objective] = found
    return runs


def table_rows(runs: Dict[str, List[Dict]], total_epochs: int) -> List[Dict[str, str]]:
    import numpy as np

    rows = []
    for objective, found in runs.items():
        names = feature_metrics(objective)
        last = [r["last"]["metrics"] for r in found]
        epochs = sorted({r["last"]["epoch"] for r in found})
        ratio = [m["EGr"] / m["EGr_b"] for m in last if "EGr" in m and m.get("EGr_b")]
        # Training seconds per epoch, median over the evaluated epochs (epoch 1 pays
        # the compilation), and the evaluation's seconds (deploy pass included).
        epoch_seconds = [
            r["epoch_seconds"]
            for run in found
            for r in run["records"]
            if "epoch_seconds" in r and r["epoch"] > 1
        ]
        eval_seconds = [
            r["eval_seconds"] + r.get("deploy_seconds", 0) for run in found for r in run["records"]
        ]
        official = OFFICIAL_EPOCH400.get(objective, {})
        rows.append(
            {
                "objective": LABELS.get(objective, objective),
                "seeds": str(len(found)),
                "epoch": ",".join(map(str, epochs)) + (f" of {total_epochs}" if epochs else ""),
                "NNC (1-NN %)": _mean_std([m.get(names["NNC"]) for m in last]),
                "best NNC (epoch)": _best_after_init(found, names["NNC"]),
                "paper Table 1": f"{PAPER_TABLE1[objective]:.2f}"
                if objective in PAPER_TABLE1
                else "–",
                "official epoch 400": f"{official['NNC_e-']:.2f}" if official else "–",
                "NNC_e (raw E(x))": _mean_std(
                    [m.get(names["NNC_raw"]) for m in last] if names["NNC_raw"] else []
                ),
                "CLS (linear %)": _mean_std([m.get(names["CLS"]) for m in last]),
                "EGr/EGr_b": _mean_std(ratio),
                "official EGr/EGr_b": (
                    f"{official['EGr'] / official['EGr_b']:.2f}" if official else "–"
                ),
                "NND": _mean_std([m.get("NND") for m in last]),
                "s/epoch": f"{np.median(epoch_seconds):.1f}" if epoch_seconds else "–",
                "s/evaluation": f"{np.median(eval_seconds):.0f}" if eval_seconds else "–",
            }
        )
    return rows


def plot_curves(runs: Dict[str, List[Dict]], path: str) -> None:
    """NNC, CLS, EGr/EGr_b and NND against epoch; mean over seeds, band = min..max."""
    from bigan_tf.plots import plot_groups

    groups = {
        LABELS.get(o, o): [run["records"] for run in found] for o, found in runs.items() if found
    }
    # One colour per objective whichever objectives are shown.
    colors = {LABELS[o]: f"C{i}" for i, o in enumerate(LABELS)}
    plot_groups(
        groups,
        path,
        colors=colors,
        title="Permutation-invariant MNIST (test set): mean over seeds, band = min..max",
    )


def copy_records(root: str, runs: Dict[str, List[Dict]], out_dir: str) -> None:
    """Each run's metrics.jsonl, config.json and last sample grids into out_dir/runs/."""
    from benchmarks.run_records import copy_run_records

    for objective, found in runs.items():
        for run in found:
            if not run["live"]:
                continue  # out_dir already holds this run's only records
            copy_run_records(
                run_dir(root, objective, run["seed"]),
                os.path.join(out_dir, "runs", objective, f"seed{run['seed']}"),
                run["last"]["epoch"],
            )


def report(
    root: str, objectives: Sequence[str], seeds: Sequence[int], out_dir: str, quick: bool
) -> List[Dict[str, str]]:
    os.makedirs(out_dir, exist_ok=True)
    runs = collect(root, out_dir, objectives, seeds)
    config = run_config(objectives[0] if objectives else "bigan", 0, quick)
    total = config.optimizer.epochs + config.optimizer.decay_epochs
    rows = table_rows(runs, total)
    note = (
        f"Permutation-invariant MNIST, evaluated on the t10k test set after training on all "
        f"60k training images; last evaluation of each run (schedule: {total} epochs, "
        f"deploy pass {config.evaluation.deploy_iters} batches). NNC = 1-NN accuracy on E's "
        "penultimate features (D's for the GAN), the paper's Table 1 measure; best NNC = "
        "its highest value at any evaluation after the random init (epoch 0). The "
        "original's script scores its held-out 10k of the training images instead, which "
        "reads higher for the same features (`benchmarks.evaluation_sets`). "
        "Made by `python -m benchmarks.reproduce_mnist`."
    )
    from benchmarks.run_records import write_table

    write_table(rows, out_dir, note)
    plot_curves(runs, os.path.join(out_dir, "curves.png"))
    copy_records(root, runs, out_dir)
    return rows


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from absl import logging
    from bigan_tf.errors import BiganError
    from bigan_tf.interrupts import TrainingInterrupted

    logging.set_verbosity(logging.WARNING)  # no TensorFlow INFO line per checkpoint save
    if not FLAGS.root:
        print(
            "reproduce_mnist: error: --root is required: the folder of the runs (outside the "
            "work tree, e.g. --root=$HOME/bigan_runs).",
            file=sys.stderr,
        )
        return 2
    unknown = [o for o in FLAGS.objectives if o not in ALL_OBJECTIVES]
    if unknown:
        print(
            f"reproduce_mnist: error: unknown --objectives {unknown}; choose from "
            f"{list(ALL_OBJECTIVES)}.",
            file=sys.stderr,
        )
        return 2
    try:
        seeds = [int(s) for s in FLAGS.seeds]
    except ValueError:
        print(
            f"reproduce_mnist: error: --seeds must be integers, got {FLAGS.seeds}.", file=sys.stderr
        )
        return 2
    try:
        if not FLAGS.report_only:
            from bigan_tf.data import load_image_data
            from trainers.data_paths import find_data_dir

            data_config = run_config("bigan", 0, FLAGS.quick).data
            data = load_image_data(
                "mnist",
                find_data_dir("mnist", FLAGS.data_dir),
                use_test_set=data_config.use_test_set,
            )
            if data_config.max_train_images:
                data = data.take(num_train=data_config.max_train_images)
            for objective in FLAGS.objectives:
                for seed in seeds:
                    train_one(
                        objective,
                        seed,
                        FLAGS.root,
                        FLAGS.results_dir,
                        FLAGS.quick,
                        data,
                        FLAGS.jit_compile,
                    )
        rows = report(FLAGS.root, FLAGS.objectives, seeds, FLAGS.results_dir, FLAGS.quick)
    except TrainingInterrupted as e:
        print(
            f"reproduce_mnist: {e} The same reproduce_mnist command continues every run.",
            file=sys.stderr,
        )
        return e.exit_code
    except BiganError as e:
        print(f"reproduce_mnist: error: {e}", file=sys.stderr)
        return 2
    for row in rows:
        print("  ".join(f"{k}: {v}" for k, v in row.items()))
    print(f"Wrote {FLAGS.results_dir}/table.md, table.csv, curves.png and runs/.")
    return 0


if __name__ == "__main__":
    app.run(main)
