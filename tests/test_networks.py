"""The mnist_mlp networks: shapes, wiring of z, and faithfulness to the original."""

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf.config import NetworkConfig, objective_from_preset
from bigan_tf.networks import BatchNorm, LatentProjection, build_networks
from bigan_tf.errors import ConfigError


@pytest.fixture(scope="module")
def nets():
    nets = build_networks(NetworkConfig(), objective_from_preset("bigan"))
    x = tf.random.uniform([4, 784])
    z = tf.random.uniform([4, 50], -1, 1)
    nets.encoder(x), nets.generator(z), nets.joint_discriminator(x, z)
    return nets


def test_shapes(nets):
    x = tf.random.uniform([4, 28, 28, 1])  # images are flattened inside
    e = nets.encoder(x)
    assert e["latent"].shape == (4, 50) and e["logits"].shape == (4, 50)
    assert e["features"].shape == (4, 1024)
    assert nets.generator(e["latent"]).shape == (4, 28, 28, 1)  # every network makes images
    # A generator config saved before image_shape existed keeps its flat output.
    old_config = {k: v for k, v in nets.generator.get_config().items() if k != "image_shape"}
    assert type(nets.generator).from_config(old_config)(e["latent"]).shape == (4, 784)
    d = nets.joint_discriminator(x, e["latent"])
    assert d["logits"].shape == (4,) and d["features"].shape == (4, 1024)


def test_parameter_shapes_no_biases_parameter_free_bn(nets):
    def shapes(model):
        return sorted(tuple(v.shape) for v in model.trainable_variables)

    assert shapes(nets.encoder) == sorted([(784, 1024), (1024, 1024), (1024, 50)])
    assert shapes(nets.generator) == sorted([(50, 1024), (1024, 1024), (50, 1024), (1024, 784)])
    assert shapes(nets.joint_discriminator) == sorted(
        [(784, 1024), (1024, 1024), (50, 1024), (1024, 1)]
    )
    for model in nets[:3]:
        bns = [x for x in model._flatten_layers() if isinstance(x, BatchNorm)]
        assert all(
            not bn.center and not bn.scale and bn.epsilon == 1e-8 and bn.synchronized for bn in bns
        )
    # BN on E's second layer only; on both of G's; on D's second only.
    assert [
        len([x for x in m._flatten_layers() if isinstance(x, BatchNorm)]) for m in nets[:3]
    ] == [1, 2, 1]


def test_init_stddev(nets):
    w = nets.encoder.hidden2.kernel.numpy()
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001


def test_output_ranges(nets):
    e = nets.encoder(tf.random.uniform([64, 784]))
    np.testing.assert_allclose(e["latent"], 2 * tf.sigmoid(e["logits"]) - 1, atol=1e-6)
    g = nets.generator(tf.random.uniform([64, 50], -1, 1)).numpy()
    assert g.min() >= 0 and g.max() <= 1


def test_z_enters_discriminator_and_generator_second_layer(nets):
    x = tf.random.uniform([8, 784])
    z1 = tf.random.uniform([8, 50], -1, 1)
    z2 = tf.random.uniform([8, 50], -1, 1)
    d = nets.joint_discriminator
    assert not np.allclose(d(x, z1)["features"], d(x, z2)["features"])
    # The injection is exactly hidden2(h) + z·W before batch norm.
    h = tf.nn.leaky_relu(d.hidden1(x), 0.2)
    injected = d.latent2(d.hidden2(h), z1)
    np.testing.assert_allclose(
        injected, d.hidden2(h) + z1 @ d.latent2.projection.kernel, rtol=1e-5, atol=1e-6
    )
    g = nets.generator
    h1 = tf.nn.relu(g.norm1(g.hidden1(z1)))
    np.testing.assert_allclose(
        g.latent2(g.hidden2(h1), z1),
        g.hidden2(h1) + z1 @ g.latent2.projection.kernel,
        rtol=1e-5,
        atol=1e-6,
    )


def test_latent_projection_broadcasts_over_conv_maps():
    layer = LatentProjection(3)
    h = tf.zeros([2, 4, 4, 3])
    z = tf.random.uniform([2, 5])
    out = layer(h, z)
    np.testing.assert_allclose(out[:, 1, 2, :], z @ layer.projection.kernel, rtol=1e-6)


def test_objectives_choose_networks():
    cfg = NetworkConfig(hidden_units=8)
    assert build_networks(cfg, objective_from_preset("gan")).encoder is None
    lr = build_networks(cfg, objective_from_preset("latent_regressor"))
    assert lr.joint_discriminator is None and lr.discriminator is not None
    lr.encoder(tf.zeros([1, 784]))
    # No joint discriminator: the encoder's output layer starts at zero, as in the original.
    assert not np.any(lr.encoder.output_logits.kernel.numpy())


def test_unknown_family():
    with pytest.raises(ConfigError, match="Unknown network family 'vgg'"):
        build_networks(NetworkConfig(family="vgg"), objective_from_preset("bigan"))
