"""Probes of an encoder's features against its random init and raw pixels.

The training protocol scores E's "e-" features on a held-out split at each
evaluation; these probes answer the question that matters to a user of the
features, on the test split, with the sampling error of the answer:

* `layer_scores`: per layer (or any named features), per test image, whether
  1-NN against the reference images (NNC) and a linear softmax classifier
  trained on them (CLS) get the label right;
* `margin_rows`: trained − random-init accuracy per layer, each with its
  paired standard error over the shared test images
  (`metrics.paired_accuracy_margin`);
* `probe_encoders`: the whole protocol for several encoders at once (batch
  norm deployed over training images first, raw pixels scored beside them);
* `ridge_probe_accuracy`: a closed-form linear probe, deterministic to float64
  rounding, for checking that an exported module still computes the features
  it was published with.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

import numpy as np
import tensorflow as tf

from bigan_tf.evaluation.deploy import deploy_batch_norm_on_images
from bigan_tf.evaluation.metrics import (
    batched_map,
    linear_classifier_predictions,
    nnc_predictions,
    paired_accuracy_margin,
)

FEATURE_BATCH = 500
Features = Callable[[tf.Tensor], Dict[str, tf.Tensor]]


def accuracy(correct: Any) -> float:
    """Per-example right/wrong (an array) -> accuracy (%)."""
    return float(100.0 * np.mean(correct))


def layer_scores(
    features: Features,
    reference_x: np.ndarray,
    reference_labels: np.ndarray,
    query_x: np.ndarray,
    query_labels: np.ndarray,
    classifier: Callable[..., np.ndarray],
) -> Dict[str, Dict[str, object]]:
    """{layer: {"width", "NNC", "CLS"}} of the layers `features` returns for a batch.

    "NNC" and "CLS" are per-query booleans (right or wrong), so that two encoders
    can be compared on the same queries (`margin_rows`); `classifier(train
    features, train labels, query features)` returns predicted labels. One layer
    at a time (its own traced function, which computes no later layer), so only
    one layer's features are held: at 64 px the AlexNet E's five layers are 27k
    floats an image.
    """
    query_labels = np.asarray(query_labels)
    scores = {}
    for name in features(reference_x[:1]):
        layer = tf.function(lambda x, name=name: features(x)[name])
        reference = batched_map(layer, reference_x, FEATURE_BATCH)
        query = batched_map(layer, query_x, FEATURE_BATCH)
        scores[name] = {
            "width": int(reference.shape[1]),
            "NNC": nnc_predictions(reference, reference_labels, query) == query_labels,
            "CLS": classifier(reference, reference_labels, query) == query_labels,
        }
    return scores


def margin_rows(
    random_init: Mapping[str, Dict[str, object]], trained: Mapping[str, Dict[str, object]]
) -> List[Dict[str, object]]:
    """One row per layer (in E's order): both encoders' NNC and CLS (%), and trained − random.

    Each margin comes with its paired standard error over the shared test images:
    a margin within about two of them is not a difference this test set can show.
    """
    rows = []
    for name, at_init in random_init.items():
        now = trained[name]
        row = {"layer": name, "width": at_init["width"]}
        for measure in ("NNC", "CLS"):
            margin, error = paired_accuracy_margin(now[measure], at_init[measure])
            row.update(
                {
                    f"{measure} random init": accuracy(at_init[measure]),
                    f"{measure} trained": accuracy(now[measure]),
                    f"{measure} margin": margin,
                    f"{measure} margin SE": error,
                }
            )
        rows.append(row)
    return rows


def format_margin_table(rows: List[Dict[str, object]], trained_name: str) -> str:
    """`margin_rows` as a Markdown table; `trained_name` heads the trained columns."""
    lines = [
        f"| layer | width | NNC random init | NNC {trained_name} | margin ± SE | "
        f"CLS random init | CLS {trained_name} | margin ± SE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['layer']} | {r['width']} | {r['NNC random init']:.2f} | "
            f"{r['NNC trained']:.2f} | {r['NNC margin']:+.2f} ± "
            f"{r['NNC margin SE']:.2f} | {r['CLS random init']:.2f} | "
            f"{r['CLS trained']:.2f} | {r['CLS margin']:+.2f} ± "
            f"{r['CLS margin SE']:.2f} |"
        )
    return "\n".join(lines)


def probe_encoders(
    models: Mapping[str, object],
    features: Callable[[object], Features],
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int,
    evaluation: Any,
    deploy_iters: int,
    seed: int,
    print_fn: Callable[[str], None] = lambda s: None,
    standardize: bool = False,
) -> Dict[str, object]:
    """Raw pixels and every model of `models` ({name: BiGAN}) scored on the test images.

    Images are the model's input ([N, H, W, C] in [0, 1]); the training images
    are the kNN references and the classifier's training set. Each model's batch
    norm is first deployed over `deploy_iters` training batches (changing its
    test-time statistics only); `features(model)` names what is scored (e.g.
    `lambda m: m.encoder.layer_features`). The classifier is the protocol's
    (`evaluation`: an `EvaluationConfig`), seeded with `seed`, on standardised
    features when `standardize` (`linear_classifier_predictions`). Returns
    {"pixels": {"width", "NNC", "CLS"} in %, "scores": {name: layer_scores}}.
    """

    def classifier(train_f, train_l, test_f):
        return linear_classifier_predictions(
            train_f,
            train_l,
            test_f,
            num_classes,
            steps=evaluation.cls_steps,
            batch_size=evaluation.cls_batch_size,
            learning_rate=evaluation.cls_learning_rate,
            seed=seed,
            standardize=standardize,
        )

    flat = lambda x: {"pixels": tf.reshape(x, [tf.shape(x)[0], -1])}
    pixel_scores = layer_scores(
        flat, train_images, train_labels, test_images, test_labels, classifier
    )["pixels"]
    pixels = {
        "width": pixel_scores["width"],
        "NNC": accuracy(pixel_scores["NNC"]),
        "CLS": accuracy(pixel_scores["CLS"]),
    }
    print_fn(f"raw pixels ({pixels['width']}): NNC {pixels['NNC']:.2f}, CLS {pixels['CLS']:.2f}")
    scores = {}
    for name, model in models.items():
        deploy_batch_norm_on_images(model, train_images, train_labels, deploy_iters, seed)
        scores[name] = layer_scores(
            features(model), train_images, train_labels, test_images, test_labels, classifier
        )
        print_fn(f"{name}: done")
    return {"pixels": pixels, "scores": scores}


def ridge_probe_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int,
    l2: float = 1.0,
) -> float:
    """Test accuracy (%) of ridge regression onto one-hot labels, in float64.

    Features are standardised with the training features' mean μ and standard
    deviation σ (σ < 1e-8 counts as 1), x̂ = (x − μ) / σ, a bias column is
    appended, and W = (X̂ᵀX̂ + l2·I)⁻¹ X̂ᵀY with Y the one-hot training labels
    (the bias unpenalised); a test image's class is argmax_k (x̂ W)_k. Unlike
    the protocol's SGD-trained classifier the answer has no seed and no
    step budget, so two machines agree on it to a few images.
    """
    train = np.asarray(train_features, np.float64).reshape(len(train_features), -1)
    test = np.asarray(test_features, np.float64).reshape(len(test_features), -1)
    mean, std = train.mean(0), train.std(0)
    std = np.where(std < 1e-8, 1.0, std)
    design = lambda x: np.concatenate([(x - mean) / std, np.ones((len(x), 1))], axis=1)
    x_train, x_test = design(train), design(test)
    targets = np.eye(num_classes)[np.asarray(train_labels)]
    penalty = l2 * np.eye(x_train.shape[1])
    penalty[-1, -1] = 0.0
    weights = np.linalg.solve(x_train.T @ x_train + penalty, x_train.T @ targets)
    predictions = np.argmax(x_test @ weights, axis=1)
    return float(100.0 * np.mean(predictions == np.asarray(test_labels)))
