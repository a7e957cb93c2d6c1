"""Minimal ticket event log `CaseID, ActivityID, CompleteTimestamp` (the Italian
software company's help desk log, Polato et al., as published with numeric
activity codes): collapsed to one ticket per case. Source `generic`.

The codes carry no labels, so their roles are inferred from the log's own
structure (13,710 events, 3,804 cases) and kept in module constants:

* `6` ends every case and is sometimes followed by more work → the resolution
  step (RESOLVE); a 6 followed by any other code is a reopen.
* `1` opens 3,644 cases and `3` opens 108 (always followed by 1) → intake steps
  (INTAKE), not a response.

Collapse rules (events of one case ordered by timestamp, then file order):

* created_at = the first event; updated_at = the last event.
* first_response_at = the first event that is not an intake step (typically
  code 8, which follows intake in 3,483 cases): the first action on the ticket.
* resolved_at = the first event of the final run of RESOLVE events, when the
  case ends with one; status = closed then, else open (raw value: the code).
* reopen_count = RESOLVE events followed by a non-RESOLVE event.

Row accounting as in the other event logs: a row is a case, `__row` = its first
event's file row, raw records carry `event_rows`, `first_row`, `last_row`.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest.adapters._derive import (
    collapse,
    event_bookkeeping,
    event_history,
    is_day_first,
    iso,
    keep_history,
    parse_ts,
    resolution_runs,
    txt,
)
from dashboard.ingest.base import Adapter, own_names
from dashboard.ingest.read import Staged

RESOLVE = ("6",)
INTAKE = ("1", "3")
STATUS = {code: "open" for code in "123456789"} | {code: "closed" for code in RESOLVE}


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Collapse activities to one ticket per case (rules in the module docstring)."""
    dayfirst = is_day_first(con, staged, "completetimestamp")
    case = txt(staged, "caseid")
    when = txt(staged, "completetimestamp")
    resolve = ", ".join(f"'{c}'" for c in RESOLVE)
    intake = ", ".join(f"'{c}'" for c in INTAKE)
    events = f"""
        SELECT __row, {case} AS case_id,
            coalesce({case}, '#row ' || CAST(__row AS VARCHAR)) AS __key,
            {when} AS at_text, {parse_ts(when, dayfirst)} AS ev_ts,
            {txt(staged, "activityid")} AS activity
        FROM {staged.table}"""
    select = f"""
        WITH e AS ({resolution_runs(events, f"activity IN ({resolve})")})
        SELECT min(__row) AS __row,
            any_value(case_id) AS case_id,
            coalesce({iso("min(ev_ts)")}, arg_min(at_text, seq)) AS created_at,
            coalesce({iso("max(ev_ts)")}, arg_max(at_text, seq)) AS updated_at,
            {iso("min(ev_ts) FILTER (WHERE activity NOT IN (" + intake + "))")}
                AS first_response_at,
            CASE WHEN arg_max(done, seq) THEN {iso("min(ev_ts) FILTER (WHERE seq >= run_start)")}
                END AS resolved_at,
            CAST(count(*) FILTER (WHERE done AND reopened_after) AS VARCHAR) AS reopen_count,
            arg_max(activity, seq) AS last_activity,
            {event_bookkeeping()}
        FROM e
        GROUP BY __key
        ORDER BY 1"""
    # Every activity is an event; the status it leaves is its code's (open or closed).
    history = event_history(events, "case_id", f"coalesce({iso('ev_ts')}, at_text)", "activity")
    return keep_history(con, collapse(con, staged, select, "cases"), history)


ADAPTER = Adapter(
    name="helpdesk_log",
    kind="tickets",
    source="generic",
    aliases={
        "ticket_id": ("case_id",),
        "status": ("last_activity",),
        **own_names("created_at", "updated_at", "first_response_at", "resolved_at", "reopen_count"),
    },
    signature=frozenset({"caseid", "activityid", "completetimestamp"}),
    value_maps={"status": STATUS},
    prepare=prepare,
)
