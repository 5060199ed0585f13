"""The one BiGAN model: encoder, generator and discriminators in a `keras.Model`.

The objective is configuration (`bigan_tf.config.Objective`, the original
code's four loss weights), so the BiGAN, the latent regressor, the joint
latent regressor, the plain GAN and the autoencoders are the same class and
the same `train_step`; `bigan_tf.bigan_loss` gives the losses' formulas:

* when eg_w > 0 the encoder is optimised on L_G together with G (the
  original moves E's parameters into G's optimiser); otherwise on L_E.
* with no discriminator weight and eg_w > 0, E and G train jointly on the
  reconstruction loss alone: the paper's ℓ2/ℓ1 autoencoder baselines (no z is
  drawn, G(z) is not computed);
* with no discriminator weight and eg_w = 0 the generator is frozen and runs
  in inference mode: only E trains (the post-hoc encoder,
  `trainers.train_encoder`).

Conditional models (`NetworkConfig.conditional`) take a batch of (x, labels):
G sees (z, c) and D the triple (x, z, c), where c are the real labels of the
batch for both the real and the generated triples (so the classes of the
generated half follow the data's class frequencies); E sees only x.

Generalized BiGAN (paper §3.5, `NetworkConfig.encoder_size`): x arrives at
the encoder's resolution (e.g. 112 px) and the real pair D sees is
(resize(x), E(x)), resize being an antialiased downsampling to G's
resolution (e.g. 64 px). The original downsamples in its data provider with
PIL's ANTIALIAS filter; we do it inside the model (`tf.image.resize` with
antialias), so the data pipeline has one output.

Mixed precision: with a Keras mixed policy the networks compute in
bfloat16/float16 and return float32; when an optimiser is a
`keras.optimizers.LossScaleOptimizer` (float16) the step scales the losses
and the coupled weight decay by its dynamic scale, and `apply` unscales.

D, E and G are updated simultaneously from one minibatch and one z sample
(paper §3.4). D sees the real and the fake pairs in separate forward passes,
so batch norm uses separate statistics for each, as in the original; only a
network's first (real-input) call in a step feeds its test-time statistics.
Coupled weight decay skips batch-norm gains (`--no_decay_gain`).

Distribution: per-example losses are averaged over the *global* batch with
`losses.global_mean`, Keras's optimizers sum gradients across
replicas, and coupled L2 weight decay (g + λ·w) is split over the replicas so
the sum is exact. Noise for a step is drawn for the global batch from a
stateless RNG keyed by (noise_seed, step) and each replica takes its own
slice: the replicas get distinct noise, and the whole step is the same as on
one device. Batch norm layers are synchronized across replicas.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.bigan_loss import bigan_loss, summarize_losses
from bigan_tf.config import NetworkConfig, Objective, OptimizerConfig
from bigan_tf.errors import ConfigError
from bigan_tf import losses as L
from bigan_tf.losses import BiGANLosses
from bigan_tf.networks import Networks, build_networks, decayed_variables, frozen_batch_statistics
from bigan_tf.optimizers import add_coupled_weight_decay, original_adam, scale_loss
from bigan_tf.prior import replica_prior_slice
from bigan_tf.array_types import Array, BatchSize

# The extra discriminator steps' draws: streams EXTRA_D_STEP_STREAM + 1, + 2, ...
EXTRA_D_STEP_STREAM = 100


def _as_shape(shape) -> Tuple[int, ...]:
    """An int (flat size) or a sequence -> a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _reduces_logs_across_workers(strategy: tf.distribute.Strategy) -> bool:
    """Keras's test for reducing `train_step` logs with a cross-worker collective."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return bool(getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)())


@keras.saving.register_keras_serializable(package="bigan_tf")
class BiGAN(keras.Model):
    """Encoder E, generator G, joint discriminator D(x, z) and/or D(x).

    Args:
      networks: the sub-models (`bigan_tf.networks.build_networks`); members the
        objective does not use are None.
      objective: the four loss weights.
      latent_dim: size of z.
      data_shape: shape of one training example as the model takes it, (H, W, C)
        (the encoder's input); an int, a flat vector, is what older versions
        saved for the MLPs.
      generated_shape: shape of one G(z) and of D's x; None = `data_shape`.
        A different (H, W, C) makes a generalized BiGAN.
      weight_decay: coupled L2 decay λ added to every gradient.
      noise_seed: seed of the training noise; with the optimiser's step count it
        is the whole RNG state, so checkpoints resume the same noise stream.
    """

    def __init__(
        self,
        networks: Networks,
        objective: Objective,
        latent_dim: int,
        data_shape: Union[None, int, Sequence[int]] = None,
        weight_decay: float = 2.5e-5,
        noise_seed: int = 0,
        generated_shape: Optional[Sequence[int]] = None,
        data_dim: Optional[int] = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.objective = objective.validate()
        if objective.has_encoder and networks.encoder is None:
            raise ValueError("The objective trains an encoder but networks.encoder is None.")
        self.encoder = networks.encoder
        self.generator = networks.generator
        self.joint_discriminator = networks.joint_discriminator
        self.discriminator = networks.discriminator
        self.latent_dim = int(latent_dim)
        if data_shape is None:
            data_shape = data_dim  # The argument's name before convolutional families.
        self.data_shape = _as_shape(data_shape)
        self.generated_shape = (
            _as_shape(generated_shape) if generated_shape is not None else self.data_shape
        )
        if self.is_generalized and objective.encode_weight > 0:
            raise ValueError(
                "A generalized BiGAN cannot train a latent regressor: E cannot "
                "read G's smaller images."
            )
        self.weight_decay = float(weight_decay)
        self.noise_seed = int(noise_seed)
        # Conditional wrappers (bigan_tf.networks.conditional) carry the label count.
        self.num_classes = int(getattr(self.generator, "num_classes", 0))
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self._build_networks()

    @classmethod
    def from_config_objects(
        cls,
        network_config: NetworkConfig,
        objective: Objective,
        weight_decay: float = 2.5e-5,
        noise_seed: int = 0,
    ) -> "BiGAN":
        """Builds the networks of `network_config` and the model around them."""
        networks = build_networks(network_config, objective)
        return cls(
            networks,
            objective,
            network_config.latent_dim,
            network_config.data_shape,
            weight_decay=weight_decay,
            noise_seed=noise_seed,
            generated_shape=network_config.generated_shape,
            name="bigan",
        )

    # ----------------------------------------------------------------- structure
    @property
    def networks(self) -> Networks:
        return Networks(self.encoder, self.generator, self.joint_discriminator, self.discriminator)

    @property
    def loss_names(self) -> List[str]:
        """Names of the trackers, in the original's display order (JD, D, E, G)."""
        names = []
        if self.objective.has_joint_discriminator:
            names += ["JD", "JD_real_acc", "JD_fake_acc"]
        if self.objective.has_discriminator:
            names += ["D", "D_real_acc", "D_fake_acc"]
        if self.objective.has_encoder:
            names.append("E")
        if self.objective.trains_generator:
            names.append("G")
        return names

    @property
    def metrics(self) -> List[keras.metrics.Metric]:
        return list(self._trackers.values())

    @property
    def is_conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def is_generalized(self) -> bool:
        """True when E reads larger images than G makes (real pairs use resized x)."""
        return self.generated_shape != self.data_shape

    def at_generator_resolution(self, x: tf.Tensor) -> tf.Tensor:
        """x as D sees it: antialiased resize to G's resolution (identity unless generalized)."""
        if not self.is_generalized:
            return x
        height, width = self.generated_shape[:2]
        resized = tf.image.resize(
            tf.cast(x, tf.float32), [height, width], method="bilinear", antialias=True
        )
        return tf.clip_by_value(resized, 0.0, 1.0)

    def _label_args(self, labels) -> tuple:
        """(labels,) for conditional networks, () otherwise, with a clear error."""
        if not self.is_conditional:
            return ()
        if labels is None:
            raise ValueError(
                "This is a class-conditional model: pass the labels of the batch "
                "(data as (x, labels) batches, or generate(z, labels))."
            )
        return (labels,)

    def generate(
        self, z: Array, labels: Optional[Array] = None, training: bool = False
    ) -> tf.Tensor:
        """G(z), or G(z, c) for a conditional model (labels: int ids or [B, K] vectors)."""
        return self.generator(z, *self._label_args(labels), training=training)

    def apply_discriminator(
        self, network: keras.Model, x: tf.Tensor, z: Array, labels: Optional[Array], training: bool
    ) -> Dict[str, tf.Tensor]:
        """network(x[, z][, c]) with the arguments its kind and conditioning take."""
        if self.is_conditional:
            return network(x, z, *self._label_args(labels), training=training)
        return network(x, z, training=training) if z is not None else network(x, training=training)

    def discriminate(
        self,
        x: tf.Tensor,
        z: Optional[Array] = None,
        labels: Optional[Array] = None,
        training: bool = False,
    ) -> Dict[str, tf.Tensor]:
        """The joint D(x, z[, c]) when the model has one, else D(x[, c])."""
        if self.joint_discriminator is not None:
            return self.apply_discriminator(self.joint_discriminator, x, z, labels, training)
        return self.apply_discriminator(self.discriminator, x, None, labels, training)

    def _build_networks(self):
        x = tf.zeros([2, *self.data_shape])
        z = tf.zeros([2, self.latent_dim])
        labels = tf.zeros([2], tf.int32) if self.is_conditional else None
        self.generate(z, labels)
        if self.encoder is not None:
            self.encoder(x)
        x = self.at_generator_resolution(x)
        if self.joint_discriminator is not None:
            self.apply_discriminator(self.joint_discriminator, x, z, labels, False)
        if self.discriminator is not None:
            self.apply_discriminator(self.discriminator, x, None, labels, False)
        self.built = True

    @property
    def discriminator_variables(self) -> List[tf.Variable]:
        return [
            v
            for net in (self.joint_discriminator, self.discriminator)
            if net is not None
            for v in net.trainable_variables
        ]

    @property
    def trained_generator_variables(self) -> List[tf.Variable]:
        """G's trainable variables, or none when the objective freezes G."""
        if not self.objective.trains_generator:
            return []
        return list(self.generator.trainable_variables)

    @property
    def generator_variables(self) -> List[tf.Variable]:
        """Variables E and G train: the generator's (unless frozen), then the encoder's."""
        encoder = self.encoder.trainable_variables if self.encoder is not None else []
        return self.trained_generator_variables + list(encoder)

    @property
    def generator_optimizer_variables(self) -> List[tf.Variable]:
        """What `generator_optimizer` updates: E and G's, or G's alone when E has its own."""
        if getattr(self, "encoder_optimizer", None) is not None:
            return self.trained_generator_variables
        return self.generator_variables

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """E(x) for models with an encoder, else the discriminator's features."""
        if self.encoder is not None:
            return self.encoder(x, training=training)["latent"]
        if self.discriminator is None:
            raise ValueError(
                "A model with neither an encoder nor an x-only discriminator has "
                "no features to return."
            )
        return self.discriminator(x, training=training)["features"]

    # ------------------------------------------------------- Keras-native saving
    def get_config(self) -> Dict[str, Any]:
        """Everything `from_config` needs: the networks' own configs and the objective.

        With `get_compile_config` this makes `model.save("x.keras")` /
        `keras.saving.load_model("x.keras")` a full round trip: weights, both
        optimisers' slots and step counts, so a reloaded model keeps training
        on the same noise stream.
        """
        networks = {
            name: keras.saving.serialize_keras_object(net)
            for name, net in self.networks._asdict().items()
            if net is not None
        }
        return {
            "name": self.name,
            "networks": networks,
            "objective": self.objective.to_dict(),
            "latent_dim": self.latent_dim,
            "data_shape": list(self.data_shape),
            "generated_shape": list(self.generated_shape),
            "weight_decay": self.weight_decay,
            "noise_seed": self.noise_seed,
        }

    @classmethod
    def from_config(
        cls, config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None
    ) -> "BiGAN":
        config = dict(config)
        serialized = config.pop("networks")
        networks = Networks(
            **{
                name: (
                    keras.saving.deserialize_keras_object(
                        serialized[name], custom_objects=custom_objects
                    )
                    if name in serialized
                    else None
                )
                for name in Networks._fields
            }
        )
        objective = Objective.from_dict(config.pop("objective"))
        return cls(networks, objective, **config)

    def get_compile_config(self) -> Optional[Dict[str, Any]]:
        if getattr(self, "generator_optimizer", None) is None:
            return None
        config = {
            "discriminator_optimizer": keras.saving.serialize_keras_object(
                self.discriminator_optimizer
            ),
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "jit_compile": self.jit_compile,
        }
        if self.encoder_optimizer is not None:
            config["encoder_optimizer"] = keras.saving.serialize_keras_object(
                self.encoder_optimizer
            )
        if self.discriminator_steps != 1:
            config["discriminator_steps"] = self.discriminator_steps
        return config

    def compile_from_config(self, config: Dict[str, Any]) -> None:
        """Keras's reload hook: rebuilds the optimisers (with their slots) from `config`."""
        config = dict(config)
        encoder = config.pop("encoder_optimizer", None)
        self.compile(
            keras.saving.deserialize_keras_object(config.pop("discriminator_optimizer")),
            keras.saving.deserialize_keras_object(config.pop("generator_optimizer")),
            keras.saving.deserialize_keras_object(encoder) if encoder else None,
            **config,
        )

    # ----------------------------------------------------------------- training
    def compile(
        self,
        discriminator_optimizer: keras.optimizers.Optimizer,
        generator_optimizer: keras.optimizers.Optimizer,
        encoder_optimizer: Optional[keras.optimizers.Optimizer] = None,
        discriminator_steps: int = 1,
        **kwargs: Any,
    ) -> None:
        """Optimisers for the discriminators and for encoder+generator (the original's
        two); with `encoder_optimizer`, E gets its own and G's is G's alone.
        `discriminator_steps`: D updates per E/G update (`OptimizerConfig`)."""
        # Keras's own `optimizer` is the G (E+G) one: its step count is the training step.
        super().compile(optimizer=generator_optimizer, **kwargs)
        self.discriminator_optimizer = discriminator_optimizer
        self.generator_optimizer = generator_optimizer
        self.encoder_optimizer = encoder_optimizer
        self.discriminator_steps = int(discriminator_steps)
        # Create the slots now so checkpoints restore into existing variables.
        if self.discriminator_variables:
            self.discriminator_optimizer.build(self.discriminator_variables)
        self.generator_optimizer.build(self.generator_optimizer_variables)
        if encoder_optimizer is not None and self.encoder is not None:
            encoder_optimizer.build(list(self.encoder.trainable_variables))

    def compile_for_training(
        self,
        optimizer_config: OptimizerConfig,
        steps_per_epoch: int,
        loss_scale: bool = False,
        **kwargs: Any,
    ) -> None:
        """`compile` with the original's Adam settings and schedule (`original_adam`),
        each network's rate and betas from `optimizer_config.adam_settings`;
        `loss_scale` for float16 mixed precision."""
        adam = lambda network, name: original_adam(
            optimizer_config, steps_per_epoch, name, loss_scale, network=network
        )
        encoder_optimizer = None
        if optimizer_config.separate_encoder_optimizer and self.encoder is not None:
            if not self.objective.trains_generator:
                raise ConfigError(
                    "A post-hoc encoder trains with one optimiser: set "
                    "learning_rate and beta_1/beta_2, not the encoder's own."
                )
            encoder_optimizer = adam("encoder", "encoder_adam")
        self.compile(
            adam("discriminator", "discriminator_adam"),
            adam("generator", "generator_adam"),
            encoder_optimizer,
            discriminator_steps=optimizer_config.discriminator_steps,
            **kwargs,
        )

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras's symbolic build exists to create variables before the first step;
        # ours all exist already (networks in __init__, optimiser slots in
        # compile). Skipping it is also what makes `fit` work under
        # MultiWorkerMirroredStrategy: Keras reduces a sample batch there with
        # strategy.reduce, which fails across workers (keras-team/keras#20585).
        return

    def step_seed(self, stream: int = 0) -> tf.Tensor:
        """The current training step's seed, (noise_seed, step), folded with `stream`
        when non-zero: every draw of the step (z, augmentation, a stochastic encoder's
        ε; the extra discriminator steps' on their own streams) is a stateless
        function of it."""
        step = tf.cast(self.generator_optimizer.iterations, tf.int64)
        seed = tf.stack([tf.constant(self.noise_seed, tf.int64), step])
        return tf.random.experimental.stateless_fold_in(seed, stream) if stream else seed

    def training_noise(self, batch_size: BatchSize, stream: int = 0) -> tf.Tensor:
        """This replica's slice of the global batch's noise for the current step
        (`stream` as in `step_seed`; 0 is the step's z)."""
        return replica_prior_slice(batch_size, self.latent_dim, self.step_seed(stream))

    def compute_losses(
        self,
        x: tf.Tensor,
        z: tf.Tensor,
        labels: Optional[Array] = None,
        training: bool = True,
        stream: int = 0,
    ) -> BiGANLosses:
        """Per-example losses of every active term (`bigan_tf.bigan_loss.bigan_loss`),
        with the step's augmentation and encoder noise (of `stream`, as `training_noise`);
        an uncompiled model has no step, and draws neither."""
        if getattr(self, "generator_optimizer", None) is None:
            return bigan_loss(self, x, z, labels, training)
        return bigan_loss(self, x, z, labels, training, seed=self.step_seed(stream))

    def compute_gradients(
        self,
        x: tf.Tensor,
        z: Optional[tf.Tensor] = None,
        labels: Optional[Array] = None,
        stream: int = 0,
    ) -> Tuple[List[tf.Tensor], List[tf.Tensor], BiGANLosses]:
        """Gradients of one step for this replica: (D grads, E+G grads, losses).

        Under a strategy, summing each list over the replicas gives the
        gradient of the global batch (this is what the optimisers apply).
        E+G grads are for `generator_variables` (G's, then E's). `stream`
        picks the step's draws (`training_noise`; 0 for the E/G update).
        """
        if z is None:
            z = self.training_noise(tf.shape(x)[0], stream)
        ctx = tf.distribute.get_replica_context()
        num_replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        global_batch = tf.shape(x)[0] * num_replicas
        o = self.objective
        d_vars = self.discriminator_variables
        g_vars = self.trained_generator_variables
        e_vars = list(self.encoder.trainable_variables) if self.encoder is not None else []
        with tf.GradientTape(persistent=True) as tape:
            losses = self.compute_losses(x, z, labels, training=True, stream=stream)
            mean = lambda v: L.global_mean(v, global_batch)
            # Mixed precision (float16): the loss-scale optimisers scale here and
            # unscale in `apply`; other optimisers return the loss unchanged.
            d_optimizer = getattr(self, "discriminator_optimizer", None)
            eg_optimizer = getattr(self, "generator_optimizer", None)
            d_loss = scale_loss(d_optimizer, mean(losses.discriminator))
            g_loss = scale_loss(eg_optimizer, mean(losses.generator))
            e_loss = (
                scale_loss(eg_optimizer, mean(losses.encoder))
                if losses.encoder is not None
                else None
            )
        d_grads = tape.gradient(d_loss, d_vars) if d_vars else []
        if e_vars and o.encode_gen_weight > 0:
            eg_grads = tape.gradient(g_loss, g_vars + e_vars)
        else:
            eg_grads = tape.gradient(g_loss, g_vars) if g_vars else []
            if e_vars:
                eg_grads += tape.gradient(e_loss, e_vars)
        del tape
        eg_grads = [tf.zeros_like(v) if g is None else g for g, v in zip(eg_grads, g_vars + e_vars)]
        # An x-only trunk's own output layer is unused inside the F/H/J discriminator.
        d_grads = [tf.zeros_like(v) if g is None else g for g, v in zip(d_grads, d_vars)]
        d_grads = self._with_weight_decay(
            d_grads, d_vars, num_replicas, getattr(self, "discriminator_optimizer", None)
        )
        eg_grads = self._with_weight_decay(
            eg_grads, g_vars + e_vars, num_replicas, getattr(self, "generator_optimizer", None)
        )
        return d_grads, eg_grads, losses

    def _with_weight_decay(self, grads, variables, num_replicas, optimizer=None):
        """Coupled L2 decay on every variable but batch-norm gains (--no_decay_gain)."""
        decayed = {id(v) for v in decayed_variables(variables, *self.networks)}
        return add_coupled_weight_decay(
            grads, variables, self.weight_decay, num_replicas, decayed, optimizer
        )

    def _split_batch(self, data):
        """(x, labels) of a training batch; labels are None for unconditional models."""
        if isinstance(data, (tuple, list)):
            x, labels = data[0], (data[1] if len(data) > 1 else None)
        else:
            x, labels = data, None
        if self.is_conditional and labels is None:
            raise ValueError(
                "A conditional BiGAN trains on (x, labels) batches; the data has no labels."
            )
        return x, (labels if self.is_conditional else None)

    def train_step(self, data: Any) -> Dict[str, tf.Tensor]:
        x, labels = self._split_batch(data)
        for extra in range(1, getattr(self, "discriminator_steps", 1)):
            self._discriminator_only_step(x, labels, stream=EXTRA_D_STEP_STREAM + extra)
        d_grads, eg_grads, losses = self.compute_gradients(x, labels=labels)
        if d_grads:
            self.discriminator_optimizer.apply(d_grads, self.discriminator_variables)
        encoder_optimizer = getattr(self, "encoder_optimizer", None)
        if encoder_optimizer is not None and self.encoder is not None:
            num_g = len(self.trained_generator_variables)
            if num_g:
                self.generator_optimizer.apply(eg_grads[:num_g], self.trained_generator_variables)
            encoder_optimizer.apply(eg_grads[num_g:], list(self.encoder.trainable_variables))
        else:
            self.generator_optimizer.apply(eg_grads, self.generator_variables)
        self._update_trackers(losses)
        logs = {name: tracker.result() for name, tracker in self._trackers.items()}
        if _reduces_logs_across_workers(tf.distribute.get_strategy()):
            # Keras reduces each log with strategy.reduce(MEAN, v, axis=0) across
            # workers, which needs an axis: give it one (scalar logs out).
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _discriminator_only_step(self, x, labels, stream: int):
        """One extra D update on the step's real batch with z and draws of `stream`.

        E and G run in training mode (as in the E/G update) but their batch-norm
        statistics are not recorded: the step's own update records them once.
        """
        z = self.training_noise(tf.shape(x)[0], stream)
        with frozen_batch_statistics(*[n for n in (self.encoder, self.generator) if n is not None]):
            d_grads, _, _ = self.compute_gradients(x, z, labels, stream=stream)
        self.discriminator_optimizer.apply(d_grads, self.discriminator_variables)

    def _update_trackers(self, losses: BiGANLosses):
        for name, d in losses.discriminators().items():
            self._trackers[name].update_state(d.loss)
            self._trackers[f"{name}_real_acc"].update_state(tf.cast(d.real_logits > 0, tf.float32))
            self._trackers[f"{name}_fake_acc"].update_state(tf.cast(d.fake_logits < 0, tf.float32))
        if losses.encoder is not None:
            self._trackers["E"].update_state(losses.encoder)
        if "G" in self._trackers:
            self._trackers["G"].update_state(losses.generator)

    def measure_losses(
        self, x: tf.Tensor, z: tf.Tensor, labels: Optional[Array] = None
    ) -> Dict[str, tf.Tensor]:
        """Mean module losses on one batch in training mode, changing no state.

        Batch norm normalises with batch statistics but its moving averages are
        left as they are (the original's deploy-pass cost line).
        """
        with frozen_batch_statistics(*self.networks):
            losses = self.compute_losses(x, z, labels, training=True)
        return self.summarize_losses(losses)

    def summarize_losses(self, losses: BiGANLosses) -> Dict[str, tf.Tensor]:
        """Per-example losses -> the displayed means (JD, D, E, G)."""
        return summarize_losses(losses, self.objective.trains_generator)
