"""Experiments as files: a Python config file (`get_config(arg)`) or a run's own config.json.

    configs/mnist_bigan.py                 get_config() of that file
    configs/mnist_bigan.py:objective=gan   get_config("objective=gan")
    exp/mnist_bigan/config.json            the run's recorded experiment (a replay)
    exp/mnist_bigan                        the same, from the run folder

A config file is plain Python (as in big_vision and the flax examples): it
builds and returns the typed config, so every default stays in the dataclasses
and a file states only what its experiment changes. Its argument string is
`key=value` pairs separated by commas; `parse_config_arg` reads it against the
file's own keys and types.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any, Dict, Optional, Sequence, Tuple

from bigan_tf.config.experiment import ExperimentConfig
from bigan_tf.config.overrides import parse_value
from bigan_tf.errors import ConfigError


def split_spec(spec: str) -> Tuple[str, str]:
    """("configs/x.py", "a=1") of "configs/x.py:a=1"; the argument is '' when absent."""
    path, sep, arg = spec.partition(".py:")
    if sep:
        return path + ".py", arg
    return spec, ""


def parse_config_arg(arg: str, **defaults: Any) -> Dict[str, Any]:
    """A config file's argument: "key=value,key=value" typed like `defaults`, missing keys defaulted.

    A bare value ("gan") sets the first key. Unknown keys and values of the
    wrong type are a `ConfigError` naming the valid keys.
    """
    values = dict(defaults)
    keys = list(defaults)
    for i, item in enumerate(p for p in arg.split(",") if p.strip()):
        key, sep, text = item.partition("=")
        if not sep:
            if i or not keys:
                raise ConfigError(
                    f"Config argument {item!r}: write key=value (keys: {', '.join(keys)})."
                )
            key, text = keys[0], item
        key = key.strip()
        if key not in defaults:
            raise ConfigError(
                f"Config argument {key!r} is not one this config takes; its keys: "
                f"{', '.join(keys) or '(none)'}."
            )
        default = defaults[key]
        values[key] = parse_value(
            text.strip(), type(default) if default is not None else str, f"config argument {key}"
        )
    return values


def _find(path: str, search_dirs: Sequence[str]) -> Optional[str]:
    if os.path.exists(path) or os.path.isabs(path):
        return path if os.path.exists(path) else None
    for folder in search_dirs:
        candidate = os.path.join(folder, path)
        if os.path.exists(candidate):
            return candidate
    return None


def load_module(path: str) -> Any:
    """The Python config file at `path` as a module (not added to sys.modules)."""
    name = "bigan_tf_config_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: not a Python file that can be loaded.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(
    spec: str, search_dirs: Sequence[str] = (), expected: Any = ExperimentConfig
) -> Any:
    """The config `spec` names (see the module docstring), checked to be an `expected`.

    Relative paths are tried as given, then under each of `search_dirs` (so
    `configs/x.py` is found from any working directory when the checkout is
    one of them). Raises `ConfigError` with the fix for a missing file, a file
    without `get_config`, or a result of the wrong type.
    """
    path, arg = split_spec(spec)
    found = _find(path, search_dirs)
    if found is None:
        raise ConfigError(
            f"--config={spec}: no such file. Give a config file (configs/*.py, "
            f"optionally with :key=value arguments), a run's config.json or its "
            f"folder."
        )
    if os.path.isdir(found):
        found = os.path.join(found, "config.json")
        if not os.path.exists(found):
            raise ConfigError(f"--config={spec}: the folder has no config.json (not a run folder).")
    if found.endswith(".json"):
        if arg:
            raise ConfigError(
                f"--config={spec}: a config.json takes no arguments; change "
                "settings with --config.SECTION.FIELD=VALUE."
            )
        try:
            with open(found) as f:
                record = json.load(f)
        except (OSError, ValueError) as e:
            raise ConfigError(f"--config={spec}: cannot read it as JSON ({e}).") from None
        return expected.from_record(record)
    if not found.endswith(".py"):
        raise ConfigError(
            f"--config={spec}: expected a .py config file, a config.json or a run folder."
        )
    module = load_module(found)
    if not hasattr(module, "get_config"):
        raise ConfigError(f"--config={spec}: the file defines no get_config(arg).")
    config = module.get_config(arg) if arg else module.get_config()
    if not isinstance(config, expected):
        raise ConfigError(
            f"--config={spec}: get_config returned a {type(config).__name__}, "
            f"not the {expected.__name__} this program trains."
        )
    return config
