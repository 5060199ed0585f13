"""Command-line plumbing shared by the trainers, exporters and benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import shlex
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple


from trainers.data_paths import repo_root  # noqa: F401  (programs import it from here)


def use_invocation_directory() -> None:
    """Under `bazel run`, resolve relative paths against the caller's directory, not runfiles."""
    directory = os.environ.get("BUILD_WORKING_DIRECTORY")
    if directory and os.path.isdir(directory):
        os.chdir(directory)


_WATCHDOG = r"""
import os, select, signal, sys
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
finished, _, _ = select.select([sys.stdin], [], [], seconds)  # EOF when the parent is done
if not finished:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os.kill(parent, signal.SIGKILL)  # TF handles SIGTERM itself
"""


@contextlib.contextmanager
def deadline(seconds: float, program: str, message: str):
    """Ends the process with `message` on stderr if the block runs past `seconds`.

    For calls TensorFlow gives no timeout for, like waiting for the other
    workers of a cluster (TFE_EnableCollectiveOps blocks holding the GIL, so
    no Python thread or signal handler could run): a small watchdog process
    prints the message and kills this one (exit status 137).
    """
    watchdog = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WATCHDOG,
            str(os.getpid()),
            str(seconds),
            f"{program}: error: {message}",
        ],
        stdin=subprocess.PIPE,
    )
    try:
        yield
    finally:
        watchdog.stdin.close()
        watchdog.wait()


def strategy_from_flags(
    program: str,
    name: str,
    cpu_replicas=None,
    tpu=None,
    cluster_timeout_s: float = 120.0,
    collective_timeout_s=None,
):
    """`bigan_tf.distribute.make_strategy`, with TF_CONFIG read here for multi_worker."""
    from bigan_tf.distribute import make_strategy, parse_tf_config

    if name != "multi_worker":
        return make_strategy(name, cpu_replicas=cpu_replicas, tpu=tpu)
    cluster = parse_tf_config(os.environ.get("TF_CONFIG"))
    peers = ", ".join(
        f"{kind} {i} at {address}"
        for kind in ("chief", "worker")
        for i, address in enumerate(cluster.cluster.get(kind, []))
    )
    with deadline(
        cluster_timeout_s,
        program,
        f"the cluster did not assemble within {cluster_timeout_s:g} s: every task in "
        f"TF_CONFIG ({peers}) must be started and reachable (this is "
        f"{cluster.task_type} {cluster.task_id}). Check the addresses and ports, or "
        "raise --cluster_timeout.",
    ):
        strategy = make_strategy(
            "multi_worker", cluster=cluster, collective_timeout_s=collective_timeout_s
        )
    return strategy


def free_ports(count: int, host: str = "127.0.0.1") -> List[int]:
    """`count` distinct ports the OS reports free right now (for local workers)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def continue_command(program: str) -> str:
    """The command line that continues this run: the same one, less fresh-start flags.

    Resume is automatic (--resume=auto), so only --resume=... and --overwrite,
    which would start over, are dropped.
    """
    fresh = ("--resume", "--overwrite", "--nooverwrite", "--branch", "--nobranch")
    args = [a for a in sys.argv[1:] if a.split("=")[0] not in fresh]
    # The module that runs (a benchmark harness as well as a trainer).
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    module = spec.name if spec is not None and spec.name else f"trainers.{program}"
    return shlex.join([os.path.basename(sys.executable), "-m", module, *args])


class PipeSafeStream:
    """A text stream that survives its reader going away (`| head`, a closed ssh).

    The first `BrokenPipeError` points the file descriptor at /dev/null and
    later output is dropped, so a training run goes on (and saves) instead of
    dying at its next print.
    """

    def __init__(self, stream):
        self._stream = stream

    def _drop(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def quiet_tensorflow_import() -> None:
    """Imports TensorFlow without its C++ start-up lines (oneDNN, CUDA-driver, cuInit notices).

    TF_CPP_MIN_LOG_LEVEL=3 hides what TensorFlow logs once its logging is set up; the
    lines it writes while loading (before absl::InitializeLog) ignore that setting, so
    the import runs with file descriptor 2 pointed at /dev/null. A failing import
    still raises its Python exception after stderr is back. `--tf_log` skips all this.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def run_main(main, program: str, rewrite_argv=None) -> None:
    """The entry point of every program: `bazel run`-aware, exit code from `main`.

    A `bigan_tf.BiganError` (bad input, a missing file, a diverged run: the
    message names the problem and the fix) becomes `program: error: ...` on
    stderr and exit status 2, without a traceback. `rewrite_argv(program, argv)`
    (optional) rewrites the command line before absl parses it (the training
    programs' former flags, `trainers.config_flags.rewrite_argv_or_exit`).
    """
    from absl import app, flags

    def guarded(argv):
        from absl import logging

        if not any(a.startswith(("--verbosity", "-v=", "--v=")) for a in argv):
            # TensorFlow's INFO lines (one per checkpoint save, ...) only with --verbosity=0.
            logging.set_verbosity(logging.WARNING)
        printing_config = "print_config" in flags.FLAGS and flags.FLAGS.print_config
        if not flags.FLAGS.tf_log and not printing_config:
            quiet_tensorflow_import()
        try:
            return main(argv)
        except Exception as e:
            # Imported only now: bigan_tf pulls in TensorFlow, which --help must not wait for.
            from bigan_tf.errors import BiganError
            from bigan_tf.interrupts import TrainingInterrupted

            if isinstance(e, TrainingInterrupted):
                print(
                    f"{program}: {e} Continue with: {continue_command(program)}",
                    file=sys.stderr,
                    flush=True,
                )
                return e.exit_code
            if not isinstance(e, BiganError):
                raise
            print(f"{program}: error: {e}", file=sys.stderr)
            return 2

    use_invocation_directory()
    if "tf_log" not in flags.FLAGS:
        flags.DEFINE_boolean(
            "tf_log",
            False,
            "Show TensorFlow's C++ log lines (start-up "
            "notices, cuInit, oneDNN), hidden by default.",
        )
    sys.stdout, sys.stderr = PipeSafeStream(sys.stdout), PipeSafeStream(sys.stderr)
    argv = rewrite_argv(program, sys.argv) if rewrite_argv else sys.argv
    app.run(lambda argv: sys.exit(guarded(argv)), argv=argv)


def define_model_flags(
    model_help: str = "Training run folder or SavedModel export.", required: bool = True
) -> None:
    """--model/--epoch/--dataset/--data_dir of the programs that read a trained model."""
    from absl import flags

    flags.DEFINE_string("model", None, model_help, required=required)
    flags.DEFINE_string("epoch", "latest", "Checkpoint of a training run: epoch number or latest.")
    flags.DEFINE_string(
        "dataset",
        None,
        "Dataset of the real images (see train_mnist); "
        "default: the one --model was trained on (mnist where it was trained on "
        "image files or does not say).",
    )
    from trainers.data_paths import define_data_dir_flag

    define_data_dir_flag()


def renamed_flags(renames: Dict[str, str]) -> Callable[[str, Sequence[str]], List[str]]:
    """A `run_main` argv rewriter for flags that were renamed ({old: new}, e.g. a
    program's --checkpoint that became the shared --model)."""

    def rewrite(program: str, argv: Sequence[str]) -> List[str]:
        out = []
        for arg in argv:
            name, sep, value = arg.partition("=")
            out.append(
                f"--{renames[name[2:]]}{sep}{value}"
                if arg.startswith("--") and name[2:] in renames
                else arg
            )
        return out

    return rewrite


# The --dataset values `load_image_data` reads (image-file folders are not among them).
_LOADABLE_DATASETS = ("mnist", "fashion_mnist", "idx", "hdf5")


def model_dataset(
    model: str, dataset: Optional[str], data_dir: Optional[str]
) -> Tuple[str, Optional[str]]:
    """(dataset, folder) of the real images a program shows beside `model`'s outputs.

    `dataset`/`data_dir` as given win; without `dataset`, the dataset the run (its
    config.json) or the export (its bigan_tf.json) was trained on, so that a
    Fashion-MNIST model is not shown MNIST digits as its "real" images. The folder
    follows `trainers.data_paths.find_data_dir` (the model's recorded folder third).
    """
    from trainers.data_paths import find_data_dir

    trained = _trained_data_config(model)
    source = trained.get("source") or ""
    if dataset is None:
        dataset = source if source in _LOADABLE_DATASETS or source.startswith("tfds:") else "mnist"
    recorded = trained.get("root") if dataset == source else None
    return dataset, find_data_dir(dataset, data_dir, recorded)


def _trained_data_config(model: str) -> dict:
    """The `data.config` section `model` (a run folder or an export) was trained with."""
    from bigan_tf.run_dir import read_config
    from bigan_tf.hub import read_export_metadata

    if not os.path.isdir(model):
        return {}
    config = read_config(model) or (read_export_metadata(model) or {}).get("training_config")
    data = (config or {}).get("data") or {}
    return data.get("config") or {}
