"""`tf.distribute` strategies by name, and the cluster description multi-worker needs.

The library never reads `TF_CONFIG`: trainers parse it (`parse_tf_config`) and
pass the resulting `ClusterConfig` to `make_strategy("multi_worker", cluster=...)`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Dict, List, Optional

import tensorflow as tf

from bigan_tf.errors import ConfigError

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")
TASK_TYPES = ("chief", "worker")


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """A multi-worker cluster: {"worker": ["host:port", ...], ...} and this process's task."""

    cluster: Dict[str, List[str]]
    task_type: str
    task_id: int

    @property
    def is_chief(self) -> bool:
        """The chief writes logs, samples, metrics and checkpoints (worker 0 without a chief)."""
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_id == 0

    @property
    def num_workers(self) -> int:
        return sum(len(self.cluster.get(kind, [])) for kind in TASK_TYPES)

    def address(self, task_type: Optional[str] = None, task_id: Optional[int] = None) -> str:
        return self.cluster[task_type or self.task_type][
            self.task_id if task_id is None else task_id
        ]


def parse_tf_config(text: Optional[str]) -> ClusterConfig:
    """Parses the standard TF_CONFIG JSON, with errors that say what is wrong and how to fix it."""
    example = (
        'e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not text:
        raise ConfigError(
            f"--strategy=multi_worker needs the TF_CONFIG environment variable, "
            f"{example}; trainers.launch_local sets it for local workers."
        )
    try:
        config = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({e}); {example}.") from None
    if not isinstance(config, dict):
        raise ConfigError(f"TF_CONFIG must be a JSON object, {example}.")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not any(cluster.get(kind) for kind in TASK_TYPES):
        raise ConfigError(
            f'TF_CONFIG has no "cluster" with a "worker" (or "chief") address list; {example}.'
        )
    for kind, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(
            isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses
        ):
            raise ConfigError(
                f'TF_CONFIG cluster[{kind!r}] must be a list of "host:port" '
                f"strings, got {addresses!r}."
            )
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ConfigError(
            f'TF_CONFIG has no "task" with "type" and "index" saying which '
            f"worker this process is; {example}."
        )
    task_type, task_id = task["type"], task["index"]
    if task_type not in TASK_TYPES:
        raise ConfigError(
            f"TF_CONFIG task type {task_type!r} is not supported; use one of {TASK_TYPES}."
        )
    if not isinstance(task_id, int) or not 0 <= task_id < len(cluster.get(task_type, [])):
        raise ConfigError(
            f"TF_CONFIG task index {task_id!r} is out of range: the cluster has "
            f"{len(cluster.get(task_type, []))} {task_type!r} address(es)."
        )
    return ClusterConfig({k: list(v) for k, v in cluster.items()}, task_type, task_id)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's outputs (always, outside multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    cluster = resolver.cluster_spec().as_dict()
    return ClusterConfig(
        {k: list(v) if isinstance(v, list) else list(v.values()) for k, v in cluster.items()},
        resolver.task_type,
        int(resolver.task_id),
    ).is_chief


def worker_id(strategy: tf.distribute.Strategy) -> str:
    """ "chief", "worker-1", ...: a name for this process's files (non-chief checkpoints)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return "chief"
    return f"{resolver.task_type}-{resolver.task_id}"


def split_cpu(num_devices: int) -> None:
    """Splits the CPU into `num_devices` logical devices (before TF initialises).

    Lets `MirroredStrategy` run several replicas on a machine without GPUs,
    which is how the tests check that distributed training is exact.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices
        )
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != num_devices:
            raise ConfigError(
                f"Cannot split the CPU into {num_devices} devices: TensorFlow is already "
                "initialised with a different number."
            ) from None


def make_strategy(
    name: str = "auto",
    cpu_replicas: Optional[int] = None,
    cluster: Optional[ClusterConfig] = None,
    tpu: Optional[str] = None,
    collective_timeout_s: Optional[float] = None,
) -> tf.distribute.Strategy:
    """The strategy called `name`.

    * "auto": `MirroredStrategy` over the visible GPUs, or the default strategy
      when there are none (or over `cpu_replicas` logical CPUs when given).
    * "default": no distribution.
    * "one_device": the first GPU, else the CPU.
    * "mirrored": `MirroredStrategy` over the GPUs, or over `cpu_replicas` CPUs.
    * "multi_worker": `MultiWorkerMirroredStrategy` over `cluster` (from
      `parse_tf_config`): every worker's GPUs (or its CPU), synchronous,
      collective all-reduce; `collective_timeout_s` bounds each collective, so
      a dead peer becomes an error instead of a hang.
    * "tpu": `TPUStrategy` on the TPU at `tpu` (a name or grpc:// address).
      Thin and untested here (no TPU); it follows TensorFlow's documented
      connect / initialise / TPUStrategy sequence.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"Unknown --strategy {name!r}; expected one of {STRATEGIES}.")
    if name == "multi_worker":
        if cluster is None:
            raise ConfigError("--strategy=multi_worker needs a cluster (TF_CONFIG).")
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster.cluster),
            task_type=cluster.task_type,
            task_id=cluster.task_id,
            rpc_layer="grpc",
        )
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=collective_timeout_s
        )
        return tf.distribute.MultiWorkerMirroredStrategy(
            cluster_resolver=resolver, communication_options=options
        )
    if name == "tpu":
        if not tpu:
            raise ConfigError("--strategy=tpu needs --tpu (the TPU's name or grpc:// address).")
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
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
