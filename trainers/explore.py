r"""Explore a trained model in the browser: samples, sweeps, encodings, neighbours, analogies.

    python -m trainers.explore --model=exp/mnist_bigan              # then open the printed URL
    python -m trainers.explore --model=exports/mnist_bigan --port=8090
    python -m trainers.explore --model=RUN --host=0.0.0.0           # reachable from other hosts

Serves one local page (`trainers.explore_page`) for a training run's folder or an exported
SavedModel. The model and its dataset are loaded once; each request runs the library's
sampling tasks through `bigan_tf.explorer.Explorer`. Bad input (a non-image, an oversized
file, a wrong seed) is a message on the page, never a crash; requests are served one at a
time, and past `--max_waiting` waiting ones the server answers "busy" (HTTP 503) instead of
queueing without end. Ctrl-C stops it. Needs Flask: `pip install -e ".[explore]"`.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Optional

from absl import flags

from trainers.cli import define_model_flags, run_main
from trainers.option_flags import define_option_flags

FLAGS = flags.FLAGS
define_model_flags("A training run's folder or an exported SavedModel.", required=False)


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """How the explorer serves (each field is a flag of the same name).

    host            Address to listen on (0.0.0.0: every interface; the page has no
                    authentication).
    port            Port to listen on (0: any free port).
    num_reference   Training images searched for nearest neighbours.
    attribute_file  .npz of attribute vectors (trainers.sample --task=attribute_vectors).
    max_waiting     Requests that may wait for the model; more are told the server is busy.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    num_reference: int = 5000
    attribute_file: Optional[str] = None
    max_waiting: int = 8


define_option_flags(ServerOptions)


def main(argv):
    from absl import app

    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from bigan_tf.errors import ConfigError

    if not FLAGS.model:
        raise ConfigError("--model is required: a training run's folder or an exported SavedModel.")
    if not 0 <= FLAGS.port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535], got {FLAGS.port}.")
    try:
        from werkzeug.serving import make_server
    except ImportError:
        raise ConfigError('The explorer needs Flask: pip install -e ".[explore]".') from None
    from trainers.explore_app import create_app, load_explorer

    explorer = load_explorer(
        FLAGS.model,
        FLAGS.epoch,
        FLAGS.dataset,
        FLAGS.data_dir,
        FLAGS.num_reference,
        FLAGS.attribute_file,
    )
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        server = make_server(
            FLAGS.host, FLAGS.port, create_app(explorer, FLAGS.max_waiting), threaded=True
        )
    except OSError as e:
        raise ConfigError(
            f"Cannot listen on {FLAGS.host}:{FLAGS.port} ({e.strerror or e}): "
            "choose another --port."
        ) from None
    if FLAGS.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"Warning: listening on {FLAGS.host}: anyone who can reach this machine can use "
            "the page (it has no authentication).",
            file=sys.stderr,
            flush=True,
        )
    # Ctrl-C and SIGTERM stop the server cleanly, also when it was started in the
    # background (where a shell leaves SIGINT ignored).
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"Exploring {FLAGS.model} at http://{FLAGS.host}:{server.server_port}/ (Ctrl-C stops).",
        flush=True,
    )
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("Stopped.", flush=True)
    return 0


def run():
    run_main(main, "explore")


if __name__ == "__main__":
    run()
