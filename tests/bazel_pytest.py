"""The `main` of every Bazel py_test: runs the test modules given as arguments under pytest.

`python -m pytest -q tests` remains the way to run everything in one process;
Bazel runs one module per target, in parallel, from its runfiles tree.
"""

import os
import sys

import pytest

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, name) for name in sys.argv[1:]]
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *paths]))
