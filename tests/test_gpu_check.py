"""benchmarks/gpu_check.sh, the prepared GPU check, tested where no GPU exists."""

import os
import subprocess
import sys

from conftest import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "gpu_check.sh")
SECTIONS = (
    "env mnist_epoch conv64_none conv64_bfloat16 conv64_float16 mirrored_split "
    "ssgan_cifar10_xla_off ssgan_cifar10_xla_on"
)


def test_dry_run_runs_every_section_on_the_cpu():
    result = subprocess.run(
        ["bash", SCRIPT, "--dry_run"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    out = result.stdout
    assert result.returncode == 0, (out + result.stderr)[-4000:]
    assert f"ran: {SECTIONS}" in out and "did not run: none" in out
    assert "TensorFlow 2." in out
    assert "MNIST MLP epoch (CPU, XLA False, 4 steps of 128)" in out
    assert "MNIST MLP epoch (CPU, XLA True, 4 steps of 128)" in out
    for precision in ("none", "bfloat16", "float16"):
        assert f"precision {precision}" in out and "images/s" in out
    assert "MirroredStrategy over ['/device:CPU:0', '/device:CPU:1']" in out
    assert "weights finite: True" in out
    assert out.count("SSGAN train step, cifar10 shape (32, 32, 3), 4 unlabelled") == 2
    for variant in ("conv, tap-wise first conv", "conv, weight-normalised D", "mlp"):
        assert out.count(f"\n{variant} | ") == 2


def test_without_tensorflow_it_says_that_nothing_ran(tmp_path):
    no_tf = tmp_path / "python"
    no_tf.write_text("#!/bin/sh\nexit 1\n")  # a Python whose `import tensorflow` fails
    no_tf.chmod(0o755)
    result = subprocess.run(
        ["bash", SCRIPT],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHON": str(no_tf)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "TensorFlow is not importable" in result.stdout
    assert f"did not run: {SECTIONS}" in result.stdout
