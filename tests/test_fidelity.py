"""Fidelity to the original code (issue: reproduce Table 1).

* D's output layer starts at zero, so a fresh model's losses are ln 2;
* only a network's first (real-input) call in a step feeds its batch-norm
  statistics, moving and deployed;
* the coupled weight decay skips batch-norm gains (--no_decay_gain);
* the convolutional family's distances are reported in the original's [−1, 1] scale;
* the ℓ2/ℓ1 autoencoder baselines train E and G jointly without a discriminator.
"""

import contextlib
import math

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import EvaluationConfig, NetworkConfig, objective_from_preset
from bigan_tf import bigan_loss as bigan_loss_module
from bigan_tf.data import ImageData, to_model_range
from bigan_tf.evaluation import Evaluator
from bigan_tf.evaluation.deploy import TrainingBatches, deploy_batch_norm
from bigan_tf.evaluation import metrics as M
from bigan_tf.networks import decayed_variables, frozen_batch_statistics
from conftest import make_compiled_bigan

SMALL = NetworkConfig(hidden_units=32, latent_dim=8)
CONV = NetworkConfig(family="dcgan", image_shape=(32, 32, 3), latent_dim=8, base_width=8)
PRESETS = ("bigan", "gan", "latent_regressor", "joint_latent_regressor")


def make_model(preset, network=SMALL, seed=0, weight_decay=2.5e-5):
    return make_compiled_bigan(preset, network, seed, weight_decay)


def batch(small_mnist, n=32):
    return to_model_range(small_mnist.train_images[:n])


# ------------------------------------------------------------ D starts at zero
@pytest.mark.parametrize("network", [SMALL, CONV], ids=["mlp", "dcgan"])
@pytest.mark.parametrize("preset", PRESETS)
def test_fresh_model_losses_are_ln2(preset, network):
    model = make_model(preset, network)
    for d in (model.joint_discriminator, model.discriminator):
        if d is not None:
            assert not np.any(d.output_logit.kernel.numpy())
    x = tf.random.uniform([16, *model.data_shape])
    z = tf.random.uniform([16, network.latent_dim], -1, 1)
    losses = model.measure_losses(x, z)
    for name in ("JD", "D"):
        if name in losses:
            assert float(losses[name]) == pytest.approx(math.log(2), abs=5e-5)
    if preset == "bigan":  # the official log's epoch-0 line: JD = E = G = 0.6932
        assert float(losses["E"]) == pytest.approx(math.log(2), abs=5e-5)
        assert float(losses["G"]) == pytest.approx(math.log(2), abs=5e-5)
    if preset in ("gan", "latent_regressor"):  # −log D(G(z)) with D = 1/2
        assert float(losses["G"]) == pytest.approx(math.log(2), abs=5e-5)


# ---------------------------------------------- batch-norm statistics: first call
def _pre_norm_mean(network, x):
    """Batch mean of the pre-BN activation of the second hidden layer of an MLP E or D(x)."""
    h = tf.nn.leaky_relu(network.hidden1(tf.reshape(x, [x.shape[0], -1])), 0.2)
    return tf.reduce_mean(network.hidden2(h), 0).numpy()


@pytest.mark.parametrize("preset", ["latent_regressor", "gan"])
def test_moving_statistics_come_from_the_real_call(small_mnist, preset):
    model = make_model(preset)
    x = batch(small_mnist)
    modules = [model.discriminator] + ([model.encoder] if model.encoder is not None else [])
    expected = {}
    for net in modules:
        momentum = net.norm2.momentum
        before = net.norm2.moving_mean.numpy()
        expected[net.name] = momentum * before + (1 - momentum) * _pre_norm_mean(net, x)
    model.train_step((x, None))
    for net in modules:
        np.testing.assert_allclose(
            net.norm2.moving_mean.numpy(),
            expected[net.name],
            rtol=1e-5,
            atol=1e-6,
            err_msg=net.name,
        )


@pytest.mark.parametrize("preset", ["latent_regressor", "gan"])
def test_deploy_statistics_come_from_the_real_call(small_mnist, preset):
    model = make_model(preset)
    batches = TrainingBatches.for_model(
        model, small_mnist.train_images, small_mnist.train_labels, batch_size=16, seed=0
    )
    deploy_batch_norm(model, batches.take(2))
    modules = [model.discriminator] + ([model.encoder] if model.encoder is not None else [])
    for net in modules:
        means = [_pre_norm_mean(net, batches[i][0]) for i in range(2)]
        np.testing.assert_allclose(
            net.norm2.moving_mean.numpy(), np.mean(means, 0), rtol=1e-4, atol=1e-6, err_msg=net.name
        )


def _bigan_run(small_mnist, monkeypatch, with_secondary_calls):
    if not with_secondary_calls:  # the behaviour before the fix: every call collects
        monkeypatch.setattr(
            bigan_loss_module, "secondary_call", lambda *m: contextlib.nullcontext()
        )
    model = make_model("bigan")
    for i in range(3):
        model.train_step((batch(small_mnist)[i * 8 : i * 8 + 32], None))
    evaluator = Evaluator.for_model(
        model,
        small_mnist,
        EvaluationConfig(num_val=64, num_train_reference=128, num_generated=256, cls_steps=5),
        seed=0,
    )
    deploy_batch_norm(
        model,
        TrainingBatches.for_model(
            model, small_mnist.train_images, small_mnist.train_labels, batch_size=16, seed=0
        ).take(2),
    )
    metrics = evaluator.evaluate()
    monkeypatch.undo()
    weights = [w.numpy() for net in (model.encoder, model.generator) for w in net.weights]
    weights += [w.numpy() for w in model.joint_discriminator.trainable_weights]
    return weights, metrics


def test_bigan_is_unchanged_by_the_first_call_rule(small_mnist, monkeypatch):
    # E and G have one call each in a BiGAN step; only JD's (unused) test-time
    # statistics may differ, so every weight and every metric is bit-identical.
    before_weights, before_metrics = _bigan_run(small_mnist, monkeypatch, False)
    after_weights, after_metrics = _bigan_run(small_mnist, monkeypatch, True)
    for b, a in zip(before_weights, after_weights):
        np.testing.assert_array_equal(b, a)
    assert before_metrics == after_metrics


# ------------------------------------------------------------- no decay on gains
def test_weight_decay_skips_batch_norm_gains():
    model = make_model("bigan", CONV, weight_decay=0.5)
    for layer in (model.encoder.norm2, model.generator.norm1):
        layer.beta.assign(tf.ones_like(layer.beta))  # biases are decayed: make them visible
    variables = model.generator_variables
    decayed = model._with_weight_decay([tf.zeros_like(v) for v in variables], variables, 1)
    gains = {
        id(layer.gamma)
        for net in model.networks
        if net is not None
        for layer in net._flatten_layers()
        if getattr(layer, "gamma", None) is not None
    }
    assert gains
    checked_gain = checked_other = 0
    for v, g in zip(variables, decayed):
        if id(v) in gains:
            np.testing.assert_array_equal(g.numpy(), 0.0)
            checked_gain += 1
        else:
            np.testing.assert_allclose(g.numpy(), 0.5 * v.numpy(), rtol=1e-6)
            checked_other += 1
    assert checked_gain and checked_other
    kept = decayed_variables(model.encoder.trainable_variables, model.encoder)
    assert len(kept) == len(model.encoder.trainable_variables) - 4  # norm2..norm5 gains


def test_mlp_family_has_no_gains_so_decays_everything():
    model = make_model("bigan")
    assert (
        decayed_variables(model.generator_variables, *model.networks) == model.generator_variables
    )


# ------------------------------------------- distances in the original's scale
def test_conv_distances_are_in_the_original_scale():
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(96, 32, 32, 3)).astype(np.uint8)
    labels = np.arange(96) % 3
    data = ImageData(
        images[:64],
        labels[:64].astype(np.int32),
        images[64:],
        labels[64:].astype(np.int32),
        "random",
    )
    model = make_model("bigan", CONV)
    evaluator = Evaluator.for_model(
        model,
        data,
        EvaluationConfig(num_val=32, num_train_reference=64, num_generated=100, cls_steps=2),
        seed=0,
    )
    assert evaluator.distance_scale == 2.0
    results = evaluator.evaluate()
    generated = evaluator.generated_samples()
    assert results["NND"] == pytest.approx(2 * M.nnd_score(generated, evaluator.val_x), rel=1e-5)
    mlp = make_model("bigan")
    assert (
        Evaluator.for_model(
            mlp,
            ImageData(
                images[:64, :28, :28, :1],
                labels[:64],
                images[64:, :28, :28, :1],
                labels[64:],
                "random",
            ),
            EvaluationConfig(num_val=8, num_train_reference=8, num_generated=10),
            seed=0,
        ).distance_scale
        == 1.0
    )


# ------------------------------------------------------------------ autoencoders
@pytest.mark.parametrize("preset,norm", [("autoencoder_l2", "l2"), ("autoencoder_l1", "l1")])
def test_autoencoder_objectives(small_mnist, preset, norm):
    objective = objective_from_preset(preset)
    assert objective.reconstruct_norm == norm and objective.trains_generator
    assert not objective.samples_prior and not objective.has_adversary
    model = make_model(preset, weight_decay=0.0)
    assert model.joint_discriminator is None and model.discriminator is None
    assert model.loss_names == ["E", "G"]
    x = batch(small_mnist, 64)
    z = tf.zeros([64, SMALL.latent_dim])  # unused by the autoencoders
    error = lambda: float(model.measure_losses(x, z)["E"])  # batch statistics, no state change
    start = error()
    with frozen_batch_statistics(model.encoder, model.generator):
        codes = model.encoder(x, training=True)["latent"]
        pixel_error = {"l2": tf.square, "l1": tf.abs}[norm](
            x - model.generate(codes, training=True)
        )
    assert start == pytest.approx(float(tf.reduce_mean(pixel_error)), rel=1e-5)
    # G's statistics come from G(E(x)): G is never run on the prior while training.
    momentum = model.generator.norm1.momentum
    before = model.generator.norm1.moving_mean.numpy()
    expected = (
        momentum * before
        + (1 - momentum) * tf.reduce_mean(model.generator.hidden1(codes), 0).numpy()
    )
    logs = model.train_step((x, None))
    np.testing.assert_allclose(
        model.generator.norm1.moving_mean.numpy(), expected, rtol=1e-5, atol=1e-6
    )
    assert float(logs["E"]) == pytest.approx(float(logs["G"]))
    for _ in range(30):
        model.train_step((x, None))
    assert error() < 0.97 * start  # lr 2e-4: 4-8% in 30 steps; a frozen model gives 0%
