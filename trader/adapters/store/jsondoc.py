"""Turn values into JSON-ready data the same way for the SQL and in-memory stores.

Decimals become strings (exact), datetimes and dates ISO-8601 strings, tuples lists, enums their values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def to_json(value: Any) -> Any:
    """Return ``value`` as plain JSON data; TypeError names anything that has no JSON form."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # JSON has no NaN/inf; KPIs like profit factor with no losses are "undefined"
        return value
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    raise TypeError(f"cannot store {type(value).__name__} as JSON: {value!r}")


def round_trip(value: Any) -> Any:
    """Return what a JSON column gives back for ``value`` (used by the in-memory store for parity)."""
    return json.loads(json.dumps(to_json(value)))
