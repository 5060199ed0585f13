"""A tool's options dataclass and the flags derived from it (trainers.option_flags)."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from typing import Literal, Optional, Tuple

import pytest
from absl import flags

from trainers.option_flags import define_option_flags, option_names, options_from_flags

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class _Options:
    """Options of every kind a flag holds.

    output   Where it goes.
    task     What to make.
    rows     Rows of the grid.
    limit    At most this many (unset: all).
    scale    A factor.
    caption  Write a caption.
    labels   Label budgets.
    note     A free text.
    """

    output: str
    task: Literal["random", "sweep"] = "random"
    rows: int = 10
    limit: Optional[int] = None
    scale: float = 0.5
    caption: bool = True
    labels: Tuple[str, ...] = ("10", "100")
    note: Optional[str] = None


def _parse(options_class, *argv, exclude=()):
    flag_values = flags.FlagValues()
    define_option_flags(options_class, exclude=exclude, flag_values=flag_values)
    flag_values(["prog", *argv])
    return flag_values


def test_flags_are_derived_with_the_fields_types_defaults_and_docs():
    flag_values = _parse(_Options, "--output=a.png")
    options = options_from_flags(_Options, flag_values)
    assert options == _Options(output="a.png")
    assert flag_values["rows"].help == "Rows of the grid."
    assert flag_values["rows"].default == 10
    kinds = {name: flag_values[name].flag_type() for name in option_names(_Options)}
    assert kinds == {
        "output": "string",
        "task": "string enum",
        "rows": "int",
        "limit": "int",
        "scale": "float",
        "caption": "bool",
        "labels": "comma separated list of strings",
        "note": "string",
    }
    assert set(option_names(_Options)) == {
        name for name in flag_values if name in {f.name for f in dataclasses.fields(_Options)}
    }


def test_values_are_parsed_into_the_typed_options():
    flag_values = _parse(
        _Options,
        "--output=b.png",
        "--task=sweep",
        "--rows=3",
        "--limit=7",
        "--scale=2",
        "--nocaption",
        "--labels=1,2,3",
        "--note=hi",
    )
    options = options_from_flags(_Options, flag_values)
    assert options == _Options("b.png", "sweep", 3, 7, 2.0, False, ("1", "2", "3"), "hi")
    assert isinstance(options.labels, tuple)


@pytest.mark.parametrize(
    "argv, message",
    [
        ((), "--output must have a value"),
        (("--output=a", "--task=grid"), "value should be one of <random|sweep>"),
        (("--output=a", "--rows=two"), "flag --rows=two: invalid literal for int"),
    ],
)
def test_bad_values_are_absl_errors_naming_the_flag(argv, message):
    with pytest.raises(flags.Error, match=message):
        _parse(_Options, *argv)


def test_excluded_fields_are_given_by_the_program():
    flag_values = _parse(_Options, "--rows=2", exclude=("output",))
    assert "output" not in flag_values
    assert options_from_flags(_Options, flag_values, output="c.png").rows == 2


def test_an_undocumented_option_or_an_unflaggable_type_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Undocumented:
        """Nothing about the field."""

        rows: int = 1

    @dataclasses.dataclass(frozen=True)
    class Unflaggable:
        """Bad type.

        table  A mapping.
        """

        table: dict = dataclasses.field(default_factory=dict)

    with pytest.raises(TypeError, match="Undocumented.rows has no documentation"):
        define_option_flags(Undocumented, flag_values=flags.FlagValues())
    with pytest.raises(TypeError, match="no flag holds"):
        define_option_flags(Unflaggable, flag_values=flags.FlagValues())


def _tools_with_options():
    """(module, options class, its fields) of every program that derives its flags."""
    found = []
    for folder in ("trainers", "benchmarks", "export"):
        if not os.path.isdir(os.path.join(REPO_ROOT, folder)):
            continue  # under Bazel, only the packages this test depends on are present
        for name in sorted(os.listdir(os.path.join(REPO_ROOT, folder))):
            if not name.endswith(".py"):
                continue
            tree = ast.parse(open(os.path.join(REPO_ROOT, folder, name)).read())
            classes = {
                node.name: [
                    item.target.id
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                ]
                for node in tree.body
                if isinstance(node, ast.ClassDef)
            }
            for node in tree.body:
                call = getattr(node, "value", None)
                if (
                    isinstance(call, ast.Call)
                    and getattr(call.func, "id", None) == "define_option_flags"
                ):
                    options = call.args[0].id
                    found.append((f"{folder}.{name[:-3]}", options, classes[options]))
    return found


TOOLS = _tools_with_options()


def test_the_tools_derive_their_flags_from_options():
    modules = {module for module, _, _ in TOOLS}
    assert {"trainers.sample", "trainers.explore", "benchmarks.feature_study"} <= modules
    assert len(modules) >= 14


@pytest.mark.parametrize("module, options, fields", TOOLS, ids=[t[0] for t in TOOLS])
def test_each_tools_help_lists_its_options(module, options, fields):
    result = subprocess.run(
        [sys.executable, "-m", module, "--helpshort"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )
    listed = {
        line.split(":")[0].strip()[2:].removeprefix("[no]")
        for line in result.stdout.splitlines()
        if line.startswith("  --")
    }
    assert set(fields) <= listed, (options, set(fields) - listed, result.stderr[-500:])
