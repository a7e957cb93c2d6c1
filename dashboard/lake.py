"""`inward export-lake`: the warehouse's canonical tables as a Parquet lake.

A lake is what an engine other than DuckDB (Spark, see dashboard/spark/) reads:
one folder per table, `DIR/<table>/`, written by DuckDB's own `COPY … (FORMAT
parquet)`. Tickets keep their stored derived columns (business minutes, SLA due
times) so no engine needs the calendars, and are partitioned by the UTC month
they were created in (`DIR/tickets/created_month=2026-03/…`), so a reader of a
date range opens only those months. Timestamps are Parquet instants (UTC).

Besides the contract tables the lake carries what the shared models need to
give the same answers elsewhere: `sla_targets` (from the config at export time)
and the per-source as-of when the warehouse has it. A table is written to a
hidden folder first and swapped in whole, so a failed export never leaves a
half-written table behind.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dashboard import warehouse
from dashboard.sql import quote_literal

# Contract tables, then what the models read (sla_targets, the as-of per source).
LAKE_TABLES = (
    "tickets",
    "survey_responses",
    "external_outcomes",
    "people",
    "org",
    "requester_aliases",
    "ticket_events",
    "ticket_status_time",
    "sla_targets",
    "source_as_of",
)
PARTITION = "created_month"
MANIFEST = "_inward_lake.json"


def present_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The LAKE_TABLES this warehouse has, in LAKE_TABLES order (tables other
    helpers add, like requester_aliases, are exported once they exist)."""
    names = {
        r[0]
        for r in con.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    return [t for t in LAKE_TABLES if t in names]


def _select(table: str) -> str:
    if table == "tickets":
        # ordered by creation so each file's row groups cover short time spans
        return (
            f"SELECT *, strftime(utc(created_at), '%Y-%m') AS {PARTITION} "
            "FROM tickets ORDER BY created_at"
        )
    return f"SELECT * FROM {table}"


def export_lake(
    db: str | os.PathLike[str],
    lake: str | os.PathLike[str],
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write every present LAKE_TABLE under `lake`; returns rows per table.

    Reads through a read-only connection (the app may keep serving), with file
    access allowed since COPY writes files.
    """
    root = Path(lake)
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    con = warehouse.connect(db, read_only=True, config={"enable_external_access": "true"})
    try:
        for table in present_tables(con):
            counts[table] = _export_table(con, table, root)
            if progress:
                progress(f"{table}: {counts[table]:,} rows → {root / table}/")
        (root / MANIFEST).write_text(
            json.dumps(
                {
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "schema_version": warehouse.schema_version(con),
                    "partitioned_by": {"tickets": PARTITION},
                    "tables": counts,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    finally:
        con.close()
    return counts


def _export_table(con: duckdb.DuckDBPyConnection, table: str, root: Path) -> int:
    """COPY one table into a hidden folder, then swap it in for the old one."""
    final = root / table
    partial = root / f".{table}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    options = f"FORMAT parquet, PARTITION_BY ({PARTITION})" if table == "tickets" else ""
    target = partial if table == "tickets" else partial / "data.parquet"
    if table != "tickets":
        partial.mkdir()
    try:
        con.execute(
            f"COPY ({_select(table)}) TO {quote_literal(target)} ({options or 'FORMAT parquet'})"
        )
        rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        old = root / f".{table}.old-{os.getpid()}"
        if final.exists():
            final.rename(old)
        partial.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return rows
