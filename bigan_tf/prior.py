"""The prior p(z) = U(−1, 1)^d, drawn from stateless RNGs (resumable, replica-exact)."""

from __future__ import annotations

from typing import Callable

import tensorflow as tf
from bigan_tf.array_types import BatchSize, Seed


def sample_prior(batch_size: BatchSize, latent_dim: int, seed: Seed) -> tf.Tensor:
    """z ~ U(−1, 1)^latent_dim from a stateless RNG; `seed` is a shape-[2] int tensor."""
    return tf.random.stateless_uniform([batch_size, latent_dim], seed=seed, minval=-1.0, maxval=1.0)


def replica_rows(draw: Callable[[tf.Tensor], tf.Tensor], batch_size: BatchSize) -> tf.Tensor:
    """This replica's `batch_size` rows of `draw(global_batch_size)`.

    Drawing the global batch and slicing it gives every replica distinct noise
    and makes a multi-replica step equal to the single-device step.
    """
    ctx = tf.distribute.get_replica_context()
    num_replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    replica = ctx.replica_id_in_sync_group if ctx is not None else 0
    rows = draw(batch_size * num_replicas)
    start = tf.cast(replica, tf.int32) * batch_size
    return rows[start : start + batch_size]


def replica_prior_slice(batch_size: BatchSize, latent_dim: int, seed: Seed) -> tf.Tensor:
    """This replica's `batch_size` rows of z drawn for the whole global batch from `seed`."""
    return replica_rows(lambda n: sample_prior(n, latent_dim, seed), batch_size)
