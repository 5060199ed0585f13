r"""Trains a classifier on top of an exported BiGAN encoder and reports test accuracy.

    python -m trainers.finetune --hub_module=exports/mnist_encoder --labels_per_class=10 --mode=linear
    python -m trainers.finetune --hub_module=exports/mnist_encoder --labels_per_class=100 --mode=finetune
    python -m trainers.finetune --hub_module=exports/mnist_encoder --mode=freeze:1
    python -m trainers.finetune --hub_module=exports/mnist_encoder --init=random --mode=finetune
    # The paper's Table 2 protocol: an ImageNet encoder with its first K layers fixed,
    # the rest trained on every labelled image (class folders, list files or TFDS):
    python -m trainers.finetune --hub_module=exports/imagenet_encoder --mode=freeze:2 \
        --dataset=folder --data_dir=data/imagenet --raw_size=72 --steps=100000

`--labels_per_class` labelled training images per class are drawn with a fixed
seed (balanced); accuracy is measured on the dataset's test set. Image files
(--dataset=folder or list) and TFDS with --crop_size stream through the
ImageNet preprocessing (resize the short edge to --raw_size, crop to the
module's input size) and train on all their labelled images. `--init=random`
is the baseline: the same architecture (read from the module's bigan_tf.json),
freshly initialised, its batch-norm statistics set by a deploy pass over
training images (as the trained encoder's were; a streamed source lends 1,280
of them), exported and loaded the same way.

The run is a run folder like the GAN trainers' (`--exp_dir`, by default one
named after the module and the settings under exp/finetune/): a checkpoint
after every epoch of `--steps_per_epoch` steps, a clean stop on Ctrl-C or
SIGTERM, and the same command continues it.
"""

from __future__ import annotations

import json
import os
import tempfile

from absl import app, flags

from trainers.cli import run_main
from trainers.data_flags import data_config_from_flags, define_data_flags
from trainers.training_flags import (define_run_control_flags, define_strategy_flags,
                                     run_control_from_flags)

FLAGS = flags.FLAGS
# Training images a streamed source keeps in memory for the random init's deploy pass.
RANDOM_INIT_DEPLOY_IMAGES = 1280
flags.DEFINE_string("hub_module", None, "Encoder module exported by export.export_hub.",
                    required=True)
flags.DEFINE_string("mode", "linear",
                    "linear (fixed encoder, softmax on its features), finetune (train everything) "
                    "or freeze:K (fine-tune all but the first K encoder layers).")
flags.DEFINE_enum("init", "pretrained", ("pretrained", "random"),
                  "pretrained: the module's weights; random: the same architecture freshly "
                  "initialised (the baseline).")
define_data_flags(use_test_set=None, image_files=True, raw_size=None, crop_size=None)
flags.DEFINE_integer("num_val", None, "Streamed sources (image files, TFDS with --crop_size): "
                     "validation images scored (default 10,000); in-memory data: its whole "
                     "test split.")
flags.DEFINE_integer("labels_per_class", None,
                     "Labelled training images per class (balanced, fixed seed); unset: all.")
flags.DEFINE_integer("steps", 2000, "Optimizer steps.")
flags.DEFINE_integer("batch_size", 100, "Global batch size (capped at the labelled set's size).")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
flags.DEFINE_integer("seed", 0, "Seed of the label subset, the classifier and the data order.")
flags.DEFINE_integer("steps_per_epoch", 250,
                     "Steps between checkpoints (and the unit of --resume); --steps must be a "
                     "multiple of it.")
flags.DEFINE_string("exp_dir", None,
                    "Run folder (config.json, metrics.jsonl, checkpoints/, results.json); "
                    "default: exp/finetune/MODULE-INIT-MODE-LABELS-sSEED.")
flags.DEFINE_string("output_dir", None, "If set, results.json is also written there.")
define_strategy_flags()
define_run_control_flags()


def default_exp_dir() -> str:
    """exp/finetune/MODULE-INIT-MODE-LABELS-sSEED: the same settings, the same folder."""
    module = os.path.basename(os.path.normpath(FLAGS.hub_module)) or "module"
    labels = f"{FLAGS.labels_per_class}pc" if FLAGS.labels_per_class else "all"
    return os.path.join("exp", "finetune", f"{module}-{FLAGS.init}-"
                        f"{FLAGS.mode.replace(':', '')}-{labels}-s{FLAGS.seed}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.data import load
    from bigan_tf.distribute import make_strategy
    from bigan_tf.errors import ConfigError
    from bigan_tf.run_dir import RESULTS_FILE, atomic_write_text, check_writable
    from bigan_tf.hub import EncoderLayer, resolve_handle
    from bigan_tf.transfer import epochs_of, parse_mode, train_classifier
    from bigan_tf.export.exporters import export_random_init_like

    if not FLAGS.hub_module:
        raise ConfigError("--hub_module is required: an encoder exported by export.export_hub "
                          "(or a TF-Hub handle).")
    parse_mode(FLAGS.mode)
    # Image files (and TFDS with --crop_size) stream through the ImageNet preprocessing,
    # cropped to the module's input size unless --crop_size says otherwise.
    data_config = data_config_from_flags(
        use_test_set=True, num_val=FLAGS.num_val,
        # Streamed sources hold this many training images in memory: the random init's
        # deploy pass draws its batches from them.
        num_reference=RANDOM_INIT_DEPLOY_IMAGES if FLAGS.init == "random" else 100,
        model_image_shape=lambda: EncoderLayer(FLAGS.hub_module).image_shape)
    epochs_of(FLAGS.steps, FLAGS.steps_per_epoch)  # checked before any data is loaded
    if FLAGS.labels_per_class is not None and FLAGS.labels_per_class < 1:
        raise ConfigError(f"--labels_per_class must be >= 1 (leave it unset for every label), "
                          f"got {FLAGS.labels_per_class}.")
    resolve_handle(FLAGS.hub_module)  # the inputs are checked before any output is made
    strategy = make_strategy(FLAGS.strategy, cpu_replicas=FLAGS.cpu_replicas)
    data = load(data_config)
    # Outputs once the inputs are known good (a failed start leaves no empty folder),
    # and before training (a folder that cannot be written is found now).
    exp_dir = FLAGS.exp_dir or default_exp_dir()
    check_writable(exp_dir, "--exp_dir")
    if FLAGS.output_dir:
        check_writable(FLAGS.output_dir, "--output_dir")
    print(f"Run folder: {exp_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        handle = FLAGS.hub_module
        if FLAGS.init == "random":  # batch norm deployed over the in-memory training images
            handle = export_random_init_like(handle, os.path.join(tmp, "random"), FLAGS.seed,
                                             data.train_images, data.train_labels)
        result = train_classifier(
            strategy, handle, data, FLAGS.mode, labels_per_class=FLAGS.labels_per_class,
            steps=FLAGS.steps, batch_size=FLAGS.batch_size,
            learning_rate=FLAGS.learning_rate, seed=FLAGS.seed, exp_dir=exp_dir,
            steps_per_epoch=FLAGS.steps_per_epoch,
            # The module the user named, not the temporary random-init copy.
            record={"hub_module": os.path.abspath(FLAGS.hub_module), "init": FLAGS.init,
                    "dataset": FLAGS.dataset},
            run_options=run_control_from_flags())
    result.pop("model")
    result = {"hub_module": FLAGS.hub_module, "init": FLAGS.init, "dataset": FLAGS.dataset,
              **result}
    print(f"test accuracy {100 * result['test_accuracy']:.2f}% ({FLAGS.mode}, "
          f"init={FLAGS.init}, {result['num_labelled']} labelled images)")
    text = json.dumps(result, indent=2) + "\n"
    for folder in filter(None, (exp_dir, FLAGS.output_dir)):
        atomic_write_text(os.path.join(folder, RESULTS_FILE), text)
    return 0


def run():
    run_main(main, "finetune")


if __name__ == "__main__":
    run()
