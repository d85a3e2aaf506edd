"""Plain values to JSON and back: dates as ISO strings, Decimals as strings, so a stored
explanation reads exactly like the figure it explains."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from decimal import Decimal

from accounts.quarters import Quarter
from payouts.rules import MonthFigure

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def jsonable(value):
    """Plain JSON values: dataclasses to dicts, Decimals to strings, dates to ISO strings."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or kind is float:
        return value
    if kind is Decimal:
        return str(value)
    if kind is datetime.date:
        return value.isoformat()
    if kind is tuple or kind is list:
        return [jsonable(v) for v in value]
    if kind is dict or isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if kind is Quarter:
        return str(value)
    if kind is MonthFigure:  # compact: [amount, history, unpaid, late]
        return [str(value.amount), None if value.history is None else str(value.history),
                str(value.unpaid), str(value.late)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: jsonable(getattr(value, name)) for name in _field_names(kind)}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Quarter):
        return str(value)
    if isinstance(value, str | int):
        return value
    return value


def _key(key):
    if type(key) is datetime.date:
        return key.isoformat()
    return str(key)
