"""The generalized BiGAN (paper §3.5): E reads 112-px crops of 128-px images, G and D 64 px.

    python -m trainers.train_imagenet --config=configs/imagenet_generalized.py \
        --config.data.root=data/imagenet

The ImageNet BiGAN of `configs/imagenet_bigan.py` with a larger encoder input:
the short edge is resized to 128 px and 112-px crops go to the encoder, while
the generator makes and the discriminator reads 64-px images (D sees the real
crops downscaled). EGg and the regenerated-sample grid are unavailable: E
cannot read G's images.
"""

import dataclasses

from bigan_tf.config import ExperimentConfig, Preprocessing

from configs import imagenet_bigan


def get_config(arg: str = "") -> ExperimentConfig:
    config = imagenet_bigan.get_config(arg)
    return dataclasses.replace(
        config,
        run=dataclasses.replace(config.run, exp_dir="exp/imagenet_generalized"),
        network=dataclasses.replace(config.network, encoder_size=112),
        data=dataclasses.replace(
            config.data, preprocessing=Preprocessing(raw_size=128, crop_size=112)
        ),
    )
