r"""Trains a convolutional BiGAN (or a baseline) on natural images: the ImageNet setting.

    # The original's layout: train.txt / val.txt under the data folder (images in
    # <root><raw_size> when trainers.resize_imageset made it):
    python -m trainers.train_imagenet --config.data.root=data/imagenet \
        --config.data.max_labels=100 --exp_dir=exp/imagenet_bigan
    # The generalized BiGAN: E sees 112-px crops of 128-px images, G and D 64 px:
    python -m trainers.train_imagenet --config=configs/imagenet_generalized.py \
        --config.data.root=data/imagenet
    # A folder of class sub-folders, or TFDS by name (needs a network or a data folder):
    python -m trainers.train_imagenet --config.data.source=folder --config.data.root=my_images
    # Fashion-MNIST at 32 px, the long feature-learning run and the feature study:
    python -m trainers.train_imagenet --config=configs/fashion_conv.py
    python -m trainers.train_imagenet --config=configs/feature_study.py:recipe=resnet

The default config is `configs/imagenet_bigan.py`; every setting is
`--config.SECTION.FIELD` (see --helpfull). The original's flag names
(`--raw_size`, `--crop_size`, `--max_labels`, `--include_labels`,
`--max_images`, `--latent_dim`, ...) still work as aliases. Every evaluation
prints the original's loss and metric lines; outputs go to --exp_dir as for
MNIST.
"""

from __future__ import annotations

from absl import app, flags

from trainers import config_flags, training_flags
from trainers.cli import run_main
from trainers.config_flags import define_config_flags, train_from_flags

define_config_flags("configs/imagenet_bigan.py")
# --help lists the config settings and run flags as this program's own.
flags.adopt_module_key_flags(config_flags)
flags.adopt_module_key_flags(training_flags)


def _note_generalized(experiment) -> None:
    network = experiment.network
    if network.is_generalized:
        print(
            f"Note: generalized BiGAN (E reads {network.encoder_size} px, G and D work at "
            f"{network.image_shape[0]} px): EGg and the regen sample grid are unavailable, "
            "since E cannot read G's images."
        )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    result = train_from_flags("train_imagenet", before_data=_note_generalized)
    if result is not None:
        print(f"Done: epoch {result['epoch']}; outputs in {result['experiment'].run.exp_dir}")
    return 0


def run():
    run_main(main, "train_imagenet", rewrite_argv=config_flags.rewrite_argv_or_exit)


if __name__ == "__main__":
    run()
