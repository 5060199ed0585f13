"""Transfer learning: a classifier on top of an exported encoder module.

Modes (the paper's protocols, §4 and Table 2):

* `linear`: the encoder is a fixed feature extractor (inference mode, batch
  norm on its population statistics) and only a softmax layer is trained;
* `finetune`: every encoder weight is trained with the classifier, batch norm
  in training mode, with the module's weight decay as a regularisation loss;
* `freeze:K`: like `finetune` but the first K encoder layers keep their weights.

The classifier is `images -> EncoderLayer -> Dense(num_classes)` (logits), a
Keras 3 functional model trained with `fit`; images are float32 [B, H, W, C]
in [0, 1], the TF-Hub image convention.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Callable, Dict, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from bigan_tf.data.image_files import StreamedImageData
from bigan_tf.data.pipeline import ImageData, balanced_subset, to_model_range, training_dataset
from bigan_tf.errors import ConfigError
from bigan_tf.hub import EncoderLayer
from bigan_tf.images import make_grid
from bigan_tf.config import RunConfig
from bigan_tf.config.transfer import TransferMode, epochs_of, parse_mode  # noqa: F401
from bigan_tf.training import TrainingPlan, fit_model


def build_classifier(
    handle: str,
    num_classes: int,
    mode: str,
    image_shape: Optional[Sequence[int]] = None,
    seed: int = 0,
) -> keras.Model:
    """`images -> encoder module -> logits` for `mode` (see the module docstring)."""
    parsed = parse_mode(mode)
    encoder = EncoderLayer(
        handle, trainable=parsed.trainable, frozen_layers=parsed.frozen_layers, name="encoder"
    )
    image_shape = tuple(image_shape or encoder.image_shape or ())
    if len(image_shape) != 3:
        raise ConfigError(f"The module {handle} does not say its input shape; pass image_shape.")
    images = keras.Input(image_shape, name="images")
    logits = keras.layers.Dense(
        num_classes,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name="classifier",
    )(encoder(images))
    return keras.Model(images, logits, name=f"transfer_{parsed.name.replace(':', '')}")


class TransferEvaluator:
    """Test accuracy of a transfer classifier (the run driver's evaluator interface)."""

    def __init__(self, model: keras.Model, data: ImageData, batch_size: int = 500):
        self.model, self.data, self.batch_size = model, data, batch_size

    def evaluate(self) -> Dict[str, float]:
        """{"ACC": % of `data.val_*` classified correctly}."""
        # Keras's predict runs the batches under the model's distribution strategy.
        images = (
            tf.data.Dataset.from_tensor_slices(self.data.val_images)
            .batch(self.batch_size)
            .map(to_model_range)
        )
        predicted = np.argmax(self.model.predict(images, verbose=0), axis=-1)
        return {"ACC": 100.0 * float(np.mean(predicted == self.data.val_labels))}

    def sample_grids(self) -> Dict[str, np.ndarray]:
        return {}

    def real_grid(self) -> np.ndarray:
        """Up to 10 rows of 10 validation images (fewer for a small validation set)."""
        count = min(100, len(self.data.val_images))
        rows = min(10, count)
        images = to_model_range(self.data.val_images[: count - count % rows]).numpy()
        return make_grid(images, rows)


def train_classifier(
    strategy: tf.distribute.Strategy,
    handle: str,
    data: ImageData,
    mode: str,
    labels_per_class: Optional[int] = None,
    steps: int = 2000,
    batch_size: int = 100,
    learning_rate: float = 1e-3,
    seed: int = 0,
    verbose: Union[int, str] = 0,
    exp_dir: Optional[str] = None,
    steps_per_epoch: int = 250,
    record: Optional[Dict] = None,
    run_options: Optional[Dict] = None,
    print_fn: Callable[[str], None] = print,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> Dict[str, object]:
    """Trains `build_classifier` on a balanced labelled subset; returns test accuracy.

    `labels_per_class` images of every class are drawn from `data.train_*`
    with `seed` (all of them when None); a streamed `data` (image files,
    TFDS: `StreamedImageData`) trains on its whole stream, in the paper's
    ImageNet protocol (Table 2). Accuracy is measured on
    `data.val_*` (the test set when loaded with `use_test_set=True`). Adam
    for `steps` minibatches of the global `batch_size`.

    The run goes through the shared run driver (`bigan_tf.training.fit_model`)
    in epochs of `steps_per_epoch` steps (a multiple of them: `steps`), so it
    is a run folder like any other: `exp_dir` gets config.json, metrics.jsonl
    (ACC after the first and the last epoch) and a rolling checkpoint every
    epoch; SIGINT/SIGTERM stop it cleanly and the same call continues it.
    Without `exp_dir` a temporary folder is used and removed. `record` adds
    keys to config.json (e.g. the user's module path for a random-init
    baseline); `run_options` are further `RunConfig` fields (resume, overwrite...);
    `extra_callbacks` go to `fit` (before the driver's own).
    """
    parse_mode(mode)
    epochs, steps_per_epoch = epochs_of(steps, steps_per_epoch)
    streamed = isinstance(data, StreamedImageData)
    if streamed and labels_per_class:
        raise ConfigError(
            f"--labels_per_class draws from images in memory; {data.source} "
            "streams: leave it unset (every labelled image trains), or select "
            "with --max_labels / --max_train_images."
        )
    images, labels = data.train_images, data.train_labels
    if labels_per_class:
        index = balanced_subset(labels, labels_per_class, seed)
        images, labels = images[index], labels[index]
    num_labelled = data.num_train if streamed else len(images)
    replicas = strategy.num_replicas_in_sync
    batch_size = max(replicas, min(batch_size, num_labelled) // replicas * replicas)

    def make_dataset(first: int, last: int) -> tf.data.Dataset:
        """Batches of epochs [first, last) of `steps_per_epoch` steps each."""
        if not streamed:
            return training_dataset(
                images, labels, batch_size, seed, first, last, steps_per_epoch=steps_per_epoch
            )
        # Whole passes over the files as the stream makes them, cut into epochs of
        # steps_per_epoch steps. A resumed run skips the batches it has trained on,
        # which still reads and decodes them: resuming late in a pass costs that pass.
        passes = -(-last * steps_per_epoch // (data.num_train // batch_size))
        return (
            data.training_dataset(batch_size, seed, 0, passes)
            .skip(first * steps_per_epoch)
            .take((last - first) * steps_per_epoch)
        )

    config_record = {
        "model": "transfer",
        "transfer": {
            "hub_module": handle,
            "mode": mode,
            "labels_per_class": labels_per_class,
            "num_labelled": int(num_labelled),
            "steps": steps,
            "steps_per_epoch": steps_per_epoch,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            **(record or {}),
        },
        "data": data.record(),
        "num_replicas": replicas,
    }

    def build_model():
        model = build_classifier(handle, data.num_classes, mode, data.image_shape, seed)
        model.compile(
            keras.optimizers.Adam(learning_rate),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        # Adam's moments exist before a checkpoint is restored into them.
        model.optimizer.build(model.trainable_variables)
        return model

    with contextlib.ExitStack() as stack:
        if exp_dir is None:
            exp_dir = os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "run")
        run = RunConfig(
            **{
                "verbose": verbose,
                **(run_options or {}),
                "exp_dir": exp_dir,
                "batch_size": batch_size,
                "seed": seed,
            }
        )
        plan = TrainingPlan(
            build_model,
            make_evaluator=lambda model: TransferEvaluator(model, data),
            make_dataset=make_dataset,
            steps_per_epoch=steps_per_epoch,
            constant_epochs=epochs,
            total_epochs=epochs,
            config_record=config_record,
        )
        result = fit_model(strategy, plan, run, print_fn=print_fn, extra_callbacks=extra_callbacks)
    return {
        "model": result["model"],
        "mode": mode,
        "labels_per_class": labels_per_class,
        "num_labelled": int(num_labelled),
        "steps": steps,
        "batch_size": batch_size,
        "test_accuracy": result["metrics"]["ACC"] / 100.0,
        "num_test": int(len(data.val_images)),
    }


def train_transfer(
    strategy: tf.distribute.Strategy,
    experiment: Any,
    data: ImageData,
    print_fn: Callable[[str], None] = print,
) -> Dict[str, object]:
    """Trains the `TransferExperimentConfig` `experiment` on `data`: `train_classifier` on its
    module, or, with `init` "random", on a freshly initialised copy of the module's
    architecture whose batch norm is deployed over `data`'s in-memory training images."""
    from bigan_tf.export.exporters import export_random_init_like

    transfer, run = experiment.transfer, experiment.run
    with tempfile.TemporaryDirectory() as tmp:
        handle = transfer.hub_module
        if transfer.init == "random":
            handle = export_random_init_like(
                handle, os.path.join(tmp, "random"), run.seed, data.train_images, data.train_labels
            )
        return train_classifier(
            strategy,
            handle,
            data,
            transfer.mode,
            labels_per_class=transfer.labels_per_class,
            steps=transfer.steps,
            batch_size=run.batch_size,
            learning_rate=transfer.learning_rate,
            seed=run.seed,
            exp_dir=run.exp_dir,
            steps_per_epoch=transfer.steps_per_epoch,
            # The module the user named, not the temporary random-init copy.
            record={
                "hub_module": os.path.abspath(transfer.hub_module),
                "init": transfer.init,
                "dataset": (experiment.data.source if experiment.data is not None else data.source),
            },
            run_options=dict(
                resume=run.resume,
                overwrite=run.overwrite,
                branch=run.branch,
                keep_checkpoints=run.keep_checkpoints,
                verbose=run.verbose,
            ),
            print_fn=print_fn,
        )


# Training images a streamed source keeps in memory for the random init's deploy pass.
RANDOM_INIT_DEPLOY_IMAGES = 1280


def fit_to_module(experiment: Any, given: Any = frozenset()) -> Any:
    """The `TransferExperimentConfig` `experiment` fitted to its module's input.

    Image-file sources (and a source with preprocessing) crop to the module's
    input size and channel count unless `data.preprocessing.crop_size` is among
    `given` (the settings the user set), with the short edge resized to the
    crop unless `data.preprocessing.raw_size` is given; the data keeps the
    training images in memory that a random init's deploy pass needs (100
    otherwise), unless `data.num_reference` is given.
    """
    import dataclasses

    from bigan_tf.config import Preprocessing
    from bigan_tf.config.data import FILE_SOURCES

    transfer, data = experiment.transfer, experiment.data
    preprocessing = data.preprocessing
    if preprocessing is not None or data.source in FILE_SOURCES:
        shape = EncoderLayer(transfer.hub_module).image_shape
        crop = (
            preprocessing.crop_size
            if "data.preprocessing.crop_size" in given
            else (shape[0] if shape else None)
        )
        if not crop:
            raise ConfigError(
                "The module does not say its input size: set data.preprocessing.crop_size."
            )
        raw = (
            preprocessing.raw_size
            if preprocessing is not None and "data.preprocessing.raw_size" in given
            else crop
        )
        preprocessing = Preprocessing(
            raw,
            crop,
            shape[2] if shape else 3,
            preprocessing.flip if preprocessing is not None else False,
        )
    data = dataclasses.replace(data, preprocessing=preprocessing)
    if "data.num_reference" not in given:
        data = dataclasses.replace(
            data, num_reference=RANDOM_INIT_DEPLOY_IMAGES if transfer.init == "random" else 100
        )
    return dataclasses.replace(experiment, data=data)
