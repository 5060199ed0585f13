"""Every public function and method of the library is annotated (mypy checks the bodies)."""

import ast
import pathlib

from conftest import REPO_ROOT


def _unannotated(path: pathlib.Path):
    """(line, name) of the public functions of `path` with a parameter or return unannotated."""
    found = []

    def visit(node, prefix, public):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", public and not child.name.startswith("_"))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not public or (child.name.startswith("_") and child.name != "__init__"):
                    continue
                args = child.args
                params = [
                    a
                    for a in args.posonlyargs + args.args + args.kwonlyargs
                    if a.arg not in ("self", "cls")
                ]
                params += [a for a in (args.vararg, args.kwarg) if a is not None]
                missing = [a.arg for a in params if a.annotation is None]
                if child.returns is None and child.name != "__init__":
                    missing.append("return")
                if missing:
                    found.append((child.lineno, f"{prefix}{child.name}: {', '.join(missing)}"))

    visit(ast.parse(path.read_text()), "", True)
    return found


def test_every_public_function_of_the_library_is_annotated():
    library = pathlib.Path(REPO_ROOT) / "bigan_tf"
    missing = [
        f"{path.relative_to(REPO_ROOT)}:{line} {what}"
        for path in sorted(library.rglob("*.py"))
        for line, what in _unannotated(path)
    ]
    assert not missing, "unannotated:\n" + "\n".join(missing)
