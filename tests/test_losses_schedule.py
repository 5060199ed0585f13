"""Loss functions against hand-computed values; the learning-rate schedule; objectives."""

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf import losses as L
from bigan_tf.config import OBJECTIVE_PRESETS, objective_from_preset
from bigan_tf.errors import ConfigError
from bigan_tf.schedules import ConstantThenExponentialDecay

sig = lambda v: 1 / (1 + math.exp(-v))


def test_discriminator_and_inverse_losses_by_hand():
    real, fake = tf.constant([2.0, -1.0]), tf.constant([0.5, 3.0])
    want_d = [
        0.5 * -math.log(sig(r)) + 0.5 * -math.log(1 - sig(f)) for r, f in zip([2, -1], [0.5, 3])
    ]
    want_i = [
        0.5 * -math.log(1 - sig(r)) + 0.5 * -math.log(sig(f)) for r, f in zip([2, -1], [0.5, 3])
    ]
    np.testing.assert_allclose(L.discriminator_loss(real, fake), want_d, rtol=1e-6)
    np.testing.assert_allclose(L.inverse_loss(real, fake), want_i, rtol=1e-6)
    # At D = 1/2 everywhere, every loss is ln 2 (the README's 0.6932 at epoch 0).
    zero = tf.zeros([3])
    np.testing.assert_allclose(L.discriminator_loss(zero, zero), [math.log(2)] * 3, rtol=1e-6)


def test_nonsaturating_loss():
    np.testing.assert_allclose(
        L.generator_nonsaturating_loss(tf.constant([1.5])), [-math.log(sig(1.5))], rtol=1e-6
    )


def test_latent_regression_loss_by_hand():
    z = tf.constant([[0.5, -1.0]])
    logits = tf.constant([[0.3, -2.0]])
    t = [(0.5 + 1) / 2, 0.0]
    bce = [
        -(ti * math.log(sig(v)) + (1 - ti) * math.log(1 - sig(v))) for ti, v in zip(t, [0.3, -2.0])
    ]
    np.testing.assert_allclose(L.latent_regression_loss(z, logits), [np.mean(bce)], rtol=1e-6)


def test_losses_stable_for_large_logits():
    big = tf.constant([200.0, -200.0])
    assert np.all(np.isfinite(L.discriminator_loss(big, big)))
    assert np.all(np.isfinite(L.inverse_loss(big, -big)))


def test_schedule_key_epochs():
    s = ConstantThenExponentialDecay(2e-4, steps_per_epoch=10, epochs=200, decay_epochs=200)
    lr = lambda epoch: float(s(epoch * 10))
    assert lr(0) == pytest.approx(2e-4) and lr(199) == pytest.approx(2e-4)
    assert float(s(1999)) == pytest.approx(2e-4)  # step within epoch 199
    assert lr(200) == pytest.approx(2e-4 * 0.01 ** (1 / 200), rel=1e-5)
    assert lr(299) == pytest.approx(2e-4 * 0.1, rel=1e-4)
    assert lr(399) == pytest.approx(2e-6, rel=1e-4)
    assert lr(1000) == pytest.approx(2e-6, rel=1e-4)  # clamped past the end
    constant = ConstantThenExponentialDecay(1e-3, 10, epochs=5, decay_epochs=0)
    assert float(constant(10**6)) == pytest.approx(1e-3)


def test_presets_match_the_readme_table():
    table = {
        "bigan": (1, 0, 0, 1),
        "latent_regressor": (0, 1, 1, 0),
        "joint_latent_regressor": (0, 1, 1, 0.25),
        "gan": (0, 1, 0, 0),
    }
    for name, (jd, d, e, eg) in table.items():
        o = OBJECTIVE_PRESETS[name]
        assert (o.joint_discrim_weight, o.discrim_weight, o.encode_weight, o.encode_gen_weight) == (
            jd,
            d,
            e,
            eg,
        )
    assert not OBJECTIVE_PRESETS["gan"].has_encoder


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(encode_weight=-1.0), "--encode_weight must be >= 0"),
        (dict(joint_discrim_weight=0.0), "trains no discriminator"),
        (dict(joint_discrim_weight=float("nan")), "must be a finite number"),
    ],
)
def test_bad_objectives(bad, message):
    with pytest.raises(ConfigError, match=message):
        objective_from_preset("bigan", **bad)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="Unknown objective 'wgan'"):
        objective_from_preset("wgan")


def test_every_config_round_trips_through_json_and_names_unknown_keys():
    import json
    from bigan_tf.config import (
        EvaluationConfig,
        NetworkConfig,
        OptimizerConfig,
        SSGANConfig,
        objective_from_preset,
    )
    from bigan_tf.errors import ConfigError

    configs = [
        objective_from_preset("autoencoder_l1"),
        NetworkConfig(family="dcgan", image_shape=(32, 32, 3), base_width=8),
        OptimizerConfig(learning_rate=1e-3, epochs=3),
        EvaluationConfig(num_val=10),
        SSGANConfig.for_network("conv", image_shape=(32, 32, 3), clip_norm=5.0),
    ]
    for config in configs:
        again = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
        assert again == config, type(config).__name__
    with pytest.raises(ConfigError, match=r"Unknown NetworkConfig settings \['depth'\]"):
        NetworkConfig.from_dict({**configs[1].to_dict(), "depth": 3})


def test_ssgan_records_from_before_reference_batch_norm_keep_per_batch_statistics():
    from bigan_tf.config import SSGANConfig

    old = SSGANConfig.for_network("conv").to_dict()
    del old["reference_batch_norm"]
    assert SSGANConfig.from_dict(old).reference_batch_norm is False
    assert SSGANConfig.for_network("conv", reference_batch_norm=True).reference_batch_norm


def test_generalized_bigan_refuses_objectives_that_need_e_of_g_before_building():
    from bigan_tf.config import NetworkConfig, check_objective_fits
    from bigan_tf.errors import ConfigError

    generalized = NetworkConfig(family="dcgan", image_shape=(32, 32, 3), encoder_size=64)
    check_objective_fits(generalized, objective_from_preset("bigan"))
    with pytest.raises(ConfigError, match="unavailable there"):
        check_objective_fits(generalized, objective_from_preset("latent_regressor"))
    with pytest.raises(ConfigError, match="needs an encoder"):
        check_objective_fits(generalized, objective_from_preset("gan"))
    check_objective_fits(
        NetworkConfig(family="dcgan", image_shape=(32, 32, 3)), objective_from_preset("gan")
    )


def test_experiment_config_round_trips_and_reads_back_the_run_record():
    import json
    from bigan_tf.config import (
        EvaluationConfig,
        ExperimentConfig,
        NetworkConfig,
        OptimizerConfig,
        RunConfig,
    )
    from bigan_tf.data import DataConfig
    from bigan_tf.data.preprocessing import Preprocessing

    experiment = ExperimentConfig(
        run=RunConfig(exp_dir="exp/a", batch_size=64, resume=3),
        network=NetworkConfig(family="dcgan", image_shape=(32, 32, 3)),
        objective=objective_from_preset("latent_regressor"),
        optimizer=OptimizerConfig(epochs=2),
        evaluation=EvaluationConfig(num_val=10),
        data=DataConfig(source="folder", root="imgs", preprocessing=Preprocessing(36, 32)),
    )
    assert ExperimentConfig.from_dict(json.loads(json.dumps(experiment.to_dict()))) == experiment
    # config.json: the sections, the data's record (its DataConfig + sizes), the replicas.
    record = json.loads(
        json.dumps(
            experiment.record(
                {"config": experiment.data.to_dict(), "source": "folder", "num_train": 5}, 2
            )
        )
    )
    assert record["num_replicas"] == 2 and record["data"]["num_train"] == 5
    assert ExperimentConfig.from_record(record) == experiment
    # A record of an older version (no evaluation/run sections, data without a
    # DataConfig) reads back with those sections at their defaults.
    old = {k: record[k] for k in ("network", "objective", "optimizer")}
    old["data"] = {"source": "mnist"}
    again = ExperimentConfig.from_record(old)
    assert again.network == experiment.network and again.data is None
    assert again.evaluation == EvaluationConfig() and again.run.exp_dir == ""
    with pytest.raises(ConfigError, match="Unknown ExperimentConfig sections"):
        ExperimentConfig.from_dict({**experiment.to_dict(), "model": {}})


def test_experiment_resolve_takes_the_shape_and_classes_from_the_data():
    import types
    from bigan_tf.config import ExperimentConfig, NetworkConfig, RunConfig
    from bigan_tf.data import DataConfig

    data_config = DataConfig(source="fashion_mnist")
    data = types.SimpleNamespace(image_shape=(32, 32, 3), num_classes=10, config=data_config)
    # The image shape is a placeholder until resolve(): dcgan at the default 28x28x1
    # would not validate.
    experiment = ExperimentConfig(
        run=RunConfig(exp_dir="x"), network=NetworkConfig(family="dcgan", latent_dim=16)
    )
    with pytest.raises(ConfigError, match="32x32 or 64x64"):
        experiment.validate()
    resolved = experiment.resolve(data)
    assert resolved.network.image_shape == (32, 32, 3) and resolved.data == data_config
    conditional = ExperimentConfig(
        run=RunConfig(exp_dir="x"), network=NetworkConfig(conditional="simple")
    )
    flat = types.SimpleNamespace(image_shape=(28, 28, 1), num_classes=10, config=None)
    assert conditional.resolve(flat).network.num_classes == 10
    too_few = ExperimentConfig(
        run=RunConfig(exp_dir="x"), network=NetworkConfig(conditional="simple", num_classes=5)
    )
    with pytest.raises(ConfigError, match="has 10 classes but the conditional network"):
        too_few.resolve(flat)
    generalized = ExperimentConfig(
        run=RunConfig(exp_dir="x"),
        network=NetworkConfig(family="dcgan", image_shape=(32, 32, 3), encoder_size=64),
    )
    with pytest.raises(ConfigError, match="generalized encoder reads"):
        generalized.resolve(data)
    # Cross-config checks run in resolve too: the GAN has no encoder to generalize.
    gan = dataclasses.replace(generalized, objective=objective_from_preset("gan"))
    with pytest.raises(ConfigError, match="needs an encoder"):
        gan.resolve(types.SimpleNamespace(image_shape=(64, 64, 3), num_classes=10, config=None))
