r"""Trains a semi-supervised K+1-class GAN (Salimans et al., 2016) on a label budget.

    python -m trainers.train_ssgan --labels_per_class=10 --exp_dir=exp/mnist_ssgan
    python -m trainers.train_ssgan --dataset=tfds:svhn_cropped --exp_dir=exp/svhn_ssgan
    python -m trainers.train_ssgan --dataset=tfds:cifar10 --exp_dir=exp/cifar10_ssgan
    python -m trainers.train_ssgan --dataset=hdf5 --data_dir=datasets/YOUR_DATASET
    python -m trainers.train_ssgan --network=mlp ...             # Salimans et al.'s MNIST MLPs
    python -m trainers.train_ssgan --unsupervised_weight=0 ...   # the supervised-only baseline

Every evaluation prints the test accuracy (ACC) under the cost line and writes
it to TensorBoard and metrics.jsonl; sample grids, checkpoints and --resume
work as in train_mnist. The labelled subset is balanced per class and drawn
with --seed. `--dataset=hdf5` reads the SSGAN-TensorFlow format (data.hdf5 +
id.txt in --data_dir) and holds out 10% of it as the test set. `--network=conv`
(the default) is the SSGAN-TensorFlow README's convolutional D and G; unset
--latent_dim, --learning_rate, --clip_norm and --feature_matching take the family's defaults
(bigan_tf.config.SSGAN_NETWORK_DEFAULTS).
"""

from __future__ import annotations

import dataclasses

from absl import app, flags

from trainers.cli import run_main, strategy_from_flags
from trainers.data_flags import data_config_from_flags, define_data_flags
from trainers.training_flags import (define_run_control_flags, define_strategy_flags,
                                     run_control_from_flags)

FLAGS = flags.FLAGS
define_data_flags(use_test_set=None)
flags.DEFINE_enum("network", "conv", ("conv", "mlp"), "conv: the SSGAN-TensorFlow README's "
                  "convolutional D and G; mlp: Salimans et al.'s MNIST MLP D and an MLP G.")
flags.DEFINE_integer("labels_per_class", 10, "Labelled training examples per class.")
flags.DEFINE_string("exp_dir", "exp/mnist_ssgan", "Experiment folder.")
flags.DEFINE_integer("epochs", 20, "Epochs over the unlabelled training images.")
flags.DEFINE_integer("batch_size", 100, "Unlabelled (and generated) images per step.")
flags.DEFINE_integer("labelled_batch_size", 100, "Labelled images per step (drawn with "
                     "replacement from the labelled subset).")
flags.DEFINE_integer("latent_dim", None, "Size of z ~ U(-1, 1)^latent_dim (default: 128 "
                     "conv, 100 mlp).")
flags.DEFINE_float("learning_rate", None, "Adam learning rate of D (default: 1e-4 conv, "
                   "3e-4 mlp).")
flags.DEFINE_float("generator_lr_mult", 1.0, "G's learning rate = this x --learning_rate "
                   "(README trick: a higher rate for G).")
flags.DEFINE_float("beta_1", 0.5, "Adam beta_1 (README trick: a higher momentum, e.g. 0.9).")
flags.DEFINE_integer("generator_updates", 1, "G updates per D update (README trick: > 1).")
flags.DEFINE_float("label_smoothing", 0.9, "One-sided label smoothing: the real target of "
                   "unlabelled real images (1 = off).")
flags.DEFINE_float("clip_norm", None, "Clip each gradient to this global norm (0 = off; "
                   "default: 20 conv, 0 mlp).")
flags.DEFINE_boolean("feature_matching", None, "G matches the mean of D's last hidden layer "
                     "on real and generated batches; off: the non-saturating loss -log "
                     "p(real | G(z)) (default: off for conv, on for mlp).")
flags.DEFINE_boolean("reference_batch_norm", False, "The conv D normalises the labelled and "
                     "generated batches with the unlabelled real batch's statistics (as it "
                     "normalises test images with their moving averages), so a collapsed G "
                     "stays visible to it; off: each batch with its own, as the "
                     "SSGAN-TensorFlow code. The MLP D has no batch norm. See BENCHMARKS.md "
                     "for what each gave on MNIST.")
flags.DEFINE_enum("classifier_norm", "batch", ("batch", "weight"), "The conv D's "
                  "normalisation: batch (the SSGAN-TensorFlow code) or weight (Salimans et "
                  "al.'s conv recipe: weight-normalised convolutions, no batch norm, Gaussian "
                  "noise on the input and hidden blocks; pair it with --feature_matching).")
flags.DEFINE_float("reconstruction_weight", 0.0, "Initial weight of the annealed auxiliary "
                   "L1 loss between G(z) and real images (README trick; 0 = off).")
flags.DEFINE_integer("reconstruction_anneal_steps", 1000, "Steps over which it falls to 0.")
flags.DEFINE_float("unsupervised_weight", 1.0, "Weight of D's GAN loss; 0 trains the same "
                   "classifier on the labelled subset alone (the supervised-only baseline).")
flags.DEFINE_integer("disp_interval", 1, "Evaluate every N epochs.")
flags.DEFINE_integer("save_interval", None, "Also checkpoint every N epochs (always at the end).")
flags.DEFINE_integer("seed", 0, "Seed of the labelled subset, weights, data order and noise.")
define_strategy_flags()
define_run_control_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.data import load
    from bigan_tf.run_dir import check_writable
    from bigan_tf.ssgan import SSGANConfig, train_ssgan
    from bigan_tf.config import RunConfig

    # The test split is the test set (an HDF5 folder holds 10% out instead).
    data_config = data_config_from_flags(use_test_set=True)
    strategy = strategy_from_flags("train_ssgan", FLAGS.strategy, FLAGS.cpu_replicas)
    check_writable(FLAGS.exp_dir)  # before the data is loaded
    config = SSGANConfig.for_network(
        FLAGS.network, latent_dim=FLAGS.latent_dim,
        learning_rate=FLAGS.learning_rate, generator_lr_mult=FLAGS.generator_lr_mult,
        beta_1=FLAGS.beta_1, generator_updates=FLAGS.generator_updates,
        label_smoothing=FLAGS.label_smoothing, clip_norm=FLAGS.clip_norm,
        feature_matching=FLAGS.feature_matching,
        reference_batch_norm=FLAGS.reference_batch_norm,
        classifier_norm=FLAGS.classifier_norm,
        reconstruction_weight=FLAGS.reconstruction_weight,
        reconstruction_anneal_steps=FLAGS.reconstruction_anneal_steps,
        unsupervised_weight=FLAGS.unsupervised_weight).validate()  # before the data is loaded
    data = load(data_config)
    config = dataclasses.replace(config, num_classes=data.num_classes)
    result = train_ssgan(
        strategy, data, config, FLAGS.labels_per_class, FLAGS.epochs,
        RunConfig(exp_dir=FLAGS.exp_dir, batch_size=FLAGS.batch_size, seed=FLAGS.seed,
                  disp_interval=FLAGS.disp_interval, save_interval=FLAGS.save_interval,
                  **run_control_from_flags()),
        labelled_batch_size=FLAGS.labelled_batch_size)
    print(f"Done: epoch {result['epoch']}, test accuracy {result['metrics'].get('ACC', 0):.2f}%; "
          f"outputs in {FLAGS.exp_dir}")
    return 0


def run():
    run_main(main, "train_ssgan")


if __name__ == "__main__":
    run()
