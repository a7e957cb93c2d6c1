"""ServiceNow: incident list exports (CSV with field names, XLSX with display labels)
and the audit-style incident event log (the UCI "incident management process
enriched event log"), which is collapsed to one ticket per incident.

Field names and labels come from docs/vendor-formats.md §3; the same table
arrives with either header style, so both are aliases of one adapter family.

Display values or raw values (§11): a list export carries display values by
default (`Service Desk`, `In Progress`, times in the exporting user's zone);
with `sysparm_display_value=false` it carries the database values instead
(sys_ids for references, choice codes such as state `2`, times in UTC), and
JSON with `displayvalue=all` (or ODBC) carries both, the display one in a
`dv_` twin column; the Table API returns `{"result": [...]}` whose fields are
`{"display_value", "value"}` objects with `sysparm_display_value=all`. So:
display values are preferred where a twin exists, choice codes are turned
into their labels (incident codes for INC numbers, task codes for RITM/SCTASK…),
and a file whose references are sys_ids is a raw export whose times are UTC.

Event-log collapse rules (one ticket per `number`, events ordered by
`sys_mod_count`, then `sys_updated_at`, then file order):

* created_at = `opened_at`; updated_at = the latest `sys_updated_at`.
* first_response_at = `sys_updated_at` of the first event at or after opening in
  which the incident has an assignee (`assigned_to`) or has left `New` (Active,
  Awaiting…, Resolved, Closed): the first moment a person owned or worked it.
* Dates are read day-first when the log shows it (a first field above 12, as in
  `29/2/2016 01:16`) and passed on as ISO text; unreadable ones are passed on
  as written so canonical rejects the incident naming the value.
* resolved_at = `resolved_at`, else `closed_at` (both are repeated on every row
  of the log, so any event gives the final value; we take the last event's).
* status, priority, category, requester (`caller_id`) = last event that has a
  value; the bogus state `-100` (2 rows in the sample) is ignored as a status.
* service_team = `assignment_group` of the last event that has one.
* channel = `contact_type` of the first event (how the incident came in).
* reopen_count = the last event's `reopen_count`.

Row accounting: a "row" of this format is an incident. `rows_read` is the number
of incidents (plus any line the CSV reader could not parse at all), each ticket's
`__row` is the file row of its first event, and a rejected incident is one
rejected row whose raw record carries `event_rows`, `first_row` and `last_row`.
The ingest message states how many event rows were collapsed.
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters._derive import (
    add_derived,
    change_kind,
    collapse,
    event_bookkeeping,
    first_record_keys,
    is_day_first,
    iso,
    json_elements,
    keep_history,
    parse_ts,
    txt,
)
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import Staged
from dashboard.sql import quote_ident, quote_literal

STATUS = {
    "new": "new",
    "open": "open",
    "active": "open",
    "in progress": "open",
    "work in progress": "open",
    "assigned": "open",
    "pending": "pending",
    "awaiting user info": "pending",
    "awaiting caller": "pending",
    # A list export does not say why an incident is on hold; keep the literal state.
    "on hold": "on_hold",
    "awaiting vendor": "on_hold",
    "awaiting problem": "on_hold",
    "awaiting evidence": "on_hold",
    "awaiting change": "on_hold",
    "resolved": "solved",
    "closed": "closed",
    "closed complete": "closed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "closed incomplete": "cancelled",
    "closed skipped": "cancelled",
}
PRIORITY = {
    "1 - critical": "urgent",
    "2 - high": "high",
    "3 - moderate": "normal",
    "4 - low": "low",
    "5 - planning": "low",
}
CHANNEL = {
    "email": "email",
    "phone": "phone",
    "ivr": "phone",
    "self-service": "portal",
    "self service": "portal",
    "service portal": "portal",
    "portal": "portal",
    "walk-in": "walk_in",
    "walk in": "walk_in",
    "chat": "chat",
    "virtual agent": "chat",
    "virtual_agent": "chat",  # the raw choice value
    "direct opening": "other",
    "event": "api",
    "alert": "api",
    "integration": "api",
}
VALUE_MAPS = {"status": STATUS, "priority": PRIORITY, "channel": CHANNEL}

# Choice values of `state` in a raw export (docs/vendor-formats.md §11): the incident
# table's, and the task table's that sc_task / sc_req_item / change / problem tasks
# inherit. Codes become the labels the display export would have written.
INCIDENT_STATE_CODES = {
    "1": "New", "2": "In Progress", "3": "On Hold", "4": "Awaiting User Info",
    "5": "Awaiting Evidence", "6": "Resolved", "7": "Closed", "8": "Canceled",
}  # fmt: skip
TASK_STATE_CODES = {
    "-5": "Pending", "1": "Open", "2": "Work in Progress", "3": "Closed Complete",
    "4": "Closed Incomplete", "7": "Closed Skipped",
}  # fmt: skip
_TASK_PREFIXES = ("RITM", "REQ", "SCTASK", "TASK", "CTASK", "PTASK")

# Record number prefix → ticket type (the table the list was exported from).
TYPE_BY_PREFIX = {
    "INC": "incident",
    "RITM": "request",
    "REQ": "request",
    "SCTASK": "request",
    "TASK": "request",
    "PRB": "problem",
    "PTASK": "problem",
    "CHG": "change",
    "CTASK": "change",
}


def _type_from_number(number_sql: str) -> str:
    whens = " ".join(
        f"WHEN regexp_extract({number_sql}, '^([A-Za-z]+)', 1) = '{p}' THEN '{t}'"
        for p, t in TYPE_BY_PREFIX.items()
    )
    return f"CASE {whens} END"


# A reference field exported as its value is the record's 32-hex sys_id; exported as
# its display value it is the user's name. One export can be either (list exports give
# display values, `sysparm_display_value=false` / "all" exports the sys_id).
_SYS_ID = r"^[0-9a-fA-F]{32}$"


_DEPARTMENT = (
    "u_requester_department",
    "caller_id_department",
    "caller_department",
    "requester_department",
    "department",
)


def _caller(staged: Staged) -> dict[str, str]:
    """The caller as the export shows them: tool id (a sys_id in `caller_id`, else the
    dot-walked `caller_id.user_name`) and name (`caller_id.name`, else a display value
    in `caller_id`). E-mail, employee number and department come from dot-walked
    columns directly (adapter aliases)."""
    caller = txt(staged, "caller_id", "caller")
    sys_id = f"CASE WHEN regexp_full_match({caller}, '{_SYS_ID}') THEN {caller} END"
    login = txt(staged, "caller_id_user_name", "caller_user_name", "caller_id_sys_id")
    display = f"CASE WHEN NOT regexp_full_match({caller}, '{_SYS_ID}') THEN {caller} END"
    name = txt(staged, "dv_caller_id", "caller_id_name", "caller_name")
    dept = "coalesce(" + ", ".join(txt(staged, c) for c in _DEPARTMENT) + ")"
    return {
        "inward_caller_id": f"coalesce({sys_id}, {login})",
        "inward_caller_name": f"coalesce({name}, {display})",
        # a department exported as its value is a sys_id, not a department name
        "inward_caller_department": f"CASE WHEN NOT regexp_full_match({dept}, '{_SYS_ID}') "
        f"THEN {dept} END",
    }


def _display(staged: Staged, *names: str) -> str:
    """SQL: the display value of a field: its `dv_` twin when the export has one, else
    the field itself."""
    return f"coalesce({txt(staged, *(f'dv_{n}' for n in names))}, {txt(staged, *names)})"


def _state_label(staged: Staged, number: str) -> str:
    """SQL: the state as a label; a raw choice code is looked up in the incident or the
    task table's codes by the record number's prefix (unknown codes stay as they are,
    so the mapping report shows them)."""
    state = _display(staged, "state", "incident_state")

    def lookup(codes: dict[str, str]) -> str:
        return (
            "MAP {"
            + ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in codes.items())
            + "}"
        )

    task = ", ".join(quote_literal(p) for p in _TASK_PREFIXES)
    return (
        f"CASE WHEN regexp_full_match({state}, '-?\\d+') THEN coalesce("
        f"CASE WHEN regexp_extract({number}, '^([A-Za-z]+)', 1) IN ({task}) "
        f"THEN {lookup(TASK_STATE_CODES)}[{state}] ELSE {lookup(INCIDENT_STATE_CODES)}[{state}] "
        f"END, {state}) ELSE {state} END"
    )


def _raw_export(con: duckdb.DuckDBPyConnection, staged: Staged) -> bool:
    """Whether the file holds raw values (`sysparm_display_value=false`, or `all` with
    `dv_` twins): a reference field holding sys_ids. Its times are then UTC."""
    refs = [
        c
        for c in ("assignment_group", "caller_id", "opened_by", "assigned_to")
        if c in staged.columns
    ]
    if not refs:
        return False
    test = " OR ".join(f"regexp_full_match(trim({quote_ident(c)}), '{_SYS_ID}')" for c in refs)
    return bool(con.sql(f"SELECT 1 FROM {staged.table} WHERE {test} LIMIT 1").fetchall())


def prepare_list(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """List export: display values over raw ones (state codes as labels); resolved time
    falls back to closed time; type from the number prefix; the caller split into
    tool id and name; times of a raw export marked UTC."""
    number = txt(staged, "number")
    raw = _raw_export(con, staged)

    def when(*names: str) -> str:
        t = txt(staged, *names)
        return f"{t} || ' +00:00'" if raw else t

    derived = {
        "inward_opened_at": when("opened_at", "opened", "sys_created_on", "created"),
        "inward_updated_at": when("sys_updated_on", "updated"),
        "inward_resolved_at": f"coalesce({when('resolved_at', 'resolved')}, "
        f"{when('closed_at', 'closed')})",
        "inward_ticket_type": _type_from_number(number),
        "inward_state": _state_label(staged, number),
        "inward_state__raw": txt(staged, "state", "incident_state"),
        "inward_team": _display(staged, "assignment_group"),
        "inward_priority": _display(staged, "priority"),
        "inward_channel": _display(staged, "contact_type", "channel"),
        **_caller(staged),
    }
    out = add_derived(con, staged, derived)
    if raw:
        out.notes.append("raw-value export (references are sys_ids): times read as UTC")
        team_ids = con.sql(
            f"SELECT count(*) FROM {out.table} WHERE regexp_full_match(inward_team, '{_SYS_ID}')"
        ).fetchall()[0][0]
        if team_ids:
            out.notes.append(
                f"{team_ids:,} assignment groups are sys_ids; export with display values "
                "(or add dv_assignment_group) to see team names"
            )
    return out


def _unnest_api(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Table API (`{"result": [...]}`) or JSONv2 (`{"records": [...]}`) → one staged
    row per record. A field given as `{"display_value", "value"}` (Table API with
    `sysparm_display_value=all`) becomes the value plus a `dv_` twin, the layout
    JSONv2 `displayvalue=all` writes itself."""
    key = _wrapper(staged)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE sn_rows AS
        SELECT CAST(row_number() OVER (ORDER BY page, pos) AS BIGINT) AS __row, obj
        FROM (SELECT __row AS page, {json_elements(quote_ident(key))} FROM {staged.table})""")
    fields = con.sql("""
        SELECT k.key, bool_or(json_type(k.value) = 'OBJECT') AS pair
        FROM sn_rows, json_each(sn_rows.obj) k GROUP BY 1 ORDER BY 1""").fetchall()
    cols = []
    for name, pair in fields:
        path = quote_literal("$." + '"' + name.replace('"', '\\"') + '"')
        if pair:
            cols.append(
                f"coalesce(json_extract_string(obj, {path} || '.value'), "
                f"json_extract_string(obj, {path})) AS {quote_ident(name)}"
            )
            if f"dv_{name}" not in {f for f, _ in fields}:
                cols.append(
                    f"json_extract_string(obj, {path} || '.display_value') "
                    f"AS {quote_ident('dv_' + name)}"
                )
        else:
            cols.append(f"json_extract_string(obj, {path}) AS {quote_ident(name)}")
    table = f"{staged.table}_records"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT __row{''.join(', ' + c for c in cols)} FROM sn_rows"
    )
    names = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    out = dataclasses.replace(
        staged, table=table, headers=names, columns=names, rows=rows, notes=list(staged.notes)
    )
    out.notes.append(f"{key}: {rows:,} records")
    return out


def _wrapper(staged: Staged) -> str:
    return "result" if "result" in staged.columns else "records"


def ticket_records(con: duckdb.DuckDBPyConnection, staged: Staged) -> bool:
    """An API page of task records (incident, sc_task…: they carry `number`), not of
    sys_audit or metric_instance (servicenow_history)."""
    return "number" in first_record_keys(con, staged, _wrapper(staged))


def prepare_api(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """JSON from the Table API or JSONv2: unnest the records, then as a list export."""
    return prepare_list(con, _unnest_api(con, staged))


def prepare_event_log(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Collapse the audit log to one row per incident (rules in the module docstring)."""
    dates = ("opened_at", "sys_updated_at", "resolved_at", "closed_at", "sys_created_at")
    dayfirst = is_day_first(con, staged, *dates)

    def ts(name: str) -> str:
        return parse_ts(txt(staged, name), dayfirst)

    state = txt(staged, "incident_state")
    assigned = txt(staged, "assigned_to")
    events = f"""
        SELECT __row,
            {txt(staged, "number")} AS number,
            coalesce({txt(staged, "number")}, '#row ' || CAST(__row AS VARCHAR)) AS __key,
            {state} AS state,
            {txt(staged, "opened_at")} AS opened_text, {ts("opened_at")} AS opened,
            {txt(staged, "sys_updated_at")} AS updated_text, {ts("sys_updated_at")} AS updated,
            coalesce({iso(ts("resolved_at"))}, {txt(staged, "resolved_at")}) AS resolved_text,
            coalesce({iso(ts("closed_at"))}, {txt(staged, "closed_at")}) AS closed_text,
            try_cast({txt(staged, "sys_mod_count")} AS INTEGER) AS mods,
            {assigned} AS assigned_to,
            {txt(staged, "assignment_group")} AS assignment_group,
            {txt(staged, "caller_id")} AS caller_id,
            {txt(staged, "contact_type")} AS contact_type,
            {txt(staged, "category")} AS category,
            {txt(staged, "priority")} AS priority,
            {txt(staged, "reopen_count")} AS reopen_count
        FROM {staged.table}"""
    ordered = f"""
        SELECT *, row_number() OVER (PARTITION BY __key
            ORDER BY mods NULLS FIRST, updated NULLS FIRST, __row) AS seq
        FROM ({events})"""
    worked = "(assigned_to IS NOT NULL OR state NOT IN ('New', '-100'))"
    select = f"""
        SELECT min(__row) AS __row,
            any_value(number) AS number,
            coalesce({iso("arg_max(opened, seq) FILTER (WHERE opened IS NOT NULL)")},
                arg_max(opened_text, seq) FILTER (WHERE opened_text IS NOT NULL)) AS opened_at,
            coalesce({iso("max(updated)")},
                arg_max(updated_text, seq) FILTER (WHERE updated_text IS NOT NULL))
                AS updated_at,
            {iso("min(updated) FILTER (WHERE " + worked + " AND updated >= opened)")}
                AS first_response_at,
            coalesce(arg_max(resolved_text, seq) FILTER (WHERE resolved_text IS NOT NULL),
                arg_max(closed_text, seq) FILTER (WHERE closed_text IS NOT NULL))
                AS resolved_at,
            arg_max(state, seq) FILTER (WHERE state IS NOT NULL AND state <> '-100')
                AS incident_state,
            arg_max(priority, seq) FILTER (WHERE priority IS NOT NULL) AS priority,
            arg_max(category, seq) FILTER (WHERE category IS NOT NULL) AS category,
            arg_max(caller_id, seq) FILTER (WHERE caller_id IS NOT NULL) AS caller_id,
            arg_max(assignment_group, seq) FILTER (WHERE assignment_group IS NOT NULL)
                AS assignment_group,
            arg_min(contact_type, seq) FILTER (WHERE contact_type IS NOT NULL) AS contact_type,
            arg_max(reopen_count, seq) FILTER (WHERE reopen_count IS NOT NULL) AS reopen_count,
            {_type_from_number("any_value(number)")} AS ticket_type,
            {event_bookkeeping()}
        FROM ({ordered})
        GROUP BY __key
        ORDER BY 1"""
    # __row in the log's order (time, then sys_mod_count, then file row): the order
    # the events kind keeps for changes recorded in the same minute
    history = f"""
        SELECT row_number() OVER (ORDER BY __key, updated NULLS FIRST, mods NULLS FIRST, __row)
                AS __row,
            number AS ticket_id,
            coalesce({iso("updated")}, updated_text) AS at,
            CASE WHEN state <> '-100' THEN state END AS status,
            assignment_group AS service_team, assigned_to AS assignee,
            {change_kind("state", ("assignment_group", "assigned_to"))} AS kind,
            'row ' || CAST(__row AS VARCHAR) AS event_key
        FROM ({events})
        WINDOW w AS (PARTITION BY __key ORDER BY updated NULLS FIRST, mods NULLS FIRST, __row)"""
    incidents = collapse(con, staged, select, "incidents")
    return keep_history(con, add_derived(con, incidents, _caller(incidents)), history)


_COMMON_ALIASES = {
    "service_team": ("inward_team", "assignment_group"),
    "requester_id": ("inward_caller_id",),
    "requester_name": ("inward_caller_name",),
    # dot-walked columns: `caller_id.email` (field names) or `Caller.Email` (labels)
    "requester_email": ("caller_id_email", "caller_email"),
    "requester_employee_id": ("caller_id_employee_number", "caller_employee_number"),
    "requester_department": ("inward_caller_department",),
    "channel": ("inward_channel", "contact_type", "channel"),
    "category": ("dv_category", "category"),
    "priority": ("inward_priority", "priority"),
    "reopen_count": ("reopen_count",),
    "subject": ("short_description",),
    # the record's sys_id: history exports (sys_audit) name incidents by it
    "external_key": ("sys_id",),
}

LIST_CSV = Adapter(
    name="servicenow",
    kind="tickets",
    source="servicenow",
    aliases={
        **_COMMON_ALIASES,
        "ticket_id": ("number",),
        "ticket_type": ("inward_ticket_type",),
        "status": ("inward_state",),
        "created_at": ("inward_opened_at",),
        "updated_at": ("inward_updated_at",),
        "resolved_at": ("inward_resolved_at",),
    },
    signature=frozenset({"number", "opened_at", "assignment_group", "state"}),
    value_maps=VALUE_MAPS,
    prepare=prepare_list,
)

# Same table with display labels (XLSX list export, `Page 1`).
LIST_LABELS = dataclasses.replace(
    LIST_CSV, signature=frozenset({"number", "opened", "assignment_group", "state"})
)

EVENT_LOG = Adapter(
    name="servicenow_event_log",
    kind="tickets",
    source="servicenow",
    aliases={
        **_COMMON_ALIASES,
        "ticket_id": ("number",),
        "ticket_type": ("ticket_type",),
        "status": ("incident_state",),
        "created_at": ("opened_at",),
        "updated_at": ("updated_at",),
        "first_response_at": ("first_response_at",),
        "resolved_at": ("resolved_at",),
    },
    signature=frozenset({"number", "incident_state", "sys_mod_count", "sys_updated_at"}),
    value_maps=VALUE_MAPS,
    prepare=prepare_event_log,
)

# Table API / JSONv2 JSON: one wrapper key holding the records.
API_JSON = [
    dataclasses.replace(
        LIST_CSV, signature=frozenset({key}), prepare=prepare_api, accepts=ticket_records
    )
    for key in ("result", "records")
]

# The event log first: its header also carries the list adapters' field names.
ADAPTERS = (EVENT_LOG, LIST_CSV, LIST_LABELS, *API_JSON)
