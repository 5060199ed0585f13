"""The BiGAN model: objectives route gradients right, deploy pass, distributed equivalence."""

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import EvaluationConfig, NetworkConfig
from bigan_tf.data import to_model_range
from bigan_tf.evaluation import Evaluator
from bigan_tf.evaluation.deploy import TrainingBatches, deploy_batch_norm
from conftest import make_compiled_bigan

SMALL = NetworkConfig(hidden_units=32, latent_dim=8)


def make_model(preset="bigan", seed=0, weight_decay=2.5e-5):
    return make_compiled_bigan(preset, SMALL, seed, weight_decay)


def batch(small_mnist, n=32):
    return to_model_range(small_mnist.train_images[:n])


def test_train_step_updates_every_module(small_mnist):
    model = make_model()
    before = [v.numpy().copy() for v in model.trainable_variables]
    logs = model.train_step((batch(small_mnist), None))
    assert set(logs) == {"JD", "JD_real_acc", "JD_fake_acc", "E", "G"}
    # BiGAN: E and G minimise the same loss (README: "always equal").
    assert float(logs["E"]) == pytest.approx(float(logs["G"]))
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables)]
    assert all(changed)
    assert int(model.generator_optimizer.iterations) == 1


def test_bigan_encoder_gets_inverse_loss_gradient(small_mnist):
    model = make_model(weight_decay=0.0)
    x = batch(small_mnist)
    z = tf.random.uniform([32, 8], -1, 1)
    _, eg_grads, _ = model.compute_gradients(x, z)
    e_vars = model.encoder.trainable_variables
    with tf.GradientTape() as tape:
        real = model.joint_discriminator(
            x, model.encoder(x, training=True)["latent"], training=True
        )
        fake = model.joint_discriminator(model.generator(z, training=True), z, training=True)
        loss = tf.reduce_mean(
            0.5 * tf.nn.softplus(real["logits"]) + 0.5 * tf.nn.softplus(-fake["logits"])
        )
    want = tape.gradient(loss, e_vars)
    for got, w in zip(eg_grads[-len(e_vars) :], want):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-7)


def test_latent_regressor_routes_gradients(small_mnist):
    model = make_model("latent_regressor", weight_decay=0.0)
    x, z = batch(small_mnist), tf.random.uniform([32, 8], -1, 1)
    d_grads, eg_grads, losses = model.compute_gradients(x, z)
    assert model.joint_discriminator is None and len(d_grads) == 3  # D(x) has no z map
    assert losses.plain is not None and losses.encoder is not None and losses.joint is None
    # eg_w = 0: the latent regressor loss moves E only; G's gradient is the GAN loss's alone.
    g_vars = model.generator.trainable_variables
    with tf.GradientTape() as tape:
        fake = model.discriminator(model.generator(z, training=True), training=True)["logits"]
        loss = tf.reduce_mean(tf.nn.softplus(-fake))
    for got, w in zip(eg_grads[: len(g_vars)], tape.gradient(loss, g_vars)):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-7)


def test_weight_decay_is_coupled_into_gradients(small_mnist):
    x, z = batch(small_mnist), tf.random.uniform([32, 8], -1, 1)
    with_decay = make_model(weight_decay=0.1)
    without = make_model(weight_decay=0.0)
    without.set_weights(with_decay.get_weights())
    d1, _, _ = with_decay.compute_gradients(x, z)
    d0, _, _ = without.compute_gradients(x, z)
    for g1, g0, v in zip(d1, d0, with_decay.discriminator_variables):
        np.testing.assert_allclose(g1 - g0, 0.1 * v.numpy(), rtol=1e-4, atol=1e-7)


def test_plain_gan_has_no_encoder_and_trains(small_mnist):
    model = make_model("gan")
    assert model.encoder is None
    logs = model.train_step(batch(small_mnist))
    assert set(logs) == {"D", "D_real_acc", "D_fake_acc", "G"}


def test_deploy_pass_sets_mean_of_batch_statistics(small_mnist):
    model = make_model()
    batches = TrainingBatches.for_model(
        model, small_mnist.train_images, small_mnist.train_labels, batch_size=16, seed=0
    )
    losses = deploy_batch_norm(model, batches.take(3))
    assert set(losses) == {"JD", "E", "G"}
    enc = model.encoder
    means, variances = [], []
    for i in range(3):
        x = tf.reshape(batches[i][0], [16, -1])  # the MLP flattens its images first
        pre = enc.hidden2(tf.nn.leaky_relu(enc.hidden1(x), 0.2)).numpy()
        means.append(pre.mean(0))
        variances.append(pre.var(0, ddof=1))
    np.testing.assert_allclose(
        enc.norm2.moving_mean.numpy(), np.mean(means, 0), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        enc.norm2.moving_variance.numpy(), np.mean(variances, 0), rtol=1e-3, atol=1e-8
    )


@pytest.mark.parametrize("preset", ["bigan", "gan"])
def test_evaluation_streams_generated_samples_and_matches_all_at_once(small_mnist, preset):
    """Blocks of 256 over 1000 samples (not a multiple of the 128-sample EG baseline
    block, so the last baseline block wraps to the first samples) give the metrics
    computed with every sample in memory."""
    from bigan_tf.evaluation import metrics as M

    model = make_model(preset)
    config = EvaluationConfig(num_val=50, num_train_reference=100, num_generated=1000, cls_steps=5)
    evaluator = Evaluator.for_model(model, small_mnist, config, seed=0, generation_block=256)
    blocks = list(evaluator.generated_blocks())
    assert [start for start, _ in blocks] == [0, 256, 512, 768]
    assert max(len(b) for _, b in blocks) == 256
    results = evaluator.evaluate()
    generated = evaluator.generated_samples()
    np.testing.assert_allclose(np.concatenate([b for _, b in blocks]), generated, atol=1e-6)
    real = evaluator.val_x
    expected = {
        "NND/100": M.nnd_score(generated[:10], real),
        "NND/10": M.nnd_score(generated[:100], real),
        "NND": M.nnd_score(generated, real),
        "PIX_CHI2": M.pixel_histogram_chi2(real, generated[:50]),
    }
    if preset == "bigan":
        quantized = M.quantize_images(generated).numpy()
        latent = model.encoder(quantized, training=False)["latent"]
        expected["EGg"], expected["EGg_b"] = M.reconstruction_scores(
            quantized, model.generate(latent, training=False).numpy(), config.baseline_block
        )
    else:
        assert "EGg" not in results
    for name, value in expected.items():
        assert results[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    assert list(results)[:4] == ["NND/100", "NND/10", "NND", "PIX_CHI2"]
    with pytest.raises(ValueError, match="multiple of baseline_block"):
        Evaluator.for_model(model, small_mnist, config, generation_block=200)


def test_measure_losses_changes_no_state(small_mnist):
    model = make_model()
    before = [v.numpy().copy() for v in model.weights]
    z = tf.random.uniform([32, 8], -1, 1)
    losses = model.measure_losses(batch(small_mnist), z)
    assert set(losses) == {"JD", "E", "G"}
    for b, v in zip(before, model.weights):
        np.testing.assert_array_equal(b, v.numpy())


def _single_and_mirrored_gradients(small_mnist, preset, strategy):
    single = make_model(preset)
    with strategy.scope():
        mirrored = make_model(preset)
    mirrored.set_weights(single.get_weights())
    x = batch(small_mnist, 64)
    d_single, eg_single, _ = single.compute_gradients(x)  # noise from (seed, step 0)
    dist_x = next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(x))))
    per_replica = strategy.run(
        tf.function(lambda xb: mirrored.compute_gradients(xb)[:2]), args=(dist_x,)
    )
    mirrored_grads = [strategy.reduce("SUM", g, axis=None) for g in per_replica[0] + per_replica[1]]
    # The same single-device step with the two halves of the batch swapped: only
    # the order of float reductions changes, which measures the step's conditioning.
    perm = np.r_[32:64, 0:32]
    z = single.training_noise(64)
    d_perm, eg_perm, _ = single.compute_gradients(tf.gather(x, perm), tf.gather(z, perm))
    assert len(mirrored_grads) == len(d_single + eg_single)
    return d_single + eg_single, mirrored_grads, d_perm + eg_perm


def _relative_norm_gap(a, b):
    return abs(float(tf.norm(b)) / float(tf.norm(a)) - 1.0)


def _relative_error(a, b):
    return float(tf.norm(b - a)) / float(tf.norm(a))


def test_two_replicas_give_the_single_device_gradient(small_mnist, mirrored_strategy):
    """BiGAN: one step on 2 mirrored CPU devices vs one device, same global batch and noise."""
    single, mirrored, _ = _single_and_mirrored_gradients(small_mnist, "bigan", mirrored_strategy)
    for a, b in zip(single, mirrored):
        assert _relative_norm_gap(a, b) <= 1e-5
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5 * float(tf.norm(a)))


@pytest.mark.parametrize("preset", ["latent_regressor", "joint_latent_regressor", "gan"])
def test_two_replicas_no_worse_than_reordering_the_batch(small_mnist, preset, mirrored_strategy):
    """x-only D presets: G's first samples are nearly identical, so D's batch norm on
    the fake batch is ill-conditioned and even reordering the batch on one device
    moves gradients by ~1e-4 (‖Δg‖/‖g‖). Distribution must add no more than that."""
    single, mirrored, permuted = _single_and_mirrored_gradients(
        small_mnist, preset, mirrored_strategy
    )
    for a, b, p in zip(single, mirrored, permuted):
        assert _relative_error(a, b) <= 1e-5 + 4 * _relative_error(a, p)


def test_replicas_draw_distinct_noise(mirrored_strategy):
    strategy = mirrored_strategy
    with strategy.scope():
        model = make_model()
    z = strategy.run(tf.function(lambda: model.training_noise(4)))
    a, b = [t.numpy() for t in strategy.experimental_local_results(z)]
    assert a.shape == (4, 8) and not np.allclose(a, b)
    single = make_model()
    np.testing.assert_array_equal(np.concatenate([a, b]), single.training_noise(8).numpy())
