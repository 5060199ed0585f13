"""Command-line plumbing shared by the trainers, exporters and benchmarks."""

from __future__ import annotations

import os


def repo_root() -> str:
    """The source checkout, also when run from Bazel's runfiles (symlinks to the sources)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def default_data_dir(name: str = "mnist") -> str:
    """`../shared/data/<name>` beside the checkout, where the MNIST files live."""
    return os.path.normpath(os.path.join(repo_root(), "..", "shared", "data", name))


def use_invocation_directory() -> None:
    """Under `bazel run`, resolve relative paths against the caller's directory, not runfiles."""
    directory = os.environ.get("BUILD_WORKING_DIRECTORY")
    if directory and os.path.isdir(directory):
        os.chdir(directory)
