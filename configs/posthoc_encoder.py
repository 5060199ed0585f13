"""An encoder trained after the fact for a frozen generator (the DIGITS method).

    python -m trainers.train_encoder --gan_dir=exp/mnist_gan
    python -m trainers.train_encoder --gan_dir=exp/mnist_gan --config.objective.encode_weight=1

The networks are the generator run's (`--gan_dir`); this file sets the
objective — the image reconstruction error mean_p (x − G(E(x)))² on real
images, weight 1, and no latent regression — and a short schedule: an
encoder against a fixed G converges far sooner than a GAN trains (10 constant
and 10 decay epochs, evaluated every 5).
"""

from bigan_tf.config import (
    DataConfig,
    ExperimentConfig,
    OptimizerConfig,
    RunConfig,
    objective_from_preset,
)


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        run=RunConfig(exp_dir="exp/mnist_posthoc_encoder", disp_interval=5),
        objective=objective_from_preset(
            "posthoc_encoder", reconstruct_weight=1.0, encode_weight=0.0
        ),
        optimizer=OptimizerConfig(epochs=10, decay_epochs=10),
        data=DataConfig(source="mnist"),
    )
