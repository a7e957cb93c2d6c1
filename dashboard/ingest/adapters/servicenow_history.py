"""ServiceNow ticket history: `sys_audit` and `metric_instance` exports.

Layouts in docs/vendor-formats.md §3c and §3d. Both are history only (the
incidents come from the list export or the event log), loaded as the `events`
kind under source `servicenow`. Either arrives as a list export (CSV/XLSX) or as
the REST Table API's JSON (`{"result": [...]}`), whose fields are plain values or,
with `sysparm_display_value=all`, `{"display_value", "value"}` objects; the
display value is preferred (a group's name rather than its sys_id).

**sys_audit** (one row per field change: `documentkey`, `fieldname`, `oldvalue`,
`newvalue`, `user`, `sys_created_on`): the changes recorded at one instant for one
record are one update. History fields: `state` / `incident_state` (codes 1 New,
2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled, or their labels) with
`hold_reason` (1 Awaiting Caller → pending; 3 Awaiting Problem, 4 Awaiting
Vendor, 5 Awaiting Change → on hold), `assignment_group` and `assigned_to`.
Other fields are passed over. A row is an audit row.

**metric_instance** (one row per measured interval: `definition`, `id`, `value`,
`start`, `end`): "Incident State Duration" intervals start a status (`value` is
the state's label), "Assignment Group" intervals a team and "Assigned to
Duration" intervals an assignee; other definitions are passed over. A row is a
metric instance.

Both name the incident by its sys_id (`documentkey`; `id` when exported raw):
the history is matched to the incident once an incident export carrying `sys_id`
is loaded (`ticket_keys`), whichever file comes first. An `id` exported as its
display value (the number, `INC0010001`) matches directly.
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters._derive import EVENT_ALIASES, first_record_keys, json_elements
from dashboard.ingest.adapters.servicenow import INCIDENT_STATE_CODES as STATE_CODES
from dashboard.ingest.adapters.servicenow import STATUS
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import RefusedFile, Staged

HOLD_REASONS = {
    "1": "Awaiting Caller",
    "3": "Awaiting Problem",
    "4": "Awaiting Vendor",
    "5": "Awaiting Change",
}
STATE_FIELDS = ("state", "incident_state")
METRIC_DEFINITIONS = {
    "incident state duration": "status",
    "assignment group": "service_team",
    "assigned to duration": "assignee",
}


def _case(expr: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"coalesce(CASE {expr} {whens} END, {expr})"


def _rows(con: duckdb.DuckDBPyConnection, staged: Staged, fields: tuple[str, ...]) -> str:
    """A temp table of the export's rows as text columns named `fields`, from a list
    export (columns as they are) or REST JSON (`result`; display value preferred)."""
    table = f"{staged.table}_sn"
    if "result" in staged.columns:
        cols = ", ".join(
            f"coalesce(json_extract_string(obj, '$.{f}.display_value'), "
            f"json_extract_string(obj, '$.{f}')) AS {f}"
            for f in fields
        )
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT row_number() OVER (ORDER BY page, pos) AS __row, {cols}
            FROM (SELECT __row AS page, {json_elements("result")} FROM {staged.table})""")
    else:
        cols = ", ".join(
            f"nullif(trim({f}), '') AS {f}" if f in staged.columns else f"NULL AS {f}"
            for f in fields
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT __row, {cols} FROM {staged.table}"
        )
    return table


def _finish(
    con: duckdb.DuckDBPyConnection, staged: Staged, source: str, select: str, what: str
) -> Staged:
    table = f"{staged.table}_history"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    columns = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    total = con.sql(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    notes = [
        *staged.notes,
        f"{what}: {rows:,} history rows read; {total - rows:,} rows of "
        "other fields or metrics passed over",
    ]
    return dataclasses.replace(
        staged, table=table, headers=columns, columns=columns, rows=rows, notes=notes
    )


def prepare_audit(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """sys_audit rows → status changes (state with hold reason) and assignments."""
    src = _rows(
        con,
        staged,
        (
            "sys_id",
            "tablename",
            "documentkey",
            "fieldname",
            "oldvalue",
            "newvalue",
            "sys_created_on",
        ),
    )
    states = ", ".join(f"'{f}'" for f in STATE_FIELDS)
    state = _case("newvalue", STATE_CODES)
    hold = _case("newvalue", HOLD_REASONS)
    select = f"""
        WITH a AS (
            SELECT *, lower(fieldname) AS field FROM {src}
            WHERE lower(fieldname) IN ({states}, 'hold_reason', 'assignment_group',
                                        'assigned_to')
        ), moment AS (  -- one update: its state and hold reason, whichever changed
            SELECT documentkey, sys_created_on, min(__row) AS __row,
                arg_max({state}, __row) FILTER (WHERE field IN ({states})) AS state,
                arg_max({hold}, __row) FILTER (WHERE field = 'hold_reason') AS hold,
                min(sys_id) AS sys_id
            FROM a WHERE field IN ({states}, 'hold_reason')
            GROUP BY documentkey, sys_created_on
        )
        SELECT row_number() OVER (ORDER BY __row) AS __row, * FROM (
            SELECT __row, documentkey AS ticket_id, sys_created_on AS at,
                CASE WHEN state IS NULL OR lower(state) = 'on hold'
                     THEN coalesce(hold, state) ELSE state END AS status,
                NULL AS service_team, NULL AS assignee, 'status' AS kind,
                'audit ' || coalesce(sys_id, CAST(__row AS VARCHAR)) AS event_key
            FROM moment WHERE coalesce(state, hold) IS NOT NULL
            UNION ALL
            SELECT __row, documentkey, sys_created_on, NULL,
                CASE WHEN field = 'assignment_group' THEN newvalue END,
                CASE WHEN field = 'assigned_to' THEN newvalue END, 'assignment',
                'audit ' || coalesce(sys_id, CAST(__row AS VARCHAR))
            FROM a WHERE field IN ('assignment_group', 'assigned_to') AND newvalue IS NOT NULL)"""
    return _finish(con, staged, src, select, "sys_audit")


def prepare_metrics(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """metric_instance intervals → the status, team or assignee each one starts."""
    src = _rows(con, staged, ("sys_id", "definition", "id", "value", "start"))
    kinds = " ".join(f"WHEN '{d}' THEN '{c}'" for d, c in METRIC_DEFINITIONS.items())
    select = f"""
        WITH m AS (
            SELECT *, CASE lower(definition) {kinds} END AS what FROM {src}
        )
        SELECT row_number() OVER (ORDER BY __row) AS __row, id AS ticket_id, start AS at,
            CASE WHEN what = 'status' THEN value END AS status,
            CASE WHEN what = 'service_team' THEN value END AS service_team,
            CASE WHEN what = 'assignee' THEN value END AS assignee,
            CASE WHEN what = 'status' THEN 'status' ELSE 'assignment' END AS kind,
            'metric ' || coalesce(sys_id, CAST(__row AS VARCHAR)) AS event_key
        FROM m WHERE what IS NOT NULL"""
    return _finish(con, staged, src, select, "metric_instance")


_VALUES = {"status": {**STATUS, **{k: STATUS[v.lower()] for k, v in STATE_CODES.items()}}}

AUDIT = Adapter(
    name="servicenow_audit",
    kind="events",
    source="servicenow",
    aliases=EVENT_ALIASES,
    signature=frozenset({"documentkey", "fieldname", "newvalue"}),
    value_maps=_VALUES,
    prepare=prepare_audit,
)
METRIC_INSTANCE = dataclasses.replace(
    AUDIT,
    name="servicenow_metric_instance",
    signature=frozenset({"definition", "id", "value", "start", "end"}),
    prepare=prepare_metrics,
)


def history_records(con: duckdb.DuckDBPyConnection, staged: Staged) -> bool:
    """A Table API page of sys_audit or metric_instance rows (not of incidents)."""
    names = first_record_keys(con, staged, "result")
    return {"documentkey", "fieldname"} <= names or {"definition", "id", "start"} <= names


def prepare_rest(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """A Table API page (`{"result": [...]}`): which table it came from, by its keys."""
    names = first_record_keys(con, staged, "result")
    if {"documentkey", "fieldname"} <= names:
        return prepare_audit(con, staged)
    if {"definition", "id", "start"} <= names:
        return prepare_metrics(con, staged)
    raise RefusedFile(
        f"a ServiceNow Table API page whose rows are neither sys_audit nor metric_instance "
        f"(keys: {', '.join(sorted(names)[:12]) or 'none'})"
    )


REST = dataclasses.replace(
    AUDIT,
    name="servicenow_history_json",
    signature=frozenset({"result"}),
    prepare=prepare_rest,
    accepts=history_records,
)
ADAPTERS = (AUDIT, METRIC_INSTANCE, REST)
