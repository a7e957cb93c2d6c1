"""Zendesk: the Admin Center CSV export and the API ticket export as JSON/JSONL.

Layouts in docs/vendor-formats.md §1. The CSV already carries what the contract
needs in flat columns (`First reply time in minutes` becomes first_response_at
through canonical's `first_response_minutes`). The API objects nest it: channel
in `via.channel`, metrics in an embedded `metric_set` (our JSONL convention for
`include=metric_sets`). JSON staging keeps nested objects as JSON text, so the
`prepare` hook pulls the few fields out with DuckDB's json functions rather than
flattening every object.

An API page (`{"tickets": [...], "end_of_stream": ...}`) is unnested to one row
per ticket first, joining a sideloaded top-level `metric_sets` list on ticket id.

Deleted tickets (incremental exports include them) map to `cancelled`, which
keeps them counted and visible in the mapping report as `deleted → cancelled`.
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters._derive import add_derived, txt
from dashboard.ingest.base import Adapter
from dashboard.ingest.canonical import EXCEL_ID
from dashboard.ingest.read import Staged

STATUS = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "on-hold": "on_hold",
    "on hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
    "deleted": "cancelled",
}
TICKET_TYPE = {
    "question": "question",
    "incident": "incident",
    "problem": "problem",
    "task": "request",
}
# CSV via labels (the CSV writes `Mail` where the docs say `Email`) and API channels.
CHANNEL = {
    "mail": "email",
    "email": "email",
    "web form": "portal",
    "web": "portal",
    "web widget": "portal",
    "help center": "portal",
    "help center post": "portal",
    "help_center": "portal",
    "chat": "chat",
    "messaging": "chat",
    "native messaging": "chat",
    "native_messaging": "chat",
    "mobile sdk": "chat",
    "mobile_sdk": "chat",
    "mobile": "chat",
    "phone call (incoming)": "phone",
    "phone call (outbound)": "phone",
    "cti phone call (inbound)": "phone",
    "cti phone call (outbound)": "phone",
    "phone": "phone",
    "voice": "phone",
    "voicemail": "phone",
    "sms": "phone",
    "web service": "api",
    "web service (api)": "api",
    "api": "api",
    "closed ticket": "other",
    "trigger, automation": "other",
    "rule": "other",
    "any_channel": "other",
    "twitter": "other",
    "facebook": "other",
    "facebook post": "other",
    "ticket sharing": "other",
    "channel framework": "other",
}
VALUE_MAPS = {"status": STATUS, "ticket_type": TICKET_TYPE, "channel": CHANNEL}

# `1.03006E+13` (`1,03006E+13` from European Excel): a 14-digit Requester id after a
# round trip through Excel. The digits are gone and cannot be repaired, so the
# e-mail identifies the requester.
_EXCEL_NUMBER = EXCEL_ID


_DEPARTMENT = ("department_list", "requester_department_list", "department", "organization")


def prepare_csv(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """The tool's requester id is `Requester id`, unless Excel mangled it: then it is
    dropped, and the requester is known by `Requester email` (and name) alone."""
    rid = txt(staged, "requester_id")
    mangled = con.sql(
        f"SELECT count(*) FROM {staged.table} WHERE regexp_matches({rid}, '{_EXCEL_NUMBER}')"
    ).fetchall()[0][0]
    out = add_derived(
        con,
        staged,
        {
            "inward_requester_id": f"CASE WHEN NOT regexp_matches({rid}, '{_EXCEL_NUMBER}') "
            f"THEN {rid} END",
            # a department field when the account has one and it is filled, else the
            # organization (internal desks model departments as Zendesk organizations)
            "inward_department": "coalesce(" + ", ".join(txt(staged, c) for c in _DEPARTMENT) + ")",
        },
    )
    if mangled:
        out.notes.append(
            f"{mangled:,} Requester id values were rounded by Excel (e.g. 1.03006E+13); "
            "their requester is identified by Requester email instead"
        )
    return out


CSV = Adapter(
    name="zendesk",
    kind="tickets",
    source="zendesk",
    aliases={
        "ticket_id": ("id",),
        "service_team": ("group",),
        "requester_id": ("inward_requester_id",),
        "requester_email": ("requester_email",),
        "requester_name": ("requester",),
        # an internal desk's SSO usually sets the user's external id to the HR number
        "requester_employee_id": ("requester_external_id",),
        "requester_department": ("inward_department",),
        "requester_type": ("requester_type_list", "requester_type"),
        "channel": ("via",),
        "category": ("category_list", "category"),
        "priority": ("priority",),
        "ticket_type": ("ticket_type",),
        "status": ("status",),
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
        "first_response_minutes": ("first_reply_time_in_minutes",),
        "resolved_at": ("solved_at",),
        "reopen_count": ("reopens",),
        "subject": ("subject",),
    },
    signature=frozenset({"id", "requester_id", "via", "ticket_type", "created_at"}),
    value_maps=VALUE_MAPS,
    prepare=prepare_csv,
)


def _unnest_pages(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """API pages → one staged row per ticket object (keys as JSON text columns)."""
    metrics = (
        "LEFT JOIN (SELECT json_extract_string(m.value, '$.ticket_id') AS tid, m.value AS ms "
        f"FROM {staged.table}, json_each({staged.table}.metric_sets) m) ms "
        "ON ms.tid = json_extract_string(t.value, '$.id')"
        if "metric_sets" in staged.columns
        else ""
    )
    metric_col = "ms.ms" if metrics else "NULL"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE zd_rows AS
        SELECT CAST(row_number() OVER (ORDER BY p.__row, t.key::INTEGER) AS BIGINT) AS __row,
            t.value AS obj, {metric_col} AS ms_side
        FROM {staged.table} p, json_each(p.tickets) t {metrics}""")
    keys = (
        "id", "via", "created_at", "updated_at", "type", "subject", "priority", "status",
        "requester_id", "submitter_id", "group_id", "metric_set",
    )  # fmt: skip
    cols = ", ".join(
        f"CASE WHEN json_type(obj, '$.{k}') IN ('OBJECT', 'ARRAY') "
        f"THEN CAST(json_extract(obj, '$.{k}') AS VARCHAR) "
        f"ELSE json_extract_string(obj, '$.{k}') END AS {k}"
        for k in keys
        if k != "metric_set"
    )
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {staged.table}_tickets AS
        SELECT __row, {cols},
            coalesce(CAST(json_extract(obj, '$.metric_set') AS VARCHAR),
                     CAST({"ms_side" if metrics else "NULL"} AS VARCHAR)) AS metric_set
        FROM zd_rows""")
    rows = con.sql(f"SELECT count(*) FROM {staged.table}_tickets").fetchall()[0][0]
    notes = [*staged.notes, f"{staged.rows:,} API pages unnested into {rows:,} tickets"]
    return dataclasses.replace(
        staged,
        table=f"{staged.table}_tickets",
        headers=list(keys),
        columns=list(keys),
        rows=rows,
        notes=notes,
    )


def prepare_json(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Pull channel and metrics out of the nested JSON text columns."""
    if "tickets" in staged.columns:
        staged = _unnest_pages(con, staged)

    def metric(path: str) -> str:
        if "metric_set" not in staged.columns:
            return "NULL"
        return f"json_extract_string({txt(staged, 'metric_set')}, '$.{path}')"

    via = txt(staged, "via")
    return add_derived(
        con,
        staged,
        {
            "inward_channel": f"CASE WHEN json_valid({via}) "
            f"THEN json_extract_string({via}, '$.channel') ELSE {via} END",
            "inward_first_response_minutes": metric("reply_time_in_minutes.calendar"),
            "inward_solved_at": metric("solved_at"),
            "inward_reopens": metric("reopens"),
        },
    )


API = Adapter(
    name="zendesk",
    kind="tickets",
    source="zendesk",
    aliases={
        "ticket_id": ("id",),
        # group_id is numeric; without a groups side file the id is the team's name.
        "service_team": ("group_id",),
        "requester_id": ("requester_id",),
        "channel": ("inward_channel",),
        "priority": ("priority",),
        "ticket_type": ("type",),
        "status": ("status",),
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
        "first_response_minutes": ("inward_first_response_minutes",),
        "resolved_at": ("inward_solved_at",),
        "reopen_count": ("inward_reopens",),
        "subject": ("subject", "raw_subject"),
    },
    signature=frozenset({"id", "via", "requester_id", "submitter_id", "created_at", "status"}),
    value_maps=VALUE_MAPS,
    prepare=prepare_json,
)

# A saved API page: incremental export (`end_of_stream`) or list endpoint (`next_page`).
API_PAGE = dataclasses.replace(API, signature=frozenset({"tickets", "end_of_stream"}))
API_LIST_PAGE = dataclasses.replace(API, signature=frozenset({"tickets", "next_page"}))

ADAPTERS = (CSV, API, API_PAGE, API_LIST_PAGE)
