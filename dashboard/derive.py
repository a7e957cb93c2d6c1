"""Derived tables, refreshed after every successful ingest (in the writer's lock).

The app only reads, so anything that depends on configuration (business hours,
SLA targets) or on the whole history (engagement) is computed here, once, by
the process that holds the write lock.
"""

from __future__ import annotations

import duckdb

from dashboard import warehouse
from dashboard.config import Config


def refresh(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Recompute every derived table from the canonical ones, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        warehouse.bump_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
