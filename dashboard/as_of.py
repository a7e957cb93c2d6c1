"""The warehouse's "now": the moment every judgement that needs one is made at.

SLA "not yet due" vs "missed", the open backlog and its age, days silent: each
needs a "now". The wall clock is the wrong one. A 2019 export read today would
call every ticket that was open when it was taken years overdue (SLA met 0 %),
and a warehouse refreshed weekly would age its backlog between refreshes. So
the as-of of a source is (CONTRACT "As of the data"):

* config `as_of` when set (one instant for every source), else
* the newest timestamp among that source's tickets: created, updated, first
  response or resolved, whichever is latest (an export is taken after every
  event it records; most tools always fill `updated_at`, event logs and
  minimal exports may only have the others). Timestamps more than a day past
  the wall clock at load time are ignored here (a mistyped year would stop
  every clock); canonical already rejects such created times.

Why a table, not a `max()` in the view: at 100M tickets a per-source max is a
full scan (~1 s per 10M rows measured), and the view is read by every page.
`source_as_of` has one row per source; the loader raises `newest_at` from the
rows each file wrote (a scan of that file's rows only: an export cannot
un-happen, so the as-of never moves back on re-ingest), and the derived
refresh applies the config on top. `ticket_times` joins it by source, so each
ticket is judged at its own source's as-of and carries it as column `as_of`.

Python callers read it through `as_of_by_source` / `warehouse_as_of`; SQL
reads `ticket_times.as_of` (or the table).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import polars as pl

from dashboard.config import Config

TABLE = "source_as_of"
_TIMES = ("created_at", "updated_at", "first_response_at", "resolved_at")
_SLACK = "now() + INTERVAL 1 DAY"


def _newest_sql(where: str) -> str:
    """Per source: the newest plausible ticket timestamp and the ticket count."""
    plausible = ", ".join(f"CASE WHEN {c} <= {_SLACK} THEN {c} END" for c in _TIMES)
    return (
        f"SELECT source, max(greatest({plausible})) AS newest_at "
        f"FROM tickets WHERE {where} GROUP BY source"
    )


def record_newest(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Raise `newest_at` of the sources the ingest `ingest_id` wrote tickets for.

    Runs inside the loader's transaction, so the as-of moves with the rows or not
    at all. A new source starts with as_of = newest_at; `apply_config` (the
    derived refresh, right after the files of a run) overrides it when the config
    sets `as_of`."""
    con.execute(f"""
        INSERT INTO {TABLE} (source, newest_at, as_of, configured)
        SELECT source, newest_at, newest_at, false
        FROM ({_newest_sql(f"ingest_id = {int(ingest_id)}")})
        WHERE newest_at IS NOT NULL
        ON CONFLICT (source) DO UPDATE SET
            newest_at = greatest({TABLE}.newest_at, excluded.newest_at),
            as_of = CASE WHEN {TABLE}.configured THEN {TABLE}.as_of
                         ELSE greatest({TABLE}.newest_at, excluded.newest_at) END""")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every source's `newest_at` from all its tickets (a full scan: used
    when the table is created on an existing warehouse, and by tests)."""
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(f"""
        INSERT INTO {TABLE} (source, newest_at, as_of, configured)
        SELECT source, newest_at, newest_at, false FROM ({_newest_sql("TRUE")})
        WHERE newest_at IS NOT NULL""")


def apply_config(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """Make every source's `as_of` what the config says; True when anything changed.

    A tiny UPDATE (one row per source), run by the derived refresh and by
    `dashboard.derive.ensure_applied` when a command starts with a config whose
    `as_of` differs
    from the one the warehouse was refreshed with."""
    if not differs_from_config(con, config):
        return False
    if config.as_of is None:
        con.execute(f"UPDATE {TABLE} SET as_of = newest_at, configured = false")
    else:
        con.execute(f"UPDATE {TABLE} SET as_of = ?, configured = true", [config.as_of])
    return True


def differs_from_config(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """Whether any source's stored as-of is not the one `config` asks for."""
    if config.as_of is None:
        cond = "configured OR as_of IS DISTINCT FROM newest_at"
        params: list[object] = []
    else:
        cond = "NOT configured OR as_of IS DISTINCT FROM ?"
        params = [config.as_of]
    rows = con.sql(f"SELECT count(*) FROM {TABLE} WHERE {cond}", params=params).fetchall()
    return bool(rows[0][0])


def as_of_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per source: source, as_of, newest_at, configured, tickets — what the
    app and CLI show as "judged as of". Sorted by source."""
    return con.sql(f"""
        SELECT a.source, a.as_of, a.newest_at, a.configured, coalesce(n.tickets, 0) AS tickets
        FROM {TABLE} a
        LEFT JOIN (SELECT source, count(*) AS tickets FROM tickets GROUP BY source) n
            USING (source)
        ORDER BY a.source""").pl()


def as_of_by_source(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """source → its as-of instant (UTC-aware)."""
    return {
        s: _utc(t)
        for s, t in con.sql(f"SELECT source, as_of FROM {TABLE} ORDER BY source").fetchall()
    }


def warehouse_as_of(
    con: duckdb.DuckDBPyConnection, sources: Iterable[str] | None = None
) -> datetime | None:
    """The newest as-of among `sources` (all when None): the one "now" for views that
    mix sources and need a single instant (cohort months, "this week"). None when
    the warehouse has no tickets."""
    values = as_of_by_source(con)
    wanted = [values[s] for s in (values if sources is None else sources) if s in values]
    return max(wanted) if wanted else None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def describe(frame: pl.DataFrame, lead: str = "judged as of ") -> str:
    """'judged as of 2019-07-29 11:48 UTC (servicenow); 2026-07-18 10:53 UTC (jira),
    each source's newest ticket update' from `as_of_frame`, for captions, the CLI and
    the report (which leads with its own words); sources sharing an instant are
    listed together."""
    if frame.is_empty():
        return "no tickets yet, so no as-of"
    groups: dict[str, list[str]] = {}
    for source, at in zip(frame["source"], frame["as_of"], strict=True):
        groups.setdefault(_utc(at).strftime("%Y-%m-%d %H:%M UTC"), []).append(source)
    parts = [f"{at} ({', '.join(srcs)})" for at, srcs in sorted(groups.items())]
    how = (
        "set by as_of in the config"
        if frame["configured"].any()
        else "each source's newest ticket update"
    )
    return f"{lead}{'; '.join(parts)}, {how}"
