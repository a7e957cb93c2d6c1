"""Printing result frames for the CLI: table, csv or json.

CONTRACT: `--format json` is a list of objects with ISO-8601 timestamps and
null for missing values, nothing else on stdout. Every command (metrics,
surveys, engagement, alignment, analyst queries) prints through `render`, so
they all agree on those rules.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

import polars as pl

FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    """A JSON-ready value: ISO-8601 for temporal values, null for missing/NaN."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _cell(value: Any) -> str:
    """Text for the human table: compact floats, blank for missing."""
    v = _plain(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else f"{v:g}"
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v).replace("\n", " ")


def render(frame: pl.DataFrame, fmt: str = "table") -> str:
    """The frame as `table` (aligned text), `csv`, or `json` (a list of objects)."""
    rows = frame.rows()
    cols = frame.columns
    if fmt == "json":
        return json.dumps(
            [{c: _plain(v) for c, v in zip(cols, row, strict=True)} for row in rows],
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for row in rows:
            w.writerow(
                [
                    ""
                    if (c := _plain(v)) is None
                    else json.dumps(c, ensure_ascii=False)
                    if isinstance(c, list | dict)
                    else ("true" if c is True else "false" if c is False else c)
                    for v in row
                ]
            )
        return buf.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r} (use one of: {', '.join(FORMATS)})")
    text = [[_cell(v) for v in row] for row in rows]
    numeric = [d.is_numeric() for d in frame.dtypes]
    widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(cols)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(cols)), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in text)
    if not rows:
        out.append("(no rows)")
    return "\n".join(out) + "\n"
