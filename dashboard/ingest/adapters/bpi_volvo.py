"""Volvo IT incident event log (BPI Challenge 2013, `VINST` export, IBM-augmented
`VINST-new.csv`): one row per status change, collapsed to one ticket per SR.

Source is `generic`: VINST is Volvo IT's own Siebel-based system, not one of the
contract's vendors, so calling it ServiceNow would mislabel it.

Collapse rules (events of one `SR Number` ordered by `Change Date+Time`, then
file order; statuses are `Status-Sub Status`, e.g. `Accepted-In Progress`):

* created_at = the first event; updated_at = the last event (both keep their
  `+01:00` offset, which canonical honours).
* first_response_at = the first event in which the SR is `Accepted` (assigned,
  in progress or waiting) or `Completed`: the first moment a person owned it.
  Queued events (awaiting assignment) are not a response.
* resolved_at = the start of the final run of `Completed` events, when the SR
  ends completed and not cancelled (Resolved → Closed: the Resolved time).
* reopen_count = how many times a `Completed` event is followed by a
  non-completed one (the customer rejected the solution).
* status = the last event's `Status-Sub Status`, mapped below.
* service_team = `Involved ST` of the last event (escalation lines such as
  `G230 2nd` stay distinct teams); priority = `SR Latest Impact` of the last
  event; category = `Product`. The log has no requester or channel.

Row accounting as in the ServiceNow event log: a row is an SR (`rows_read` =
SRs + unparseable lines), `__row` = its first event's file row, a rejected SR
is one rejected row whose raw record holds `event_rows`, `first_row`, `last_row`.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest.adapters._derive import (
    collapse,
    event_bookkeeping,
    event_history,
    keep_history,
    resolution_runs,
    txt,
)
from dashboard.ingest.base import Adapter, own_names
from dashboard.ingest.read import Staged

STATUS = {
    "queued-awaiting assignment": "open",
    "accepted-assigned": "open",
    "accepted-in progress": "open",
    "accepted-wait - user": "pending",
    "accepted-wait - customer": "pending",
    "accepted-wait": "on_hold",
    "accepted-wait - implementation": "on_hold",
    "accepted-wait - vendor": "on_hold",
    "completed-resolved": "solved",
    # Completed in the call: solved on first contact, nothing left to confirm.
    "completed-in call": "closed",
    "completed-closed": "closed",
    "completed-cancelled": "cancelled",
}
PRIORITY = {"low": "low", "medium": "normal", "high": "high", "major": "urgent"}


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Collapse status changes to one ticket per SR (rules in the module docstring)."""
    sr = txt(staged, "sr_number")
    when = txt(staged, "change_date_time")
    events = f"""
        SELECT __row, {sr} AS sr,
            coalesce({sr}, '#row ' || CAST(__row AS VARCHAR)) AS __key,
            {when} AS at_text, try_cast({when} AS TIMESTAMPTZ) AS ev_ts,
            {txt(staged, "status")} AS status,
            concat_ws('-', {txt(staged, "status")}, {txt(staged, "sub_status")}) AS activity,
            {txt(staged, "involved_st")} AS team,
            {txt(staged, "sr_latest_impact")} AS impact,
            {txt(staged, "product")} AS product,
            {txt(staged, "resource")} AS resource
        FROM {staged.table}"""
    select = f"""
        WITH e AS ({resolution_runs(events, "lower(status) = 'completed'")})
        SELECT min(__row) AS __row,
            any_value(sr) AS sr_number,
            arg_min(at_text, seq) FILTER (WHERE at_text IS NOT NULL) AS created_at,
            arg_max(at_text, seq) FILTER (WHERE at_text IS NOT NULL) AS updated_at,
            arg_min(at_text, seq) FILTER (
                WHERE lower(status) IN ('accepted', 'completed')) AS first_response_at,
            CASE WHEN lower(arg_max(activity, seq)) LIKE 'completed%'
                      AND lower(arg_max(activity, seq)) <> 'completed-cancelled'
                 THEN arg_min(at_text, seq) FILTER (WHERE seq >= run_start) END AS resolved_at,
            CAST(count(*) FILTER (WHERE done AND reopened_after) AS VARCHAR) AS reopen_count,
            arg_max(activity, seq) AS status,
            arg_max(team, seq) FILTER (WHERE team IS NOT NULL) AS service_team,
            arg_max(impact, seq) FILTER (WHERE impact IS NOT NULL) AS impact,
            arg_max(product, seq) FILTER (WHERE product IS NOT NULL) AS product,
            'incident' AS ticket_type,
            {event_bookkeeping()}
        FROM e
        GROUP BY __key
        ORDER BY 1"""
    history = event_history(
        events, "sr", "at_text", "activity", {"service_team": "team", "assignee": "resource"}
    )
    return keep_history(con, collapse(con, staged, select, "incidents"), history)


ADAPTER = Adapter(
    name="bpi_volvo",
    kind="tickets",
    source="generic",
    aliases={
        "ticket_id": ("sr_number",),
        "category": ("product",),
        "priority": ("impact",),
        **own_names(
            "service_team",
            "ticket_type",
            "status",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "reopen_count",
        ),
    },
    signature=frozenset({"sr_number", "change_date_time", "status", "sub_status", "involved_st"}),
    value_maps={"status": STATUS, "priority": PRIORITY},
    prepare=prepare,
)
