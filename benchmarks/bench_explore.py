r"""How fast is the explorer? Start-up and per-request latency, measured in-process.

    python -m benchmarks.bench_explore --model=RUN_OR_EXPORT [--dataset=mnist --data_dir=DIR]

Times `trainers.explore_app.load_explorer` (the model, its dataset and nothing else: the
neighbour features are computed by the first encode request, timed apart), then each
panel's request through Flask's test client, --repeats times after one warm-up, and
prints the median milliseconds of each.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from absl import app, flags

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO_ROOT)

from trainers.cli import define_model_flags  # noqa: E402

FLAGS = flags.FLAGS
define_model_flags("A run folder or an export.")
flags.DEFINE_integer("num_reference", 5000, "Training images searched for neighbours.")
flags.DEFINE_integer("repeats", 5, "Timed requests per panel.")

REQUESTS = (
    ("samples", "get", "/api/samples?seed={i}", None),
    ("style sweep", "get", "/api/style_sweep?seed={i}", None),
    ("encode (held-out image)", "post", "/api/encode", {"index": "{i}"}),
    ("interpolate (two images)", "get", "/api/interpolate?a={i}&b=7", None),
    ("analogy (three images)", "get", "/api/analogy?indices=1,2,{i}", None),
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from trainers.explore_app import create_app, load_explorer

    start = time.perf_counter()
    explorer = load_explorer(
        FLAGS.model,
        epoch=FLAGS.epoch,
        dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir,
        num_reference=FLAGS.num_reference,
    )
    print(f"start-up (model and dataset): {time.perf_counter() - start:.2f} s", flush=True)
    client = create_app(explorer).test_client()
    start = time.perf_counter()
    client.post("/api/encode", data={"index": "0"})
    print(
        f"first encode (features of {FLAGS.num_reference} neighbour candidates included): "
        f"{time.perf_counter() - start:.2f} s",
        flush=True,
    )
    for name, method, url, form in REQUESTS:
        times = []
        for i in range(FLAGS.repeats + 1):
            data = {k: v.format(i=i + 3) for k, v in form.items()} if form else None
            begin = time.perf_counter()
            response = getattr(client, method)(url.format(i=i + 3), data=data)
            elapsed = time.perf_counter() - begin
            if response.status_code != 200:
                raise SystemExit(
                    f"{name}: HTTP {response.status_code} {response.get_json().get('error')}"
                )
            if i:  # the first is a warm-up (tracing)
                times.append(elapsed)
        print(
            f"{name}: {1000 * statistics.median(times):.0f} ms median of {len(times)}", flush=True
        )
    return 0


if __name__ == "__main__":
    from trainers.cli import run_main

    run_main(main, "bench_explore")
