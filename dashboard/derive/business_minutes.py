"""Business minutes, SLA due times and the `sla_targets` table, stored per ticket.

The arithmetic is the reading side's (`dashboard.metrics.business_time.ticket_query`
over the calendar day table of `dashboard.metrics.business_calendar`); this module
only decides which rows are stale and writes them, so a stored number and one read
afresh (`sla_due_at`, `open_sla_status`) cannot disagree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from dashboard import warehouse
from dashboard.config import Config
from dashboard.metrics.business_time import (
    DUE_HORIZON_DAYS,
    Registered,
    calendar_frames,
    sla_rows,
    ticket_query,
)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, own: bool) -> Iterator[None]:
    """Run in our own transaction, or (own=False) inside the caller's one.

    Ingest loads a file in one transaction and may refresh inside it; then the
    caller's COMMIT/ROLLBACK decides. It has to say so: DuckDB cannot tell us
    whether a transaction is open, and a failed BEGIN aborts the caller's one.
    """
    if not own:
        yield
        return
    with warehouse.transaction(con):
        yield


# Rows per UPDATE statement of a refresh: one statement over 5M stale rows took 3x
# as long as ten of 500k (its ASOF sorts and update buffers outgrow the ingest's
# memory cap and spill); rowid ranges let each statement skip the other row groups.
REFRESH_CHUNK_ROWS = 500_000

# Bump when the arithmetic of `ticket_query` changes, so stored business minutes are
# recomputed.
_DERIVATION_VERSION = 2


def derived_key(config: Config) -> str:
    """Fingerprint of everything the stored per-ticket derivations depend on:
    the calendars, the SLA targets, the due horizon and this code's version."""
    slas = sorted(
        (team, sorted(t.first_response.items()), sorted(t.resolution.items()), t.business)
        for team, t in config.slas.items()
    )
    text = repr((_DERIVATION_VERSION, DUE_HORIZON_DAYS, sorted(config.calendars.items()), slas))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def refresh_business_minutes(
    con: duckdb.DuckDBPyConnection, config: Config, own_transaction: bool = True
) -> int:
    """Fill business minutes and SLA due times on the tickets that need them; returns
    how many rows were (re)computed.

    A row needs them when it is new or replaced since the last refresh
    (`derived_key` NULL, the loader's doing) or was computed under other calendars
    or SLA targets (another key): so an ingest pays for its own rows only, and a
    config change still rewrites history. One transaction (the caller's when
    `own_transaction=False`, e.g. inside an ingest), so readers see the old
    numbers or the new ones, never a mix. Due columns are filled while their clock
    runs (the view calls those past due a miss; see `sla_due_at` for all tickets).
    """
    key = derived_key(config)
    stale = f"derived_key IS DISTINCT FROM '{key}'"
    prepared = calendar_frames(con, config, where=stale)
    if prepared is None:
        return 0
    table, frames = prepared
    n = 0
    with _transaction(con, own_transaction), Registered(con, **frames):
        # Walk the stale rows' rowids chunk by chunk, jumping over gaps: rows inserted
        # in the open transaction (an ingest's own) have rowids from 2^55 up, so a
        # plain range(0, max(rowid)) would never end.
        lo = _next_stale_rowid(con, stale, 0)
        while lo is not None:
            hi = lo + REFRESH_CHUNK_ROWS
            rows = f"{stale} AND tk.rowid >= {lo} AND tk.rowid < {hi}"
            n += con.execute(f"""
                UPDATE tickets SET first_response_business_minutes = b.frm,
                    resolution_business_minutes = b.rm,
                    first_response_due_at = b.first_response_due_at,
                    resolution_due_at = b.resolution_due_at, derived_key = '{key}'
                FROM ({ticket_query(table, open_only=True, where=rows)}) b
                WHERE tickets.rowid = b.rid
            """).fetchall()[0][0]
            lo = _next_stale_rowid(con, stale, hi)
    return n


def _next_stale_rowid(con: duckdb.DuckDBPyConnection, stale: str, start: int) -> int | None:
    return con.sql(f"SELECT min(rowid) FROM tickets WHERE {stale} AND rowid >= {start}").fetchall()[
        0
    ][0]


def refresh_sla_targets(
    con: duckdb.DuckDBPyConnection, config: Config, own_transaction: bool = True
) -> int:
    """Replace `sla_targets` with the config's targets (one transaction); returns rows written.

    `own_transaction=False` runs inside the caller's open transaction instead.
    """
    rows = sla_rows(config)
    with _transaction(con, own_transaction), Registered(con, _inward_sla_rows=rows):
        con.execute("DELETE FROM sla_targets")
        con.execute("INSERT INTO sla_targets SELECT * FROM _inward_sla_rows")
    return rows.height
