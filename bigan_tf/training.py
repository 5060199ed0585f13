"""One training run: an `ExperimentConfig` + data + strategy -> a trained, evaluated, saved model.

Trainers parse flags into an `ExperimentConfig` and call `train`; tests call it
directly. The experiment folder gets `config.json`, `samples/`, `tensorboard/`,
`checkpoints/` and `metrics.jsonl`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Sequence, Union

import keras
import tensorflow as tf

from bigan_tf.bigan import BiGAN
from bigan_tf import run_dir as experiment
from bigan_tf.callbacks import CheckpointCallback, EvaluationCallback, NaNGuard, ProgressLine
from bigan_tf.checkpoints import (
    ROLLING_DIR,
    TrainingCheckpoint,
    branch_checkpoints,
    epochs_in,
    remove_interrupted_saves,
)
from bigan_tf.config import MIXED_PRECISION_POLICIES, ExperimentConfig, RunConfig
from bigan_tf.data import load
from bigan_tf.distribute import is_chief, worker_id
from bigan_tf.errors import CheckpointError, ConfigError
from bigan_tf.interrupts import (
    PreemptionStop,
    StopAtStepBoundary,
    TrainingInterrupted,
    stop_on_signals,
)
from bigan_tf.evaluation.deploy import TrainingBatches
from bigan_tf.evaluation.evaluator import Evaluator


@contextlib.contextmanager
def dtype_policy(mixed_precision: str) -> Iterator[None]:
    """Layers built inside use the policy of `mixed_precision`; the global one is restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(MIXED_PRECISION_POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def copy_generator(source: BiGAN, target: BiGAN) -> None:
    """Copies G's weights (batch-norm statistics included) from `source` into `target`.

    The `initialize` of a post-hoc encoder run: `train(..., initialize=lambda m:
    copy_generator(gan, m))`. Raises `ConfigError` when the generators differ.
    """
    shapes = [tuple(w.shape) for w in source.generator.weights]
    if shapes != [tuple(w.shape) for w in target.generator.weights]:
        raise ConfigError(
            "The generator to copy does not match the new model's (its image shape, latent "
            "size or conditioning differ): train with the same --dataset as the GAN."
        )
    target.generator.set_weights(source.generator.get_weights())


def resolve_jit_compile(
    setting: Union[bool, str], prefer_xla: bool, strategy: tf.distribute.Strategy, run: "RunConfig"
) -> bool:
    """Whether to XLA-compile the train step; `setting` is True, False or "auto".

    "auto" continues a run in `run.exp_dir` with the setting it was trained
    with (XLA draws the noise with its own kernel, so switching would change the
    run), and otherwise follows `prefer_xla` on one device: the caller says
    whether XLA is the faster choice for its networks (measured: the BiGAN
    MLPs' step 1.9x faster on the CPU; XLA's CPU convolutions 4x slower than
    oneDNN's; the SSGAN MLP no faster; BENCHMARKS.md). TensorFlow cannot
    XLA-compile a step mirrored over several CPU devices (each replica's
    variables live on another device), so that is refused.
    """
    try:
        local_devices = list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: one device
        local_devices = []
    multi_cpu = len(local_devices) > 1 and all("CPU" in d.upper() for d in local_devices)
    if setting in ("auto", None):
        stored = (experiment.read_config(run.exp_dir) or {}).get("run", {})
        if (
            not run.overwrite
            and run.resume not in ("none", "None")
            and isinstance(stored.get("jit_compile"), bool)
        ):
            return stored["jit_compile"]
        return prefer_xla and strategy.num_replicas_in_sync == 1
    if setting and multi_cpu:
        raise ConfigError(
            f"--jit_compile cannot compile a step mirrored over {len(local_devices)} CPU "
            "devices (TensorFlow's XLA reads each replica's variables from one device): drop "
            "--jit_compile or --cpu_replicas."
        )
    return bool(setting)


def _every(interval: Optional[int], epoch: int) -> bool:
    return interval is not None and interval > 0 and epoch % interval == 0


def train(
    strategy: tf.distribute.Strategy,
    experiment_config: ExperimentConfig,
    data: Any = None,
    print_fn: Callable[[str], None] = print,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    initialize: Optional[Callable[[BiGAN], None]] = None,
) -> Dict[str, object]:
    """Trains (or resumes) a BiGAN; returns {"model", "history", "metrics", "epoch", "experiment"}.

    `data` is an `ImageData` (or `StreamedImageData`); None loads
    `experiment_config.data`. The experiment is resolved against the data
    (`ExperimentConfig.resolve`: the image shape, a conditional network's class
    count) and checked before anything is built; the resolved one is returned
    as "experiment" and written as config.json.
    `extra_callbacks` run before the built-in ones (e.g. timers in benchmarks).
    `initialize(model)` runs on a fresh (not resumed) model inside the strategy's
    scope before training, e.g. to load a trained generator for the post-hoc
    encoder.
    """
    experiment_config.validate(network=False)  # resolve() checks it against the data
    if data is None:
        if experiment_config.data is None:
            raise ConfigError(
                "The experiment has no data: give train() an ImageData or set "
                "ExperimentConfig.data to a DataConfig."
            )
        data = load(experiment_config.data)
    experiment_config = experiment_config.resolve(data)
    network, objective, optimizer, evaluation, run = (
        experiment_config.network,
        experiment_config.objective,
        experiment_config.optimizer,
        experiment_config.evaluation,
        experiment_config.run,
    )
    total_epochs = optimizer.total_epochs
    steps_per_epoch = data.num_train // run.batch_size
    if steps_per_epoch < 1:
        raise ConfigError(
            f"--batch_size {run.batch_size} is larger than the training set "
            f"({data.num_train} images)."
        )
    run = dataclasses.replace(
        run,
        jit_compile=resolve_jit_compile(
            run.jit_compile, network.family == "mnist_mlp", strategy, run
        ),
    )
    experiment_config = dataclasses.replace(experiment_config, run=run)
    config_record = experiment_config.record(data.record(), strategy.num_replicas_in_sync)

    def build_model():
        with dtype_policy(run.mixed_precision):
            model = BiGAN.from_config_objects(network, objective, optimizer.weight_decay, run.seed)
        model.compile_for_training(
            optimizer,
            steps_per_epoch,
            jit_compile=run.jit_compile,
            loss_scale=run.mixed_precision == "float16",
        )
        return model

    plan = TrainingPlan(
        build_model,
        make_evaluator=lambda model: Evaluator.for_model(model, data, evaluation, seed=run.seed),
        make_dataset=lambda first, last: data.training_dataset(
            run.batch_size, run.seed, first, last
        ),
        steps_per_epoch=steps_per_epoch,
        constant_epochs=optimizer.epochs,
        total_epochs=total_epochs,
        config_record=config_record,
        deploy_iters=evaluation.deploy_iters,
        make_training_batches=lambda model: TrainingBatches.for_model(
            model, data.train_images, data.train_labels, run.batch_size, run.seed
        ),
        initialize=initialize,
    )
    result = fit_model(strategy, plan, run, print_fn=print_fn, extra_callbacks=extra_callbacks)
    result["experiment"] = experiment_config
    return result


class TrainingPlan(NamedTuple):
    """What `fit_model` trains, as one object.

    build_model      () -> a compiled model with `networks` (a NamedTuple),
                     `discriminator_optimizer`, `generator_optimizer` and `noise_seed`
                     (what `TrainingCheckpoint` saves); called in the strategy's scope.
    make_evaluator   model -> an object with the `Evaluator` interface the
                     `EvaluationCallback` uses (evaluate, sample_grids, real_grid).
    make_dataset     (first_epoch, last_epoch) -> the training batches of those epochs.
    steps_per_epoch, constant_epochs, total_epochs   the schedule.
    config_record    what config.json holds.
    deploy_iters     batch-norm deploy batches before each evaluation.
    make_training_batches  model -> the `TrainingBatches` of the deploy pass and the
                     epoch-0 cost line; None for a model without a deploy pass.
    initialize       model -> None, run on a fresh (not resumed) model; or None.
    """

    build_model: Callable[[], keras.Model]
    make_evaluator: Callable[[keras.Model], Any]
    make_dataset: Callable[[int, int], tf.data.Dataset]
    steps_per_epoch: int
    constant_epochs: int
    total_epochs: int
    config_record: Dict
    deploy_iters: int = 0
    make_training_batches: Optional[Callable[[keras.Model], TrainingBatches]] = None
    initialize: Optional[Callable[[keras.Model], None]] = None


def fit_model(
    strategy: tf.distribute.Strategy,
    plan: TrainingPlan,
    run: RunConfig,
    print_fn: Callable[[str], None] = print,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> Dict[str, Any]:
    """The run driver every model shares (BiGAN, SSGAN, transfer): resume, evaluate, save, fit.

    Trains `plan` (a `TrainingPlan`) into `run.exp_dir`, writing
    `plan.config_record` as config.json.

    A rolling checkpoint is written after every epoch (the last
    `run.keep_checkpoints` kept) and a permanent one at the chosen epochs.
    SIGINT/SIGTERM stop the run after the current step with a step-exact
    checkpoint and raise `TrainingInterrupted`; the same call continues it
    exactly (the data order is a function of (seed, epoch), the noise of
    (seed, step), so the finished batches of the epoch are skipped).
    """
    (
        build_model,
        make_evaluator,
        make_dataset,
        steps_per_epoch,
        constant_epochs,
        total_epochs,
        config_record,
        deploy_iters,
        make_training_batches,
        initialize,
    ) = plan
    # Under multi-worker training every worker runs this function; only the chief
    # writes the run's files. Every worker saves checkpoints (TensorFlow needs all
    # of them in the save), non-chief ones into their own folder, deleted after.
    chief = is_chief(strategy)
    checkpoint_dir = experiment.checkpoint_dir(run.exp_dir)
    write_dir = None if chief else os.path.join(checkpoint_dir, worker_id(strategy))
    has_checkpoints = lambda: bool(
        epochs_in(checkpoint_dir) or epochs_in(os.path.join(checkpoint_dir, ROLLING_DIR))
    )
    lock = experiment.lock_run(run.exp_dir, print_fn) if chief else None
    try:
        if chief:
            resume = experiment.prepare(
                run.exp_dir,
                config_record,
                run.resume,
                run.overwrite,
                has_checkpoints,
                print_fn,
                lock=lock,
                checkpoint_epochs=lambda: epochs_in(checkpoint_dir),
                branch=(lambda epoch: branch_checkpoints(checkpoint_dir, epoch))
                if run.branch
                else None,
            )
            stored_record = experiment.read_config(run.exp_dir)
            for path in remove_interrupted_saves(checkpoint_dir):
                print_fn(f"Removed {path}, left by a save that was killed midway.")
        else:
            stored_record = None
            resume = (
                "latest"
                if run.resume in (None, "auto") and has_checkpoints()
                else (None if run.resume in (None, "auto", "none") else run.resume)
            )

        # The seed fixes the initial weights too, so equal seeds give equal runs.
        keras.utils.set_random_seed(run.seed)
        with strategy.scope():
            model = build_model()
            checkpoint = TrainingCheckpoint(
                model,
                checkpoint_dir,
                write_directory=write_dir,
                keep_written=run.keep_worker_checkpoints,
                keep_rolling=run.keep_checkpoints,
            )
            initial_epoch = (
                checkpoint.restore(resume, steps_per_epoch, print_fn=print_fn)
                if resume is not None
                else 0
            )
            if initialize is not None and resume is None:
                initialize(model)
        # Steps of the next epoch the checkpoint had already trained (a signal's stop).
        done_in_epoch = (
            checkpoint.step - initial_epoch * steps_per_epoch if resume is not None else 0
        )
        if not 0 <= done_in_epoch < steps_per_epoch:
            raise CheckpointError(
                f"Checkpoint {checkpoint.restored_path} holds {checkpoint.step} steps, which does "
                f"not fit epoch {initial_epoch} at {steps_per_epoch} steps per epoch: resume with the "
                "batch size and training set it was trained with."
            )
        if resume is not None:
            where = f"epoch {initial_epoch}" + (
                f", step {done_in_epoch}/{steps_per_epoch}" if done_in_epoch else ""
            )
            print_fn(f"Resumed from {where} ({checkpoint.restored_path}).")
        if chief:
            experiment.write_config(
                run.exp_dir,
                experiment.with_history(
                    config_record, stored_record, initial_epoch if resume is not None else 0
                ),
            )

        def should_save(epoch: int):
            return _every(run.save_interval, epoch) or epoch in (constant_epochs, total_epochs)

        def should_evaluate(epoch: int):
            return epoch == 1 or _every(run.disp_interval, epoch) or should_save(epoch)

        verbose = run.verbose
        if verbose == "auto":  # Keras's bar in a terminal, one line per epoch in a file
            verbose = 1 if sys.stdout.isatty() else 2
        evaluator = make_evaluator(model)
        writer = (
            tf.summary.create_file_writer(experiment.tensorboard_dir(run.exp_dir))
            if chief
            else None
        )
        # Signals stop one process; a multi-worker cluster must stop every worker at
        # the same step, which TensorFlow's preemption handler agrees (PreemptionStop).
        multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        with contextlib.ExitStack() as stack:
            stop = stack.enter_context(stop_on_signals(run.handle_signals and not multi_worker))
            cluster_stop = []
            if run.handle_signals and multi_worker:
                cluster_stop.append(
                    stack.enter_context(
                        PreemptionStop(
                            strategy,
                            lambda: checkpoint.save_rolling(checkpoint.step // steps_per_epoch),
                            stop,
                        )
                    )
                )
            evaluation_callback = EvaluationCallback(
                evaluator,
                run.exp_dir,
                should_evaluate,
                initial_epoch=initial_epoch,
                deploy_iters=deploy_iters,
                writer=writer,
                print_fn=print_fn,
                chief=chief,
                training_batches=make_training_batches(model) if make_training_batches else None,
                stop_request=stop,
                fresh=resume is None,
                schedule=(constant_epochs, total_epochs),
            )
            # Keras's bar (verbose 1) or its one line per epoch (verbose 2) must end before an
            # epoch's own lines (the evaluation, the ETA line) print, and time the training
            # alone: its logger goes first (Keras appends one last otherwise).
            progress_bar = [keras.callbacks.ProgbarLogger()] if verbose in (1, 2) and chief else []
            callbacks = [
                *progress_bar,
                *extra_callbacks,
                NaNGuard(),
                *cluster_stop,
                StopAtStepBoundary(stop),
                evaluation_callback,
                CheckpointCallback(
                    checkpoint,
                    should_save,
                    stop_request=stop,
                    print_fn=print_fn if chief else (lambda s: None),
                ),
                ProgressLine(
                    total_epochs,
                    should_evaluate,
                    evaluation_callback,
                    stop,
                    print_fn=print_fn if chief else (lambda s: None),
                ),
            ]
            history = None
            if initial_epoch >= total_epochs:
                done = [
                    r
                    for r in experiment.read_metrics(run.exp_dir, print_fn)
                    if r["epoch"] == initial_epoch
                ]
                if done:
                    print_fn(
                        f"The run in {run.exp_dir} is finished (epoch {initial_epoch} of "
                        f"{total_epochs}); nothing to do."
                    )
                    evaluation_callback.last_results = dict(done[-1]["metrics"])
                else:
                    print_fn(
                        f"Checkpoint epoch {initial_epoch} is already the last of "
                        f"{total_epochs}; evaluating only."
                    )
                    evaluation_callback.set_model(model)
                    evaluation_callback.evaluate(initial_epoch, None)
            else:
                # A stopped epoch is finished first, from its first untrained batch.
                phases = []
                if done_in_epoch:
                    phases.append((initial_epoch, initial_epoch + 1, done_in_epoch))
                start = initial_epoch + (1 if done_in_epoch else 0)
                if start < total_epochs:
                    phases.append((start, total_epochs, 0))
                for first, last, skip in phases:
                    dataset = make_dataset(first, last)
                    if skip:
                        dataset = dataset.skip(skip)
                    with strategy.scope():
                        history = model.fit(
                            dataset,
                            epochs=last,
                            initial_epoch=first,
                            steps_per_epoch=steps_per_epoch - skip,
                            callbacks=callbacks,
                            shuffle=False,
                            verbose=verbose if chief else 0,
                        )
                    if stop.requested:
                        break
            if writer is not None:
                writer.close()
            if stop.requested:
                step = checkpoint.step
                saved = [c.saved_path for c in cluster_stop if c.saved_path]
                path = saved[0] if saved else checkpoint.save_rolling(step // steps_per_epoch)
                raise TrainingInterrupted(
                    f"Stopped by {stop.signal_name} at epoch {step // steps_per_epoch + 1}, step "
                    f"{step % steps_per_epoch}/{steps_per_epoch} of {total_epochs} epochs; saved "
                    f"{path}. The same command continues the run exactly.",
                    stop.exit_code,
                )
        return {
            "model": model,
            "history": history,
            "metrics": evaluation_callback.last_results,
            "epoch": max(initial_epoch, total_epochs),
        }
    finally:
        if lock is not None:
            lock.release()
