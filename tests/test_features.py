"""The feature-learning levers: hinge and unary (BigBiGAN) losses, spectral norm,
DiffAugment, residual networks, the stochastic encoder, per-network Adam and
extra discriminator steps."""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import BiGAN, NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf import losses as L
from bigan_tf.augment import cutout, diff_augment, translation
from bigan_tf.bigan_loss import bigan_loss
from bigan_tf.errors import ConfigError
from bigan_tf.networks import resnet
from bigan_tf.networks.cost import flops_per_image, parameter_count

REAL = tf.constant([2.0, -0.5, 0.0])
FAKE = tf.constant([-3.0, 0.5, 1.0])


def test_hinge_losses_by_hand():
    np.testing.assert_allclose(
        L.hinge_discriminator_loss(REAL, FAKE), [0.0 + 0.0, 1.5 + 1.5, 1.0 + 2.0]
    )
    np.testing.assert_allclose(L.hinge_encoder_generator_loss(REAL, FAKE), [5.0, -1.0, -1.0])
    np.testing.assert_allclose(L.hinge_generator_loss(FAKE), [3.0, -0.5, -1.0])
    assert L.ADVERSARIAL_LOSSES["bce"].discriminator is L.discriminator_loss


def _model(
    family="mnist_mlp",
    size=28,
    channels=1,
    preset="bigbigan",
    seed=0,
    optimizer=None,
    objective_overrides=None,
    **network,
):
    network = NetworkConfig(
        family=family,
        latent_dim=8,
        hidden_units=32,
        base_width=8,
        image_shape=(size, size, channels),
        **{"joint_discriminator": "scores", **network},
    )
    keras.utils.set_random_seed(seed)
    model = BiGAN.from_config_objects(
        network, objective_from_preset(preset, **(objective_overrides or {})), 2.5e-5, seed
    )
    model.compile_for_training(optimizer or OptimizerConfig(epochs=1, decay_epochs=0), 10)
    return model


def _randomise_heads(model):
    """Non-zero output layers, so every score differs between the pairs."""
    rng = np.random.RandomState(0)
    d = model.joint_discriminator
    for layer in (d.joint_logit, d.x_logit, d.z_logit):
        layer.kernel.assign(rng.normal(0, 0.3, layer.kernel.shape).astype(np.float32))


def _scores(model, x, z):
    real_z = model.encoder(x, training=True)["latent"]
    real = model.joint_discriminator(x, real_z, training=True)
    fake = model.joint_discriminator(model.generate(z, training=True), z, training=True)
    return real, fake


@pytest.mark.parametrize("unary_weight", [0.0, 1.0, 0.5])
def test_bigbigan_objective_sums_hinge_over_the_three_scores(unary_weight):
    model = _model(objective_overrides={"unary_weight": unary_weight})
    _randomise_heads(model)
    x = tf.random.uniform([16, 28, 28, 1], seed=1)
    z = tf.random.uniform([16, 8], -1, 1, seed=2)
    losses = bigan_loss(model, x, z)
    real, fake = _scores(model, x, z)
    hinge_d = lambda k: tf.nn.relu(1 - real[k]) + tf.nn.relu(1 + fake[k])
    expected_d = hinge_d("logits") + unary_weight * (hinge_d("x_logits") + hinge_d("z_logits"))
    expected_eg = (real["logits"] - fake["logits"]) + unary_weight * (
        real["x_logits"] - fake["x_logits"] + real["z_logits"] - fake["z_logits"]
    )
    np.testing.assert_allclose(losses.discriminator, expected_d, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses.encoder, expected_eg, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses.generator, expected_eg, rtol=1e-5, atol=1e-5)
    if unary_weight == 0:  # a hinge BiGAN on the joint score alone
        np.testing.assert_allclose(
            losses.discriminator,
            L.hinge_discriminator_loss(real["logits"], fake["logits"]),
            rtol=1e-5,
            atol=1e-5,
        )


def test_unary_scores_reach_e_through_z_and_g_through_x():
    """s_z(E(x)) is E's only route past J; s_x(G(z)) is G's; neither reaches the other."""
    model = _model()
    _randomise_heads(model)
    x = tf.random.uniform([8, 28, 28, 1], seed=1)
    z = tf.random.uniform([8, 8], -1, 1, seed=2)
    with tf.GradientTape(persistent=True) as tape:
        real, fake = _scores(model, x, z)
        s_z_real, s_x_fake = tf.reduce_sum(real["z_logits"]), tf.reduce_sum(fake["x_logits"])
    assert all(g is not None for g in tape.gradient(s_z_real, model.encoder.trainable_variables))
    assert all(g is None for g in tape.gradient(s_z_real, model.generator.trainable_variables))
    assert all(g is not None for g in tape.gradient(s_x_fake, model.generator.trainable_variables))


def test_unary_weight_needs_the_scores_discriminator():
    with pytest.raises(ConfigError, match="joint_discriminator='scores'"):
        _model(joint_discriminator="injected")
    with pytest.raises(ConfigError, match="joint_discrim_weight"):
        objective_from_preset("gan", unary_weight=1.0)
    with pytest.raises(ConfigError, match="adversarial_loss"):
        objective_from_preset("bigan", adversarial_loss="wasserstein")
    with pytest.raises(ConfigError, match="unknown augmentations"):
        objective_from_preset("bigan", augment="color,flip")
    with pytest.raises(ConfigError, match="spectral_norm names unknown"):
        NetworkConfig(spectral_norm="discriminator,critic").validate()


def test_hinge_plain_gan_trains():
    model = _model(
        preset="gan",
        objective_overrides={"adversarial_loss": "hinge"},
        joint_discriminator="injected",
    )
    logs = model.train_step(tf.random.uniform([16, 28, 28, 1]))
    assert np.isfinite(float(logs["D"])) and np.isfinite(float(logs["G"]))


def test_spectral_norm_bounds_the_largest_singular_value():
    model = _model(spectral_norm="discriminator,generator,encoder")
    layer = model.joint_discriminator.trunk.hidden2
    assert isinstance(layer, keras.layers.SpectralNormalization)
    layer.layer.kernel.assign(3.0 * layer.layer.kernel)
    for _ in range(20):  # power iteration converges over training calls
        model.joint_discriminator(
            tf.random.uniform([4, 28, 28, 1]), tf.zeros([4, 8]), training=True
        )
    sigma = np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 0.05
    names = [w.path for w in model.joint_discriminator.non_trainable_weights]
    assert any("vector_u" in n for n in names)  # checkpointed with the model
    # Measuring losses in training mode moves neither the vector nor the kernel.
    before = [w.numpy().copy() for w in model.joint_discriminator.weights]
    model.measure_losses(tf.random.uniform([4, 28, 28, 1]), tf.zeros([4, 8]))
    for b, w in zip(before, model.joint_discriminator.weights):
        np.testing.assert_array_equal(b, w.numpy())


def test_augmentations_are_functions_of_the_seed_and_pass_gradients():
    images = tf.random.uniform([6, 32, 32, 3], seed=3)
    seed = tf.constant([7, 11], tf.int64)
    policy = ("color", "translation", "cutout")
    a, b = diff_augment(images, policy, seed), diff_augment(images, policy, seed)
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape
    other = diff_augment(images, policy, tf.constant([7, 12], tf.int64))
    assert not np.allclose(a, other)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(diff_augment(images, policy, seed))
    assert float(tf.reduce_sum(tf.abs(tape.gradient(total, images)))) > 0


def test_translation_and_cutout_by_hand():
    images = tf.reshape(tf.range(1, 8 * 8 + 1, dtype=tf.float32), [1, 8, 8, 1])
    shifted = translation(images, tf.constant([0, 3], tf.int64)).numpy()[0, ..., 0]
    # The picture moved by (dy, dx) with |dy|, |dx| <= 1 (8 px / 8), zeros filling in.
    found = [
        (dy, dx)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if np.array_equal(
            shifted, np.roll(np.pad(images.numpy()[0, ..., 0], 1), (dy, dx), (0, 1))[1:-1, 1:-1]
        )
    ]
    assert len(found) == 1
    ones = tf.ones([64, 8, 8, 1])
    cut = cutout(ones, tf.constant([1, 2], tf.int64)).numpy()
    zeros_per_image = (cut == 0).sum(axis=(1, 2, 3))
    assert zeros_per_image.max() == 16 and zeros_per_image.min() >= 4  # 4×4, clipped at edges


def test_augmentation_on_two_replicas_is_the_single_device_draw(mirrored_strategy):
    images = tf.random.uniform([8, 32, 32, 3], seed=4)
    seed = tf.constant([5, 6], tf.int64)
    single = diff_augment(images, ("color", "translation", "cutout"), seed)
    dataset = mirrored_strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors(images).unbatch().batch(8)
    )
    per_replica = mirrored_strategy.run(
        lambda x: diff_augment(x, ("color", "translation", "cutout"), seed),
        args=(next(iter(dataset)),),
    )
    mirrored = tf.concat(mirrored_strategy.experimental_local_results(per_replica), axis=0)
    np.testing.assert_allclose(mirrored, single, rtol=1e-6, atol=1e-6)


def test_augmented_training_step_depends_on_the_step():
    model = _model(objective_overrides={"augment": "translation,cutout"})
    _randomise_heads(model)
    x = tf.random.uniform([8, 28, 28, 1], seed=1)
    z = tf.random.uniform([8, 8], -1, 1, seed=2)
    first = model.compute_losses(x, z).discriminator
    np.testing.assert_array_equal(first, model.compute_losses(x, z).discriminator)
    model.generator_optimizer.iterations.assign_add(1)
    assert not np.allclose(first, model.compute_losses(x, z).discriminator)


def test_stochastic_encoder_draws_from_seed_and_step_and_infers_its_mean():
    model = _model(stochastic_encoder=True)
    _randomise_heads(model)
    x = tf.random.uniform([8, 28, 28, 1], seed=1)
    z = tf.random.uniform([8, 8], -1, 1, seed=2)
    outputs = model.encoder(x)
    assert set(outputs) >= {"latent", "log_variance", "features"}
    np.testing.assert_allclose(model(x), outputs["latent"])  # inference: the mean
    first = model.compute_losses(x, z).encoder
    np.testing.assert_array_equal(first, model.compute_losses(x, z).encoder)
    without_noise = bigan_loss(model, x, z, seed=None).encoder
    assert not np.allclose(first, without_noise)
    model.generator_optimizer.iterations.assign_add(1)
    assert not np.allclose(first, model.compute_losses(x, z).encoder)


@pytest.mark.parametrize("size,stages", [(32, 3), (64, 4)])
def test_residual_networks_shapes(size, stages):
    model = _model("resnet", size, 3, stochastic_encoder=True)
    x = tf.random.uniform([2, size, size, 3])
    z = tf.random.uniform([2, 8], -1, 1)
    assert model.generate(z).shape == (2, size, size, 3)
    outputs = model.encoder(x)
    last_width = 8 * 2 ** (stages - 1)
    assert outputs["latent"].shape == (2, 8) and outputs["features"].shape == (2, 16 * last_width)
    assert sorted(model.encoder.layer_features(x)) == sorted(
        [f"stage{i}" for i in range(1, stages + 1)] + ["pooled"]
    )
    d = model.joint_discriminator(x, z)
    assert {k: tuple(v.shape) for k, v in d.items()} == {
        "logits": (2,),
        "x_logits": (2,),
        "z_logits": (2,),
        "features": (2, last_width),
    }
    logs = model.train_step(x)
    assert all(np.isfinite(float(v)) for v in logs.values())


def test_resnet_cost_is_stated():
    encoder = resnet.ResNetEncoder(latent_dim=64, image_size=32, base_width=32)
    x = tf.zeros([1, 32, 32, 3])
    encoder(x)
    assert 100_000 < parameter_count(encoder) < 2_000_000
    flops = flops_per_image(encoder, x)
    assert 1e7 < flops < 1e9


def test_resnet_family_refuses_the_injected_discriminator():
    with pytest.raises(ConfigError, match="resnet family's joint discriminator"):
        NetworkConfig(family="resnet", image_shape=(32, 32, 3)).validate()
    with pytest.raises(ConfigError, match="32x32 or 64x64"):
        NetworkConfig(
            family="resnet", image_shape=(28, 28, 1), joint_discriminator="scores"
        ).validate()


def test_per_network_adam_and_extra_discriminator_steps():
    config = OptimizerConfig(
        epochs=1,
        decay_epochs=0,
        learning_rate=2e-4,
        discriminator_learning_rate=4e-4,
        discriminator_betas=(0.0, 0.9),
        encoder_learning_rate=1e-4,
        discriminator_steps=2,
    )
    model = _model(optimizer=config)
    assert model.encoder_optimizer is not None
    assert float(model.discriminator_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(model.discriminator_optimizer.beta_2) == pytest.approx(0.9)
    assert float(model.encoder_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(model.generator_optimizer.learning_rate) == pytest.approx(2e-4)
    assert {id(v) for v in model.generator_optimizer_variables}.isdisjoint(
        id(v) for v in model.encoder.trainable_variables
    )
    before = [v.numpy().copy() for v in model.encoder.trainable_variables]
    model.train_step(tf.random.uniform([16, 28, 28, 1]))
    assert int(model.discriminator_optimizer.iterations) == 2
    assert int(model.generator_optimizer.iterations) == 1
    assert int(model.encoder_optimizer.iterations) == 1
    assert any(
        not np.array_equal(b, v.numpy()) for b, v in zip(before, model.encoder.trainable_variables)
    )
    # The default: one E+G optimiser, as the original.
    assert _model().encoder_optimizer is None
    with pytest.raises(ConfigError, match="discriminator_steps"):
        OptimizerConfig(discriminator_steps=0).validate()


def _tiny_data(size=32, n=64, seed=0):
    from bigan_tf.data.pipeline import ImageData

    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, (n, size, size, 3)).astype(np.uint8)
    labels = (np.arange(n) % 4).astype(np.int32)
    return ImageData(images, labels, images[:32], labels[:32], source="random")


def _final_weights(exp_dir, epoch):
    reader = tf.train.load_checkpoint(os.path.join(exp_dir, "checkpoints", f"ckpt-{epoch}"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if "save_counter" not in name and not name.startswith("_CHECKPOINTABLE")
    }


def test_every_lever_resumes_exactly(tmp_path):
    """Two epochs straight == one epoch, then the same run continued to two."""
    from bigan_tf import EvaluationConfig, ExperimentConfig
    from bigan_tf.config import RunConfig
    from bigan_tf.training import train

    def run(exp_dir, epochs):
        train(
            tf.distribute.get_strategy(),
            ExperimentConfig(
                network=NetworkConfig(
                    family="resnet",
                    latent_dim=8,
                    base_width=4,
                    joint_discriminator="scores",
                    stochastic_encoder=True,
                    spectral_norm="discriminator,generator",
                ),
                objective=objective_from_preset("bigbigan", augment="color,translation,cutout"),
                optimizer=OptimizerConfig(
                    epochs=epochs, decay_epochs=0, encoder_learning_rate=1e-4, discriminator_steps=2
                ),
                evaluation=EvaluationConfig(
                    num_val=32,
                    num_train_reference=64,
                    num_generated=64,
                    cls_steps=2,
                    num_sample_images=10,
                ),
                run=RunConfig(
                    exp_dir=str(exp_dir), batch_size=16, seed=0, verbose=0, save_interval=1
                ),
            ),
            _tiny_data(),
            print_fn=lambda s: None,
        )

    run(tmp_path / "straight", 2)
    run(tmp_path / "resumed", 1)
    run(tmp_path / "resumed", 2)
    straight, resumed = (
        _final_weights(tmp_path / "straight", 2),
        _final_weights(tmp_path / "resumed", 2),
    )
    assert straight.keys() == resumed.keys()
    assert any("vector_u" in name for name in straight)
    assert any("encoder_optimizer" in name for name in straight)
    for name in straight:
        np.testing.assert_array_equal(straight[name], resumed[name], err_msg=name)


def test_old_records_read_with_the_original_defaults():
    record = dataclasses.asdict(NetworkConfig())
    for name in ("joint_discriminator", "score_units", "spectral_norm", "stochastic_encoder"):
        record.pop(name)
    assert NetworkConfig.from_dict(record).joint_discriminator == "injected"
    assert objective_from_preset("bigan").adversarial_loss == "bce"


def test_new_networks_survive_a_keras_native_save(tmp_path):
    model = _model(
        "resnet", 32, 3, stochastic_encoder=True, spectral_norm="discriminator,generator"
    )
    x = tf.random.uniform([2, 32, 32, 3], seed=1)
    z = tf.random.uniform([2, 8], -1, 1, seed=2)
    model.save(str(tmp_path / "m.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(
        loaded.encoder(x)["log_variance"], model.encoder(x)["log_variance"], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(loaded.generate(z), model.generate(z), rtol=1e-5, atol=1e-6)
    for key in ("logits", "x_logits", "z_logits"):
        np.testing.assert_allclose(
            loaded.joint_discriminator(x, z)[key],
            model.joint_discriminator(x, z)[key],
            rtol=1e-5,
            atol=1e-6,
        )
