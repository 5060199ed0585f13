"""One training run: configs + data + strategy -> a trained, evaluated, saved model.

Trainers parse flags and call `train`; tests call it directly. The experiment
folder gets `config.json`, `samples/`, `tensorboard/`, `checkpoints/` and
`metrics.jsonl`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import Callable, Dict, Iterator, Optional, Sequence, Union

import keras
import tensorflow as tf

from bigan_tf.bigan import BiGAN
from bigan_tf.callbacks import (CheckpointCallback, EvaluationCallback, NaNGuard,
                                atomic_write_text)
from bigan_tf.checkpoints import TrainingCheckpoint, epochs_in
from bigan_tf.config import EvaluationConfig, NetworkConfig, Objective, OptimizerConfig
from bigan_tf.data.pipeline import ImageData
from bigan_tf.distribute import is_chief, worker_id
from bigan_tf.errors import ConfigError
from bigan_tf.evaluation.evaluator import Evaluator


# --mixed_precision -> Keras dtype policy of the networks.
MIXED_PRECISION_POLICIES = {"none": "float32", "bfloat16": "mixed_bfloat16",
                            "float16": "mixed_float16"}


@contextlib.contextmanager
def dtype_policy(mixed_precision: str) -> Iterator[None]:
    """Layers built inside use the policy of `mixed_precision`; the global one is restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(MIXED_PRECISION_POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """How a run is driven: batch size, seed, when to evaluate and save, resume.

    Evaluation happens before training (epoch 0, fresh runs), after epoch 1,
    every `disp_interval` epochs, at the end of the constant-rate phase, at
    every save and at the end. Checkpoints are written every `save_interval`
    epochs, at the end of the constant-rate phase, and at the end.
    `resume` is an epoch, "latest", or "auto" (latest if a checkpoint exists,
    else a fresh start: what a restarted, preempted worker wants).
    `keep_worker_checkpoints` keeps each non-chief worker's own copy of every
    checkpoint in `checkpoints/<task>-<id>/` (normally deleted; useful to check
    that workers agree).
    `mixed_precision` "bfloat16" or "float16" builds the networks under Keras's
    mixed policy (float32 variables, 16-bit compute, float32 outputs); float16
    adds dynamic loss scaling (`keras.optimizers.LossScaleOptimizer`).
    Checkpoints hold float32 variables either way, so exports and samplers
    load them in float32; resume a run with the same setting.
    """

    exp_dir: str
    batch_size: int = 128
    seed: int = 0
    disp_interval: Optional[int] = None
    save_interval: Optional[int] = None
    resume: Optional[Union[int, str]] = None
    jit_compile: Union[bool, str] = False
    verbose: int = 1
    keep_worker_checkpoints: bool = False
    mixed_precision: str = "none"

    def validate(self) -> "RunConfig":
        if self.mixed_precision not in MIXED_PRECISION_POLICIES:
            raise ConfigError(f"--mixed_precision must be one of "
                              f"{sorted(MIXED_PRECISION_POLICIES)}, got {self.mixed_precision!r}.")
        if self.batch_size < 1:
            raise ConfigError(f"--batch_size must be >= 1, got {self.batch_size}.")
        for name in ("disp_interval", "save_interval"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name} must be >= 1 (or unset), got {value}.")
        return self


def copy_generator(source: BiGAN, target: BiGAN) -> None:
    """Copies G's weights (batch-norm statistics included) from `source` into `target`.

    The `initialize` of a post-hoc encoder run: `train(..., initialize=lambda m:
    copy_generator(gan, m))`. Raises `ConfigError` when the generators differ.
    """
    shapes = [tuple(w.shape) for w in source.generator.weights]
    if shapes != [tuple(w.shape) for w in target.generator.weights]:
        raise ConfigError(
            "The generator to copy does not match the new model's (its image shape, latent "
            "size or conditioning differ): train with the same --dataset as the GAN.")
    target.generator.set_weights(source.generator.get_weights())


def _every(interval: Optional[int], epoch: int) -> bool:
    return bool(interval) and epoch % interval == 0


def train(strategy: tf.distribute.Strategy, data: ImageData, network: NetworkConfig,
          objective: Objective, optimizer: OptimizerConfig, evaluation: EvaluationConfig,
          run: RunConfig, print_fn: Callable[[str], None] = print,
          extra_callbacks: Sequence[keras.callbacks.Callback] = (),
          initialize: Optional[Callable[[BiGAN], None]] = None) -> Dict[str, object]:
    """Trains (or resumes) a BiGAN; returns {"model", "history", "metrics", "epoch"}.

    `extra_callbacks` run before the built-in ones (e.g. timers in benchmarks).
    `initialize(model)` runs on a fresh (not resumed) model inside the strategy's
    scope before training, e.g. to load a trained generator for the post-hoc
    encoder. A conditional `network` with `num_classes=0` takes the data's.
    """
    run.validate()
    objective.validate()
    optimizer.validate()
    evaluation.validate()
    if tuple(network.encoder_image_shape) != data.image_shape:
        if network.is_generalized:
            raise ConfigError(f"The data's images are {data.image_shape} but the generalized "
                              f"encoder reads {network.encoder_image_shape}.")
        network = dataclasses.replace(network, image_shape=data.image_shape)
    if network.is_conditional:
        if network.num_classes == 0:
            network = dataclasses.replace(network, num_classes=data.num_classes)
        if data.num_classes > network.num_classes:
            raise ConfigError(f"The data has {data.num_classes} classes but the conditional "
                              f"network was configured for {network.num_classes}.")
    network.validate()
    total_epochs = optimizer.total_epochs
    steps_per_epoch = data.num_train // run.batch_size
    if steps_per_epoch < 1:
        raise ConfigError(f"--batch_size {run.batch_size} is larger than the training set "
                          f"({data.num_train} images).")
    config_record = {"network": network.to_dict(), "objective": objective.to_dict(),
                     "optimizer": optimizer.to_dict(), "evaluation": evaluation.to_dict(),
                     "run": {k: v for k, v in dataclasses.asdict(run).items()},
                     "data": {"source": data.source, "num_train": data.num_train,
                              "num_val": len(data.val_images)},
                     "num_replicas": strategy.num_replicas_in_sync}

    def build_model():
        with dtype_policy(run.mixed_precision):
            model = BiGAN.from_config_objects(network, objective, optimizer.weight_decay, run.seed)
        model.compile_for_training(optimizer, steps_per_epoch, jit_compile=run.jit_compile,
                                   loss_scale=run.mixed_precision == "float16")
        return model

    return fit_model(
        strategy, build_model,
        make_evaluator=lambda model: Evaluator(model, data, evaluation, seed=run.seed,
                                               deploy_batch_size=run.batch_size),
        make_dataset=lambda first, last: data.training_dataset(
            run.batch_size, run.seed, first, last, flatten=len(network.data_shape) == 1),
        steps_per_epoch=steps_per_epoch, constant_epochs=optimizer.epochs,
        total_epochs=total_epochs, run=run, config_record=config_record,
        deploy_iters=evaluation.deploy_iters, print_fn=print_fn,
        extra_callbacks=extra_callbacks, initialize=initialize)


def fit_model(strategy: tf.distribute.Strategy, build_model: Callable[[], keras.Model],
              make_evaluator: Callable[[keras.Model], object],
              make_dataset: Callable[[int, int], tf.data.Dataset], steps_per_epoch: int,
              constant_epochs: int, total_epochs: int, run: RunConfig, config_record: Dict,
              deploy_iters: int = 0, print_fn: Callable[[str], None] = print,
              extra_callbacks: Sequence[keras.callbacks.Callback] = (),
              initialize: Optional[Callable[[keras.Model], None]] = None) -> Dict[str, object]:
    """The run driver every model shares (BiGAN, SSGAN): resume, evaluate, save, fit.

    `build_model()` returns a compiled model with `networks` (a NamedTuple),
    `discriminator_optimizer`, `generator_optimizer` and `noise_seed` (what
    `TrainingCheckpoint` saves); it is called in the strategy's scope.
    `make_evaluator(model)` returns an object with the `Evaluator` interface the
    `EvaluationCallback` uses; `make_dataset(first_epoch, last_epoch)` the
    training batches of those epochs. Writes `config_record` as config.json.
    """
    os.makedirs(run.exp_dir, exist_ok=True)
    # Under multi-worker training every worker runs this function; only the chief
    # writes the run's files. Every worker saves checkpoints (TensorFlow needs all
    # of them in the save), non-chief ones into their own folder, deleted after.
    chief = is_chief(strategy)
    checkpoint_dir = os.path.join(run.exp_dir, "checkpoints")
    write_dir = None if chief else os.path.join(checkpoint_dir, worker_id(strategy))
    resume = run.resume
    if resume == "auto":
        resume = "latest" if epochs_in(checkpoint_dir) else None

    # The seed fixes the initial weights too, so equal seeds give equal runs.
    keras.utils.set_random_seed(run.seed)
    with strategy.scope():
        model = build_model()
        checkpoint = TrainingCheckpoint(model, checkpoint_dir, write_directory=write_dir,
                                        keep_written=run.keep_worker_checkpoints)
        initial_epoch = checkpoint.restore(resume) if resume is not None else 0
        if initialize is not None and initial_epoch == 0:
            initialize(model)
    if initial_epoch:
        print_fn(f"Resumed from epoch {initial_epoch}.")
    if chief:
        atomic_write_text(os.path.join(run.exp_dir, "config.json"),
                          json.dumps(config_record, indent=2, default=str) + "\n")

    def should_save(epoch):
        return _every(run.save_interval, epoch) or epoch in (constant_epochs, total_epochs)

    def should_evaluate(epoch):
        return epoch == 1 or _every(run.disp_interval, epoch) or should_save(epoch)

    evaluator = make_evaluator(model)
    writer = (tf.summary.create_file_writer(os.path.join(run.exp_dir, "tensorboard"))
              if chief else None)
    evaluation_callback = EvaluationCallback(
        evaluator, run.exp_dir, should_evaluate, initial_epoch=initial_epoch,
        deploy_iters=deploy_iters, writer=writer, print_fn=print_fn, chief=chief)
    callbacks = [*extra_callbacks, NaNGuard(), evaluation_callback,
                 CheckpointCallback(checkpoint, should_save,
                                    print_fn=print_fn if chief else (lambda s: None))]
    history = None
    if initial_epoch < total_epochs:
        dataset = make_dataset(initial_epoch, total_epochs)
        with strategy.scope():
            history = model.fit(dataset, epochs=total_epochs, initial_epoch=initial_epoch,
                                steps_per_epoch=steps_per_epoch, callbacks=callbacks, shuffle=False,
                                verbose=run.verbose if chief else 0)
    else:
        print_fn(f"Checkpoint epoch {initial_epoch} is already the last of {total_epochs}; "
                 "evaluating only.")
        evaluation_callback.set_model(model)
        evaluation_callback.evaluate(initial_epoch, None)
    if writer is not None:
        writer.close()
    return {"model": model, "history": history, "metrics": evaluation_callback.last_results,
            "epoch": max(initial_epoch, total_epochs)}
