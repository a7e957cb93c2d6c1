"""Helpers for ticket adapters' `prepare` hooks (no adapter is declared here).

Two reshapes recur across vendors:

* **derived columns**: a value the contract needs is spread over several export
  columns (resolved time = `Resolved`, else `Closed`; a Spanish date whose month
  must be translated first). We *add* a column named `inward_*` rather than
  overwrite the export's own, so `rejected_rows.raw` still shows what the file
  said next to what we made of it. A derived enum column may keep the value it
  was derived from in `<name>__raw`; the mapping report shows that one, so an
  unrecognised vendor value stays visible even when a fallback filled it in.
* **event-log collapse**: one row per status change → one row per ticket. The
  collapsed table replaces the staged one; each ticket's `__row` is the file
  row of its first event so a rejection points at a real line, and its raw
  record carries `event_rows`, `first_row` and `last_row`.
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.base import own_names
from dashboard.ingest.canonical import clean, day_first
from dashboard.ingest.read import Staged
from dashboard.sql import quote_ident, quote_literal


def txt(staged: Staged, *names: str) -> str:
    """Cleaned text of the first of `names` present in the staged columns, else NULL."""
    for n in names:
        if n in staged.columns:
            return clean(quote_ident(n))
    return "NULL"


def add_derived(con: duckdb.DuckDBPyConnection, staged: Staged, derived: dict[str, str]) -> Staged:
    """Add computed text columns (name → SQL over the staged table) to the staged table."""
    if not derived:
        return staged
    exprs = ", ".join(
        f"CAST({sql} AS VARCHAR) AS {quote_ident(name)}" for name, sql in derived.items()
    )
    table = f"{staged.table}_d"
    # a view, not a copy: at 5M rows the copy cost ~1 GB and a CPU-second per 1M rows
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT *, {exprs} FROM {staged.table}")
    names = list(derived)
    return dataclasses.replace(
        staged,
        table=table,
        headers=[*staged.headers, *names],
        columns=[*staged.columns, *names],
        notes=list(staged.notes),
    )


def event_bookkeeping() -> str:
    """SELECT items every collapse carries: how many event rows a ticket was built from,
    and which file rows, so a rejected ticket points at real lines."""
    return (
        "CAST(count(*) AS VARCHAR) AS event_rows, "
        "CAST(min(__row) AS VARCHAR) AS first_row, "
        "CAST(max(__row) AS VARCHAR) AS last_row"
    )


def collapse(con: duckdb.DuckDBPyConnection, staged: Staged, select: str, unit: str) -> Staged:
    """Make `select` (which yields `__row` plus text columns) the staged table.

    Used by event-log collapses: `rows` becomes the number of tickets (`unit`)
    built, the CSV reader's own parse rejects are kept (each is one line that
    cannot be attributed to a ticket), and a note says how many event rows went in.
    """
    table = f"{staged.table}_{unit}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    columns = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    out = dataclasses.replace(
        staged, table=table, headers=columns, columns=columns, rows=rows, notes=list(staged.notes)
    )
    out.notes.append(events_note(staged.rows, rows, unit))
    return out


# A process-mining log's events of one ticket, in time order, then file order.
EVENT_WINDOW = "WINDOW w AS (PARTITION BY __key ORDER BY ev_ts NULLS FIRST, __row)"


def resolution_runs(events: str, resolves: str) -> str:
    """SQL: the rows of `events` (with `__key`, `ev_ts`, `__row`) numbered per ticket
    in time, then file order (`seq`), with the reopen and resolution facts both
    process-mining logs collapse by:

    * `done`: the event resolves the ticket (`resolves`, SQL that is NULL when the
      event's status is unknown; unknown counts as not resolving);
    * `reopened_after`: a resolving event whose next event has a known status that
      does not resolve (the customer rejected the solution);
    * `run_start`: the `seq` where the ticket's final run of resolving events begins
      (one past its last event when it does not end resolved).
    """
    return f"""
        SELECT *, coalesce(max(seq) FILTER (WHERE NOT done) OVER (PARTITION BY __key), 0) + 1
            AS run_start
        FROM (
            SELECT *, row_number() OVER w AS seq,
                coalesce({resolves}, false) AS done,
                coalesce({resolves}, false) AND NOT lead({resolves}) OVER w AS reopened_after
            FROM ({events})
            {EVENT_WINDOW}
        )"""


def event_history(
    events: str, ticket: str, at: str, status: str, assignment: dict[str, str] | None = None
) -> str:
    """SQL: keep_history's rows from a process-mining log's `events` (with `__key`,
    `ev_ts`, `__row`), one per event: the ticket, its time and the status it leaves
    (SQL over the events), the team and assignee columns it carries (events kind name →
    SQL), its change kind, and a key naming its file row."""
    moved = assignment or {}
    carried = "".join(f"{sql} AS {name}, " for name, sql in moved.items())
    return f"""
        SELECT __row, {ticket} AS ticket_id, {at} AS at, {status} AS status, {carried}
            {change_kind(status, tuple(moved.values()))} AS kind,
            'row ' || CAST(__row AS VARCHAR) AS event_key
        FROM ({events})
        {EVENT_WINDOW}"""


def change_kind(status: str, assignment: tuple[str, ...], window: str = "w") -> str:
    """SQL: the `kind` of an event-log row from what changed since the ticket's
    previous row (`window` orders a ticket's rows): its first row and any row whose
    status differs are status changes, else a change of team or assignee is an
    assignment, else `other` (an update of some other field)."""
    moved = " OR ".join(f"{c} IS DISTINCT FROM lag({c}) OVER {window}" for c in assignment)
    return (
        f"CASE WHEN row_number() OVER {window} = 1 "
        f"OR {status} IS DISTINCT FROM lag({status}) OVER {window} THEN 'status' "
        + (f"WHEN {moved} THEN 'assignment' " if assignment else "")
        + "ELSE 'other' END"
    )


# The events table a history `prepare` hook yields (keep_history's columns), read back
# under the events kind's names: `at` is the event time, the status is kept raw too.
EVENT_ALIASES = {
    **own_names("ticket_id", "status", "service_team", "assignee", "kind", "actor", "event_key"),
    "event_at": ("at",),
    "vendor_status": ("status",),
}


def keep_history(con: duckdb.DuckDBPyConnection, staged: Staged, select: str) -> Staged:
    """Keep an event log's rows as ticket history next to the collapsed tickets.

    `select` yields the events kind's columns (ticket_id, at, status, service_team,
    assignee, kind, actor, event_key, as text) plus `__row` in the log's order;
    the loader types and checks them like an events file and stores them for the
    tickets this file loads (load._write_history)."""
    table = f"{staged.table}_history"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    return dataclasses.replace(staged, events=table)


def json_elements(json_list: str, obj: str = "obj", pos: str = "pos") -> str:
    """SELECT items unnesting a JSON array (text) into (obj, pos): API pages of tickets,
    audits or issues. Not `json_each`, which repeats the whole document on every row
    it returns: memory quadratic in the size of a saved page (a 5 MB page of Zendesk
    audits ran out of a 1.5 GB cap)."""
    arr = f"CAST({json_list} AS JSON[])"
    return f"unnest({arr}) AS {obj}, generate_subscripts({arr}, 1) AS {pos}"


PAGE_BATCH_BYTES = 8 << 20  # JSON text of the saved pages unnested in one statement


def page_elements(
    con: duckdb.DuckDBPyConnection, staged: Staged, list_column: str, table: str
) -> None:
    """Temp table `table` (page, pos, obj): the elements of a JSON list column, one row
    per element, page = the staged row. Unnested a batch of pages (about
    `PAGE_BATCH_BYTES` of JSON) per statement: DuckDB works on up to 2,048 rows at a
    time, so one statement over a JSONL of 900 saved pages of 350 KB each held the
    whole file, and its parsed lists, in memory at once (out of the 1.5 GiB ingest
    cap at 320 MB of audits)."""
    col = quote_ident(list_column)
    sizes = con.sql(
        f"SELECT __row, coalesce(length({col}), 0) FROM {staged.table} ORDER BY __row"
    ).fetchall()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (page BIGINT, pos INTEGER, obj JSON)")
    start, size = None, 0
    for i, (row, n) in enumerate(sizes):
        start = row if start is None else start
        size += n
        if size >= PAGE_BATCH_BYTES or i == len(sizes) - 1:
            con.execute(
                f"INSERT INTO {table} SELECT page, CAST(pos AS INTEGER), obj FROM ("
                f"SELECT __row AS page, {json_elements(col)} FROM {staged.table} "
                f"WHERE __row BETWEEN {start} AND {row})"
            )
            start, size = None, 0


def first_record_keys(con: duckdb.DuckDBPyConnection, staged: Staged, wrapper: str) -> set[str]:
    """The field names of the first record of an API page `{wrapper: [...]}`: which
    table a ServiceNow Table API page came from (incident, sys_audit…)."""
    keys = con.sql(
        f"SELECT json_keys(CAST({quote_ident(wrapper)} AS JSON[])[1]) FROM {staged.table} "
        f"WHERE {quote_ident(wrapper)} IS NOT NULL LIMIT 1"
    ).fetchall()
    return set(keys[0][0] or []) if keys else set()


def parse_ts(expr: str, dayfirst: bool) -> str:
    """SQL: naive TIMESTAMP from the date layouts event logs use (ISO, d/m/y or m/d/y)."""
    dmy = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M"]
    mdy = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m-%d-%Y %H:%M:%S", "%m-%d-%Y %H:%M"]
    fmts = dmy + mdy if dayfirst else mdy + dmy
    fmt_list = "[" + ", ".join(quote_literal(f) for f in fmts) + "]"
    return f"coalesce(try_cast({expr} AS TIMESTAMP), try_strptime({expr}, {fmt_list}))"


def iso(ts: str) -> str:
    """SQL: a naive TIMESTAMP as ISO text (canonical then applies --timezone)."""
    return f"strftime({ts}, '%Y-%m-%d %H:%M:%S')"


def is_day_first(con: duckdb.DuckDBPyConnection, staged: Staged, *names: str) -> bool:
    """Day-first evidence over the given date columns (see canonical.day_first)."""
    return day_first(con, staged.table, [n for n in names if n in staged.columns])


def events_note(events: int, tickets: int, unit: str) -> str:
    """The ingest message part that explains the row accounting of an event log."""
    return (
        f"event log: {events:,} event rows collapsed into {tickets:,} {unit}; "
        f"rows_read counts {unit}, a rejected one is reported at its first event's row"
    )
