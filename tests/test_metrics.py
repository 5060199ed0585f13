"""Each metric on tiny synthetic data with a known answer."""

import numpy as np
import pytest

from bigan_tf.evaluation import metrics as M
from bigan_tf.evaluation.evaluator import format_losses, format_metrics


def test_nearest_neighbours_match_brute_force():
    rng = np.random.RandomState(0)
    q, r = rng.randn(37, 5).astype(np.float32), rng.randn(53, 5).astype(np.float32)
    d, i = M.nearest_neighbours(q, r, block_size=8)
    brute = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(i, brute.argmin(1))
    np.testing.assert_allclose(d, brute.min(1), rtol=1e-4, atol=1e-4)


def test_running_nearest_distance_over_blocks_equals_all_at_once():
    rng = np.random.RandomState(3)
    q, r = rng.randn(41, 6).astype(np.float32), rng.randn(90, 6).astype(np.float32)
    running = M.RunningNearestDistance(q, block_size=16)
    with pytest.raises(ValueError, match="no reference"):
        running.distances()
    running.update(r[:10])
    np.testing.assert_allclose(
        running.distances(), M.nearest_neighbours(q, r[:10])[0], rtol=1e-5, atol=1e-5
    )
    running.update(r[10:57])
    running.update(r[57:])
    np.testing.assert_allclose(
        running.distances(), M.nearest_neighbours(q, r)[0], rtol=1e-5, atol=1e-5
    )
    assert running.mean() == pytest.approx(M.nnd_score(r, q), rel=1e-5)


def test_nnd_known_answer():
    real = np.array([[0.0, 0.0], [10.0, 0.0]], np.float32)
    generated = np.array([[3.0, 4.0], [10.0, 1.0], [100.0, 100.0]], np.float32)
    # Nearest generated sample: 5 away from the first real point, 1 from the second.
    assert M.nnd_score(generated, real) == pytest.approx(3.0)


def test_nnc_perfect_on_separated_clusters():
    rng = np.random.RandomState(1)
    centres = np.eye(4, 16, dtype=np.float32) * 50
    ref_y, query_y = rng.randint(0, 4, 400), rng.randint(0, 4, 100)
    ref = centres[ref_y] + rng.randn(400, 16).astype(np.float32)
    query = centres[query_y] + rng.randn(100, 16).astype(np.float32)
    assert M.nnc_score(ref, ref_y, query, query_y) == 100.0
    assert M.nnc_score(ref, (ref_y + 1) % 4, query, query_y) == 0.0


def test_nnc_predictions_are_the_nearest_references_labels():
    ref = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], np.float32)
    query = np.array([[9.0, 1.0], [1.0, 8.0], [0.5, 0.5]], np.float32)
    np.testing.assert_array_equal(M.nnc_predictions(ref, [7, 8, 9], query), [8, 9, 7])


def test_paired_accuracy_margin_by_hand():
    a = np.array([1, 1, 1, 0, 1, 0], bool)
    b = np.array([1, 0, 1, 0, 0, 1], bool)
    # d = (0, 1, 0, 0, 1, -1): mean 1/6; sample variance (Σd² − n·mean²)/(n−1) = (3 − 1/6)/5.
    margin, error = M.paired_accuracy_margin(a, b)
    assert margin == pytest.approx(100 / 6)
    assert error == pytest.approx(100 * np.sqrt((3 - 1 / 6) / 5 / 6))
    # Identical answers: no difference and no spread, however many are right.
    assert M.paired_accuracy_margin(a, a) == (0.0, 0.0)
    # Paired beats independent: mostly shared answers give a smaller error than binomial.
    rng = np.random.RandomState(0)
    shared = rng.rand(5000) < 0.8
    flipped = shared.copy()
    flipped[:100] = ~flipped[:100]
    _, paired = M.paired_accuracy_margin(flipped, shared)
    assert paired < 100 * np.sqrt(2 * 0.8 * 0.2 / 5000) / 3
    with pytest.raises(ValueError, match="equal-length"):
        M.paired_accuracy_margin([True], [False])
    with pytest.raises(ValueError, match="equal-length"):  # would broadcast silently
        M.paired_accuracy_margin(a, [True])


def test_shifted_partners_wrap_within_padded_blocks():
    # 5 examples in blocks of 4: [0 1 2 3] [4 0 1 2] -> partners 1 2 3 0 | 0
    np.testing.assert_array_equal(M.shifted_partner_indices(5, block=4), [1, 2, 3, 0, 0])
    np.testing.assert_array_equal(M.shifted_partner_indices(6, block=3), [1, 2, 0, 4, 5, 3])


def test_reconstruction_scores_by_hand():
    x = np.array([[0, 0], [3, 4], [6, 8]], np.float32)
    recon = np.array([[0, 1], [3, 4], [6, 6]], np.float32)
    eg, eg_b = M.reconstruction_scores(x, recon, block=128)
    assert eg == pytest.approx((1 + 0 + 2) / 3)
    # Partners 1, 2, 0: ‖x1 − r0‖ = √(9+9), ‖x2 − r1‖ = √(9+16), ‖x0 − r2‖ = √(36+36).
    assert eg_b == pytest.approx((np.sqrt(18) + 5 + np.sqrt(72)) / 3, rel=1e-6)


def test_perfect_reconstruction():
    x = np.random.RandomState(2).rand(10, 7).astype(np.float32)
    eg, eg_b = M.reconstruction_scores(x, x)
    assert eg == pytest.approx(0.0, abs=1e-6) and eg_b > 0.5


def test_quantize():
    q = M.quantize_images(np.array([[0.0, 0.5, 1.2, 0.002]], np.float32)).numpy()
    np.testing.assert_allclose(q, [[0.0, 128 / 255, 1.0, 1 / 255]], rtol=1e-6)


def test_linear_classifier_learns_separable_classes():
    rng = np.random.RandomState(3)
    y = rng.randint(0, 3, 600)
    feats = np.eye(3, 8, dtype=np.float32)[y] * 3 + 0.3 * rng.randn(600, 8).astype(np.float32)
    acc = M.linear_classifier_accuracy(
        feats[:500],
        y[:500],
        feats[500:],
        y[500:],
        num_classes=3,
        steps=300,
        batch_size=64,
        learning_rate=1e-2,
    )
    assert acc == 100.0
    # Zero-initialised and untrained: every prediction is class 0.
    untrained = M.linear_classifier_accuracy(feats[:500], y[:500], feats[500:], y[500:], 3, steps=0)
    assert untrained == pytest.approx(100 * np.mean(y[500:] == 0))
    predicted = M.linear_classifier_predictions(feats[:500], y[:500], feats[500:], 3, steps=0)
    np.testing.assert_array_equal(predicted, np.zeros(100))


def test_pixel_histogram_chi2_by_hand():
    zeros, ones = np.zeros((4, 3, 3, 1)), np.ones((4, 3, 3, 1))
    assert M.pixel_histogram_chi2(zeros, zeros) == 0.0
    assert M.pixel_histogram_chi2(zeros, ones) == pytest.approx(1.0)  # disjoint histograms
    # Half the pixels 0, half 1 vs all 0: h_r = (½, ½), h_g = (1, 0) over the used bins:
    # ½ [(½ − 1)² / (3/2) + (½)² / ½] = ½ [1/6 + ½] = 1/3.
    half = np.concatenate([zeros, ones])
    assert M.pixel_histogram_chi2(half, np.zeros((8, 3, 3, 1)), bins=4) == pytest.approx(1 / 3)
    assert M.pixel_histogram_chi2(half, half[::-1]) == 0.0  # order does not matter


def test_printed_lines_match_the_original_format():
    assert (
        format_losses(1, {"JD": 0.42391, "E": 1.2217, "G": 1.2217})
        == "  1) JD: 0.4239  E: 1.2217  G: 1.2217"
    )
    assert (
        format_metrics({"NND/100": 7.372, "NNC_e": 89.94, "CLS_e-": 86.72, "EGr_b": 9.55})
        == "NND/100: 7.37  NNC_e: 89.94%  CLS_e-: 86.72%  EGr_b: 9.55"
    )


def test_a_standardised_linear_probe_ignores_the_features_scale_and_offset():
    """With `standardize` the probe reads (f − mean) / std of the training features: a
    feature scaled by 1000 and shifted gives the same predictions; raw, it does not."""
    from bigan_tf.evaluation.metrics import linear_classifier_predictions

    rng = np.random.RandomState(0)
    labels = rng.randint(0, 3, 600)
    features = rng.normal(size=(600, 5)).astype(np.float32)
    features[:, 0] += 2.0 * labels  # one informative feature
    train, test = slice(0, 500), slice(500, 600)
    distorted = features * np.array([1000, 1, 1, 1, 1], np.float32) + 300.0
    predict = lambda f, standardize: linear_classifier_predictions(
        f[train], labels[train], f[test], 3, steps=300, standardize=standardize
    )
    standardised = predict(features, True)
    np.testing.assert_array_equal(predict(distorted, True), standardised)
    assert np.mean(standardised == labels[test]) > 0.6
    assert not np.array_equal(predict(distorted, False), standardised)
