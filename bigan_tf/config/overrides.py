"""Settings of a config dataclass by dotted path: list them, document them, override them.

A config file returns a typed, frozen config (`ExperimentConfig`, ...); the
command line changes single settings of it as `section.field=value` text
(`--config.optimizer.learning_rate=1e-4`). This module is the one place that
knows how: `settings` walks the dataclass fields (nested sections too), reads
each one's type and default and the sentence of the class docstring that
documents it, and `override` parses the text by the field's type and returns
a new config with `dataclasses.replace`. A path that names no setting, or a
value of the wrong type, is a `ConfigError` naming the setting and the valid
ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from typing import Any, Dict, List, Mapping, NamedTuple, Tuple, Union

from bigan_tf.config.record import section_class
from bigan_tf.errors import ConfigError

_NONE_WORDS = ("none", "null")
_TRUE_WORDS = ("true", "1", "yes", "on")
_FALSE_WORDS = ("false", "0", "no", "off")


class Setting(NamedTuple):
    """One leaf of a config: its dotted `path`, type hint, default and documentation."""

    path: str
    type_hint: Any
    default: Any
    doc: str

    @property
    def type_name(self) -> str:
        return type_name(self.type_hint)


def _hints(cls) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def field_doc(cls: type, name: str) -> str:
    """The part of `cls`'s docstring that documents field `name`, as one line ('' if none).

    The config classes document their fields in one of three ways, all read
    here: an aligned entry (`name    text`, continued by indented lines), a
    bullet (`* \\`name\\`: text`), or prose that quotes `name` in backticks (the
    sentence that does).
    """
    doc = cls.__doc__ or ""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        # Aligned entry: "    name    text" (also "name, other   text").
        match = re.match(r"^(\s*)([a-z_0-9]+(?:, [a-z_0-9]+)*)\s{2,}(\S.*)$", line)
        if match and name in match.group(2).split(", "):
            indent = len(match.group(1))
            text = [match.group(3)]
            for follow in lines[i + 1 :]:
                if not follow.strip() or len(follow) - len(follow.lstrip()) <= indent + 1:
                    break
                text.append(follow.strip())
            return " ".join(text)
        # Bullet: "* `name`: text", continued by deeper-indented lines.
        match = re.match(r"^(\s*)\*\s+`%s`[^:]*:\s*(.*)$" % re.escape(name), line)
        if match:
            indent = len(match.group(1))
            text = [match.group(2)]
            for follow in lines[i + 1 :]:
                if not follow.strip() or len(follow) - len(follow.lstrip()) <= indent:
                    break
                text.append(follow.strip())
            return " ".join(text)
    # Prose: the first sentence naming `name` in backticks.
    flat = " ".join(line.strip() for line in lines)
    sentences = [s for s in re.split(r"(?<=[.;])\s+(?=[`A-Z*])", flat) if f"`{name}`" in s]
    # The sentence that names the field earliest is the one about it.
    return min(sentences, key=lambda s: s.index(f"`{name}`")).strip() if sentences else ""


def settings(config: Any, prefix: str = "") -> List[Setting]:
    """Every leaf setting of `config` (a config dataclass or an instance), in field order.

    Nested config sections are walked (their leaves get `section.field` paths);
    a section that is None in an instance is walked through its class, with
    the class's defaults.
    """
    cls = config if isinstance(config, type) else type(config)
    instance = None if isinstance(config, type) else config
    found = []
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        path = f"{prefix}{field.name}"
        value = getattr(instance, field.name) if instance is not None else _default(field)
        section = section_class(hints[field.name])
        if section is not None:
            found += settings(value if dataclasses.is_dataclass(value) else section, path + ".")
            continue
        found.append(Setting(path, hints[field.name], value, field_doc(cls, field.name)))
    return found


def type_name(hint: Any) -> str:
    """A short name of a field's type for help text and errors: int, float or None, ..."""
    origin = typing.get_origin(hint)
    if origin is Union:
        names = [type_name(arg) for arg in typing.get_args(hint)]
        if "NoneType" in names:
            names = [n for n in names if n != "NoneType"] + ["None"]
        return " or ".join(names)
    if origin in (tuple, Tuple):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"comma-separated {type_name(args[0])}s"
        return f"{len(args)} comma-separated {type_name(args[0])}s"
    return getattr(hint, "__name__", str(hint))


def parse_value(text: str, hint: Any, path: str = "value") -> Any:
    """`text` as a value of type `hint` (bool, int, float, str, Optional, Union, tuples).

    Non-text values pass through when they already have the type (a config
    file may give them). Raises `ConfigError` naming `path` and the type.
    """
    if not isinstance(text, str):
        return text
    word = text.strip().lower()
    origin = typing.get_origin(hint)
    if origin is Union:
        args = typing.get_args(hint)
        if type(None) in args and word in _NONE_WORDS:
            return None
        # Try the specific types first: "2" is an int before it is a str.
        order = sorted((a for a in args if a is not type(None)), key=lambda a: a is str)
        for arg in order:
            try:
                return parse_value(text, arg, path)
            except ConfigError:
                continue
        raise ConfigError(f"{path}: {text!r} is not a {type_name(hint)}.")
    if origin in (tuple, Tuple):
        args = typing.get_args(hint)
        items = [item for item in text.replace("(", "").replace(")", "").split(",") if item.strip()]
        if not (len(args) == 2 and args[1] is Ellipsis) and len(items) != len(args):
            raise ConfigError(f"{path}: {text!r} is not {type_name(hint)}.")
        item_types = [args[0]] * len(items) if args[1:] == (Ellipsis,) else list(args)
        return tuple(parse_value(item.strip(), t, path) for item, t in zip(items, item_types))
    if hint is bool:
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ConfigError(f"{path}: {text!r} is not a bool (true or false).")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{path}: {text!r} is not an int.") from None
    if hint is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{path}: {text!r} is not a float.") from None
    if hint is str:
        return text
    raise ConfigError(f"{path}: settings of type {type_name(hint)} cannot be given as text.")


def _unknown(path: str, known: List[str], section_path: str) -> ConfigError:
    close = difflib.get_close_matches(path, known, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    names = [p[len(section_path) :] for p in known if p.startswith(section_path)]
    where = f"{section_path.rstrip('.')} has" if section_path else "the sections are"
    if not section_path:
        names = sorted({p.split(".")[0] for p in known})
    return ConfigError(f"{path}: no such setting.{hint} ({where}: {', '.join(names)}.)")


def override(config: Any, path: str, value: str, _outer: str = "") -> Any:
    """`config` with the setting at dotted `path` set to `value` (text is parsed by type).

    A None section on the way (e.g. `data` of an experiment that loads its own
    data) is created with its class's defaults. Raises `ConfigError` for an
    unknown path or a value of the wrong type.
    """
    head, _, rest = path.partition(".")
    cls = type(config)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if head not in fields:
        raise _unknown(path, [s.path for s in settings(config)], "")
    hint = _hints(cls)[head]
    section = section_class(hint)
    if section is not None and rest:
        current = getattr(config, head)
        if current is None:
            try:
                current = section()
            except TypeError:
                raise ConfigError(
                    f"{path}: the {head} section has required settings; give it in the config file."
                ) from None
        try:
            return dataclasses.replace(
                config, **{head: override(current, rest, value, f"{_outer}{head}.")}
            )
        except ConfigError as e:
            if "no such setting" not in str(e):
                raise
            known = [f"{head}.{s.path}" for s in settings(current)]
            raise _unknown(path, known, head + ".") from None
    if section is not None or rest:
        known = [s.path for s in settings(config)]
        raise _unknown(path, known, "")
    return dataclasses.replace(config, **{head: parse_value(value, hint, _outer + path)})


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """`config` with every `path: value` of `overrides` applied in order (see `override`)."""
    for path, value in overrides.items():
        config = override(config, path, value)
    return config


def describe_settings(config: Any, prefix: str = "") -> str:
    """A help text: every setting of `config` with its type, current value and doc line."""
    out = []
    section = None
    for setting in settings(config):
        head = setting.path.split(".")[0]
        if head != section:
            section = head
            out.append(f"{prefix}{head}:")
        value = "(required)" if setting.default is dataclasses.MISSING else repr(setting.default)
        doc = f"  {setting.doc}" if setting.doc else ""
        out.append(f"  {prefix}{setting.path} = {value}  [{setting.type_name}]{doc}")
    return "\n".join(out)
