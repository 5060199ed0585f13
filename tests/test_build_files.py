"""The Bazel BUILD files list every Python module, test and program, so they cannot drift."""

import os

from build_files import read_build
from conftest import REPO_ROOT

PACKAGES = ("bigan_tf", "trainers", "export", "tests", "benchmarks", "configs")


def _python_files(package):
    root = os.path.join(REPO_ROOT, package)
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
        for name in files:
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(directory, name), root)


def test_every_python_file_is_in_its_package_build_file():
    missing = []
    for package in PACKAGES:
        listed = {
            src
            for _, attrs in read_build(os.path.join(REPO_ROOT, package))
            for src in attrs.get("srcs", [])
        }
        missing += [f"{package}/{path}" for path in _python_files(package) if path not in listed]
    assert not missing, f"Add these to the BUILD file of their package: {missing}"


def test_every_test_module_program_and_benchmark_has_its_own_target():
    problems = []
    tests = {
        attrs["name"]: attrs
        for kind, attrs in read_build(os.path.join(REPO_ROOT, "tests"))
        if kind == "py_test"
    }
    for path in _python_files("tests"):
        name = path[:-3]
        if name.startswith("test_"):
            if name not in tests or tests[name].get("args") != [path]:
                problems.append(f"py_test {name} running {path}")
    for package in ("trainers", "export", "benchmarks"):
        binaries = {
            attrs["name"]
            for kind, attrs in read_build(os.path.join(REPO_ROOT, package))
            if kind == "py_binary"
        }
        for path in _python_files(package):
            with open(os.path.join(REPO_ROOT, package, path)) as f:
                is_program = 'if __name__ == "__main__":' in f.read()
            if is_program and path[:-3] not in binaries:
                problems.append(f"py_binary {package}:{path[:-3]}")
    assert not problems, f"Missing Bazel targets: {problems}"
