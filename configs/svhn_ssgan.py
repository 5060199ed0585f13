"""The semi-supervised GAN on SVHN (TFDS `svhn_cropped`) with 100 labels per class.

    python -m trainers.train_ssgan --config=configs/svhn_ssgan.py

`configs/mnist_ssgan.py` (conv family) on SVHN's 73,257 training images, 1,000
of them labelled (Salimans et al.'s SVHN budget), tested on its 26,032 test
images. Needs TFDS's copy of SVHN (a network, or --config.data.root naming a
prepared TFDS data folder: `trainers.prepare_tfds`).
"""

import dataclasses

from bigan_tf.config import SSGANExperimentConfig

from configs import mnist_ssgan


def get_config(arg: str = "") -> SSGANExperimentConfig:
    config = mnist_ssgan.get_config(arg)
    return dataclasses.replace(
        config,
        run=dataclasses.replace(config.run, exp_dir="exp/svhn_ssgan"),
        data=dataclasses.replace(config.data, source="tfds:svhn_cropped"),
        labels_per_class=100,
    )
