"""Printing result frames for the CLI: table, csv or json.

CONTRACT: `--format json` is a list of objects with ISO-8601 timestamps and
null for missing values, nothing else on stdout. Every command (metrics,
surveys, engagement, alignment, analyst queries) prints through `render`, so
they all agree on those rules; the app's CSV downloads use `csv_text` too.

CSV is opened in spreadsheets, where a cell starting with `=`, `+`, `-` or `@`
(or a tab / carriage return before one) is run as a formula: ticket subjects and
survey comments are typed by anyone, so such text cells are prefixed with `'`
(OWASP's CSV-injection guidance). Numbers are never touched, so `-5` stays a number.
"""

from __future__ import annotations

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


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_field(value: Any) -> str:
    """One RFC 4180 field: neutralised when text could be read as a formula, quoted when
    it holds a delimiter, quote or line break (a bare `\r` included, which Python's
    `csv` module leaves unquoted)."""
    v = _plain(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        v = json.dumps(v, ensure_ascii=False)
    elif not isinstance(v, str):
        return str(v)
    if v.startswith(FORMULA_START):
        v = "'" + v
    if any(ch in v for ch in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def csv_text(frame: pl.DataFrame) -> str:
    """The frame as CSV that is safe to open in a spreadsheet (header included)."""
    lines = [",".join(_csv_field(c) for c in frame.columns)]
    lines.extend(",".join(_csv_field(v) for v in row) for row in frame.iter_rows())
    return "\n".join(lines) + "\n"


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
        return csv_text(frame)
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
