r"""Does the convolutional BiGAN learn features? A long Fashion-MNIST run at 32 px.

    python -m benchmarks.fashion_conv --exp_dir=$HOME/bigan_runs/fashion_conv     # hours
    python -m benchmarks.fashion_conv --exp_dir=$HOME/bigan_runs/fashion_conv --report_only

Trains `trainers.train_imagenet` with `configs/fashion_conv.py` (the 32-px variant: AlexNet
encoder with a 1024-d conv5, DCGAN-32 generator and joint discriminator, on
50,000 Fashion-MNIST training images resized to 32 px and replicated to 3
channels) into --exp_dir. The same command continues a stopped run from its
newest checkpoint. Then, or with --report_only at any time, writes into
--results_dir:

* `table.md`, `table.csv`: every evaluation's NNC_e-, CLS_e-, NNC_e, EGr,
  EGr_b and NND, the random-init encoder's line (epoch 0) first, the first
  epoch whose NNC_e- and CLS_e- both pass it, and their mean margin over it
  in the last 5 evaluations;
* `curves.png`: the metrics against epoch, random-init values dotted;
* `metrics.jsonl`, `config.json`, and `samples/`: the last evaluation's
  sample grid and reconstructions;
* `filters.png` (conv1 of E, D and G's last layer) and `figure4.png` (samples,
  real images and their reconstructions), from the newest checkpoint
  (`trainers.visualize`).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from absl import app, flags

from trainers.data_paths import define_data_dir_flag
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class FashionRunOptions:
    """The run and its report (each field is a flag of the same name).

    exp_dir      The run's folder (outside the work tree: it is large).
    results_dir  Where the table, curves and figures go.
    report_only  Train nothing: report what the run has so far.
    """

    exp_dir: Optional[str] = None
    results_dir: str = "results/fashion_conv"
    report_only: bool = False


define_option_flags(FashionRunOptions)
define_data_dir_flag("fashion_mnist")


# The run's experiment: 390 steps per epoch; evaluations every 2 epochs against a
# 50k-image kNN reference, with a 100-batch deploy pass.
PROTOCOL = ("--config=configs/fashion_conv.py",)
# The encoder-feature metrics that decide whether E learned anything.
FEATURE_METRICS = ("NNC_e-", "CLS_e-")
COLUMNS = ("NNC_e-", "CLS_e-", "NNC_e", "EGr", "EGr_b", "NND")
# How many of the latest evaluations the verdict's mean margin covers (10 epochs).
RECENT_EVALUATIONS = 5


def first_epoch_past_init(
    records: Sequence[Dict], metrics: Sequence[str] = FEATURE_METRICS
) -> Optional[int]:
    """The first evaluated epoch > 0 where every one of `metrics` beats its epoch-0 value."""
    initial = next((r["metrics"] for r in records if r["epoch"] == 0), None)
    if initial is None or any(m not in initial for m in metrics):
        return None
    for record in records:
        values = record.get("metrics", {})
        if record["epoch"] > 0 and all(values.get(m, -1.0) > initial[m] for m in metrics):
            return int(record["epoch"])
    return None


def table_rows(records: Sequence[Dict]) -> List[Dict[str, str]]:
    """One row per evaluation: the epoch (0 = random init) and `COLUMNS`."""
    rows = []
    for record in records:
        metrics = record.get("metrics", {})
        row = {"epoch": "0 (random init)" if record["epoch"] == 0 else str(record["epoch"])}
        for name in COLUMNS:
            value = metrics.get(name)
            row[name] = (
                "–"
                if value is None
                else (f"{value:.2f}%" if name.startswith(("NNC", "CLS")) else f"{value:.2f}")
            )
        rows.append(row)
    return rows


def recent_margins(
    records: Sequence[Dict],
    count: int = RECENT_EVALUATIONS,
    metrics: Sequence[str] = FEATURE_METRICS,
) -> Optional[Tuple[int, int, Dict]]:
    """(first epoch, last epoch, {metric: mean of value − epoch-0 value}) over the last
    `count` evaluations after epoch 0. The readings move by about ±0.5 points from one
    evaluation to the next, so the lead is read from several (all on the same held-out
    images: the mean smooths training's fluctuation, not the test set's sampling error,
    which `benchmarks.encoder_layers` measures)."""
    initial = next((r["metrics"] for r in records if r["epoch"] == 0), None)
    recent = [
        r for r in records if r["epoch"] > 0 and all(m in r.get("metrics", {}) for m in metrics)
    ][-count:]
    if initial is None or not recent or any(m not in initial for m in metrics):
        return None
    return (
        recent[0]["epoch"],
        recent[-1]["epoch"],
        {m: sum(r["metrics"][m] - initial[m] for r in recent) / len(recent) for m in metrics},
    )


def verdict(records: Sequence[Dict]) -> str:
    """Whether (and when) E's features passed the random-init encoder's, and the recent lead."""
    if not records:
        return "No evaluation yet."
    passed = first_epoch_past_init(records)
    last = records[-1]
    if passed is not None:
        text = (
            f"E's features pass the random-init encoder's (NNC_e- and CLS_e- both above "
            f"their epoch-0 values) at epoch {passed}; last evaluation: epoch "
            f"{last['epoch']}."
        )
    else:
        text = (
            f"E's features have not yet passed the random-init encoder's (last evaluation: "
            f"epoch {last['epoch']})."
        )
    recent = recent_margins(records)
    if recent is not None:
        first, end, margins = recent
        text += (
            f" Mean margin over the evaluations of epochs {first}–{end}: "
            + ", ".join(f"{m} {v:+.2f}" for m, v in margins.items())
            + " points."
        )
    return text


def figures(exp_dir: str, out_dir: str) -> List[Tuple[str, int]]:
    """Runs trainers.visualize on the newest checkpoint; returns (figure, exit status) pairs."""
    statuses = []
    for what in ("filters", "figure4"):
        command = [
            sys.executable,
            "-m",
            "trainers.visualize",
            f"--model={exp_dir}",
            f"--what={what}",
            f"--output={os.path.join(out_dir, what + '.png')}",
        ]
        statuses.append((what, subprocess.run(command).returncode))
    return statuses


def report(exp_dir: str, out_dir: str, draw_figures: bool = True) -> List[Dict[str, str]]:
    from benchmarks.run_records import copy_run_records, write_table
    from bigan_tf.checkpoints import epochs_in
    from bigan_tf.run_dir import checkpoint_dir, read_config, read_metrics
    from bigan_tf.plots import plot_learning_curves

    os.makedirs(out_dir, exist_ok=True)
    records = read_metrics(exp_dir)
    optimizer = (read_config(exp_dir) or {}).get("optimizer", {})
    constant = optimizer.get("epochs")
    total = constant + optimizer.get("decay_epochs", 0) if constant is not None else None
    rows = table_rows(records)
    note = (
        "Convolutional BiGAN (32-px variant: AlexNet E with a 1024-d conv5, DCGAN-32 G and "
        "joint D, latent 64) on 50,000 Fashion-MNIST training images at 32 px RGB; "
        "metrics on 5,000 held-out images, kNN reference = the 50,000 training images. "
        "Epoch 0 is the random-init network. Made by `python -m benchmarks.fashion_conv`.\n\n"
        + verdict(records)
    )
    write_table(rows, out_dir, note)
    if records:
        plot_learning_curves(
            records,
            os.path.join(out_dir, "curves.png"),
            title="Fashion-MNIST 32 px, convolutional BiGAN",
            constant_epochs=constant,
            total_epochs=total,
            mark_initial=FEATURE_METRICS,
        )
        copy_run_records(exp_dir, out_dir, records[-1]["epoch"])
    if draw_figures and epochs_in(checkpoint_dir(exp_dir)):
        for what, status in figures(exp_dir, out_dir):
            if status:
                print(
                    f"fashion_conv: trainers.visualize --what={what} failed (exit {status}).",
                    file=sys.stderr,
                )
    return rows


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.exp_dir:
        print(
            "fashion_conv: error: --exp_dir is required: the run's folder (outside the work "
            "tree, e.g. --exp_dir=$HOME/bigan_runs/fashion_conv).",
            file=sys.stderr,
        )
        return 2
    if not FLAGS.report_only:
        from trainers.data_paths import find_data_dir

        data_dir = find_data_dir("fashion_mnist", FLAGS.data_dir)
        status = subprocess.run(
            [
                sys.executable,
                "-m",
                "trainers.train_imagenet",
                *PROTOCOL,
                f"--config.data.root={os.path.normpath(data_dir)}",
                f"--exp_dir={FLAGS.exp_dir}",
            ]
        ).returncode
        if status:
            print(
                f"fashion_conv: the run stopped (exit {status}); the same command continues "
                "it. Reporting what it has.",
                file=sys.stderr,
            )
    if not os.path.isdir(FLAGS.exp_dir):
        print(
            f"fashion_conv: error: {FLAGS.exp_dir} does not exist: run without --report_only "
            "first.",
            file=sys.stderr,
        )
        return 2
    rows = report(FLAGS.exp_dir, FLAGS.results_dir)
    for row in rows:
        print("  ".join(f"{k}: {v}" for k, v in row.items()))
    figures_note = (
        "filters.png, figure4.png"
        if os.path.exists(os.path.join(FLAGS.results_dir, "filters.png"))
        else "no figures yet (no permanent checkpoint)"
    )
    print(f"Wrote {FLAGS.results_dir}/table.md, table.csv, curves.png, samples/; {figures_note}.")
    return 0


if __name__ == "__main__":
    app.run(main)
