"""Evaluation sets of Table 1's 1-NN accuracy: the test split and held-out splits of training.

The paper calls its Table 1 set the "test set"; the original code scores the
10k images that `load.mnist_with_valid_set` holds out of the 60k training
images against the other 50k. `evaluation_sets` lists both (and other
held-out draws) as index sets into the stacked [training; test] images, and
`accuracies` reads the 1-NN accuracy of one feature matrix on each, so the
same features are compared across sets (`benchmarks.evaluation_sets`).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List, NamedTuple, Tuple

import numpy as np
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

ORIGINAL = "original held-out"
TEST_SET = "t10k"


class EvaluationSet(NamedTuple):
    """Query and reference rows of the stacked [training; test] images."""

    name: str
    reference: np.ndarray
    query: np.ndarray


def evaluation_sets(num_train: int, num_test: int, random_splits: int) -> List[EvaluationSet]:
    """t10k vs the first num_train − num_test training images, the original's held-out
    split, and `random_splits` other held-out splits (seeds 0..N-1, 42 skipped): every
    set has num_test queries and num_train − num_test references."""
    from bigan_tf.data import held_out_indices
    from bigan_tf.data.pipeline import VALIDATION_SPLIT_SEED

    sets = [
        EvaluationSet(TEST_SET, np.arange(num_train - num_test), num_train + np.arange(num_test))
    ]
    seeds = [s for s in range(random_splits + 1) if s != VALIDATION_SPLIT_SEED][:random_splits]
    for name, seed in [(ORIGINAL, VALIDATION_SPLIT_SEED)] + [(f"seed {s}", s) for s in seeds]:
        train, val = held_out_indices(num_train, num_test, seed)
        sets.append(EvaluationSet(name, train, val))
    return sets


def accuracies(
    features: np.ndarray, labels: np.ndarray, sets: List[EvaluationSet]
) -> Dict[str, float]:
    """1-NN accuracy (%) of each set's queries against its references."""
    from bigan_tf.evaluation.metrics import nnc_score

    return {
        s.name: nnc_score(
            features[s.reference], labels[s.reference], features[s.query], labels[s.query]
        )
        for s in sets
    }


def summary(name: str, scores: Dict[str, float]) -> Dict[str, object]:
    """One table row: t10k, the original's split, the other splits' mean/min/max, shift."""
    others = [v for k, v in scores.items() if k not in (TEST_SET, ORIGINAL)]
    row: Dict[str, object] = {
        "features": name,
        TEST_SET: scores[TEST_SET],
        ORIGINAL: scores[ORIGINAL],
        "shift": scores[ORIGINAL] - scores[TEST_SET],
    }
    if others:
        row.update(
            {
                "other mean": float(np.mean(others)),
                "other min": min(others),
                "other max": max(others),
            }
        )
    return row


def model_features(model: keras.Model, name: str) -> Iterator[Tuple[str, Callable]]:
    """(row name, images in [0, 1] shaped for the model -> features) of a `BiGAN`."""
    from bigan_tf.evaluation.evaluator import model_functions

    functions = model_functions(model)
    encode = functions.encode
    if encode is not None:
        yield f"{name}: E penultimate (NNC_e-)", lambda x: encode(x)["features"]
        yield f"{name}: E logits (NNC_e)", lambda x: encode(x)["logits"]
    if functions.discriminator_features is not None:
        yield f"{name}: D penultimate (NNC_d)", functions.discriminator_features
