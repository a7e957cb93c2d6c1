"""Parameter values: CLI and URL strings (or typed values) coerced to a parameter's type,
and the sidebar filters a header binds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dashboard.analyst.sandbox import QueryUsageError
from dashboard.analyst.spec import FALSE_WORDS, TRUE_WORDS, Param, QuerySpec
from dashboard.filters import Filters

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


def filter_values(spec: QuerySpec, filters: Filters | None) -> dict[str, Any]:
    """The values of the parameters `spec`'s `filters:` binds (all NULL without filters).

    Raises QueryUsageError when a filter is set that the query does not take: on the
    command line a silently ignored --team would look like an answer for that team."""
    f = filters or Filters()
    ignored = [name for name in f.active() if name not in spec.filters]
    if ignored:
        takes = ", ".join(spec.filters) or "none"
        raise QueryUsageError(
            f"query {spec.name} does not take the {ignored[0]} filter (filters it takes: {takes})"
        )
    out: dict[str, Any] = {}
    for name in spec.filters:
        if name == "dates":
            out["date_from"], out["date_to"] = f.date_from, f.date_to
        else:
            out[name] = list(getattr(f, name)) or None
    return out


def _coerce(param: Param, value: Any) -> Any:
    """One value (a CLI/URL string or an already typed value) to the param's type."""
    where = f"parameter ${param.name}"
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None  # an empty field (URL, text box, --param k=) clears the filter
    t = param.type
    try:
        if t == "text":
            if isinstance(value, dict | list):
                raise ValueError
            out: Any = value if isinstance(value, str) else str(value)
        elif t == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        elif t == "float":
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
            if not math.isfinite(out):
                raise ValueError
        elif t == "date":
            if isinstance(value, datetime):
                out = value.date()
            elif isinstance(value, date):
                out = value
            else:
                out = date.fromisoformat(str(value))
        elif t == "bool":
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in TRUE_WORDS:
                out = True
            elif str(value).lower() in FALSE_WORDS:
                out = False
            else:
                raise ValueError
        else:  # choice
            out = value
    except (ValueError, TypeError) as exc:
        expected = {
            "text": "text",
            "int": "a whole number",
            "float": "a number",
            "date": "a date YYYY-MM-DD",
            "bool": "true or false",
        }[t]
        raise QueryUsageError(f"{where}: expected {expected}, got {value!r}") from exc
    if t == "choice" and param.options is not None:
        for opt in param.options:
            if opt == out or str(opt) == str(out):
                return opt
        raise QueryUsageError(
            f"{where}: {value!r} is not one of {', '.join(map(str, param.options))}"
        )
    if param.min is not None and out < param.min:
        raise QueryUsageError(f"{where}: {out} is below the minimum {param.min}")
    if param.max is not None and out > param.max:
        raise QueryUsageError(f"{where}: {out} is above the maximum {param.max}")
    return out


def coerce_value(param: Param, value: Any) -> Any:
    """Public form of `_coerce`: typed value or a QueryError naming the parameter."""
    return _coerce(param, value)


def coerce_values(spec: QuerySpec, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """All parameters of `spec`: given values coerced, missing ones at their default.

    Accepts strings (CLI `--param k=v`, URL query params) and typed widget values
    alike; an unknown name is an error rather than silently ignored, because a
    typo would otherwise run the query with the default and look plausible.
    """
    values = dict(values or {})
    out: dict[str, Any] = {}
    for name in values:
        spec.param(name)  # raises for unknown names
    for p in spec.params:
        out[p.name] = _coerce(p, values[p.name]) if p.name in values else p.default
    return out


def parse_param_args(items: Iterable[str]) -> dict[str, str]:
    """`["team=IT Service Desk", "top=5"]` (repeated `--param k=v`) to a dict."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise QueryUsageError(f"--param expects NAME=VALUE, got {item!r}")
        out[key.strip()] = value
    return out
