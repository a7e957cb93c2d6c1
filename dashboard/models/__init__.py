"""Metric models: SQL that runs unchanged on DuckDB (the warehouse) and Spark (the lake).

One definition of each number for both engines, rather than two hand-kept copies
or a transpiler: SQLGlot's DuckDB→Spark translation was measured to turn
`quantile_cont` into a call Spark rejects and to rewrite exact percentiles into
`percentile_approx`. So model SQL keeps to the subset both parsers accept and
uses Spark's function names; `SHIMS` gives DuckDB those names as macros (stored
in the warehouse, so read-only connections and analyst SQL see them too):

- `unix_micros(ts)`: microseconds since the epoch (DuckDB `epoch_us`);
- `timestamp_micros(us)`: the UTC wall-clock timestamp of such a count
  (DuckDB `make_timestamp`; Spark's session time zone is UTC);
- `percentile(x, p)`: exact percentile with linear interpolation, `p` a number
  or a list (DuckDB `quantile_cont`; Spark's `percentile` is the same estimator,
  never `percentile_approx`).

Parameters are written DuckDB-style (`$name`); the Spark engine passes them as
named parameter markers. Bind list-valued ones (e.g. the quantiles list) as
parameters: neither engine shares an array-literal syntax.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Protocol

import polars as pl

HERE = Path(__file__).parent

SHIMS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO unix_micros(ts) AS epoch_us(ts)",
    "CREATE OR REPLACE MACRO timestamp_micros(us) AS make_timestamp(us)",
    "CREATE OR REPLACE MACRO percentile(x, p) AS quantile_cont(x, p)",
)


@cache
def load(name: str) -> str:
    """The text of `dashboard/models/<name>.sql`."""
    return (HERE / f"{name}.sql").read_text(encoding="utf-8")


class Result(Protocol):
    def pl(self) -> pl.DataFrame: ...


class Reader(Protocol):
    """What a metric needs from an engine: DuckDB's `con.sql(query, params=...).pl()`,
    which the Spark engine (dashboard/spark.py) offers too."""

    def sql(self, query: str, *, params: dict[str, Any] | None = None) -> Result: ...
