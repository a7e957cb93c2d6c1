"""Derived data, refreshed after every successful ingest (in the writer's lock).

The app only reads, so anything that depends on configuration (business hours,
SLA targets), on other tables (the people file) or on the whole history
(engagement) is computed here, once, by the process that holds the write lock.
"""

from __future__ import annotations

import duckdb

from dashboard import identity, warehouse
from dashboard.config import Config
from dashboard.metrics.business_time import refresh_business_minutes, refresh_sla_targets
from dashboard.metrics.engagement import refresh_engagement
from dashboard.metrics.history import refresh_history


def refresh(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Recompute every derived table from the canonical ones.

    Two transactions: first the per-ticket derivations (who each requester is and
    their department/type from the people file, see `dashboard.identity`; SLA targets,
    business minutes and SLA due times from the team calendars, time in status from
    ticket history), then the engagement model
    (which replaces its table atomically itself). A failure in either leaves the
    previous derived data in place, never a half-written table.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        identity.refresh(con)
        refresh_sla_targets(con, config, own_transaction=False)
        refresh_business_minutes(con, config, own_transaction=False)
        refresh_history(con, config)
        warehouse.bump_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh_engagement(con, config)
