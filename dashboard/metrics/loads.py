"""What the warehouse holds: ingest log, rejected rows, row counts (for the Data page)."""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard import warehouse


def ingests(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The ingest log, newest first."""
    return con.sql("SELECT * FROM ingests ORDER BY ingest_id DESC").pl()


def rejected_rows(
    con: duckdb.DuckDBPyConnection, ingest_id: int, limit: int = 5000
) -> pl.DataFrame:
    """Rejected rows of one ingest with their reasons, in file order."""
    return con.sql(
        "SELECT row_number, reason, raw FROM rejected_rows WHERE ingest_id = $id "
        "ORDER BY row_number LIMIT $limit",
        params={"id": ingest_id, "limit": limit},
    ).pl()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return warehouse.table_counts(con)
