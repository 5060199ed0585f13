"""The paper's ImageNet BiGAN (§4.2): 64-px crops of 72-px images, z of 200.

    python -m trainers.train_imagenet --config.data.root=data/imagenet
    python -m trainers.train_imagenet --config.data.root=data/imagenet \
        --config=configs/imagenet_bigan.py:objective=latent_regressor

The original's `train_gan.py` ImageNet settings: images listed Caffe-style in
train.txt/val.txt under the data folder, short edge resized to 72 px, random
64-px crops for training and centre crops for evaluation; AlexNet encoder,
DCGAN generator and z-injected joint discriminator of base width 64 at 64 px.
Evaluations score 5,000 validation images against a 20,000-image kNN reference
and 10,000 generated ones. `configs/imagenet_generalized.py` is the
generalized BiGAN (E reads larger crops).

Argument: `objective` (bigan, latent_regressor, joint_latent_regressor, gan,
autoencoder_l2, autoencoder_l1).
"""

from bigan_tf.config import (
    DataConfig,
    EvaluationConfig,
    ExperimentConfig,
    NetworkConfig,
    Preprocessing,
    RunConfig,
    objective_from_preset,
)
from bigan_tf.config.files import parse_config_arg


def get_config(arg: str = "") -> ExperimentConfig:
    args = parse_config_arg(arg, objective="bigan")
    return ExperimentConfig(
        run=RunConfig(exp_dir=f"exp/imagenet_{args['objective']}", disp_interval=25),
        network=NetworkConfig(
            family="dcgan", latent_dim=200, base_width=64, image_shape=(64, 64, 3)
        ),
        objective=objective_from_preset(args["objective"]),
        evaluation=EvaluationConfig(num_val=5000, num_train_reference=20000, num_generated=10000),
        data=DataConfig(source="list", preprocessing=Preprocessing(raw_size=72, crop_size=64)),
    )
