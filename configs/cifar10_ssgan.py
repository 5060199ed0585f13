"""The semi-supervised GAN on CIFAR-10 (TFDS `cifar10`) with 400 labels per class.

    python -m trainers.train_ssgan --config=configs/cifar10_ssgan.py

`configs/mnist_ssgan.py` (conv family) on CIFAR-10's 50,000 training images,
4,000 of them labelled (Salimans et al.'s CIFAR-10 budget), tested on its
10,000 test images. Needs TFDS's copy of CIFAR-10 (a network, or
--config.data.root naming a prepared TFDS data folder: `trainers.prepare_tfds`).
"""

import dataclasses

from bigan_tf.config import SSGANExperimentConfig

from configs import mnist_ssgan


def get_config(arg: str = "") -> SSGANExperimentConfig:
    config = mnist_ssgan.get_config(arg)
    return dataclasses.replace(
        config,
        run=dataclasses.replace(config.run, exp_dir="exp/cifar10_ssgan"),
        data=dataclasses.replace(config.data, source="tfds:cifar10"),
        labels_per_class=400,
    )
