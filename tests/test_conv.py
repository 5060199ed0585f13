"""Convolutional BiGAN: the networks' parameter shapes, the generalized BiGAN, mixed precision."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import NetworkConfig, OptimizerConfig, objective_from_preset
from bigan_tf.bigan import BiGAN
from bigan_tf.errors import ConfigError
from bigan_tf.networks import build_networks, frozen_batch_statistics
from bigan_tf.training import dtype_policy


def parameter_shapes(network):
    """{layer/weight: shape} of the trainable parameters (no BN moving statistics)."""
    return {
        w.path.split("/", 1)[1]: tuple(w.shape) for w in network.weights if "moving" not in w.path
    }


def conv_model(image_size=64, encoder_size=0, latent_dim=200, base_width=64, objective="bigan"):
    config = NetworkConfig(
        family="dcgan",
        latent_dim=latent_dim,
        base_width=base_width,
        image_shape=(image_size, image_size, 3),
        encoder_size=encoder_size,
    )
    return BiGAN.from_config_objects(config.validate(), objective_from_preset(objective))


# official_code_notes.md §2.3: alexnet_group_padpool, deconvnet_64 and convnet_64 at size 64.
ENCODER_64 = {
    "conv1/kernel": (11, 11, 3, 96),
    "conv2/kernel": (5, 5, 48, 256),  # 2 groups: each sees 48 of conv1's 96 channels
    "norm2/gamma": (256,),
    "norm2/beta": (256,),
    "conv3/kernel": (3, 3, 256, 384),
    "norm3/gamma": (384,),
    "norm3/beta": (384,),
    "conv4/kernel": (3, 3, 192, 384),
    "norm4/gamma": (384,),
    "norm4/beta": (384,),
    "conv5/kernel": (3, 3, 192, 256),
    "norm5/gamma": (256,),
    "norm5/beta": (256,),
    "output_logits/kernel": (4096, 200),  # flatten(conv5 4x4x256) -> 200, no bias
}
GENERATOR_64 = {
    "project/kernel": (200, 8192),
    "project_norm/gamma": (8192,),
    "project_norm/beta": (8192,),
    "deconv1/kernel": (5, 5, 256, 512),
    "latent1/projection/kernel": (200, 256),
    "norm1/gamma": (256,),
    "norm1/beta": (256,),
    "deconv2/kernel": (5, 5, 128, 256),
    "latent2/projection/kernel": (200, 128),
    "norm2/gamma": (128,),
    "norm2/beta": (128,),
    "deconv3/kernel": (5, 5, 64, 128),
    "latent3/projection/kernel": (200, 64),
    "norm3/gamma": (64,),
    "norm3/beta": (64,),
    "output_pixels/kernel": (5, 5, 3, 64),  # no z, no BN on the output layer
}
DISCRIMINATOR_64 = {
    "conv0/kernel": (5, 5, 3, 64),  # no z, no BN on the first layer
    "conv1/kernel": (5, 5, 64, 128),
    "latent1/projection/kernel": (200, 128),
    "norm1/gamma": (128,),
    "norm1/beta": (128,),
    "conv2/kernel": (5, 5, 128, 256),
    "latent2/projection/kernel": (200, 256),
    "norm2/gamma": (256,),
    "norm2/beta": (256,),
    "conv3/kernel": (5, 5, 256, 512),
    "latent3/projection/kernel": (200, 512),
    "norm3/gamma": (512,),
    "norm3/beta": (512,),
    "output_logit/kernel": (8192, 1),
}


def test_parameter_shapes_at_64_px_match_the_original():
    model = conv_model()
    assert parameter_shapes(model.encoder) == ENCODER_64
    assert parameter_shapes(model.generator) == GENERATOR_64
    assert parameter_shapes(model.joint_discriminator) == DISCRIMINATOR_64
    # The README's pretrained encoder has 26 params in Caffe (W per group, BN 5 each);
    # ours: 5 conv kernels (groups in one kernel) + 4 x (gain, bias) + output = 14.
    assert len(model.encoder.trainable_weights) == 14


def test_encoder_at_112_px_and_the_32_px_variant():
    generalized = conv_model(image_size=64, encoder_size=112)
    assert parameter_shapes(generalized.encoder)["output_logits/kernel"] == (12544, 200)
    assert parameter_shapes(generalized.generator) == GENERATOR_64
    small = conv_model(image_size=32, latent_dim=64, base_width=64)
    assert parameter_shapes(small.generator) == {
        "project/kernel": (64, 4096),
        "project_norm/gamma": (4096,),
        "project_norm/beta": (4096,),
        "deconv1/kernel": (5, 5, 128, 256),
        "latent1/projection/kernel": (64, 128),
        "norm1/gamma": (128,),
        "norm1/beta": (128,),
        "deconv2/kernel": (5, 5, 64, 128),
        "latent2/projection/kernel": (64, 64),
        "norm2/gamma": (64,),
        "norm2/beta": (64,),
        "output_pixels/kernel": (5, 5, 3, 64),
    }
    shapes = parameter_shapes(small.joint_discriminator)
    assert shapes["conv2/kernel"] == (5, 5, 128, 256) and "conv3/kernel" not in shapes
    assert shapes["output_logit/kernel"] == (4096, 1)
    assert parameter_shapes(small.encoder)["output_logits/kernel"] == (1024, 64)


def test_output_ranges_and_feature_sizes():
    model = conv_model(image_size=32, latent_dim=16, base_width=8)
    x = tf.random.uniform([4, 32, 32, 3])
    z = tf.random.uniform([4, 16], -1, 1)
    images = model.generate(z)
    assert images.shape == (4, 32, 32, 3) and images.dtype == tf.float32
    assert float(tf.reduce_min(images)) >= 0 and float(tf.reduce_max(images)) <= 1
    encoded = model.encoder(x)
    assert encoded["features"].shape == (4, 1024)  # 2x2x256 conv5 map
    assert float(tf.reduce_max(tf.abs(encoded["latent"]))) <= 1
    out = model.joint_discriminator(x, z)
    assert out["logits"].shape == (4,) and out["features"].shape == (4, 4 * 4 * 32)


def test_z_is_injected_into_every_hidden_generator_and_discriminator_layer():
    model = conv_model(image_size=32, latent_dim=16, base_width=8)
    # The weights the original initialises with N(0, 0.02·k²) for 5x5 layers.
    assert np.std(model.generator.latent1.projection.kernel.numpy()) == pytest.approx(0.5, 0.2)
    z = tf.random.uniform([4, 16], -1, 1)
    x = tf.random.uniform([4, 32, 32, 3])
    # With G's first projection zeroed, z reaches the image only via the re-injections.
    model.generator.project.kernel.assign(tf.zeros_like(model.generator.project.kernel))
    a = model.generate(z, training=True)
    b = model.generate(tf.reverse(z, [0]), training=True)
    assert float(tf.reduce_max(tf.abs(a - tf.reverse(b, [0])))) < 1e-5  # same z, same image
    assert float(tf.reduce_max(tf.abs(a - b))) > 1e-4
    d = model.joint_discriminator
    for i in (1, 2):
        before = d(x, z)["features"]  # the logit layer starts at zero, as the original's
        projection = getattr(d, f"latent{i}").projection.kernel
        saved = projection.numpy()
        projection.assign(tf.zeros_like(projection))
        assert float(tf.reduce_max(tf.abs(d(x, z)["features"] - before))) > 1e-6
        projection.assign(saved)


def test_generalized_bigan_pairs_downsampled_x_with_the_full_size_encoding():
    model = conv_model(image_size=32, encoder_size=64, latent_dim=16, base_width=8)
    assert model.is_generalized
    assert model.data_shape == (64, 64, 3) and model.generated_shape == (32, 32, 3)
    x = tf.random.uniform([4, 64, 64, 3])
    z = tf.random.uniform([4, 16], -1, 1)
    small = model.at_generator_resolution(x)
    assert small.shape == (4, 32, 32, 3)
    # Antialiased: a one-pixel checkerboard averages out to grey instead of aliasing.
    checker = tf.cast((tf.range(64)[:, None] + tf.range(64)[None, :]) % 2, tf.float32)
    checker = tf.tile(checker[None, :, :, None], [1, 1, 1, 3])
    grey = model.at_generator_resolution(checker)[:, 2:-2, 2:-2]
    np.testing.assert_allclose(grey, 0.5, atol=0.02)
    with frozen_batch_statistics(*model.networks):
        losses = model.compute_losses(x, z, training=True)
        real_z = model.encoder(x, training=True)["latent"]
        expected = model.joint_discriminator(small, real_z, training=True)["logits"]
    np.testing.assert_allclose(losses.joint.real_logits, expected, rtol=1e-5, atol=1e-5)


def test_generalized_bigan_refuses_what_it_cannot_do():
    config = NetworkConfig(
        family="dcgan", latent_dim=16, image_shape=(32, 32, 3), encoder_size=64
    ).validate()
    for objective in ("latent_regressor", "joint_latent_regressor"):
        with pytest.raises(ConfigError, match="unavailable in a generalized|unavailable there"):
            build_networks(config, objective_from_preset(objective))
    with pytest.raises(ConfigError, match="needs an encoder"):
        build_networks(config, objective_from_preset("gan"))


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(image_shape=(48, 48, 3)), "32x32 or 64x64"),
        (dict(encoder_size=100), "multiple of 16"),
        (dict(conditional="simple", num_classes=10), "flat families"),
        (
            dict(family="mnist_mlp", image_shape=(28, 28, 1), encoder_size=56),
            "convolutional family",
        ),
    ],
)
def test_bad_conv_configurations_are_named(change, message):
    config = NetworkConfig(family="dcgan", latent_dim=16, image_shape=(64, 64, 3))
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(config, **change).validate()


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_trains_with_float32_variables(precision):
    with dtype_policy(precision):
        model = conv_model(image_size=32, latent_dim=16, base_width=8)
    model.compile_for_training(OptimizerConfig(), 10, loss_scale=precision == "float16")
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert model.encoder.conv1.compute_dtype == precision
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)
    before = [v.numpy() for v in model.generator.trainable_variables]
    logs = model.train_step(tf.random.uniform([8, 32, 32, 3]))
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(
        not np.allclose(b, v.numpy()) for b, v in zip(before, model.generator.trainable_variables)
    )
    assert model.generate(tf.zeros([2, 16])).dtype == tf.float32
    if precision == "float16":
        assert float(model.generator_optimizer.dynamic_scale) > 1  # losses were scaled


def test_one_conv_step_on_two_mirrored_replicas_matches_one_device(mirrored_strategy):
    keras.utils.set_random_seed(0)
    single = conv_model(image_size=32, latent_dim=16, base_width=8)
    single.compile_for_training(OptimizerConfig(), 10)
    with mirrored_strategy.scope():
        mirrored = conv_model(image_size=32, latent_dim=16, base_width=8)
        mirrored.compile_for_training(OptimizerConfig(), 10)
    mirrored.set_weights(single.get_weights())
    x = tf.random.stateless_uniform([16, 32, 32, 3], seed=[1, 2])
    d_single, eg_single, _ = single.compute_gradients(x)
    dist_x = next(
        iter(mirrored_strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(x)))
    )
    per_replica = mirrored_strategy.run(
        tf.function(lambda xb: mirrored.compute_gradients(xb)[:2]), args=(dist_x,)
    )
    summed = [
        mirrored_strategy.reduce("SUM", g, axis=None) for g in per_replica[0] + per_replica[1]
    ]
    expected = d_single + eg_single
    assert len(summed) == len(expected)
    # Synchronized batch norm and the global-batch noise slice make the step the same.
    errors = [
        float(tf.norm(b - a)) / max(float(tf.norm(a)), 1e-12) for a, b in zip(expected, summed)
    ]
    assert max(errors) < 1e-3, errors


def test_discriminators_record_the_shapes_keras_needs_to_rebuild_them():
    from bigan_tf.networks.conv import DCGANDiscriminator
    from bigan_tf.networks.mlp import MLPDiscriminator

    model = conv_model(image_size=32, latent_dim=16, base_width=8)
    config = model.joint_discriminator.get_build_config()
    assert config == {"x_shape": [32, 32, 3], "z_dim": 16}
    rebuilt = DCGANDiscriminator(joint=True, image_size=32, base_width=8)
    rebuilt.build_from_config(config)
    assert parameter_shapes(rebuilt) == parameter_shapes(model.joint_discriminator)
    # Flat discriminators saved before convolutional ones recorded "x_dim".
    legacy = MLPDiscriminator(joint=True, hidden_units=32)
    legacy.build_from_config({"x_dim": 784, "z_dim": 8})
    assert legacy.get_build_config() == {"x_shape": [784], "z_dim": 8}
    plain = MLPDiscriminator(joint=False, hidden_units=32)
    plain.build_from_config({"x_shape": [784]})
    assert plain.get_build_config() == {"x_shape": [784]}
