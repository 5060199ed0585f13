"""Flags every training program shares, and the one call that turns them into a run.

`train_mnist` (a BiGAN or a baseline) and `train_encoder` (an encoder against
a frozen generator) differ only in how they build the networks and the
objective; the optimisation, data, evaluation, output and execution flags and
the call into `bigan_tf.training.train` live here once.
"""

from __future__ import annotations

from absl import flags

from trainers.cli import strategy_from_flags
from trainers.data_flags import data_config_from_flags, define_data_flags

FLAGS = flags.FLAGS


OBJECTIVES = ("bigan", "latent_regressor", "joint_latent_regressor", "gan", "autoencoder_l2",
              "autoencoder_l1")


def define_objective_flags() -> None:
    """--objective and the four weight overrides (train_mnist, train_imagenet)."""
    flags.DEFINE_enum(
        "objective", "bigan", OBJECTIVES,
        "Preset of the four loss weights: bigan (1,0,0,1), latent_regressor (0,1,1,0), "
        "joint_latent_regressor (0,1,1,0.25), gan (0,1,0,0), as (joint_discrim, discrim, "
        "encode, encode_gen) weights; autoencoder_l2 / autoencoder_l1: E and G trained "
        "jointly on the per-pixel mean squared / absolute error of x - G(E(x)), no "
        "discriminator (the paper's Table 1 baselines). The four weight flags override "
        "the preset.")
    flags.DEFINE_float("joint_discrim_weight", None,
                       "Weight of the BiGAN joint discriminator D(x, z) loss (overrides the "
                       "preset).")
    flags.DEFINE_float("discrim_weight", None,
                       "Weight of a standard x-only discriminator D(x) (overrides the preset).")
    flags.DEFINE_float("encode_weight", None,
                       "Weight of the latent-regressor loss on E(G(z)) (overrides the preset).")
    flags.DEFINE_float("encode_gen_weight", None,
                       "Weight of the encoder loss in G's loss; > 0 optimises E with G "
                       "(overrides the preset).")


def objective_from_flags():
    """The `Objective` of --objective with the weight flags applied."""
    from bigan_tf import objective_from_preset
    return objective_from_preset(
        FLAGS.objective, joint_discrim_weight=FLAGS.joint_discrim_weight,
        discrim_weight=FLAGS.discrim_weight, encode_weight=FLAGS.encode_weight,
        encode_gen_weight=FLAGS.encode_gen_weight)


def define_training_flags(data_flags: bool = True, num_val: int = 10000,
                          num_train_reference: int = 50000, num_generated: int = 100000,
                          exp_dir: str = "exp/mnist_bigan") -> None:
    """Defines the shared flags (call once, at import time of the program).

    `data_flags=False` leaves out the data flags (`trainers.data_flags`) for a
    program that defines them with other defaults; the other arguments are
    flag defaults.
    """
    # Optimisation.
    flags.DEFINE_integer("batch_size", 128, "Global batch size, split over the replicas.")
    flags.DEFINE_float("learning_rate", 2e-4, "Adam learning rate of every module.")
    flags.DEFINE_float("beta_1", 0.5, "Adam beta_1 (the original's --momentum).")
    flags.DEFINE_float("weight_decay", 2.5e-5,
                       "L2 decay added to every gradient (the original's --decay).")
    flags.DEFINE_integer("epochs", 200, "Epochs at a constant learning rate.")
    flags.DEFINE_integer("decay_epochs", 200,
                         "Epochs of exponential decay to 0.01x the learning rate, after --epochs.")
    if data_flags:
        define_data_flags()
    # Evaluation and output.
    flags.DEFINE_string("exp_dir", exp_dir,
                        "Experiment folder: samples/, tensorboard/, checkpoints/, metrics.jsonl, "
                        "config.json.")
    flags.DEFINE_integer("disp_interval", 25,
                         "Evaluate every N epochs (also at 0, 1, saves and end).")
    flags.DEFINE_integer("save_interval", None,
                         "Also checkpoint every N epochs (always at the end of each LR phase).")
    flags.DEFINE_integer("deploy_iters", 0,
                         "Before each evaluation, recompute batch-norm statistics as the mean "
                         "over this many training batches (the original used 1000); 0 keeps the "
                         "moving averages.")
    flags.DEFINE_integer("num_val", num_val, "Validation images used by the metrics.")
    flags.DEFINE_integer("num_train_reference", num_train_reference,
                         "Training images in the kNN reference set.")
    flags.DEFINE_integer("num_generated", num_generated, "Generated samples for NND and EGg.")
    flags.DEFINE_integer("cls_steps", 1000, "Adam steps of the CLS linear classifier.")
    flags.DEFINE_integer("disp_samples", 200, "Samples in {epoch}.png (10 rows).")
    define_run_control_flags()
    flags.DEFINE_integer("seed", 0, "Seed of the weights, data order and noise.")
    # Execution.
    define_strategy_flags(multi_worker=True)
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --strategy=tpu.")
    flags.DEFINE_float("cluster_timeout", 120.0,
                       "Seconds to wait for every multi-worker task to start before failing.")
    flags.DEFINE_float("collective_timeout", None,
                       "Seconds after which a multi-worker collective fails (a dead peer becomes "
                       "an error, not a hang); unset: no limit.")
    flags.DEFINE_boolean("keep_worker_checkpoints", False,
                         "Multi-worker: keep non-chief workers' checkpoint copies in "
                         "checkpoints/worker-N (normally deleted).")
    flags.DEFINE_boolean("jit_compile", None,
                         "Compile the train step with XLA. Unset (auto): on for the MLP networks "
                         "on one device, where it is about 1.9x faster on the CPU, off for "
                         "convolutions (4x slower with XLA on the CPU) and for several CPU "
                         "replicas (TensorFlow cannot compile that); a continued run keeps its "
                         "setting. XLA draws the noise with its own RNG kernel.")


def define_strategy_flags(multi_worker: bool = False) -> None:
    """--strategy and --cpu_replicas; `multi_worker` adds the cluster strategies."""
    if multi_worker:
        flags.DEFINE_enum("strategy", "auto",
                          ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"),
                          "tf.distribute strategy: auto = mirrored over the visible GPUs, or "
                          "none; multi_worker = MultiWorkerMirroredStrategy over the cluster in "
                          "TF_CONFIG; tpu = TPUStrategy on --tpu.")
    else:
        flags.DEFINE_enum("strategy", "auto", ("auto", "default", "one_device", "mirrored"),
                          "tf.distribute strategy: auto = mirrored over the visible GPUs, or "
                          "none.")
    flags.DEFINE_integer("cpu_replicas", None,
                         "Split the CPU into N logical devices and mirror over them (for testing "
                         "distribution without GPUs).")


def define_run_control_flags() -> None:
    """--resume, --overwrite, --keep_checkpoints, --verbose: every fit_model trainer's."""
    flags.DEFINE_string("resume", "auto",
                        "auto: continue the run in --exp_dir from its newest checkpoint (the "
                        "same command continues a stopped run), or start fresh in an empty "
                        "folder; latest or N: that checkpoint (an error if missing or "
                        "damaged); latest_good: the newest undamaged checkpoint; none: start "
                        "fresh, only into an empty folder.")
    flags.DEFINE_boolean("overwrite", False,
                         "Move an existing --exp_dir aside to NAME.old-N (never deleted) and "
                         "start fresh.")
    flags.DEFINE_boolean("branch", False,
                         "With --resume=N older than the run's newest epoch: keep the later "
                         "checkpoints in checkpoints/abandoned-K/ and their records in "
                         "metrics.abandoned-K.jsonl, and continue from epoch N (refused "
                         "without it: nothing finished is rewritten).")
    flags.DEFINE_integer("keep_checkpoints", 2,
                         "Rolling checkpoints kept (one is written after every epoch; the "
                         "--save_interval ones are kept for good).")
    flags.DEFINE_enum("verbose", "auto", ("auto", "0", "1", "2"),
                      "Keras progress output: 0 silent, 1 bar, 2 one line per epoch; auto: the "
                      "bar on a terminal, one line per epoch when written to a file.")


def run_control_from_flags() -> dict:
    """The RunConfig fields of `define_run_control_flags`."""
    verbose = FLAGS.verbose if FLAGS.verbose == "auto" else int(FLAGS.verbose)
    return dict(resume=FLAGS.resume, overwrite=FLAGS.overwrite, branch=FLAGS.branch,
                keep_checkpoints=FLAGS.keep_checkpoints, verbose=verbose)


def experiment_from_flags(network, objective, data_config,
                          mixed_precision: str = "none"):
    """The `ExperimentConfig` of the training flags, `network`, `objective` and `data_config`."""
    from bigan_tf.config import EvaluationConfig, ExperimentConfig, OptimizerConfig, RunConfig

    return ExperimentConfig(
        network=network, objective=objective, data=data_config,
        optimizer=OptimizerConfig(learning_rate=FLAGS.learning_rate, beta_1=FLAGS.beta_1,
                                  weight_decay=FLAGS.weight_decay, epochs=FLAGS.epochs,
                                  decay_epochs=FLAGS.decay_epochs),
        evaluation=EvaluationConfig(num_val=FLAGS.num_val,
                                    num_train_reference=FLAGS.num_train_reference,
                                    num_generated=FLAGS.num_generated,
                                    deploy_iters=FLAGS.deploy_iters, cls_steps=FLAGS.cls_steps,
                                    num_sample_images=FLAGS.disp_samples),
        run=RunConfig(exp_dir=FLAGS.exp_dir, batch_size=FLAGS.batch_size, seed=FLAGS.seed,
                      disp_interval=FLAGS.disp_interval, save_interval=FLAGS.save_interval,
                      jit_compile="auto" if FLAGS.jit_compile is None else FLAGS.jit_compile,
                      keep_worker_checkpoints=FLAGS.keep_worker_checkpoints,
                      mixed_precision=mixed_precision, **run_control_from_flags()))


def train_from_flags(program: str, network, objective, initialize=None, data_config=None,
                     mixed_precision: str = "none"):
    """Loads the data, builds the strategy and the `ExperimentConfig` from the flags, and trains.

    `network` is a `NetworkConfig` (its image shape is taken from the data);
    `initialize(model)` is passed to `bigan_tf.training.train`. `data_config`
    is the `DataConfig` to load (default: the data flags').
    Returns `train`'s result dict.
    """
    import keras
    from bigan_tf.data import load
    from bigan_tf.errors import ConfigError
    from bigan_tf.experiment import check_writable
    from bigan_tf.training import train

    keras.utils.set_random_seed(FLAGS.seed)
    experiment = experiment_from_flags(network, objective,
                                       data_config or data_config_from_flags(), mixed_precision)
    # Every setting is checked before the strategy starts or any image is read.
    experiment.validate(network=False)
    strategy = strategy_from_flags(program, FLAGS.strategy, FLAGS.cpu_replicas, FLAGS.tpu,
                                   FLAGS.cluster_timeout, FLAGS.collective_timeout)
    # A bad --exp_dir costs nothing: it is checked before the data is loaded.
    check_writable(FLAGS.exp_dir)
    data = load(experiment.data)
    for note in getattr(data, "notes", ()):
        print(f"Note: {note}")
    if FLAGS["num_val"].present and FLAGS.num_val > len(data.val_images):
        raise ConfigError(f"--num_val {FLAGS.num_val} is more than the {len(data.val_images)} "
                          f"evaluation images the data has: use --num_val "
                          f"{len(data.val_images)} or fewer.")
    return train(strategy, experiment, data, initialize=initialize)
