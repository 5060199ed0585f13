r"""Prepares a TensorFlow Datasets dataset offline from files downloaded earlier.

    python -m trainers.prepare_tfds --name=mnist --manual_dir=../shared/data/mnist \
        --data_dir=$HOME/tensorflow_datasets
    python -m trainers.train_mnist --dataset=tfds:mnist --data_dir=$HOME/tensorflow_datasets

TFDS's own builder runs and takes the files it would download from --manual_dir
(checked against TFDS's registered sizes and checksums), so a machine without a
network can use `--dataset=tfds:NAME`.
"""

from __future__ import annotations

from absl import app, flags

from trainers.cli import run_main

FLAGS = flags.FLAGS
flags.DEFINE_string("name", None, "TFDS dataset name, e.g. mnist or fashion_mnist.", required=True)
flags.DEFINE_string(
    "manual_dir", None, "Folder holding the files TFDS would download.", required=True
)
flags.DEFINE_string("data_dir", None, "TFDS data folder to prepare into.", required=True)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import tensorflow_datasets as tfds

    from bigan_tf.data.tfds_source import prepare_offline

    tfds.disable_progress_bar()  # ~100 lines of bars; the one line below says it is done
    print(f"Preparing {FLAGS.name} in {FLAGS.data_dir} from {FLAGS.manual_dir}...", flush=True)
    path = prepare_offline(FLAGS.name, FLAGS.manual_dir, FLAGS.data_dir)
    print(
        f"Prepared {FLAGS.name} in {path}; use --dataset=tfds:{FLAGS.name} "
        f"--data_dir={FLAGS.data_dir}"
    )
    return 0


def run():
    run_main(main, "prepare_tfds")


if __name__ == "__main__":
    run()
