"""Printing result frames for the CLI: table, csv or json (CONTRACT: json is a list of
objects with ISO-8601 timestamps and null for missing values, nothing else on stdout)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def to_json(frame: pl.DataFrame) -> str:
    rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dicts()]
    return json.dumps(rows, ensure_ascii=False, indent=1)


def to_table(frame: pl.DataFrame) -> str:
    """Aligned plain-text table; numbers rounded for reading, not for piping."""

    def cell(v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return "–" if math.isnan(v) else f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    header = list(frame.columns)
    body = [[cell(v) for v in row] for row in frame.iter_rows()]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True))
        for r in body
    ]
    return "\n".join(lines)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def render(frame: pl.DataFrame, fmt: str) -> str:
    """The frame as text in one of FORMATS."""
    if fmt == "json":
        return to_json(frame)
    if fmt == "csv":
        return frame.write_csv()
    return to_table(frame)
