"""The semi-supervised K+1-class GAN on MNIST with 10 labels per class (Salimans et al. 2016).

    python -m trainers.train_ssgan                                   # this file, conv family
    python -m trainers.train_ssgan --config=configs/mnist_ssgan.py:network=mlp
    python -m trainers.train_ssgan --config.model.unsupervised_weight=0   # supervised only

Argument `network`: "conv" (default; the SSGAN-TensorFlow README's
convolutional D and G with that code's settings: z of 128, Adam 1e-4,
gradients clipped to norm 20, the adversarial G loss) or "mlp" (Salimans et
al.'s MNIST MLP D with feature matching, z of 100, Adam 3e-4); each family's
defaults are `bigan_tf.config.SSGAN_NETWORK_DEFAULTS`. Trained on all 60k
training images (100 of them labelled, a class-balanced draw with the seed)
for 20 epochs of 100 unlabelled and 100 labelled images per step; the test
accuracy (ACC) is read on t10k after every epoch.
"""

from bigan_tf.config import DataConfig, RunConfig, SSGANConfig, SSGANExperimentConfig
from bigan_tf.config.files import parse_config_arg


def get_config(arg: str = "") -> SSGANExperimentConfig:
    args = parse_config_arg(arg, network="conv")
    return SSGANExperimentConfig(
        run=RunConfig(exp_dir="exp/mnist_ssgan", batch_size=100, disp_interval=1),
        model=SSGANConfig.for_network(args["network"]),
        data=DataConfig(source="mnist", use_test_set=True),
        labels_per_class=10,
        epochs=20,
        labelled_batch_size=100,
    )
