"""Plain values to JSON and back: dates as ISO strings, Decimals as strings, so a stored
explanation reads exactly like the figure it explains."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal

from payouts.quarters import Quarter


def jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Quarter):
        return str(value)
    return value


def _key(key):
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)


def digest(value) -> str:
    text = json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def ratio(value: Decimal | None) -> str | None:
    from payouts.rules import to_ratio

    return None if value is None else str(to_ratio(value))
