"""What the warehouse holds: ingest log, rejected rows, row counts (for the Data page)."""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard import warehouse

UPLOAD_MARK = "inward-upload-"  # temp folder prefix of files uploaded in the app


def ingests(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The ingest log, newest first, in reading order: the file's own name, what
    happened and how many rows, then where it came from (an app upload's temporary
    folder reads "uploaded in the app"), the message and the checksum."""
    return con.sql(
        f"""
        SELECT ingest_id,
            regexp_extract(source_file, '[^/\\\\]+$') AS file,
            status, kind, format, rows_read, rows_loaded, rows_rejected, finished_at,
            message,
            CASE WHEN contains(source_file, '{UPLOAD_MARK}') THEN 'uploaded in the app'
                 ELSE source_file END AS source_file,
            sha256
        FROM ingests ORDER BY ingest_id DESC"""
    ).pl()


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
