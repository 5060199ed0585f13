"""`ConfigRecord`: how every configuration dataclass goes to JSON and back."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Dict, Optional, Sequence, Type, TypeVar, cast

from bigan_tf.errors import ConfigError

T = TypeVar("T", bound="ConfigRecord")


def _json_ready(value):
    if isinstance(value, tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value


class ConfigRecord:
    """Mixin of the frozen config dataclasses: `to_dict` for config.json and
    export metadata, `from_dict` to read it back (the one place that does)."""

    def to_dict(self) -> Dict[str, Any]:
        """The fields as JSON values (tuples as lists, nested configs as dicts)."""
        return _json_ready(dataclasses.asdict(cast(Any, self)))

    @classmethod
    def from_dict(cls: Type[T], record: Dict[str, Any]) -> T:
        """The inverse of `to_dict`: nested config sections read back by their own class,
        JSON lists back to tuples; a key this version does not know is an error (fields
        it lacks take their defaults)."""
        names = {f.name for f in dataclasses.fields(cast(Any, cls))}
        unknown = sorted(set(record) - names)
        if unknown:
            raise ConfigError(
                f"Unknown {cls.__name__} settings {unknown}: the record was "
                "written by another version of bigan_tf."
            )
        hints = typing.get_type_hints(cls)
        values = {}
        for key, value in record.items():
            section = section_class(hints[key])
            if section is not None and isinstance(value, dict):
                value = (
                    section.from_dict(value)
                    if issubclass(section, ConfigRecord)
                    else section(**value)
                )
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(**values)


def section_class(hint: Any) -> Optional[type]:
    """The dataclass a field holds (also inside Optional[...]), else None."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate) and isinstance(candidate, type):
            return candidate
    return None


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """A `ConfigError` naming `name` and its valid values unless `value` is one of them."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {tuple(choices)}, got {value!r}.")


def check_subset(name: str, items: Sequence[str], choices: Sequence[str], noun: str) -> None:
    """A `ConfigError` naming the `items` (a comma-separated setting) not among `choices`."""
    unknown = [item for item in items if item not in choices]
    if unknown:
        raise ConfigError(
            f"{name} names unknown {noun} {unknown}: use a comma-separated "
            f"subset of {tuple(choices)}, or '' for none."
        )
