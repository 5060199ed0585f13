"""The paper's permutation-invariant MNIST BiGAN (Table 1), and its baselines by argument.

    python -m trainers.train_mnist                                      # this file
    python -m trainers.train_mnist --config=configs/mnist_bigan.py:objective=gan
    python -m trainers.train_mnist --config.optimizer.epochs=10 --config.optimizer.decay_epochs=0

The original's `train_gan.py` MNIST settings: MLP E, G and D of 1024 units,
z ~ U(-1, 1)^50, Adam 2e-4 (β1 0.5), weight decay 2.5e-5, 200 epochs at a
constant rate and 200 of exponential decay, batch 128; 10,000 training images
held out for the evaluations (every 25 epochs). Everything not set here is the
dataclasses' default.

Argument: `objective`, one of the paper's Table 1 rows: bigan (default),
latent_regressor, joint_latent_regressor, gan, autoencoder_l2, autoencoder_l1.
"""

from bigan_tf.config import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    RunConfig,
    objective_from_preset,
)
from bigan_tf.config.files import parse_config_arg

TABLE1_OBJECTIVES = (
    "bigan",
    "latent_regressor",
    "joint_latent_regressor",
    "gan",
    "autoencoder_l2",
    "autoencoder_l1",
)


def get_config(arg: str = "") -> ExperimentConfig:
    args = parse_config_arg(arg, objective="bigan")
    return ExperimentConfig(
        run=RunConfig(exp_dir=f"exp/mnist_{args['objective']}", disp_interval=25),
        network=NetworkConfig(family="mnist_mlp", latent_dim=50, hidden_units=1024),
        objective=objective_from_preset(args["objective"]),
        data=DataConfig(source="mnist"),
    )
