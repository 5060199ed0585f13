"""The closed-form linear probe that checks an exported module (bigan_tf.evaluation.probes)."""

import numpy as np
import pytest

from bigan_tf.evaluation.probes import ridge_probe_accuracy


def test_separable_classes_are_all_right_and_the_answer_has_no_seed():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 5) * 10
    labels = rng.integers(0, 3, 300)
    features = centres[labels] + rng.normal(size=(300, 5))
    accuracy = ridge_probe_accuracy(features[:200], labels[:200], features[200:], labels[200:], 3)
    assert accuracy == 100.0
    again = ridge_probe_accuracy(features[:200], labels[:200], features[200:], labels[200:], 3)
    assert again == accuracy


def test_it_is_ridge_regression_on_standardised_features_with_a_free_bias():
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(400, 12)) * 3 + 1, rng.normal(size=(300, 12)) * 3 + 1
    weights = rng.normal(size=(12, 4))
    train_labels = np.argmax(train @ weights + rng.normal(size=(400, 4)) * 4, 1)
    test_labels = np.argmax(test @ weights + rng.normal(size=(300, 4)) * 4, 1)
    # A constant feature (σ = 0) is left as it is instead of dividing by zero.
    train[:, 3], test[:, 3] = 2.0, 2.0
    mean, std = train.mean(0), np.where(train.std(0) < 1e-8, 1.0, train.std(0))
    # The bias is free: sklearn's intercept, fitted on centred data, is the same model.
    ridge = sklearn.Ridge(alpha=5.0).fit((train - mean) / std, np.eye(4)[train_labels])
    expected = 100 * np.mean(np.argmax(ridge.predict((test - mean) / std), 1) == test_labels)
    got = ridge_probe_accuracy(train, train_labels, test, test_labels, 4, l2=5.0)
    assert got == pytest.approx(expected)
    assert 40 < got < 100
