"""Reads the Bazel BUILD files (plain Starlark) as lists of (rule kind, attributes).

Shared by the BUILD-consistency tests and conftest's test tiers, which take
the "slow" tags of tests/BUILD as the one list of slow test modules.
"""

import os

RULES = ("py_library", "py_binary", "py_test", "filegroup")


def read_build(directory):
    """Evaluates `directory`/BUILD with recording stand-ins for its rules."""
    targets = []

    def rule(kind):
        return lambda **attrs: targets.append((kind, attrs))

    scope = {kind: rule(kind) for kind in RULES}
    scope.update(
        package=lambda **_: None,
        exports_files=lambda *_, **__: None,
        load=lambda *_: None,
        glob=lambda *_, **__: [],
    )
    with open(os.path.join(directory, "BUILD")) as f:
        exec(compile(f.read(), os.path.join(directory, "BUILD"), "exec"), scope)
    return targets
