"""`tf.Module`-style wrappers that turn trained networks into SavedModels.

Keras 3 cannot write a TF-Hub *Reusable SavedModel* by itself: `model.export`
and `keras.export.ExportArchive` give signatures and variable lists but no
`__call__(inputs, training)` and no `regularization_losses`. These wrappers
are written by hand, following the contract of TF-Hub's
`reusable_saved_models.md`:

* `EncoderPiece`: one encoder output as a Reusable SavedModel piece:
  `__call__(images, training=False)` traced for both values of `training`,
  `variables` (exactly those any trace uses), `trainable_variables`, and
  `regularization_losses` (one zero-argument function: the training run's
  coupled L2 weight decay written as a loss, λ·Σ‖w‖²/2, whose gradient λ·w is
  what the optimiser added). Batch norm runs on batch statistics and updates
  its moving averages in the `training=True` trace only.
* `HubEncoderModule`: the TF-Hub image feature vector module. Its root is one
  `EncoderPiece` (the penultimate "e-" features by default, or the latent z),
  it has named sub-objects `features` and `latent` for both outputs, plain
  `call_inference` / `call_training` functions for `keras.layers.TFSMLayer`,
  and a `serving_default` signature.
* `BiGANSavedModel`: every network behind TF Serving-style signatures
  (`encode`, `generate`, `reconstruct`, `discriminate`, `serving_default` =
  `encode`).

Images at every boundary follow the TF-Hub image convention: float32
`[batch, height, width, channels]` with values in [0, 1], which is what every
network takes and makes (the MLPs flatten inside).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import tensorflow as tf

from bigan_tf.networks import decayed_variables
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

ENCODER_OUTPUTS = ("features", "latent")


def _image_spec(image_shape: Sequence[int], name: str = "images") -> tf.TensorSpec:
    return tf.TensorSpec([None, *image_shape], tf.float32, name=name)


def _unique_variables(functions) -> List[tf.Variable]:
    """Variables captured by the given concrete functions, in first-use order, once each."""
    seen, out = set(), []
    for fn in functions:
        for v in fn.variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


def weight_decay_loss(variables: Sequence[tf.Variable], weight_decay: float) -> tf.Tensor:
    """λ·Σ_w ‖w‖²/2 over `variables`: the loss whose gradient is the coupled decay λ·w."""
    if not variables or not weight_decay:
        return tf.constant(0.0)
    return weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in variables])


class EncoderPiece(tf.train.Checkpoint):
    """One encoder output as a Reusable SavedModel piece (see the module docstring).

    Contract of `__call__`: float32 images [batch, H, W, C] with values in [0, 1].
    It is not checked there (fine-tuning speed); the `serving_default` signature
    checks it and fails with a message that states it.

    Args:
      encoder: the trained Keras encoder; `encoder(x, training)` returns a dict
        with "features" and "latent".
      image_shape: (height, width, channels) of one input image.
      output: "features" (penultimate layer) or "latent" (z = E(x)).
      weight_decay: λ of the training run, for `regularization_losses`.
    """

    def __init__(
        self,
        encoder: keras.Model,
        image_shape: Sequence[int],
        output: str = "features",
        weight_decay: float = 0.0,
    ):
        super().__init__()
        if output not in ENCODER_OUTPUTS:
            raise ValueError(f"output must be one of {ENCODER_OUTPUTS}, got {output!r}.")
        # The Keras encoder lives only in the traced closures: tracking the Keras
        # object itself would save Keras's own default signature with it.

        @tf.function
        def call(images, training: bool = False):
            if output == "features":
                # Only the layers the features need, so `variables` lists no unused ones.
                return encoder.extract_features(images, training=training)
            return encoder(images, training=training)[output]

        spec = _image_spec(image_shape)
        # Trace both modes now: the restored function has exactly these traces.
        traces = [
            call.get_concrete_function(spec, training=True),
            call.get_concrete_function(spec, training=False),
        ]
        self.__call__ = call
        used = _unique_variables(traces)
        self.variables = used
        self.trainable_variables = [v for v in used if v.trainable]
        # As in training: batch-norm gains are not decayed (--no_decay_gain).
        decayed = decayed_variables(self.trainable_variables, encoder)

        @tf.function(input_signature=[])
        def l2_weight_decay():
            return weight_decay_loss(decayed, weight_decay)

        self.regularization_losses = [l2_weight_decay]
        self.output_size = int(traces[1].structured_outputs.shape[-1])


class HubEncoderModule(EncoderPiece):
    """The TF-Hub image feature vector module of a trained encoder.

    Root `__call__` returns `[batch, num_features]` for `output` ("features",
    the default, or "latent"); the named sub-objects `module.features` and
    (models with an encoder) `module.latent` are the outputs as separate
    pieces. `call_inference(images)` and `call_training(images)` are
    single-argument functions for `keras.layers.TFSMLayer(call_endpoint=
    "call_inference", call_training_endpoint="call_training")`.

    For the plain GAN, which has no encoder, pass its x-only discriminator:
    its penultimate features are the paper's GAN feature baseline, and there
    is no `latent`.
    """

    def __init__(
        self,
        encoder: keras.Model,
        image_shape: Sequence[int],
        output: str = "features",
        weight_decay: float = 0.0,
        has_latent: bool = True,
    ):
        if output == "latent" and not has_latent:
            raise ValueError("This model has no encoder, so no latent output; export features.")
        super().__init__(encoder, image_shape, output, weight_decay)
        self.features = EncoderPiece(encoder, image_shape, "features", weight_decay)
        if has_latent:
            self.latent = EncoderPiece(encoder, image_shape, "latent", weight_decay)
        root = self.__call__
        spec = _image_spec(image_shape)
        self.call_inference = tf.function(
            lambda images: root(images, training=False), input_signature=[spec]
        )
        self.call_training = tf.function(
            lambda images: root(images, training=True), input_signature=[spec]
        )
        self._serving_default = tf.function(
            lambda images: {"default": root(checked_images(images, image_shape), training=False)},
            input_signature=[spec],
        )

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        """`serving_default`: images -> {"default": the root output, inference mode}."""
        return {"serving_default": self._serving_default}


class _Untracked:
    """A plain holder: objects kept in it are not tracked by tf.train.Checkpoint."""

    def __init__(self, value):
        self.value = value


def checked_images(images: tf.Tensor, image_shape: Sequence[int]) -> tf.Tensor:
    """`images` after checking the serving contract: finite float32 values in [0, 1].

    0-255 pixels or NaN would otherwise pass silently (features 270x off). The
    signature's input spec already fixes dtype and [batch, H, W, C]; the fine-tuning
    `__call__` of the hub module is left unchecked (fast; the contract is in its
    docstring and bigan_tf.json).
    """
    h, w, c = (int(d) for d in image_shape)
    contract = (
        f"expected float32 images [batch, {h}, {w}, {c}] with values in [0, 1] "
        "(divide 8-bit pixels by 255)"
    )
    checks = [
        tf.debugging.assert_all_finite(images, f"NaN or infinite pixel values: {contract}"),
        tf.debugging.assert_greater_equal(images, 0.0, message=f"Pixel values below 0: {contract}"),
        tf.debugging.assert_less_equal(images, 1.0, message=f"Pixel values above 1: {contract}"),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(images)


class BiGANSavedModel(tf.train.Checkpoint):
    """Every network of a trained model behind serving signatures.

    `signatures` (pass to `tf.saved_model.save`):
      * `encode(images)` -> {"latent", "features"}: E(x) and its penultimate
        features (for the plain GAN, which has no encoder: {"features"} = the
        discriminator's penultimate features, the paper's GAN baseline);
      * `generate(z)` -> {"images"}: G(z) in [0, 1];
      * `reconstruct(images)` -> {"images", "latent"}: G(E(x)) (models with an
        encoder);
      * `discriminate(images, z)` -> {"logits", "probabilities"} for a joint
        D(x, z), or `discriminate(images)` for an x-only D;
      * `serving_default` = `encode`.
    A class-conditional model's `generate`, `reconstruct` and `discriminate`
    take one more input, `labels`: float32 [batch, num_classes], one-hot or
    soft (slerped) label vectors. `encode` never takes labels.
    All run in inference mode (batch norm on its population statistics).
    """

    def __init__(
        self,
        model: keras.Model,
        image_shape: Sequence[int],
        latent_dim: int,
        encoder_image_shape: Optional[Sequence[int]] = None,
    ):
        super().__init__()
        # Held in a plain object so that the Keras models are not tracked (see EncoderPiece).
        self._untracked = _Untracked(model)
        self.variables = [w.value for net in model.networks if net is not None for w in net.weights]
        self._image_shape = tuple(int(d) for d in image_shape)
        # The generalized BiGAN's encoder reads larger images than G makes and D reads.
        self._encoder_image_shape = tuple(int(d) for d in (encoder_image_shape or image_shape))
        self._latent_dim = int(latent_dim)
        self._num_classes = int(model.num_classes)

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        model = self._untracked.value
        image_shape = self._image_shape
        images_spec = _image_spec(image_shape)
        encoder_spec = _image_spec(self._encoder_image_shape)
        z_spec = tf.TensorSpec([None, self._latent_dim], tf.float32, name="z")
        # Conditional models take label vectors after the other inputs.
        label_specs = (
            [tf.TensorSpec([None, self._num_classes], tf.float32, name="labels")]
            if self._num_classes
            else []
        )

        def images_of(z, labels):
            return model.generate(z, labels, training=False)

        def first(values):
            return values[0] if values else None

        if model.encoder is not None:

            @tf.function(input_signature=[encoder_spec])
            def encode(images):
                images = checked_images(images, self._encoder_image_shape)
                out = model.encoder(images, training=False)
                return {"latent": out["latent"], "features": out["features"]}

            @tf.function(input_signature=[encoder_spec, *label_specs])
            def reconstruct(images, *labels):
                images = checked_images(images, self._encoder_image_shape)
                z = model.encoder(images, training=False)["latent"]
                return {"images": images_of(z, first(labels)), "latent": z}
        else:

            @tf.function(input_signature=[images_spec])
            def encode(images):
                images = checked_images(images, image_shape)
                return {"features": model.discriminator(images, training=False)["features"]}

            reconstruct = None

        @tf.function(input_signature=[z_spec, *label_specs])
        def generate(z, *labels):
            return {"images": images_of(z, first(labels))}

        if model.joint_discriminator is not None:

            @tf.function(input_signature=[images_spec, z_spec, *label_specs])
            def discriminate(images, z, *labels):
                images = checked_images(images, image_shape)
                logits = model.discriminate(images, z, first(labels), training=False)["logits"]
                return {"logits": logits, "probabilities": tf.sigmoid(logits)}
        else:

            @tf.function(input_signature=[images_spec, *label_specs])
            def discriminate(images, *labels):
                images = checked_images(images, image_shape)
                logits = model.discriminate(images, None, first(labels), training=False)["logits"]
                return {"logits": logits, "probabilities": tf.sigmoid(logits)}

        signatures = {
            "serving_default": encode,
            "encode": encode,
            "generate": generate,
            "discriminate": discriminate,
        }
        if reconstruct is not None:
            signatures["reconstruct"] = reconstruct
        return signatures


class SSGANSavedModel(tf.train.Checkpoint):
    """A trained semi-supervised GAN behind serving signatures.

    `signatures`:
      * `classify(images)` -> {"probabilities": [B, K] over the real classes,
        "classes": [B] int64 argmax, "logits": [B, K+1] (the last: "generated")};
      * `generate(z)` -> {"images"}: G(z) in [0, 1], z ~ U(−1, 1)^latent_dim;
      * `serving_default` = `classify`.
    Images are float32 [batch, H, W, C] in [0, 1]; inference mode (D's batch
    norm on its moving averages, which is how test accuracy is measured).
    """

    def __init__(self, model: keras.Model):
        super().__init__()
        self._untracked = _Untracked(model)  # not tracked: see EncoderPiece
        self.variables = [w.value for net in model.networks for w in net.weights]

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        model = self._untracked.value
        config = model.config
        image_shape = tuple(config.image_shape)

        @tf.function(input_signature=[_image_spec(image_shape)])
        def classify(images):
            images = checked_images(images, image_shape)
            logits = model.classifier(images, training=False)["logits"]
            real = logits[:, : config.num_classes]
            return {
                "probabilities": tf.nn.softmax(real),
                "classes": tf.argmax(real, -1),
                "logits": logits,
            }

        @tf.function(
            input_signature=[tf.TensorSpec([None, config.latent_dim], tf.float32, name="z")]
        )
        def generate(z):
            return {"images": model.generator(z, training=False)}

        return {"serving_default": classify, "classify": classify, "generate": generate}
