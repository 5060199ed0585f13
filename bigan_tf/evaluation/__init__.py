"""The paper's evaluation protocol: pure metrics, the evaluator, the batch-norm deploy pass."""

from bigan_tf.evaluation.deploy import (
    TrainingBatches,
    deploy_batch_norm,
    deploy_batch_norm_on_images,
    measure_losses,
)
from bigan_tf.evaluation.evaluator import (
    Evaluator,
    ModelFunctions,
    format_losses,
    format_metrics,
    model_functions,
)
from bigan_tf.evaluation.metrics import (
    linear_classifier_accuracy,
    linear_classifier_predictions,
    nearest_neighbours,
    nnc_predictions,
    nnc_score,
    nnd_score,
    paired_accuracy_margin,
    quantize_images,
    reconstruction_errors,
    reconstruction_scores,
    shifted_partner_indices,
)

__all__ = [
    "Evaluator",
    "ModelFunctions",
    "model_functions",
    "TrainingBatches",
    "deploy_batch_norm",
    "deploy_batch_norm_on_images",
    "measure_losses",
    "format_losses",
    "format_metrics",
    "nearest_neighbours",
    "nnd_score",
    "nnc_score",
    "nnc_predictions",
    "linear_classifier_accuracy",
    "linear_classifier_predictions",
    "paired_accuracy_margin",
    "reconstruction_errors",
    "reconstruction_scores",
    "shifted_partner_indices",
    "quantize_images",
]
