r"""Where in E do a run's features beat (or trail) the same encoder at random init?

    python -m benchmarks.encoder_layers --run=$HOME/bigan_runs/fashion_conv
    python -m benchmarks.encoder_layers --run=RUN --epoch=20 --json_out=layers.json

The protocol scores only E's last hidden layer (NNC_e-, CLS_e-). This reads
every layer of E (`layer_features`: conv1..conv5 of the AlexNet encoder,
hidden1..hidden2 of the MLP) of the run's checkpoint and of the same
architecture freshly initialised with the run's seed (its epoch-0 weights),
and prints, per layer, the 1-NN and linear-classifier accuracy (%) of the
test images (t10k) against the first --num_reference training images, with
batch norm deployed over the run's deploy pass. Raw pixels head the table.
A layer where the trained encoder trails its random init is where training
lost the random features' structure; one where it leads is where it learned.
Each margin (trained − random init) has its paired standard error over the
test images (`paired_accuracy_margin`), so a small one can be read as noise.
The images are those the run was trained on (its config.json), resized to
E's input as the run's were.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import json
import os
import sys

from absl import flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.data_paths import define_data_dir_flag  # noqa: E402
from trainers.option_flags import define_option_flags  # noqa: E402

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class LayerProbeOptions:
    """The run and the probe's sizes (each field is a flag of the same name).

    run            A trained run's folder.
    epoch          Its checkpoint of this epoch (default: the newest epoch checkpoint, one
                   every --save_interval epochs; rolling checkpoints are for resuming and
                   are not read).
    num_reference  Training images the test images are scored against (and the linear
                   classifier is trained on).
    num_query      Test images scored.
    deploy_iters   Training batches of 128 that set batch norm's test-time statistics
                   (default: the run's deploy pass).
    json_out       Also write the rows as JSON here.
    table_out      Also write the table as Markdown here.
    standardize    Standardise each feature over the training features before the linear
                   probe (the feature study's probe; off: the protocol's raw features).
    """

    run: str
    epoch: Optional[int] = None
    num_reference: int = 50000
    num_query: int = 10000
    deploy_iters: Optional[int] = None
    json_out: Optional[str] = None
    table_out: Optional[str] = None
    standardize: bool = False


define_option_flags(LayerProbeOptions)
define_data_dir_flag("DATASET")


def format_table(rows, epoch: int) -> str:
    from bigan_tf.evaluation.probes import format_margin_table

    return format_margin_table(rows, f"epoch {epoch}")


def main(argv):
    from absl import app

    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    import keras
    import tensorflow as tf

    from bigan_tf import BiGAN
    from bigan_tf.checkpoints import load_trained_model
    from bigan_tf.data import load_image_data
    from bigan_tf.data.image_files import match_image_shape
    from bigan_tf.data.pipeline import to_model_range
    from bigan_tf.errors import ConfigError
    from bigan_tf.evaluation.probes import margin_rows, probe_encoders
    from bigan_tf.run_dir import atomic_write_text
    from trainers.cli import model_dataset

    if FLAGS.num_reference < 1 or FLAGS.num_query < 1 or (FLAGS.deploy_iters or 1) < 1:
        raise ConfigError("--num_reference, --num_query and --deploy_iters must be ≥ 1.")
    trained = load_trained_model(FLAGS.run, "latest" if FLAGS.epoch is None else FLAGS.epoch)
    experiment = trained.experiment
    if trained.model.encoder is None:
        raise ConfigError(f"{FLAGS.run} has no encoder (a plain GAN): give a run that has one.")
    network, evaluation, seed = experiment.network, experiment.evaluation, experiment.run.seed
    keras.utils.set_random_seed(seed)  # as training seeds the run before building it
    random_init = BiGAN.from_config_objects(
        network, experiment.objective, experiment.optimizer.weight_decay, seed
    )
    data = load_image_data(*model_dataset(FLAGS.run, None, FLAGS.data_dir), use_test_set=True)
    data = match_image_shape(data, network.encoder_image_shape)
    num_reference = min(FLAGS.num_reference, len(data.train_images))
    num_query = min(FLAGS.num_query, len(data.val_images))

    def model_input(images):
        return tf.reshape(to_model_range(images), [-1, *trained.model.data_shape]).numpy()

    reference_x = model_input(data.train_images[:num_reference])
    query_x = model_input(data.val_images[:num_query])
    reference_labels = data.train_labels[:num_reference]
    query_labels = data.val_labels[:num_query]

    print(
        f"{data.source}: {num_query} test images against {num_reference} training images",
        flush=True,
    )
    probe = probe_encoders(
        {"random init": random_init, "trained": trained.model},
        lambda m: lambda x: m.encoder.layer_features(x, training=False),
        reference_x,
        reference_labels,
        query_x,
        query_labels,
        data.num_classes,
        evaluation,
        FLAGS.deploy_iters or evaluation.deploy_iters,
        seed,
        print_fn=lambda s: print(s, flush=True),
        standardize=FLAGS.standardize,
    )
    pixels, scores = probe["pixels"], probe["scores"]
    rows = margin_rows(scores["random init"], scores["trained"])
    table = format_table(rows, trained.epoch)
    print(table)
    settings = {
        "run": os.path.abspath(FLAGS.run),
        "epoch": trained.epoch,
        "num_reference": num_reference,
        "num_query": num_query,
        "cls_standardized": FLAGS.standardize,
        "pixels": pixels,
    }
    if FLAGS.json_out:
        atomic_write_text(FLAGS.json_out, json.dumps({**settings, "rows": rows}, indent=1) + "\n")
    if FLAGS.table_out:
        atomic_write_text(
            FLAGS.table_out,
            (
                f"Per layer of E ({os.path.basename(os.path.normpath(FLAGS.run))}, epoch "
                f"{trained.epoch}, vs the same encoder at its random init): accuracy (%) of "
                f"{num_query} {data.source} test images against {num_reference} training images, "
                f"1-NN (NNC) and linear classifier (CLS"
                f"{', on standardised features' if FLAGS.standardize else ''}). "
                f"Raw pixels: NNC {pixels['NNC']:.2f}, CLS "
                f"{pixels['CLS']:.2f}. Made by `python -m benchmarks.encoder_layers`.\n\n{table}\n"
            ),
        )
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "encoder_layers")
