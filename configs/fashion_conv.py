"""The convolutional BiGAN on Fashion-MNIST at 32 px: the long feature-learning run.

    python -m trainers.train_imagenet --config=configs/fashion_conv.py --exp_dir=$HOME/runs/fc

The 32-px variant of the ImageNet setting (AlexNet encoder with a 1024-d conv5,
DCGAN-32 generator and z-injected joint discriminator, z of 64) on 50,000
Fashion-MNIST training images resized to 32 px and replicated to 3 channels;
5,000 held-out images scored every 2 epochs against a 50,000-image kNN
reference after a 100-batch batch-norm deploy pass; 50 constant and 50 decay
epochs. `benchmarks.fashion_conv` trains it and reports the curves.
"""

from bigan_tf.config import (
    DataConfig,
    EvaluationConfig,
    ExperimentConfig,
    NetworkConfig,
    OptimizerConfig,
    Preprocessing,
    RunConfig,
)


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        run=RunConfig(exp_dir="exp/fashion_conv", disp_interval=2, save_interval=10, verbose=2),
        network=NetworkConfig(family="dcgan", latent_dim=64, image_shape=(32, 32, 3)),
        optimizer=OptimizerConfig(epochs=50, decay_epochs=50),
        evaluation=EvaluationConfig(
            num_val=5000, num_train_reference=50000, num_generated=10000, deploy_iters=100
        ),
        data=DataConfig(
            source="fashion_mnist",
            max_train_images=50000,
            preprocessing=Preprocessing(raw_size=32, crop_size=32, channels=3),
        ),
    )
