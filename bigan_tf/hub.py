"""Loading an exported encoder module into Keras 3 models.

`hub.KerasLayer` is a tf_keras (Keras 2) layer and cannot be added to a Keras 3
model (tensorflow/hub#903), and `keras.layers.TFSMLayer` picks its endpoint
from `training` alone, so a frozen TFSMLayer called with `training=True` still
runs batch norm in training mode and updates its moving averages; it also
ignores the module's `regularization_losses`. `EncoderLayer` gives Keras 3
users hub.KerasLayer's semantics for any Reusable SavedModel (ours, or any
TF2 TF-Hub module with `__call__(inputs, training)`):

* its weights are the module's variables (shared, not copied), trainable when
  the layer is trainable and the module lists them as trainable;
* the module runs with `training=True` only when the layer is trainable *and*
  called in training, so a frozen encoder keeps its batch-norm statistics;
* the module's regularization losses are added to `model.losses` only while
  the layer is trainable;
* `frozen_layers=K` keeps the weights of the encoder's first K layers fixed
  (the paper's Table 2 protocol), using the layer table in the export's
  `bigan_tf.json`. Their batch norm, if any, follows the rest of the encoder.
* It survives `model.save("x.keras")` / `keras.saving.load_model`: the config
  holds the handle and the weights file holds the (fine-tuned) values. As for
  `TFSMLayer`, reloading runs the SavedModel's graph, so Keras requires
  `safe_mode=False` for it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple

import keras
import tensorflow as tf

from bigan_tf.errors import BiganError

METADATA_FILE = "bigan_tf.json"


class ExportError(BiganError):
    """An export cannot be written or read (exists already, missing, not a module, ...)."""


def resolve_handle(handle: str) -> str:
    """A local folder as is; anything else (a tfhub.dev / Kaggle URL) via `hub.resolve`."""
    if os.path.isdir(handle):
        return handle
    if "://" not in handle:
        raise ExportError(
            f"Module {handle!r} does not exist: give an export folder or a TF-Hub URL."
        )
    import tensorflow_hub as hub  # only for remote handles: it imports tf_keras

    return hub.resolve(handle)


def read_export_metadata(export_dir: str) -> Optional[Dict]:
    """The export's `bigan_tf.json`, or None for a module not written by bigan_tf."""
    path = os.path.join(export_dir, METADATA_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        raise ExportError(f"{path} is not valid JSON ({e}); re-export the module.") from None


def load_module(handle: str) -> Any:
    """`tf.saved_model.load` of a Reusable SavedModel, checked for `__call__` and `variables`."""
    path = resolve_handle(handle)
    try:
        module = tf.saved_model.load(path)
    except Exception as e:  # noqa: BLE001 - a damaged module fails in many ways
        # (OpError for bad checksums, DecodeError for a corrupt saved_model.pb,
        # IndexError for truncated variables, ...).
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise ExportError(
            f"Cannot load a SavedModel from {path} ({reason}): the module is "
            "damaged or not a SavedModel; export it again."
        ) from None
    if not callable(module) or not hasattr(module, "variables"):
        raise ExportError(
            f"{path} is a SavedModel but not a Reusable SavedModel (no __call__/variables); "
            "export the encoder with `python -m export.export_hub`."
        )
    return module


def _safe_name(path: str) -> str:
    return path.replace("/", "_").replace(":", "_")


@keras.saving.register_keras_serializable(package="bigan_tf")
class EncoderLayer(keras.layers.Layer):
    """A loaded encoder module as a Keras 3 layer (see the module docstring).

    Args:
      handle: an export folder (`python -m export.export_hub`) or a TF-Hub URL.
      trainable: fine-tune the encoder (False: a fixed feature extractor).
      output: None for the module's root output, or the name of a sub-object
        ("features" or "latent" for bigan_tf exports).
      frozen_layers: with `trainable=True`, keep the first K encoder layers
        fixed (bigan_tf exports only).
    """

    def __init__(
        self,
        handle: str,
        trainable: bool = False,
        output: Optional[str] = None,
        frozen_layers: int = 0,
        **kwargs: Any,
    ):
        super().__init__(trainable=trainable, **kwargs)
        self.handle = handle
        self.output_name = output
        self.frozen_layers = int(frozen_layers)
        self._module = load_module(handle)
        piece = self._module
        if output is not None:
            if not hasattr(self._module, output):
                raise ExportError(f"Module {handle} has no sub-object {output!r}.")
            piece = getattr(self._module, output)
        self._piece = piece
        frozen = self._frozen_variable_ids(resolve_handle(handle))
        trainable_ids = {id(v) for v in getattr(piece, "trainable_variables", [])}
        # Keras Variables that *share* the module's tf.Variables: the optimiser
        # updates the module in place, and .keras saving stores their values.
        self._module_weights = [
            keras.Variable(
                initializer=v,
                trainable=id(v) in trainable_ids and id(v) not in frozen,
                dtype=v.dtype,
                shape=v.shape,
                name=_safe_name(v.name),
            )
            for v in piece.variables
        ]
        # A frozen layer's weights must not be trainable (Keras's `trainable` setter
        # does this for later changes; weights created after __init__'s flag need it
        # applied by hand). `layer.trainable = True` later unfreezes exactly the
        # module's trainable, non-frozen weights.
        if not trainable:
            for variable in self._trainable_variables:
                variable.trainable = False
        self._regularization_losses = list(getattr(piece, "regularization_losses", []))
        self.output_size = self._infer_output_size()
        self.built = True

    def _frozen_variable_ids(self, path: str):
        if self.frozen_layers <= 0:
            return set()
        meta = read_export_metadata(path)
        if not meta or "layers" not in meta:
            raise ExportError(
                f"frozen_layers needs the layer table of a bigan_tf export; {path} has none."
            )
        layers = meta["layers"]
        if self.frozen_layers > len(layers):
            raise ExportError(
                f"frozen_layers={self.frozen_layers} but the encoder has "
                f"{len(layers)} layers ({[layer['name'] for layer in layers]})."
            )
        variables = list(self._module.variables)
        return {
            id(variables[i]) for layer in layers[: self.frozen_layers] for i in layer["variables"]
        }

    def _infer_output_size(self) -> Optional[int]:
        for fn in getattr(self._piece.__call__, "concrete_functions", []):
            shape = fn.structured_outputs.shape
            if shape.rank == 2 and shape[-1] is not None:
                return int(shape[-1])
        return None

    @property
    def image_shape(self) -> Optional[tuple]:
        """(height, width, channels) the module was traced for, if it says."""
        for fn in getattr(self._piece.__call__, "concrete_functions", []):
            spec = fn.structured_input_signature[0][0]
            if spec.shape.rank == 4 and None not in spec.shape[1:]:
                return tuple(int(d) for d in spec.shape[1:])
        return None

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        # hub.KerasLayer's rule: training mode only for a trainable layer in training.
        training = bool(training) and self.trainable
        outputs = self._piece(inputs, training=training)
        if self.trainable:
            for loss_fn in self._regularization_losses:
                self.add_loss(loss_fn())
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Tuple[Any, Optional[int]]:
        return (input_shape[0], self.output_size)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "handle": self.handle,
            "output": self.output_name,
            "frozen_layers": self.frozen_layers,
        }

    @classmethod
    def from_config(
        cls,
        config: Dict[str, Any],
        custom_objects: Optional[Dict[str, Any]] = None,
        safe_mode: Optional[bool] = None,
    ) -> "EncoderLayer":
        # Same policy as keras.layers.TFSMLayer: loading runs a SavedModel's graph.
        if safe_mode is None:
            from keras.src.saving import serialization_lib

            safe_mode = serialization_lib.in_safe_mode()
        if safe_mode is not False:
            raise ValueError(
                f"This .keras file contains a bigan_tf EncoderLayer, which loads the "
                f"SavedModel {config.get('handle')!r} and runs its graph. If you trust it, "
                "load with keras.saving.load_model(path, safe_mode=False)."
            )
        return cls(**config)
