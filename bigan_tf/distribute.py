"""`tf.distribute` strategies by name."""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from bigan_tf.errors import ConfigError

STRATEGIES = ("auto", "default", "one_device", "mirrored")


def split_cpu(num_devices: int) -> None:
    """Splits the CPU into `num_devices` logical devices (before TF initialises).

    Lets `MirroredStrategy` run several replicas on a machine without GPUs,
    which is how the tests check that distributed training is exact.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != num_devices:
            raise ConfigError(
                f"Cannot split the CPU into {num_devices} devices: TensorFlow is already "
                "initialised with a different number.") from None


def make_strategy(name: str = "auto", cpu_replicas: Optional[int] = None) -> tf.distribute.Strategy:
    """The strategy called `name`.

    * "auto": `MirroredStrategy` over the visible GPUs, or the default strategy
      when there are none (or over `cpu_replicas` logical CPUs when given).
    * "default": no distribution.
    * "one_device": the first GPU, else the CPU.
    * "mirrored": `MirroredStrategy` over the GPUs, or over `cpu_replicas` CPUs.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"Unknown --strategy {name!r}; expected one of {STRATEGIES}.")
    if cpu_replicas:
        split_cpu(cpu_replicas)
    gpus = tf.config.list_logical_devices("GPU")
    cpu_devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    if name == "default" or (name == "auto" and not gpus and not cpu_replicas):
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else cpu_devices[0])
    if gpus:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    return tf.distribute.MirroredStrategy(cpu_devices[:cpu_replicas] if cpu_replicas else None)
