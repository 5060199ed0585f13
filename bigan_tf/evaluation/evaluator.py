"""The evaluation protocol of the original code, run on a `BiGAN`.

Per evaluation (official_code_notes.md §1):
  NND/100, NND/10, NND  nearest real-to-generated distance with 1%, 10%, 100%
                        of the generated samples (fixed z drawn once);
  NNC_e, NNC_e-         1-NN accuracy of the encoder's raw logits and its
                        penultimate ("e-") features, validation vs. training;
  CLS_e-                linear softmax classifier on the e- features;
  EGr, EGr_b            ‖x − G(E(x))‖₂ on validation images, and its baseline;
  EGg, EGg_b            the same on 8-bit-quantised generated images.
A plain GAN (no encoder) reports NNC_d and CLS_d on the discriminator's
penultimate features instead.

Distances (NND, EG*) are reported in the original's pixel scale: images are in
[0, 1] everywhere in bigan_tf, but the original compares ImageNet images in
[−1, 1], so for a generator whose `native_pixel_range` is (−1, 1) (the
convolutional family) distances are multiplied by 2. MNIST is in [0, 1] in
both.

A generalized BiGAN (E reads larger images than G makes) encodes the
full-size images, compares reconstructions and samples with the images
resized to G's resolution, and has no EGg (E cannot read G's images).

Conditional models generate the fixed samples with fixed, class-balanced
labels (sample grids: one row per class), reconstruct real images with their
true labels, and read D's features with the all-zero label (label-free).

The evaluator only reads the model: the batch-norm deploy pass that precedes
an evaluation changes it, and lives in `bigan_tf.evaluation.deploy`.
"""

from __future__ import annotations

import collections
import time
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple

import numpy as np
import tensorflow as tf

from bigan_tf.bigan import BiGAN
from bigan_tf.prior import sample_prior
from bigan_tf.config import EvaluationConfig
from bigan_tf.data.pipeline import ImageData, to_model_range
from bigan_tf.evaluation import metrics as M
from bigan_tf.images import make_grid

# Seeds of the evaluation's own randomness, apart from the training noise.
_EVAL_Z_STREAM = 7919
_REAL_GRID_COLUMNS = 20
# The 100k generated samples are scored block by block, never held together
# (all at once they took ~1.3 GB for MNIST and 4.9 GB at 64 px, before copies).
_GENERATION_BLOCK_BYTES = 64 * 2**20


def format_losses(epoch: int, losses: Dict[str, float]) -> str:
    """The original's cost line, e.g. `  1) JD: 0.4239  E: 1.2217  G: 1.2217`."""
    return f"{epoch:3d}) " + "  ".join(f"{k}: {v:.4f}" for k, v in losses.items())


def format_metrics(values: Dict[str, float]) -> str:
    """The original's metric line; NNC*, CLS* and ACC (test accuracy) are percentages."""
    parts = []
    for name, value in values.items():
        suffix = "%" if name.startswith(("NNC", "CLS", "ACC")) else ""
        digits = 4 if name == "PIX_CHI2" else 2
        parts.append(f"{name}: {value:.{digits}f}{suffix}")
    return "  ".join(parts)


class ModelFunctions(NamedTuple):
    """What the evaluator reads of a model: its networks as functions, and their shapes.

    generate(z, labels) -> G(z) [B, *generated_shape] in inference mode; `labels`
      (int class ids) are None unless `num_classes` > 0.
    encode(x) -> {"latent", "features", "logits"} of E ("logits", E's raw output
      before any latent squashing, is optional: NNC_e needs it), or None.
    discriminator_features(x) -> D(x)'s penultimate features, or None.
    to_generator_resolution(x) -> x at G's resolution (a generalized BiGAN's
      antialiased resize; the identity otherwise).
    data_shape, generated_shape: one image as E reads it and as G makes it.
    is_generalized: E cannot read G's images.
    pixel_range: G's native pixel range; distances are scaled to it.
    """

    generate: Callable
    encode: Optional[Callable]
    discriminator_features: Optional[Callable]
    to_generator_resolution: Callable
    latent_dim: int
    num_classes: int
    data_shape: Tuple[int, ...]
    generated_shape: Tuple[int, ...]
    is_generalized: bool = False
    pixel_range: Tuple[float, float] = (0.0, 1.0)

    @property
    def is_conditional(self) -> bool:
        return self.num_classes > 0


def model_functions(model: BiGAN) -> ModelFunctions:
    """A `BiGAN`'s `ModelFunctions` (compiled with `tf.function`)."""
    if model.is_conditional:
        generate = tf.function(lambda z, labels: model.generate(z, labels, training=False))
    else:
        generate_z = tf.function(lambda z: model.generate(z, training=False))
        generate = lambda z, labels=None: generate_z(z)  # noqa: E731
    encode = (
        tf.function(lambda x: model.encoder(x, training=False))
        if model.encoder is not None
        else None
    )
    features = (
        tf.function(
            lambda x: model.discriminator(model.at_generator_resolution(x), training=False)[
                "features"
            ]
        )
        if model.discriminator is not None
        else None
    )
    return ModelFunctions(
        generate,
        encode,
        features,
        model.at_generator_resolution,
        model.latent_dim,
        model.num_classes if model.is_conditional else 0,
        tuple(model.data_shape),
        tuple(model.generated_shape),
        model.is_generalized,
        tuple(getattr(model.generator, "native_pixel_range", (0.0, 1.0))),
    )


class Evaluator:
    """Runs the protocol on fixed data and fixed generator inputs; reads, never changes, the model.

    Args:
      functions: the model as `ModelFunctions` (`Evaluator.for_model` builds
        them from a `BiGAN`).
      data: the training and validation images (uint8).
      config: protocol sizes and classifier settings.
      seed: seeds the fixed evaluation z.
      generation_block: generated samples held at once (a multiple of
        `config.baseline_block`); by default what fits in 64 MiB.
    """

    def __init__(
        self,
        functions: ModelFunctions,
        data: ImageData,
        config: EvaluationConfig,
        seed: int = 0,
        generation_block: Optional[int] = None,
    ):
        self.functions = functions
        self.config = config.validate()
        block = config.baseline_block
        if generation_block is None:
            sample_bytes = 4 * int(np.prod(functions.generated_shape))
            generation_block = max(1, _GENERATION_BLOCK_BYTES // sample_bytes // block) * block
        if generation_block % block:
            raise ValueError(
                f"generation_block {generation_block} must be a multiple of "
                f"baseline_block {block} (the EG baseline pairs within blocks)."
            )
        self.generation_block = generation_block
        self.seed = int(seed)
        self.image_shape = data.image_shape
        # Shape of one generated image for the grids (flat only for a generator that an
        # older version saved to .keras).
        self.generated_image_shape = (
            data.image_shape if len(functions.generated_shape) == 1 else functions.generated_shape
        )
        self.num_classes = data.num_classes
        self.val_images = data.val_images[: config.num_val]
        self.val_labels = data.val_labels[: config.num_val]
        self.reference_images = data.train_images[: config.num_train_reference]
        self.reference_labels = data.train_labels[: config.num_train_reference]
        # Converted once: the same arrays serve every evaluation.
        self.val_x = self._model_input(self.val_images)
        self.reference_x = self._model_input(self.reference_images)
        # What G's outputs are compared with: x itself, or x resized to G's resolution.
        self.val_x_generated = (
            M.batched_map(functions.to_generator_resolution, self.val_x, config.batch_size)
            if functions.is_generalized
            else self.val_x
        )
        self.eval_z = sample_prior(
            config.num_generated,
            functions.latent_dim,
            tf.constant([self.seed, _EVAL_Z_STREAM], tf.int64),
        ).numpy()
        # Class-balanced labels for the fixed z: with 10 sample-grid rows of
        # num_sample_images/10, row r of every grid is class r (mod K).
        per_row = max(1, config.num_sample_images // 10)
        self.eval_labels = (
            (np.arange(config.num_generated) // per_row) % max(1, functions.num_classes)
        ).astype(np.int32)
        self.real_grid_x, self.real_grid_labels = self._real_grid_images(data)
        low, high = functions.pixel_range
        self.distance_scale = float(high - low)
        self._encode = functions.encode
        self._features_d = functions.discriminator_features

    @classmethod
    def for_model(
        cls,
        model: BiGAN,
        data: ImageData,
        config: EvaluationConfig,
        seed: int = 0,
        generation_block: Optional[int] = None,
    ) -> "Evaluator":
        """The evaluator of a `BiGAN` (through `model_functions`)."""
        return cls(model_functions(model), data, config, seed, generation_block)

    def _generate(self, z, labels) -> np.ndarray:
        """G(z) (labels ignored) or G(z, labels) for a conditional model, in batches."""
        generate = self.functions.generate
        if self.functions.is_conditional:
            return M.batched_map(
                generate, (np.asarray(z), np.asarray(labels)), self.config.batch_size
            )
        return M.batched_map(generate, np.asarray(z), self.config.batch_size)

    def _real_grid_images(self, data: ImageData):
        """(10 rows × 20 validation images, their labels); row k is class k with 10 classes."""
        rows = 10
        if data.num_classes == rows and all(
            (self.val_labels == k).sum() >= _REAL_GRID_COLUMNS for k in range(rows)
        ):
            index = np.concatenate(
                [np.flatnonzero(self.val_labels == k)[:_REAL_GRID_COLUMNS] for k in range(rows)]
            )
        else:
            index = np.arange(rows * _REAL_GRID_COLUMNS) % len(self.val_images)
        return self._model_input(self.val_images[index]), self.val_labels[index]

    def _model_input(self, images) -> np.ndarray:
        """uint8 images -> float32 in [0, 1] shaped as the model takes them."""
        x = to_model_range(images)
        return tf.reshape(x, [-1, *self.functions.data_shape]).numpy()

    # -------------------------------------------------------------- evaluation
    def generated_samples(self) -> np.ndarray:
        """All fixed-z samples at once (the evaluation itself streams them in blocks)."""
        return self._generate(self.eval_z, self.eval_labels)

    def generated_blocks(self) -> Iterator[Tuple[int, np.ndarray]]:
        """(start, G(z) of the fixed z[start:start + generation_block]), in order."""
        for start in range(0, len(self.eval_z), self.generation_block):
            end = start + self.generation_block
            yield start, self._generate(self.eval_z[start:end], self.eval_labels[start:end])

    def _generation_metrics(self) -> Dict[str, float]:
        """NND/100, NND/10, NND, PIX_CHI2 and (with an encoder reading G's images)
        EGg, EGg_b, streaming the generated samples block by block."""
        cfg, n, scale = self.config, len(self.eval_z), self.distance_scale
        prefixes = [
            (max(1, n // divisor), name)
            for divisor, name in ((100, "NND/100"), (10, "NND/10"), (1, "NND"))
        ]
        nearest = M.RunningNearestDistance(self.val_x_generated)
        results: Dict[str, float] = {}
        histogram_samples = []  # the first len(val_x) samples, as the original
        with_eg = self._encode is not None and not self.functions.is_generalized
        partners = M.shifted_partner_indices(n, cfg.baseline_block)
        head = None  # the first block's quantised samples: the last block's baseline wraps to them
        errors, baseline_errors = [], []
        for start, block in self.generated_blocks():
            end = start + len(block)
            seen = start
            for prefix, name in prefixes:
                if seen < prefix <= end:
                    nearest.update(block[seen - start : prefix - start])
                    seen = prefix
                if start < prefix <= end:
                    results[name] = scale * nearest.mean()
            if seen < end:
                nearest.update(block[seen - start :])
            if start < len(self.val_x):
                histogram_samples.append(block[: len(self.val_x) - start])
            if not with_eg or self._encode is None:
                continue
            quantized = M.quantize_images(block).numpy()
            if head is None:
                head = quantized[: cfg.baseline_block]
            latent = M.batched_map(self._encode, quantized, cfg.batch_size)["latent"]
            regenerated = self._generate(latent, self.eval_labels[start:end])
            errors.append(M.reconstruction_errors(quantized, regenerated))
            # Blocks start at multiples of baseline_block, so every partner is in this
            # block except the wrap-around of a short last baseline block.
            index = partners[start:end]
            in_block = index >= start
            partner_images = np.empty_like(quantized)
            partner_images[in_block] = quantized[index[in_block] - start]
            partner_images[~in_block] = head[index[~in_block]]
            baseline_errors.append(M.reconstruction_errors(partner_images, regenerated))
        results["PIX_CHI2"] = M.pixel_histogram_chi2(
            self.val_x_generated, np.concatenate(histogram_samples)
        )
        if with_eg:
            results["EGg"] = scale * float(np.concatenate(errors).mean())
            results["EGg_b"] = scale * float(np.concatenate(baseline_errors).mean())
        return results

    def evaluate(self) -> Dict[str, float]:
        """All metrics, in the original's order."""
        cfg = self.config
        generation = self._generation_metrics()
        order = ["NND/100", "NND/10", "NND", "PIX_CHI2"]
        results: Dict[str, float] = collections.OrderedDict((k, generation[k]) for k in order)
        scale = self.distance_scale
        if self._encode is not None:
            ref = M.batched_map(self._encode, self.reference_x, cfg.batch_size)
            val = M.batched_map(self._encode, self.val_x, cfg.batch_size)
            if "logits" in ref:  # an exported encoder serves latent and features only
                results["NNC_e"] = M.nnc_score(
                    ref["logits"], self.reference_labels, val["logits"], self.val_labels
                )
            results["NNC_e-"] = M.nnc_score(
                ref["features"], self.reference_labels, val["features"], self.val_labels
            )
            results["CLS_e-"] = self._classifier(ref["features"], val["features"])
            recon = self._generate(val["latent"], self.val_labels)
            results["EGr"], results["EGr_b"] = (
                scale * e
                for e in M.reconstruction_scores(self.val_x_generated, recon, cfg.baseline_block)
            )
            for name in ("EGg", "EGg_b"):
                if name in generation:
                    results[name] = generation[name]
        return self._with_discriminator_features(results)

    def _with_discriminator_features(self, results: Dict[str, float]) -> Dict[str, float]:
        """Adds NNC_d and CLS_d for models with an x-only discriminator."""
        cfg, reference_x = self.config, self.reference_x
        if self._features_d is not None:
            ref_d = M.batched_map(self._features_d, reference_x, cfg.batch_size)
            val_d = M.batched_map(self._features_d, self.val_x, cfg.batch_size)
            results["NNC_d"] = M.nnc_score(ref_d, self.reference_labels, val_d, self.val_labels)
            results["CLS_d"] = self._classifier(ref_d, val_d)
        return results

    def _classifier(self, reference_features, val_features) -> float:
        cfg = self.config
        return M.linear_classifier_accuracy(
            reference_features,
            self.reference_labels,
            val_features,
            self.val_labels,
            self.num_classes,
            steps=cfg.cls_steps,
            batch_size=cfg.cls_batch_size,
            learning_rate=cfg.cls_learning_rate,
            seed=self.seed,
        )

    def sample_grids(self) -> Dict[str, np.ndarray]:
        """uint8 grids: "samples" G(z), "regen" G(E(q(G(z)))), "real_regen" G(E(x))."""
        # The first num_sample_images of the evaluation's z in 10 full rows (fewer images
        # when num_generated is smaller than the grid; one row below 10).
        n = min(self.config.num_sample_images, len(self.eval_z) // 10 * 10) or len(self.eval_z)
        rows = 10 if n % 10 == 0 else 1
        z, labels = self.eval_z[:n], self.eval_labels[:n]
        samples = self._generate(z, labels)
        shape = self.generated_image_shape
        grids = {"samples": make_grid(samples, rows, shape)}
        if self._encode is not None:
            if not self.functions.is_generalized:  # E cannot read G's smaller images
                q = M.quantize_images(samples)
                grids["regen"] = make_grid(
                    self._generate(self._encode(q)["latent"], labels), rows, shape
                )
            real_regen = self._generate(
                self._encode(tf.constant(self.real_grid_x))["latent"], self.real_grid_labels
            )
            grids["real_regen"] = make_grid(real_regen, 10, shape)
        return grids

    def real_grid(self) -> np.ndarray:
        return make_grid(self.real_grid_x, 10, self.image_shape)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[Any, float]:
    """(fn(*args, **kwargs), seconds it took)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start
