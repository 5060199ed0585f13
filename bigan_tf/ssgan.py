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
Adam's beta_1. Departures: our D is Salimans et al.'s MNIST MLP with Gaussian
noise (no weight normalisation), not the README's conv nets; G is the BiGAN
MNIST generator; feature matching is on by default, as in Salimans et al.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, NamedTuple, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from bigan_tf import losses as L
from bigan_tf.bigan import replica_prior_slice, sample_prior
from bigan_tf.checkpoints import checkpoint_path
from bigan_tf.data.pipeline import (ImageData, balanced_subset, to_model_range,
                                    training_dataset)
from bigan_tf.errors import CheckpointError, ConfigError
from bigan_tf.experiment import CONFIG_FILE, checkpoint_dir
from bigan_tf.images import make_grid
from bigan_tf.networks.layers import normal_init
from bigan_tf.networks.mlp import MLPGenerator
from bigan_tf.training import fit_model, resolve_jit_compile


@dataclasses.dataclass(frozen=True)
class SSGANConfig:
    """Networks, loss weights and training tricks of the semi-supervised GAN."""

    num_classes: int = 10
    image_shape: Tuple[int, int, int] = (28, 28, 1)
    latent_dim: int = 100
    generator_units: int = 500
    classifier_units: Tuple[int, ...] = (1000, 500, 250, 250, 250)
    input_noise: float = 0.3
    hidden_noise: float = 0.5
    unsupervised_weight: float = 1.0
    label_smoothing: float = 0.9
    feature_matching: bool = True
    generator_updates: int = 1
    learning_rate: float = 3e-4
    generator_lr_mult: float = 1.0
    beta_1: float = 0.5
    clip_norm: float = 0.0
    reconstruction_weight: float = 0.0
    reconstruction_anneal_steps: int = 1000

    def validate(self) -> "SSGANConfig":
        if self.num_classes < 2:
            raise ConfigError(f"The K+1 classifier needs >= 2 classes, got {self.num_classes}.")
        if not 0.5 < self.label_smoothing <= 1.0:
            raise ConfigError(f"--label_smoothing is the real target in (0.5, 1] (1 = off), "
                              f"got {self.label_smoothing}.")
        if self.generator_updates < 1:
            raise ConfigError(f"--generator_updates must be >= 1, got {self.generator_updates}.")
        for name in ("learning_rate", "generator_lr_mult"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{name} must be > 0, got {getattr(self, name)}.")
        for name in ("clip_norm", "reconstruction_weight", "unsupervised_weight", "input_noise",
                     "hidden_noise"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name} must be >= 0, got {getattr(self, name)}.")
        if not 0 <= self.beta_1 < 1:
            raise ConfigError(f"--beta_1 must be in [0, 1), got {self.beta_1}.")
        if not self.classifier_units or min(self.classifier_units) < 1:
            raise ConfigError(f"classifier_units must be positive, got {self.classifier_units}.")
        return self

    @property
    def flat_dim(self) -> int:
        return int(np.prod(self.image_shape))

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["image_shape"], d["classifier_units"] = list(self.image_shape), list(
            self.classifier_units)
        return d

    @classmethod
    def from_dict(cls, d) -> "SSGANConfig":
        d = dict(d)
        d["image_shape"] = tuple(d["image_shape"])
        d["classifier_units"] = tuple(d["classifier_units"])
        return cls(**d)


@keras.saving.register_keras_serializable(package="bigan_tf")
class KPlusOneClassifier(keras.Model):
    """D: x -> {"logits": [B, K+1] (K classes, then "generated"), "features": last hidden}.

    A ReLU MLP with Gaussian noise on the input and after every hidden layer
    (training mode only), as Salimans et al.'s MNIST discriminator. The noise
    comes from a stateless RNG keyed by `seed` (shape [2]), so a resumed run
    draws what an uninterrupted one would.
    """

    def __init__(self, num_classes: int = 10, units: Sequence[int] = (1000, 500, 250, 250, 250),
                 input_noise: float = 0.3, hidden_noise: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.units = int(num_classes), tuple(int(u) for u in units)
        self.input_noise, self.hidden_noise = float(input_noise), float(hidden_noise)
        # One attribute per layer, not a list: tf.train.Checkpoint does not see
        # into Keras 3's tracked lists, and would silently skip their weights.
        for i, u in enumerate(self.units):
            setattr(self, f"hidden{i + 1}", keras.layers.Dense(
                u, activation="relu", name=f"hidden{i + 1}", kernel_initializer="he_normal"))
        self.output_logits = keras.layers.Dense(num_classes + 1, name="output_logits",
                                                kernel_initializer=normal_init(0.05))

    def call(self, x, training=False, seed=None) -> Dict[str, tf.Tensor]:
        h = tf.reshape(x, [-1, int(np.prod(x.shape[1:]))]) if len(x.shape) > 2 else x
        if seed is None:
            seed = tf.constant([0, 0], tf.int64)

        def noisy(h, stddev, layer):
            if not training or not stddev:
                return h
            layer_seed = tf.random.experimental.stateless_fold_in(seed, layer)
            return h + stddev * tf.random.stateless_normal(tf.shape(h), layer_seed, dtype=h.dtype)

        h = noisy(h, self.input_noise, 0)
        for i in range(len(self.units)):
            h = noisy(getattr(self, f"hidden{i + 1}")(h), self.hidden_noise, i + 1)
        return {"logits": self.output_logits(h), "features": h}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "units": list(self.units),
                "input_noise": self.input_noise, "hidden_noise": self.hidden_noise}


class SSGANNetworks(NamedTuple):
    classifier: keras.Model
    generator: keras.Model


class SSGAN(keras.Model):
    """The semi-supervised GAN; trains on ((x_u, _), (x_l, y_l)) batches."""

    def __init__(self, config: SSGANConfig, noise_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.config = config.validate()
        self.noise_seed = int(noise_seed)
        self.latent_dim = config.latent_dim
        self.classifier = KPlusOneClassifier(config.num_classes, config.classifier_units,
                                             config.input_noise, config.hidden_noise,
                                             name="classifier")
        self.generator = MLPGenerator(output_dim=config.flat_dim,
                                      hidden_units=config.generator_units, name="generator")
        self.classifier(tf.zeros([2, config.flat_dim]))
        self.generator(tf.zeros([2, config.latent_dim]))
        self._trackers = {name: keras.metrics.Mean(name=name)
                          for name in ("S", "D", "G", "S_acc", "D_real_acc", "D_fake_acc")}

    @property
    def networks(self) -> SSGANNetworks:
        return SSGANNetworks(self.classifier, self.generator)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def call(self, x, training=False):
        """Class probabilities over the K real classes."""
        logits = self.classifier(x, training=training)["logits"]
        return tf.nn.softmax(logits[:, :self.config.num_classes])

    @tf.function(reduce_retracing=True)
    def predicted_classes(self, x) -> tf.Tensor:
        """argmax over the K real classes of D's logits, inference mode (traced once)."""
        logits = self.classifier(x, training=False)["logits"]
        return tf.argmax(logits[:, :self.config.num_classes], -1)

    def compile_for_training(self, **kwargs):
        cfg = self.config
        d_opt = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1,
                                      name="discriminator_adam")
        g_opt = keras.optimizers.Adam(cfg.learning_rate * cfg.generator_lr_mult,
                                      beta_1=cfg.beta_1, name="generator_adam")
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
        return tf.stack([tf.constant(self.noise_seed + 1, tf.int64),
                         step * 4096 + stream * 64 + tf.cast(replica, tf.int64)])

    def _noise(self, batch_size, stream: int) -> tf.Tensor:
        """This replica's slice of the global batch's z for (step, stream)."""
        step = tf.cast(self.discriminator_optimizer.iterations, tf.int64)
        seed = tf.stack([tf.constant(self.noise_seed, tf.int64),
                         step * 64 + tf.constant(stream, tf.int64)])
        return replica_prior_slice(batch_size, self.latent_dim, seed)

    def discriminator_losses(self, x_unlabelled, x_labelled, labels, z, training=True):
        """Per-example D losses: {"S", "D_real", "D_fake"} and the logits."""
        fake = self.generator(z, training=training)
        labelled = self.classifier(x_labelled, training=training, seed=self._seed(0))["logits"]
        real = self.classifier(x_unlabelled, training=training, seed=self._seed(1))["logits"]
        generated = self.classifier(fake, training=training, seed=self._seed(2))["logits"]
        return {"S": L.kplus1_supervised_loss(labelled, labels),
                "D_real": L.kplus1_real_loss(real, self.config.label_smoothing),
                "D_fake": L.kplus1_fake_loss(generated),
                "labelled_logits": labelled, "real_logits": real, "fake_logits": generated}

    def reconstruction_weight(self) -> tf.Tensor:
        """The annealed auxiliary weight r_t = r_0·max(0, 1 − t/anneal_steps)."""
        cfg = self.config
        if not cfg.reconstruction_weight:
            return tf.constant(0.0)
        t = tf.cast(self.discriminator_optimizer.iterations, tf.float32)
        return cfg.reconstruction_weight * tf.maximum(
            0.0, 1.0 - t / float(max(1, cfg.reconstruction_anneal_steps)))

    def generator_loss(self, x_unlabelled, z, training=True, stream: int = 3) -> tf.Tensor:
        """L_G for this replica, scaled so that the sum over replicas is the mean."""
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        global_batch = tf.shape(z)[0] * replicas
        fake = self.generator(z, training=training)
        fake_out = self.classifier(fake, training=training, seed=self._seed(2 * stream))
        if self.config.feature_matching:
            real_features = self.classifier(x_unlabelled, training=training,
                                            seed=self._seed(2 * stream + 1))["features"]
            loss = L.feature_matching_loss(tf.stop_gradient(real_features),
                                           fake_out["features"]) / replicas
        else:
            loss = tf.nn.compute_average_loss(L.kplus1_generator_loss(fake_out["logits"]),
                                              global_batch_size=global_batch)
        if self.config.reconstruction_weight:
            x = tf.reshape(x_unlabelled, tf.shape(fake))
            per_example = tf.reduce_mean(tf.abs(fake - x), axis=-1)
            loss += self.reconstruction_weight() * tf.nn.compute_average_loss(
                per_example, global_batch_size=global_batch)
        return loss

    def _clip(self, grads):
        if self.config.clip_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, self.config.clip_norm)
        return grads

    # -------------------------------------------------------------------- step
    def train_step(self, data):
        (x_u, _), (x_l, y_l) = data
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync if ctx is not None else 1
        batch = tf.shape(x_u)[0]
        mean_u = lambda v: tf.nn.compute_average_loss(v, global_batch_size=batch * replicas)  # noqa
        mean_l = lambda v: tf.nn.compute_average_loss(  # noqa: E731
            v, global_batch_size=tf.shape(x_l)[0] * replicas)
        z = self._noise(batch, 0)
        d_vars = self.classifier.trainable_variables
        with tf.GradientTape() as tape:
            out = self.discriminator_losses(x_u, x_l, y_l, z)
            d_loss = mean_l(out["S"]) + self.config.unsupervised_weight * (
                mean_u(out["D_real"]) + mean_u(out["D_fake"]))
        # Gradient clipping sees this replica's gradient (the sum over replicas is clipped
        # per replica): with one device it is exactly clip_by_global_norm.
        self.discriminator_optimizer.apply(self._clip(tape.gradient(d_loss, d_vars)), d_vars)
        g_vars = self.generator.trainable_variables
        for k in range(self.config.generator_updates):
            with tf.GradientTape() as tape:
                g_loss = self.generator_loss(x_u, self._noise(batch, k + 1), stream=k + 2)
            self.generator_optimizer.apply(self._clip(tape.gradient(g_loss, g_vars)), g_vars)
        t = self._trackers
        t["S"].update_state(out["S"])
        t["D"].update_state(out["D_real"] + out["D_fake"])
        t["G"].update_state(g_loss * tf.cast(replicas, g_loss.dtype))
        k = self.config.num_classes
        t["S_acc"].update_state(tf.cast(tf.equal(
            tf.argmax(out["labelled_logits"][:, :k], -1, output_type=tf.int32),
            tf.cast(y_l, tf.int32)), tf.float32))
        t["D_real_acc"].update_state(tf.cast(
            tf.argmax(out["real_logits"], -1, output_type=tf.int32) < k, tf.float32))
        t["D_fake_acc"].update_state(tf.cast(
            tf.argmax(out["fake_logits"], -1, output_type=tf.int32) == k, tf.float32))
        return {name: tracker.result() for name, tracker in t.items()}


# ------------------------------------------------------------------------- data
def ssgan_dataset(data: ImageData, labelled_index: np.ndarray, batch_size: int,
                  labelled_batch_size: int, seed: int, first_epoch: int, last_epoch: int
                  ) -> tf.data.Dataset:
    """Batches ((x_u, y_u), (x_l, y_l)) for epochs [first_epoch, last_epoch).

    The unlabelled stream is `training_dataset` over every training image (its
    labels are never used); the labelled one draws `labelled_batch_size`
    examples of the labelled subset with replacement, from a stateless RNG
    keyed by (seed, global step), so a resumed run sees the same batches.
    """
    unlabelled = training_dataset(data.train_images, data.train_labels, batch_size, seed,
                                  first_epoch, last_epoch, flatten=True)
    steps = len(data.train_images) // batch_size
    images = tf.constant(data.train_images[labelled_index])
    labels = tf.constant(data.train_labels[labelled_index].astype(np.int32))
    count = len(labelled_index)

    def draw(step):
        keys = tf.stack([tf.constant(seed + 7, tf.int64), step])
        index = tf.random.stateless_uniform([labelled_batch_size], keys, 0, count, tf.int32)
        return to_model_range(tf.gather(images, index)), tf.gather(labels, index)

    labelled = tf.data.Dataset.range(first_epoch * steps, last_epoch * steps).map(draw)
    dataset = tf.data.Dataset.zip((unlabelled, labelled))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------- evaluation
def predict_classes(model: SSGAN, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """argmax over the K real classes of D's logits, inference mode, for uint8 images."""
    return np.concatenate([model.predicted_classes(to_model_range(images[i:i + batch_size]))
                           .numpy() for i in range(0, len(images), batch_size)])


def confusion_matrix(true_labels, predicted, num_classes: int) -> np.ndarray:
    """counts[i, j] = examples of class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (np.asarray(true_labels), np.asarray(predicted)), 1)
    return counts


class SSGANEvaluator:
    """Test accuracy each evaluation, and fixed-z sample grids (the callback's interface)."""

    def __init__(self, model: SSGAN, data: ImageData, seed: int = 0, num_samples: int = 100):
        self.model, self.data = model, data
        self.image_shape = data.image_shape
        self.z = sample_prior(num_samples, model.latent_dim,
                              tf.constant([seed, 7919], tf.int64))

    def evaluate(self) -> Dict[str, float]:
        predicted = predict_classes(self.model, self.data.val_images)
        return {"ACC": 100.0 * float(np.mean(predicted == self.data.val_labels))}

    def measure_losses(self, num_batches: int) -> Dict[str, float]:
        return {}  # the epoch-0 line shows the metrics only

    def deploy(self, iterations: int):
        raise ConfigError("The semi-supervised GAN has no batch-norm deploy pass in D.")

    def sample_grids(self) -> Dict[str, np.ndarray]:
        samples = self.model.generator(self.z, training=False).numpy()
        return {"samples": make_grid(samples, 10, self.image_shape)}

    def real_grid(self) -> np.ndarray:
        return make_grid(to_model_range(self.data.val_images[:100]).numpy(), 10, self.image_shape)


# ------------------------------------------------------------------ train / load
def train_ssgan(strategy: tf.distribute.Strategy, data: ImageData, config: SSGANConfig,
                labels_per_class: int, epochs: int, run, labelled_batch_size: int = 100,
                print_fn=print, data_dir=None) -> Dict[str, object]:
    """Trains (or resumes) an SSGAN with `fit_model`; returns its result dict.

    `run` is a `bigan_tf.training.RunConfig` (batch size of the unlabelled
    stream, seed, intervals, resume). The labelled subset is
    `balanced_subset(train_labels, labels_per_class, seed)`; its indices are
    recorded in config.json, with `data_dir` (for `trainers.eval_ssgan`).
    `data.val_*` is the test set of the accuracy.
    """

    run.validate()
    if epochs < 1:
        raise ConfigError(f"--epochs must be >= 1, got {epochs}.")
    config = dataclasses.replace(config, image_shape=data.image_shape,
                                 num_classes=max(config.num_classes, data.num_classes)).validate()
    labelled_index = balanced_subset(data.train_labels, labels_per_class, run.seed)
    steps_per_epoch = len(data.train_images) // run.batch_size
    if steps_per_epoch < 1:
        raise ConfigError(f"--batch_size {run.batch_size} is larger than the training set "
                          f"({len(data.train_images)} images).")
    # XLA made the SSGAN step no faster on the CPU (measured 2026-11-26): off unless asked.
    run = dataclasses.replace(run, jit_compile=resolve_jit_compile(run.jit_compile, False,
                                                                   strategy, run))
    record = {"model": "ssgan", "ssgan": config.to_dict(), "epochs": epochs,
              "labels_per_class": labels_per_class,
              "labelled_batch_size": labelled_batch_size,
              "labelled_index": labelled_index.tolist(),
              "run": dataclasses.asdict(run),
              "data": {"source": data.source, "data_dir": data_dir,
                       "num_train": len(data.train_images),
                       "num_test": len(data.val_images)},
              "num_replicas": strategy.num_replicas_in_sync}

    def build_model():
        model = SSGAN(config, noise_seed=run.seed, name="ssgan")
        model.compile_for_training(jit_compile=run.jit_compile)
        return model

    return fit_model(
        strategy, build_model, make_evaluator=lambda m: SSGANEvaluator(m, data, run.seed),
        make_dataset=lambda first, last: ssgan_dataset(
            data, labelled_index, run.batch_size, labelled_batch_size, run.seed, first, last),
        steps_per_epoch=steps_per_epoch, constant_epochs=epochs, total_epochs=epochs, run=run,
        config_record=record, print_fn=print_fn)


def load_trained_ssgan(exp_dir: str, which="latest") -> Tuple[SSGAN, Dict, int]:
    """(model, config.json record, epoch) of the SSGAN run in `exp_dir`, networks restored."""

    path = os.path.join(exp_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path} does not exist: {exp_dir} is not a training run "
                              "(train one with trainers.train_ssgan).")
    with open(path) as f:
        record = json.load(f)
    if record.get("model") != "ssgan":
        raise CheckpointError(f"{exp_dir} is not a semi-supervised GAN run (trainers.train_ssgan)"
                              "; its config.json describes another model.")
    model = SSGAN(SSGANConfig.from_dict(record["ssgan"]), name="ssgan")
    prefix = checkpoint_path(checkpoint_dir(exp_dir), which)
    epoch = tf.Variable(0, dtype=tf.int64)
    try:
        tf.train.Checkpoint(classifier=model.classifier, generator=model.generator,
                            epoch=epoch).restore(prefix).expect_partial() \
            .assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as e:
        raise CheckpointError(f"Checkpoint {prefix} does not match {path} "
                              f"({str(e).splitlines()[0]}).") from None
    return model, record, int(epoch.numpy())
