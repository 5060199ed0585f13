"""Semi-supervised GAN: a K+1-class discriminator/classifier (Salimans et al., 2016).

The discriminator D classifies real images into their K classes and generated
images into class K+1. Per step, from one labelled batch (x_l, y), one
unlabelled batch x_u and noise z:

  L_D = L_sup + w_u·L_unsup,
        L_sup   = −log p(y | x_l, real)                          (`kplus1_supervised_loss`)
        L_unsup = −s·log p(real | x_u) − (1−s)·log p(fake | x_u)  (one-sided smoothing s)
                  − log p(fake | G(z))
  L_G = ‖E f(x_u) − E f(G(z))‖²     with feature matching (f: D's last hidden layer),
        or −log p(real | G(z))      without;
        + r_t·mean |G(z) − x_u|     the annealed auxiliary "reconstruction" loss of the
                                    SSGAN-TensorFlow README (r_t falls linearly to 0).

This is a sibling of `bigan_tf.BiGAN`: the same data pipeline, distribution
(per-example losses averaged over the global batch), checkpoint
(`TrainingCheckpoint`), evaluation callback, sample grids and run driver
(`bigan_tf.training.fit_model`); only the networks and the step differ.

The tricks of the SSGAN-TensorFlow README are options (`SSGANConfig`): one-sided
label smoothing, gradient clipping by global norm, several G updates per D
update and a learning-rate multiplier for G, the annealed auxiliary loss, and
Adam's beta_1. Two network families (`SSGANConfig.network`): "conv", the
README's convolutional D and G (`bigan_tf.networks.ssgan_conv`), and "mlp",
Salimans et al.'s MNIST MLP D with Gaussian noise (no weight normalisation)
with the BiGAN MNIST generator. Departures from the README's code, both
families: the losses above are Salimans et al.'s (the README's code fed
sigmoids to a Huber "supervised" loss and a log-sigmoid G loss); D and G are
updated in every step (the README's code alternated D and G steps). G's
loss is feature matching by default for the MLPs, as in Salimans et al., and
the adversarial one for the conv family, as in the README's code. With
`reference_batch_norm` the conv D normalises the labelled and generated
batches with the real batch's statistics (the README's code gave every batch
its own, under which a collapsed G gets no gradient out of the collapse).
With `classifier_norm="weight"` the conv D is Salimans et al.'s conv recipe
instead: weight-normalised convolutions with a data-dependent initialisation
(`initialize_classifier`, run once for a fresh run), no batch norm, Gaussian
noise on the input and hidden blocks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Any, Callable, Dict, List, NamedTuple, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from bigan_tf import losses as L
from bigan_tf.checkpoints import checkpoint_path
from bigan_tf.config import SSGANConfig
from bigan_tf.data.pipeline import ImageData, balanced_subset, ssgan_dataset
from bigan_tf.errors import CheckpointError, ConfigError
from bigan_tf.evaluation.classification import SSGANEvaluator, confusion_matrix, predict_classes
from bigan_tf.run_dir import CONFIG_FILE, checkpoint_dir, read_config
from bigan_tf.networks.kplus1 import KPlusOneClassifier
from bigan_tf.networks.layers import batch_norm_layers, reference_batch_norm, secondary_call
from bigan_tf.networks.mlp import MLPGenerator
from bigan_tf.networks.ssgan_conv import ConvKPlusOneClassifier, ConvSSGANGenerator
from bigan_tf.prior import replica_prior_slice
from bigan_tf.training import TrainingPlan, fit_model, resolve_jit_compile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bigan_tf.config import RunConfig

# The SSGAN's parts live where their kind lives (config, networks, data, evaluation);
# this module is the model, its driver and its loader, and names them all for users.
__all__ = [
    "SSGAN",
    "SSGANConfig",
    "SSGANNetworks",
    "KPlusOneClassifier",
    "ConvKPlusOneClassifier",
    "ConvSSGANGenerator",
    "build_ssgan_networks",
    "SSGANEvaluator",
    "ssgan_dataset",
    "predict_classes",
    "confusion_matrix",
    "initialize_classifier",
    "train_ssgan",
    "load_trained_ssgan",
]


class SSGANNetworks(NamedTuple):
    classifier: keras.Model
    generator: keras.Model


def build_ssgan_networks(config: SSGANConfig) -> SSGANNetworks:
    """The K+1 classifier D and the generator G of `config.network`'s family."""
    if config.network == "conv":
        return SSGANNetworks(
            ConvKPlusOneClassifier(
                config.num_classes,
                config.image_shape,
                normalization=config.classifier_norm,
                input_noise=config.input_noise,
                hidden_noise=config.hidden_noise,
                name="classifier",
            ),
            ConvSSGANGenerator(config.image_shape, name="generator"),
        )
    return SSGANNetworks(
        KPlusOneClassifier(
            config.num_classes,
            config.classifier_units,
            config.input_noise,
            config.hidden_noise,
            name="classifier",
        ),
        MLPGenerator(
            output_dim=config.flat_dim,
            image_shape=config.image_shape,
            hidden_units=config.generator_units,
            name="generator",
        ),
    )


class SSGAN(keras.Model):
    """The semi-supervised GAN; trains on ((x_u, _), (x_l, y_l)) batches."""

    def __init__(self, config: SSGANConfig, noise_seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.config = config.validate()
        self.noise_seed = int(noise_seed)
        self.latent_dim = config.latent_dim
        self.classifier, self.generator = build_ssgan_networks(config)
        # The MLP D has no batch norm: nothing to take from a reference batch.
        self._d_uses_reference = bool(
            config.reference_batch_norm and batch_norm_layers(self.classifier)
        )
        self.classifier(tf.zeros([2, *config.image_shape]))
        self.generator(tf.zeros([2, config.latent_dim]))
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("S", "D", "G", "S_acc", "D_real_acc", "D_fake_acc")
        }

    @property
    def networks(self) -> SSGANNetworks:
        return SSGANNetworks(self.classifier, self.generator)

    @property
    def metrics(self) -> List[keras.metrics.Metric]:
        return list(self._trackers.values())

    def call(self, x: tf.Tensor, training: bool = False) -> Dict[str, tf.Tensor]:
        """Class probabilities over the K real classes."""
        logits = self.classifier(x, training=training)["logits"]
        return tf.nn.softmax(logits[:, : self.config.num_classes])

    @tf.function(reduce_retracing=True)
    def predicted_classes(self, x: tf.Tensor) -> tf.Tensor:
        """argmax over the K real classes of D's logits, inference mode (traced once)."""
        logits = self.classifier(x, training=False)["logits"]
        return tf.argmax(logits[:, : self.config.num_classes], -1)

    def compile_for_training(self, **kwargs: Any) -> None:
        cfg = self.config
        d_opt = keras.optimizers.Adam(
            cfg.learning_rate, beta_1=cfg.beta_1, name="discriminator_adam"
        )
        g_opt = keras.optimizers.Adam(
            cfg.learning_rate * cfg.generator_lr_mult, beta_1=cfg.beta_1, name="generator_adam"
        )
        # Keras's own optimizer is D's: its step count is the training step.
        super().compile(optimizer=d_opt, **kwargs)
        self.discriminator_optimizer, self.generator_optimizer = d_opt, g_opt
        d_opt.build(self.classifier.trainable_variables)
        g_opt.build(self.generator.trainable_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return  # every variable exists already (see BiGAN)

    # ------------------------------------------------------------------ losses
    def _seed(self, stream: int) -> tf.Tensor:
        """A stateless seed for (step, stream), distinct per replica (D's noise)."""
        ctx = tf.distribute.get_replica_context()
        replica = ctx.replica_id_in_sync_group if ctx is not None else 0
        step = tf.cast(self.discriminator_optimizer.iterations, tf.int64)
        return tf.stack(
            [
                tf.constant(self.noise_seed + 1, tf.int64),
                step * 4096 + stream * 64 + tf.cast(replica, tf.int64),
            ]
        )

    def _noise(self, batch_size, stream: int) -> tf.Tensor:
        """This replica's slice of the global batch's z for (step, stream)."""
        step = tf.cast(self.discriminator_optimizer.iterations, tf.int64)
        seed = tf.stack(
            [tf.constant(self.noise_seed, tf.int64), step * 64 + tf.constant(stream, tf.int64)]
        )
        return replica_prior_slice(batch_size, self.latent_dim, seed)

    def _normalized_by_real(self):
        """Inside: D's batch norms use the first (real) batch's statistics for every batch."""
        if self._d_uses_reference:
            return reference_batch_norm(self.classifier)
        return contextlib.nullcontext()

    def discriminator_losses(
        self,
        x_unlabelled: tf.Tensor,
        x_labelled: tf.Tensor,
        labels: tf.Tensor,
        z: tf.Tensor,
        training: bool = True,
    ) -> Any:
        """Per-example D losses: {"S", "D_real", "D_fake"} and the logits.

        Batch norm (conv family): D's moving statistics come from the unlabelled
        real batch only, G's from its first call of the step. With
        `reference_batch_norm`, D normalises the labelled and generated batches
        with the real batch's statistics, as it normalises test images with
        their moving averages; otherwise with their own batch statistics. Only
        the first calls record statistics (the BiGAN follows the same rule).
        """
        fake = self.generator(z, training=training)
        with self._normalized_by_real():
            real = self.classifier(x_unlabelled, training=training, seed=self._seed(1))["logits"]
            with secondary_call(self.classifier):
                labelled = self.classifier(x_labelled, training=training, seed=self._seed(0))[
                    "logits"
                ]
                generated = self.classifier(fake, training=training, seed=self._seed(2))["logits"]
        return {
            "S": L.kplus1_supervised_loss(labelled, labels),
            "D_real": L.kplus1_real_loss(real, self.config.label_smoothing),
            "D_fake": L.kplus1_fake_loss(generated),
            "labelled_logits": labelled,
            "real_logits": real,
            "fake_logits": generated,
        }

    def reconstruction_weight(self) -> tf.Tensor:
        """The annealed auxiliary weight r_t = r_0·max(0, 1 − t/anneal_steps)."""
        cfg = self.config
        if not cfg.reconstruction_weight:
            return tf.constant(0.0)
        t = tf.cast(self.discriminator_optimizer.iterations, tf.float32)
        return cfg.reconstruction_weight * tf.maximum(
            0.0, 1.0 - t / float(max(1, cfg.reconstruction_anneal_steps))
        )

    def generator_loss(
        self, x_unlabelled: tf.Tensor, z: tf.Tensor, training: bool = True, stream: int = 3
    ) -> tf.Tensor:
        """L_G for this replica, scaled so that the sum over replicas is the mean."""
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        global_batch = tf.shape(z)[0] * replicas
        with secondary_call(self.classifier, self.generator):  # see discriminator_losses
            fake = self.generator(z, training=training)
            with self._normalized_by_real():
                # The real batch first: with reference_batch_norm it sets the statistics
                # D normalises G(z) with (and feature matching compares it with).
                if self.config.feature_matching or self._d_uses_reference:
                    real_features = self.classifier(
                        x_unlabelled, training=training, seed=self._seed(2 * stream + 1)
                    )["features"]
                fake_out = self.classifier(fake, training=training, seed=self._seed(2 * stream))
        if self.config.feature_matching:
            loss = (
                L.feature_matching_loss(tf.stop_gradient(real_features), fake_out["features"])
                / replicas
            )
        else:
            loss = L.global_mean(L.kplus1_generator_loss(fake_out["logits"]), global_batch)
        if self.config.reconstruction_weight:
            x = tf.reshape(x_unlabelled, tf.shape(fake))
            per_example = tf.reduce_mean(tf.abs(fake - x), axis=list(range(1, len(fake.shape))))
            loss += self.reconstruction_weight() * L.global_mean(per_example, global_batch)
        return loss

    def _clip(self, grads):
        if self.config.clip_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, self.config.clip_norm)
        return grads

    # -------------------------------------------------------------------- step
    def train_step(self, data: Any) -> Dict[str, tf.Tensor]:
        (x_u, _), (x_l, y_l) = data
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        batch = tf.shape(x_u)[0]
        mean_u = lambda v: L.global_mean(v, batch * replicas)
        mean_l = lambda v: L.global_mean(v, tf.shape(x_l)[0] * replicas)
        if not self.config.unsupervised_weight:
            return self._supervised_step(x_l, y_l, mean_l)
        z = self._noise(batch, 0)
        d_vars = self.classifier.trainable_variables
        with tf.GradientTape() as tape:
            out = self.discriminator_losses(x_u, x_l, y_l, z)
            d_loss = mean_l(out["S"]) + self.config.unsupervised_weight * (
                mean_u(out["D_real"]) + mean_u(out["D_fake"])
            )
        # Gradient clipping sees this replica's gradient (the sum over replicas is clipped
        # per replica): with one device it is exactly clip_by_global_norm.
        self.discriminator_optimizer.apply(self._clip(tape.gradient(d_loss, d_vars)), d_vars)
        g_vars = self.generator.trainable_variables
        for k in range(self.config.generator_updates):
            with tf.GradientTape() as tape:
                g_loss = self.generator_loss(x_u, self._noise(batch, k + 1), stream=k + 2)
            self.generator_optimizer.apply(self._clip(tape.gradient(g_loss, g_vars)), g_vars)
        t = self._trackers
        self._track_supervised(out["S"], out["labelled_logits"], y_l)
        t["D"].update_state(out["D_real"] + out["D_fake"])
        t["G"].update_state(g_loss * tf.cast(replicas, g_loss.dtype))
        k = self.config.num_classes
        t["D_real_acc"].update_state(
            tf.cast(tf.argmax(out["real_logits"], -1, output_type=tf.int32) < k, tf.float32)
        )
        t["D_fake_acc"].update_state(
            tf.cast(tf.argmax(out["fake_logits"], -1, output_type=tf.int32) == k, tf.float32)
        )
        return {name: tracker.result() for name, tracker in t.items()}

    def _track_supervised(self, per_example_loss, labelled_logits, labels):
        k = self.config.num_classes
        self._trackers["S"].update_state(per_example_loss)
        self._trackers["S_acc"].update_state(
            tf.cast(
                tf.equal(
                    tf.argmax(labelled_logits[:, :k], -1, output_type=tf.int32),
                    tf.cast(labels, tf.int32),
                ),
                tf.float32,
            )
        )

    def _supervised_step(self, x_labelled, labels, mean_labelled):
        """unsupervised_weight = 0: the same classifier on the labelled batches alone.

        D's loss is then L_sup only, so neither G nor the unlabelled batch can
        change D: they are not computed (the supervised-only baseline costs a
        fraction of a GAN step). The labelled batch feeds D's batch-norm statistics.
        """
        d_vars = self.classifier.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.classifier(x_labelled, training=True, seed=self._seed(0))["logits"]
            per_example = L.kplus1_supervised_loss(logits, labels)
            loss = mean_labelled(per_example)
        self.discriminator_optimizer.apply(self._clip(tape.gradient(loss, d_vars)), d_vars)
        self._track_supervised(per_example, logits, labels)
        return {name: self._trackers[name].result() for name in ("S", "S_acc")}


# ------------------------------------------------------------------------- data
# ------------------------------------------------------------------ train / load
def initialize_classifier(model: SSGAN, data: ImageData, seed: int, num_images: int = 500) -> None:
    """A fresh D's data-dependent initialisation, where its family has one (the
    weight-normalised conv D), from `num_images` training images drawn with `seed`."""
    sample = np.random.default_rng(seed).choice(
        len(data.train_images), min(num_images, len(data.train_images)), replace=False
    )
    initialize = getattr(model.classifier, "initialize_from_data", None)
    if initialize is not None:
        initialize(data.train_images[np.sort(sample)].astype(np.float32) / 255.0)


def train_ssgan(
    strategy: tf.distribute.Strategy,
    data: ImageData,
    config: SSGANConfig,
    labels_per_class: int,
    epochs: int,
    run: RunConfig,
    labelled_batch_size: int = 100,
    print_fn: Callable[[str], None] = print,
) -> Dict[str, object]:
    """Trains (or resumes) an SSGAN with `fit_model`; returns its result dict.

    `run` is a `bigan_tf.training.RunConfig` (batch size of the unlabelled
    stream, seed, intervals, resume). The labelled subset is
    `balanced_subset(train_labels, labels_per_class, seed)`; its indices are
    recorded in config.json, with `data.config` (what `trainers.eval_ssgan` reloads).
    `data.val_*` is the test set of the accuracy.
    """

    run.validate()
    if epochs < 1:
        raise ConfigError(f"--epochs must be >= 1, got {epochs}.")
    config = dataclasses.replace(
        config, image_shape=data.image_shape, num_classes=max(config.num_classes, data.num_classes)
    ).validate()
    labelled_index = balanced_subset(data.train_labels, labels_per_class, run.seed)
    steps_per_epoch = len(data.train_images) // run.batch_size
    if steps_per_epoch < 1:
        raise ConfigError(
            f"--batch_size {run.batch_size} is larger than the training set "
            f"({len(data.train_images)} images)."
        )
    # XLA made the SSGAN step no faster on the CPU (measured 2026-11-26): off unless asked.
    run = dataclasses.replace(
        run, jit_compile=resolve_jit_compile(run.jit_compile, False, strategy, run)
    )
    record = {
        "model": "ssgan",
        "ssgan": config.to_dict(),
        "epochs": epochs,
        "labels_per_class": labels_per_class,
        "labelled_batch_size": labelled_batch_size,
        "labelled_index": labelled_index.tolist(),
        "run": dataclasses.asdict(run),
        "data": data.record(),
        "num_replicas": strategy.num_replicas_in_sync,
    }

    def build_model():
        model = SSGAN(config, noise_seed=run.seed, name="ssgan")
        model.compile_for_training(jit_compile=run.jit_compile)
        return model

    plan = TrainingPlan(
        build_model,
        make_evaluator=lambda m: SSGANEvaluator(m, data, run.seed),
        make_dataset=lambda first, last: ssgan_dataset(
            data, labelled_index, run.batch_size, labelled_batch_size, run.seed, first, last
        ),
        steps_per_epoch=steps_per_epoch,
        constant_epochs=epochs,
        total_epochs=epochs,
        config_record=record,
        initialize=lambda m: initialize_classifier(m, data, run.seed),
    )
    return fit_model(strategy, plan, run, print_fn=print_fn)


def load_trained_ssgan(exp_dir: str, which: Union[int, str] = "latest") -> Tuple[SSGAN, Dict, int]:
    """(model, config.json record, epoch) of the SSGAN run in `exp_dir`, networks restored."""

    record = read_config(exp_dir)
    path = os.path.join(exp_dir, CONFIG_FILE)
    if record is None:
        raise CheckpointError(
            f"{path} does not exist: {exp_dir} is not a training run "
            "(train one with trainers.train_ssgan)."
        )
    if record.get("model") != "ssgan":
        raise CheckpointError(
            f"{exp_dir} is not a semi-supervised GAN run (trainers.train_ssgan)"
            "; its config.json describes another model."
        )
    model = SSGAN(SSGANConfig.from_dict(record["ssgan"]), name="ssgan")
    prefix = checkpoint_path(checkpoint_dir(exp_dir), which)
    epoch = tf.Variable(0, dtype=tf.int64)
    try:
        tf.train.Checkpoint(
            classifier=model.classifier, generator=model.generator, epoch=epoch
        ).restore(prefix).expect_partial().assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as e:
        raise CheckpointError(
            f"Checkpoint {prefix} does not match {path} ({str(e).splitlines()[0]})."
        ) from None
    return model, record, int(epoch.numpy())
