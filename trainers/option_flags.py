"""A tool's options as one dataclass, its flags derived from it.

The training programs take an experiment as `--config` (`trainers.config_flags`);
the tools around them (sampling, the explorer, the probes, the benchmarks'
loops) have options that say what to make of a model, not what the experiment
is. Each tool writes those options once, as a frozen dataclass whose docstring
documents every field (the format `bigan_tf.config.overrides.field_doc` reads),
and calls

    define_option_flags(SampleOptions)            # one flag per field, same name
    options = options_from_flags(SampleOptions)   # the parsed flags, typed

so a default and its help are written in one place, and the program's code
works with a typed object. The flag's kind follows the field's type: bool, int,
float, str (each optionally `Optional`), `Literal[...]` (an enum) and
`Tuple[str, ...]` (a comma-separated list). A field without a default is a
required flag.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from typing import Any, Dict, Iterable, Optional, Tuple, Type, TypeVar, Union

from absl import flags

from bigan_tf.config.overrides import field_doc

FLAGS = flags.FLAGS
Options = TypeVar("Options")


def _unwrap_optional(hint: Any) -> Any:
    """The type inside `Optional[...]` (a flag's default None says it is optional)."""
    if typing.get_origin(hint) is Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return hint


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def define_option_flags(
    options_class: type,
    exclude: Iterable[str] = (),
    flag_values: flags.FlagValues = FLAGS,
) -> None:
    """One absl flag per field of the dataclass `options_class` (except `exclude`).

    Raises `TypeError` for an undocumented field or a type no flag can hold: an
    option without help text is a defect of the tool, found when it is defined.
    """
    hints = typing.get_type_hints(options_class)
    # The flags belong to the program that declares the options (absl's --helpshort
    # lists the main module's flags, keyed by sys.argv[0] as absl does).
    module_name = options_class.__module__
    if module_name == "__main__":
        module_name = sys.argv[0]
    excluded = set(exclude)
    for field in dataclasses.fields(options_class):
        if field.name in excluded:
            continue
        doc = field_doc(options_class, field.name)
        if not doc:
            raise TypeError(f"{options_class.__name__}.{field.name} has no documentation.")
        hint = _unwrap_optional(hints[field.name])
        default = _field_default(field)
        required = field.default is dataclasses.MISSING and (
            field.default_factory is dataclasses.MISSING
        )
        kwargs: Dict[str, Any] = {"flag_values": flag_values, "module_name": module_name}
        name = field.name
        if typing.get_origin(hint) is typing.Literal:
            flags.DEFINE_enum(name, default, [str(v) for v in typing.get_args(hint)], doc, **kwargs)
        elif typing.get_origin(hint) in (tuple, Tuple):
            flags.DEFINE_list(name, list(default) if default is not None else None, doc, **kwargs)
        elif hint is bool:
            flags.DEFINE_boolean(name, default, doc, **kwargs)
        elif hint is int:
            flags.DEFINE_integer(name, default, doc, **kwargs)
        elif hint is float:
            flags.DEFINE_float(name, default, doc, **kwargs)
        elif hint is str:
            flags.DEFINE_string(name, default, doc, **kwargs)
        else:
            raise TypeError(f"{options_class.__name__}.{field.name}: no flag holds a {hint!r}.")
        if required:
            flags.mark_flag_as_required(name, flag_values=flag_values)


def options_from_flags(
    options_class: Type[Options],
    flag_values: flags.FlagValues = FLAGS,
    **given: Any,
) -> Options:
    """An `options_class` from the parsed flags; `given` fields (e.g. excluded ones) win."""
    values: Dict[str, Any] = {}
    for field in dataclasses.fields(options_class):  # type: ignore[arg-type]
        if field.name in given:
            values[field.name] = given[field.name]
        elif field.name in flag_values:
            value = flag_values[field.name].value
            values[field.name] = tuple(value) if isinstance(value, list) else value
    return options_class(**values)


def option_names(options_class: type, exclude: Optional[Iterable[str]] = None) -> Tuple[str, ...]:
    """The flags `define_option_flags(options_class, exclude)` defines."""
    excluded = set(exclude or ())
    return tuple(f.name for f in dataclasses.fields(options_class) if f.name not in excluded)
