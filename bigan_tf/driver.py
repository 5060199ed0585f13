"""One driver for every experiment: `train(config, workdir=None, strategy=None, data=None)`.

    import bigan_tf
    from bigan_tf.config.files import load_config
    result = bigan_tf.train(load_config("configs/mnist_bigan.py"), "exp/mnist_bigan")

The config's type says what trains: an `ExperimentConfig` a BiGAN (or one of
its baselines, `bigan_tf.training.train`), an `SSGANExperimentConfig` a
semi-supervised GAN (`bigan_tf.ssgan.train_ssgan`), a
`TransferExperimentConfig` a classifier on an exported encoder
(`bigan_tf.transfer.train_transfer`). Each returns its result dict ("model",
"metrics", "epoch", ...); every run is a run folder that the same call
continues after a stop.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Optional
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf


def train(
    config: Any,
    workdir: Optional[str] = None,
    strategy: Optional[tf.distribute.Strategy] = None,
    data: Any = None,
    *,
    initialize: Optional[Callable] = None,
    print_fn: Callable[[str], None] = print,
) -> Dict[str, object]:
    """Trains (or resumes) the experiment `config` into `workdir` and returns its result.

    `workdir` (default: the config's `run.exp_dir`) is the run folder;
    `strategy` a `tf.distribute.Strategy` (default: the current one); `data`
    the loaded images (default: `bigan_tf.data.load(config.data)`).
    `initialize(model)` runs on a fresh BiGAN before training (the post-hoc
    encoder copies a generator in).
    """
    import tensorflow as tf

    from bigan_tf.config import ExperimentConfig, SSGANExperimentConfig, TransferExperimentConfig
    from bigan_tf.errors import ConfigError

    if not isinstance(config, (ExperimentConfig, SSGANExperimentConfig, TransferExperimentConfig)):
        raise ConfigError(
            f"train() takes an ExperimentConfig, SSGANExperimentConfig or "
            f"TransferExperimentConfig, not a {type(config).__name__}."
        )
    if workdir:
        config = dataclasses.replace(config, run=dataclasses.replace(config.run, exp_dir=workdir))
    strategy = strategy or tf.distribute.get_strategy()
    if isinstance(config, ExperimentConfig):
        from bigan_tf.training import train as train_bigan

        return train_bigan(strategy, config, data, print_fn=print_fn, initialize=initialize)
    if initialize is not None:
        raise ConfigError("initialize= applies to a BiGAN experiment only.")
    if data is None:
        if config.data is None:
            raise ConfigError(
                f"The {type(config).__name__} has no data: give train() the "
                "images or set its data section."
            )
        from bigan_tf.data import load

        data = load(config.data)
    if isinstance(config, SSGANExperimentConfig):
        from bigan_tf.ssgan import train_ssgan

        # The K of the K+1 classifier is at least the data's class count (train_ssgan).
        return train_ssgan(
            strategy,
            data,
            config.model,
            config.labels_per_class,
            config.epochs,
            config.run,
            labelled_batch_size=config.labelled_batch_size,
            print_fn=print_fn,
        )
    from bigan_tf.transfer import train_transfer

    return train_transfer(strategy, config, data, print_fn=print_fn)
