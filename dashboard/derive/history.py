"""Ticket history → time in status, waiting time, reassignments: stored after ingest.

`refresh_history` turns `ticket_events` into `ticket_status_spans` (runs of
constant status, team and assignee; rules in derive/sql/status_spans.sql),
`ticket_status_time` (CONTRACT: minutes, business minutes and entries per ticket
and status) and five numbers on each ticket row: `waiting_minutes` and
`waiting_business_minutes` (time in pending and on_hold, which
`ticket_times.resolution_excluding_waiting_minutes` takes out), `reassignments`,
`team_hops` and — where the history records replies — `replies`.

Why per source, whole: a ticket's spans depend on all its events, its resolved
time and, while it is open, on the as-of of its source, which moves with every
newer export of that source. Recomputing the sources whose inputs changed
(`flow_refresh` keeps a signature per source) is exact and keeps an ingest of
one tool from paying for the history of another. Everything is set-wise SQL: a
few window passes over the events and one calendar join, no per-ticket Python.

Business minutes use the calendar of the team holding the ticket during each
run (the ticket's own team while no team is recorded), through the same day
table as the tickets' business minutes (`business_time.between_sql`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from dashboard.config import Config
from dashboard.derive.business_minutes import derived_key
from dashboard.metrics.business_time import between_sql, calendars_registered
from dashboard.metrics.history import WAITING, as_of_relation

SPANS_SQL = (Path(__file__).parent / "sql" / "status_spans.sql").read_text(encoding="utf-8")


def _signatures(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, str]:
    """Per source with history: a fingerprint of everything its spans depend on."""
    rows = con.sql(f"""
        SELECT e.source, e.n, e.last_ingest, t.n, t.last_ingest, a.as_of
        FROM (SELECT source, count(*) AS n, max(ingest_id) AS last_ingest
              FROM ticket_events GROUP BY 1) e
        LEFT JOIN (SELECT source, count(*) AS n, max(ingest_id) AS last_ingest
                   FROM tickets GROUP BY 1) t USING (source)
        LEFT JOIN {as_of_relation()} a USING (source)""").fetchall()
    key = derived_key(config)
    return {r[0]: hashlib.sha256(repr((r[1:], key)).encode()).hexdigest()[:16] for r in rows}


def _rekey(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Events that name their ticket by the vendor's record key (ServiceNow sys_audit
    `documentkey`) get the ticket's id once a tickets export told us the key."""
    sources = {
        r[0]
        for r in con.sql("""
        SELECT DISTINCT e.source FROM ticket_events e
        JOIN ticket_keys k ON k.source = e.source AND k.key = e.ticket_id""").fetchall()
    }
    if sources:
        con.execute("""
            UPDATE ticket_events SET ticket_id = k.ticket_id FROM ticket_keys k
            WHERE k.source = ticket_events.source AND k.key = ticket_events.ticket_id""")
    return sources


def refresh_history(con: duckdb.DuckDBPyConnection, config: Config) -> int:
    """Recompute spans, status time and the tickets' flow columns for every source
    whose history, tickets, as-of or calendars changed; returns the number of
    spans written. Runs inside the caller's transaction (derive.refresh)."""
    rekeyed = _rekey(con)
    current = _signatures(con, config)
    stored = dict(con.sql("SELECT source, signature FROM flow_refresh").fetchall())
    gone = [s for s in stored if s not in current]
    todo = sorted(s for s, sig in current.items() if stored.get(s) != sig or s in rekeyed)
    for source in [*gone, *todo]:
        _clear(con, source)
    if gone:
        con.execute("DELETE FROM flow_refresh WHERE list_contains($s, source)", {"s": gone})
    if not todo:
        return 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE flow_todo AS SELECT unnest($s) AS source", {"s": todo}
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE flow_as_of AS SELECT * FROM {as_of_relation()}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE flow_spans AS
        SELECT s.*, coalesce(s.service_team, tk.service_team) AS calendar_team,
            epoch_us(s.started_at) AS a_us, epoch_us(s.ended_at) AS b_us
        FROM ({SPANS_SQL}) s
        LEFT JOIN tickets tk ON tk.source = s.source AND tk.ticket_id = s.ticket_id""")
    written = _store_spans(con, config)
    _store_status_time(con)
    _store_ticket_columns(con)
    con.execute(
        "INSERT OR REPLACE INTO flow_refresh SELECT unnest($s), unnest($g)",
        {"s": todo, "g": [current[s] for s in todo]},
    )
    for name in ("flow_todo", "flow_as_of", "flow_spans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return written


def _clear(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Forget a source's derived history (before recomputing it, or when it has none)."""
    for table in ("ticket_status_spans", "ticket_status_time"):
        con.execute(f"DELETE FROM {table} WHERE source = ?", [source])
    con.execute(
        """UPDATE tickets SET waiting_minutes = NULL, waiting_business_minutes = NULL,
            reassignments = NULL, team_hops = NULL
        WHERE source = ? AND (waiting_minutes IS NOT NULL OR reassignments IS NOT NULL)""",
        [source],
    )


def _store_spans(con: duckdb.DuckDBPyConnection, config: Config) -> int:
    lo, hi = con.sql("SELECT min(started_at), max(ended_at) FROM flow_spans").fetchall()[0]
    if lo is None:
        return 0
    teams = [
        r[0]
        for r in con.sql(
            "SELECT DISTINCT calendar_team FROM flow_spans WHERE calendar_team IS NOT NULL"
        ).fetchall()
    ]
    with calendars_registered(con, config, teams, lo, hi) as table:
        con.execute(f"""
            INSERT INTO ticket_status_spans
            SELECT source, ticket_id, span, status_run, status, vendor_status, service_team,
                assignee, started_at, ended_at, minutes, business_minutes, team_hop, from_team
            FROM ({between_sql(table, "flow_spans", "a_us", "b_us", "calendar_team")})""")
    return con.sql("SELECT count(*) FROM flow_spans").fetchall()[0][0]


def _store_status_time(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        INSERT INTO ticket_status_time
        SELECT s.source, s.ticket_id, s.status, sum(s.minutes), sum(s.business_minutes),
            count(DISTINCT s.status_run)
        FROM ticket_status_spans s JOIN flow_todo USING (source)
        GROUP BY ALL""")


def _store_ticket_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Per ticket with history: waiting time, reassignments, team hops; replies where
    the source's history records replies at all (else the export's own count stays)."""
    waiting = ", ".join(f"'{s}'" for s in WAITING)
    con.execute(f"""
        UPDATE tickets SET waiting_minutes = f.waiting_minutes,
            waiting_business_minutes = f.waiting_business_minutes,
            reassignments = f.reassignments, team_hops = f.team_hops,
            replies = coalesce(r.replies, tickets.replies)
        FROM (
            SELECT source, ticket_id,
                coalesce(sum(minutes) FILTER (WHERE status IN ({waiting})), 0)
                    AS waiting_minutes,
                coalesce(sum(business_minutes) FILTER (WHERE status IN ({waiting})), 0)
                    AS waiting_business_minutes,
                CAST(count(*) FILTER (WHERE team_hop OR assignee <> prev_assignee) AS INTEGER)
                    AS reassignments,
                CAST(count(*) FILTER (WHERE team_hop) AS INTEGER) AS team_hops
            FROM (SELECT DISTINCT source, ticket_id FROM ticket_events
                  WHERE source IN (SELECT source FROM flow_todo)) k
            LEFT JOIN (
                SELECT *, last_value(assignee IGNORE NULLS) OVER (
                    PARTITION BY source, ticket_id ORDER BY span
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_assignee
                FROM ticket_status_spans WHERE source IN (SELECT source FROM flow_todo)
            ) s USING (source, ticket_id)
            GROUP BY ALL
        ) f
        LEFT JOIN (
            SELECT source, ticket_id, CAST(count(*) FILTER (WHERE kind = 'reply'
                AND coalesce(actor, 'agent') = 'agent') AS INTEGER) AS replies
            FROM ticket_events
            WHERE source IN (SELECT source FROM ticket_events
                             WHERE kind = 'reply' AND source IN (SELECT source FROM flow_todo))
            GROUP BY ALL
        ) r USING (source, ticket_id)
        WHERE tickets.source = f.source AND tickets.ticket_id = f.ticket_id""")
