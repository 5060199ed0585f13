r"""Overlays the learning curves of several runs in one picture.

    python -m trainers.plot_runs exp/mnist_bigan exp/mnist_lr exp/mnist_gan --output=cmp.png
    python -m trainers.plot_runs runs/bigan/seed0 runs/bigan/seed1 --labels=BiGAN,BiGAN \
        --output=seeds.png      # runs sharing a label: their mean, band = min..max

Each RUN is an experiment folder with `metrics.jsonl`. Panels: 1-NN accuracy on
the features (NNC_e-, or NNC_d for a plain GAN), the linear classifier (CLS_e-,
CLS_d, or an SSGAN's test accuracy), EGr/EGr_b and NND, against epoch. Runs
evaluated at different sizes (their config.json's `evaluation` section) are
named in a note, on the terminal and under the figure: their curves are not
comparable point for point.
"""

from __future__ import annotations

import os

from absl import flags

from trainers.cli import run_main

FLAGS = flags.FLAGS
flags.DEFINE_string("output", None, "PNG file to write.", required=True)
flags.DEFINE_list(
    "labels",
    None,
    "One label per run (default: the folder names); runs "
    "with the same label are drawn as their mean and min..max band.",
)
flags.DEFINE_string("title", "", "Figure title.")


def main(argv):
    runs = argv[1:]
    from bigan_tf.run_dir import METRICS_FILE, read_metrics
    from bigan_tf.errors import ConfigError
    from bigan_tf.plots import evaluation_note, plot_groups

    if not runs:
        raise ConfigError(
            "Name at least one run folder: python -m trainers.plot_runs RUN "
            "[RUN ...] --output=cmp.png"
        )
    labels = FLAGS.labels or [os.path.basename(os.path.normpath(run)) for run in runs]
    if len(labels) != len(runs):
        raise ConfigError(
            f"--labels has {len(labels)} labels for {len(runs)} runs: give one per run."
        )
    groups = {}
    for run, label in zip(runs, labels):
        records = read_metrics(run)
        if not records:
            raise ConfigError(
                f"{run} has no {METRICS_FILE}: give experiment folders written by a trainer."
            )
        groups.setdefault(label, []).append(records)
    note = evaluation_note(runs, labels)
    if note:
        print(f"Note: {note}")
    path = plot_groups(groups, FLAGS.output, title=FLAGS.title, note=note)
    print(f"Wrote {path}")
    return 0


def run():
    run_main(main, "plot_runs")


if __name__ == "__main__":
    run()
