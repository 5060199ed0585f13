"""Files written by an earlier version still load and give the same outputs.

tests/fixtures/v1 was written by `tests/fixtures/make_fixtures.py` (a run with
its checkpoint and config.json, a TF-Hub module, a SavedModel, and the outputs
they gave then). A refactoring that changes how networks are built, named or
shaped must keep these loading, through every public entry point.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from bigan_tf.checkpoints import load_trained_model
from bigan_tf.config import ExperimentConfig
from bigan_tf.hub import EncoderLayer
from bigan_tf.sampling import LatentModel

V1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "v1")
EXPECTED = dict(np.load(os.path.join(V1, "expected.npz")))
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def test_v1_checkpoint_restores_the_same_networks():
    trained = load_trained_model(os.path.join(V1, "run"))
    assert trained.epoch == 1 and trained.network.image_shape == (8, 8, 1)
    assert isinstance(trained.experiment, ExperimentConfig)
    x = EXPECTED["x"]
    encoded = trained.model.encoder(x.reshape(len(x), -1), training=False)
    np.testing.assert_allclose(encoded["latent"], EXPECTED["latent"], **TOLERANCE)
    np.testing.assert_allclose(encoded["features"], EXPECTED["features"], **TOLERANCE)
    generated = trained.model.generate(tf.constant(EXPECTED["z"]), training=False)
    np.testing.assert_allclose(
        np.reshape(generated, EXPECTED["generated"].shape), EXPECTED["generated"], **TOLERANCE
    )


def test_v1_run_and_saved_model_load_as_latent_models():
    for path in (os.path.join(V1, "run"), os.path.join(V1, "saved_model")):
        model = LatentModel.load(path)
        assert tuple(model.image_shape) == (8, 8, 1), path
        np.testing.assert_allclose(
            model.generate(EXPECTED["z"]), EXPECTED["generated"], **TOLERANCE
        )
        np.testing.assert_allclose(model.encode(EXPECTED["x"]), EXPECTED["latent"], **TOLERANCE)


def test_v1_hub_module_gives_the_same_features():
    hub_dir = os.path.join(V1, "hub")
    layer = EncoderLayer(hub_dir, trainable=False)
    np.testing.assert_allclose(layer(EXPECTED["x"]), EXPECTED["features"], **TOLERANCE)
    served = tf.saved_model.load(hub_dir).signatures["serving_default"]
    np.testing.assert_allclose(
        served(tf.constant(EXPECTED["x"]))["default"], EXPECTED["features"], **TOLERANCE
    )


def test_the_evaluator_takes_functions_an_export_gives_the_protocol_of_its_run():
    """Evaluator over ModelFunctions of the v1 SavedModel's signatures = over the v1 run."""
    import importlib.util
    from bigan_tf.config import EvaluationConfig
    from bigan_tf.evaluation.evaluator import Evaluator, ModelFunctions

    spec = importlib.util.spec_from_file_location(
        "make_fixtures", os.path.join(os.path.dirname(V1), "make_fixtures.py")
    )
    make_fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_fixtures)
    data = make_fixtures.synthetic_data()
    config = EvaluationConfig(
        num_val=64, num_train_reference=256, num_generated=256, cls_steps=20, num_sample_images=20
    )
    from_run = Evaluator.for_model(
        load_trained_model(os.path.join(V1, "run")).model, data, config
    ).evaluate()
    signatures = tf.saved_model.load(os.path.join(V1, "saved_model")).signatures
    functions = ModelFunctions(
        generate=lambda z, labels=None: signatures["generate"](z=z)["images"],
        encode=lambda x: signatures["encode"](images=x),
        discriminator_features=None,
        to_generator_resolution=lambda x: x,
        latent_dim=4,
        num_classes=0,
        data_shape=(8, 8, 1),
        generated_shape=(8, 8, 1),
    )
    from_export = Evaluator(functions, data, config).evaluate()
    assert "NNC_e" in from_run and "NNC_e" not in from_export  # no logits served
    for name in ("NND", "NNC_e-", "CLS_e-", "EGr", "EGr_b", "EGg"):
        assert from_export[name] == pytest.approx(from_run[name], rel=1e-4, abs=1e-4), name
