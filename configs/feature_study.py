"""The feature study's recipes: today's conv BiGAN, then one lever at a time.

Each recipe is its parent recipe plus one lever (BigBiGAN, Donahue & Simonyan
2019; DiffAugment, Zhao et al. 2020; TTUR, Heusel et al. 2017; ALICE, Li et
al. 2017). The first five form a chain; after `resnet` (the first recipe cheap
enough to screen on a CPU) the levers branch from the recipe the curves
pointed at:

    baseline            the paper's conv BiGAN at 32 px (AlexNet E, DCGAN G and
                        z-injected D, BCE losses, one E+G Adam)
    hinge               baseline + hinge losses
    spectral_norm       hinge + spectral normalisation of D
    unary               spectral_norm + BigBiGAN's F/H/J discriminator with unary
                        scores (λ = 1)
    resnet              unary + residual G, D and E (width 16)
    augment             resnet + DiffAugment (color, translation, cutout) of what D sees
    stochastic_encoder  resnet + E predicts a log-variance; z = μ + σ·ε in training
    ttur                resnet + D at 4e-4, E and G at 1e-4, Adam betas (0, 0.9)
    d_steps             ttur + two D steps per E/G step
    reconstruct         resnet + the image reconstruction term ‖x − G(E(x))‖² on E
                        and G (weight 1; ALICE's explicit cycle consistency)
    latent_regressor    resnet + the latent regressor term on E (E(G(z)) ≈ z, weight 1;
                        the paper's "JLR" lever)
    ttur_reconstruct    ttur + the reconstruction term (the two levers that helped)
    ttur_latent_regressor
                        ttur + the latent regressor term (the two strongest levers)

The BigBiGAN levers were chained on the conv family, whose epoch (about 1,400 s
on a 2-core CPU) is too slow to screen each link; three ablations measure them
on the residual family instead, at the same budget, each taking one away:

    resnet_bce          resnet with the original's cross-entropy losses for the hinge
    resnet_no_spectral_norm
                        resnet without spectral normalisation of D
    resnet_joint_only   resnet with the unary scores' weight at 0 (λ = 0: a hinge
                        BiGAN whose D is still built from F, H and J)

    ttur_reconstruct_no_spectral_norm
                        ttur_reconstruct without spectral normalisation of D (the
                        ablation that helped, on the selected recipe)
    ttur_reconstruct_wide
                        ttur_reconstruct with every network twice as wide (w = 32;
                        about 2.8× the cost an epoch)

    python -m trainers.train_imagenet --config=configs/feature_study.py:recipe=resnet

`get_config("recipe=NAME,dataset=fashion_mnist,epochs=6,quick=false")` is the
config file's entry point; `recipe_config(name, ...)` returns the `ExperimentConfig` of a recipe on
Fashion-MNIST (or MNIST) at 32 px, one grey channel: 50,000 training images
and the original's 10,000 held-out training images, 5,000 of which the
evaluations score (model selection); the test split is left to the final probe. Every recipe
trains for the same number of epochs at a constant learning rate; the study
harness (`benchmarks.feature_study`) trains and probes them.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

from bigan_tf.config import (
    DataConfig,
    EvaluationConfig,
    ExperimentConfig,
    NetworkConfig,
    OptimizerConfig,
    Preprocessing,
    RunConfig,
    objective_from_preset,
)
from bigan_tf.config.files import parse_config_arg

# Each recipe's parent (None: built from scratch), in the study's order. A recipe adds the
# lever of its own name, or the one `LEVERS` names (a lever tried again on another parent,
# or one taken away).
PARENTS: Dict[str, Optional[str]] = {
    "baseline": None,
    "hinge": "baseline",
    "spectral_norm": "hinge",
    "unary": "spectral_norm",
    "resnet": "unary",
    "augment": "resnet",
    "stochastic_encoder": "resnet",
    "ttur": "resnet",
    "d_steps": "ttur",
    "reconstruct": "resnet",
    "latent_regressor": "resnet",
    "ttur_reconstruct": "ttur",
    "ttur_latent_regressor": "ttur",
    "resnet_bce": "resnet",
    "resnet_no_spectral_norm": "resnet",
    "resnet_joint_only": "resnet",
    "ttur_reconstruct_no_spectral_norm": "ttur_reconstruct",
    "ttur_reconstruct_wide": "ttur_reconstruct",
}
LEVERS: Dict[str, str] = {
    "ttur_reconstruct": "reconstruct",
    "ttur_latent_regressor": "latent_regressor",
    "resnet_bce": "bce",
    "resnet_no_spectral_norm": "no_spectral_norm",
    "resnet_joint_only": "joint_only",
    "ttur_reconstruct_no_spectral_norm": "no_spectral_norm",
    "ttur_reconstruct_wide": "wide",
}
RECIPES = tuple(PARENTS)
SCREENING_EPOCHS = 6
IMAGE_SIZE = 32


def _lever(config: ExperimentConfig, name: str) -> ExperimentConfig:
    """`config` with recipe `name`'s lever added."""
    replace = dataclasses.replace
    network, objective, optimizer = config.network, config.objective, config.optimizer
    if name == "hinge":
        objective = replace(objective, adversarial_loss="hinge")
    elif name == "spectral_norm":
        network = replace(network, spectral_norm="discriminator")
    elif name == "unary":
        network = replace(network, joint_discriminator="scores")
        objective = replace(objective, unary_weight=1.0)
    elif name == "resnet":
        network = replace(network, family="resnet", base_width=16)
    elif name == "augment":
        objective = replace(objective, augment="color,translation,cutout")
    elif name == "stochastic_encoder":
        network = replace(network, stochastic_encoder=True)
    elif name == "ttur":
        optimizer = replace(
            optimizer, learning_rate=1e-4, beta_1=0.0, beta_2=0.9, discriminator_learning_rate=4e-4
        )
    elif name == "d_steps":
        optimizer = replace(optimizer, discriminator_steps=2)
    elif name == "reconstruct":
        objective = replace(objective, reconstruct_weight=1.0, reconstruct_norm="l2")
    elif name == "latent_regressor":
        objective = replace(objective, encode_weight=1.0)
    elif name == "bce":
        objective = replace(objective, adversarial_loss="bce")
    elif name == "no_spectral_norm":
        network = replace(network, spectral_norm="")
    elif name == "joint_only":
        objective = replace(objective, unary_weight=0.0)
    elif name == "wide":
        network = replace(network, base_width=2 * network.base_width)
    elif name != "baseline":
        raise ValueError(f"Unknown recipe {name!r}; expected one of {RECIPES}.")
    return replace(config, network=network, objective=objective, optimizer=optimizer)


def recipe_config(
    name: str,
    exp_dir: str,
    dataset: str = "fashion_mnist",
    data_root: Optional[str] = None,
    epochs: int = SCREENING_EPOCHS,
    quick: bool = False,
) -> ExperimentConfig:
    """The `ExperimentConfig` of recipe `name`: its ancestors' levers, then its own.

    `quick` shrinks everything (1,024 training images, width 4 networks, tiny
    evaluation) for tests of the harness.
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; expected one of {RECIPES}.")
    config = ExperimentConfig(
        run=RunConfig(
            exp_dir=exp_dir, batch_size=128, seed=0, disp_interval=2, save_interval=2, verbose=2
        ),
        network=NetworkConfig(
            family="dcgan", latent_dim=64, base_width=64, image_shape=(IMAGE_SIZE, IMAGE_SIZE, 1)
        ),
        objective=objective_from_preset("bigan"),
        optimizer=OptimizerConfig(epochs=epochs, decay_epochs=0),
        evaluation=EvaluationConfig(
            num_val=5000, num_train_reference=10000, num_generated=5000, deploy_iters=100
        ),
        data=DataConfig(
            source=dataset, root=data_root, preprocessing=Preprocessing(IMAGE_SIZE, IMAGE_SIZE, 1)
        ),
    )
    for recipe in reversed(lineage(name)):
        config = _lever(config, LEVERS.get(recipe, recipe))
    if quick:
        config = dataclasses.replace(
            config,
            run=dataclasses.replace(
                config.run, batch_size=32, disp_interval=1, save_interval=1, verbose=0
            ),
            network=dataclasses.replace(config.network, latent_dim=8, base_width=4, score_units=16),
            evaluation=EvaluationConfig(
                num_val=64,
                num_train_reference=256,
                num_generated=64,
                deploy_iters=2,
                cls_steps=5,
                num_sample_images=10,
            ),
            data=dataclasses.replace(config.data, max_train_images=256),
        )
    return config.validate(network=False)


def lineage(name: str) -> Tuple[str, ...]:
    """`name`, its parent, its parent's parent, ... back to the recipe built from scratch."""
    chain = [name]
    while PARENTS[chain[-1]] is not None:
        chain.append(PARENTS[chain[-1]])
    return tuple(chain)


def describe(name: str) -> Dict[str, object]:
    """The settings recipe `name` changes from its parent recipe, for reports."""
    parent = PARENTS[name]
    if parent is None:
        return {}
    base = recipe_config(parent, "").to_dict()
    this = recipe_config(name, "").to_dict()
    changes = {}
    for section in ("network", "objective", "optimizer"):
        for key, value in this[section].items():
            if base[section].get(key) != value:
                changes[f"{section}.{key}"] = value
    return changes


def get_config(arg: str = "") -> ExperimentConfig:
    """The config file's entry point: `recipe`, `dataset`, `epochs` and `quick` as arguments."""
    args = parse_config_arg(
        arg, recipe="baseline", dataset="fashion_mnist", epochs=SCREENING_EPOCHS, quick=False
    )
    return recipe_config(
        args["recipe"],
        f"exp/features_{args['dataset']}_{args['recipe']}",
        dataset=args["dataset"],
        epochs=args["epochs"],
        quick=args["quick"],
    )
