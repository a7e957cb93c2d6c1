"""What a staged file is, and the few steps every format's reader ends with.

A reader (`read_csv`, `read_xlsx`, `read_json`, or Parquet in `read`) leaves a temp
table of text columns plus `__row`; `Staged` describes it for detection, the adapters
and the loader, and `RefusedFile` is the one way a reader says a file cannot be used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import polars as pl

from dashboard.sql import quote_ident


class RefusedFile(ValueError):
    """The whole file cannot be loaded; the message says why and what to do."""


@dataclass
class ParseReject:
    row_number: int
    reason: str
    raw: str


@dataclass
class Staged:
    """A staged file: table name, original and normalised headers, row count."""

    table: str
    headers: list[str]  # as in the file
    columns: list[str]  # normalised, same order, unique
    rows: int
    rejects: list[ParseReject] = field(default_factory=list)
    encoding: str = "utf-8"
    # What an adapter's `prepare` decided (e.g. which survey question became csat),
    # appended to the ingest message so the choice is visible, not silent.
    notes: list[str] = field(default_factory=list)
    # Ticket history a ticket adapter's `prepare` kept aside (event logs, issue JSON
    # with a changelog): a temp table with the `events` kind's columns, loaded into
    # ticket_events for the tickets this file loads (see load._write_history).
    events: str | None = None
    # The CSV delimiter (None for other formats): `;` is what Excel writes where the
    # decimal mark is a comma, a prior for reading the file's numbers.
    delimiter: str | None = None


def normalise(name: str) -> str:
    """Column name → snake_case ascii-ish key used by alias tables."""
    name = name.replace("\ufeff", "").strip().lower()
    name = re.sub(r"[^0-9a-z\u00c0-\u024f]+", "_", name)
    return name.strip("_") or "column"


def unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 1
            out.append(n)
    return out


def finish(
    con: duckdb.DuckDBPyConnection,
    table: str,
    headers: list[str],
    rejects: list[ParseReject],
    encoding: str = "utf-8",
) -> Staged:
    columns = unique_names([normalise(h) for h in headers])
    current = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    rename_columns(con, table, {o: n for o, n in zip(current, columns, strict=True) if o != n})
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return Staged(table, headers, columns, rows, rejects, encoding)


def rename_columns(con: duckdb.DuckDBPyConnection, table: str, renames: dict[str, str]) -> None:
    """Rename columns of a staged table in two steps: DuckDB names are
    case-insensitive, so renaming `Id` to `id` next to an `ID`, or swapping two
    names, would otherwise collide half-way."""
    for i, old in enumerate(renames):
        con.execute(f"ALTER TABLE {table} RENAME COLUMN {quote_ident(old)} TO __inward_tmp_{i}")
    for i, new in enumerate(renames.values()):
        con.execute(f"ALTER TABLE {table} RENAME COLUMN __inward_tmp_{i} TO {quote_ident(new)}")


def stage_frame(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, table: str) -> Staged:
    headers = [str(c) for c in frame.columns]
    text = (
        frame.select(
            pl.col(c).cast(pl.String)
            if frame.schema[c] != pl.Null
            else pl.lit(None, pl.String).alias(c)
            for c in frame.columns
        )
        .with_row_index("__row", offset=1)
        .with_columns(pl.col("__row").cast(pl.Int64))
    )
    arrow = text.to_arrow()
    con.register("inward_frame", arrow)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM inward_frame")
    finally:
        con.unregister("inward_frame")
    return finish(con, table, headers, [])
