"""Zendesk ticket history: ticket audits and ticket metric events (API JSON).

Layouts in docs/vendor-formats.md §1c and §1d. Both are history only — the
tickets themselves come from the CSV or API ticket export — so they load as the
`events` kind under source `zendesk`, matched to tickets by ticket id.

**Audits** (`GET /api/v2/tickets/{id}/audits`, `/api/v2/ticket_audits`; a saved
page, or JSONL with one page or one audit per line): every audit is one update,
its `events` the changes in it. A row of this format is one audit child event
that is history:

* `Create`/`Change` of `status` → a status change (`hold` → on_hold);
* `Create`/`Change` of `group_id` or `assignee_id` → an assignment; the name
  comes from a sideloaded `groups` / `users` list when the page has one, else the
  id is the name (as for the API ticket export's `group_id`);
* `Comment` / `VoiceComment` → a reply when public and written by an agent,
  else a requester message or internal note (`other`). Who wrote it: the author's
  `role` in a sideloaded `users` list (end-user → requester, agent/admin →
  agent; author -1 is Zendesk itself), else the author of the ticket's first
  comment — its description, written by the requester — is the requester and
  everyone else an agent.

Other child events (tags, notifications, CCs, satisfaction…) are not history;
the ingest message says how many were passed over. Timestamps are the audit's
`created_at` (UTC, `Z`).

**Metric events** (`GET /api/v2/incremental/ticket_metric_events`): clock events
of `agent_work_time`, `requester_wait_time`, `reply_time`… Zendesk pauses
`agent_work_time` while a ticket is pending or on hold and `requester_wait_time`
only while pending, and fulfils `requester_wait_time` when it is solved; so per
ticket and instant: requester_wait_time fulfilled → solved; both clocks paused
→ pending; only agent_work_time paused → on_hold; a clock (re)activated → open
(metric events cannot tell new from open). A fulfilled `reply_time` is an agent
reply. A row of this format is one such change (a status at an instant, or a
reply), made from the metric events of that ticket and instant; the ones that
carry neither (apply_sla, breach, update_status, measure…) are no history.
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters._derive import EVENT_ALIASES, json_elements, page_elements
from dashboard.ingest.adapters.zendesk import STATUS
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import Staged

HISTORY_FIELDS = ("status", "group_id", "assignee_id")
COMMENT_TYPES = ("Comment", "VoiceComment")
ROLES = {"end-user": "requester", "agent": "agent", "admin": "agent"}


def _each(con: duckdb.DuckDBPyConnection, staged: Staged, list_column: str, table: str) -> None:
    """Temp table `table` (page, pos, obj): the elements of a JSON list column (pages),
    or, when absent, the staged rows themselves."""
    if list_column in staged.columns:
        page_elements(con, staged, list_column, table)
        return
    # one object per line: its keys are the staged columns (nested ones as JSON text)
    cols = ", ".join(
        f"'{c}': coalesce(try_cast({c} AS JSON), to_json({c}))" for c in staged.columns
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT __row AS page, 0 AS pos, to_json({{{cols}}}) AS obj FROM {staged.table}"
    )


def _sideload(staged: Staged, column: str) -> str:
    """(id, name, role) from a sideloaded list column, or an empty relation."""
    if column not in staged.columns:
        return "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS name, NULL::VARCHAR AS role LIMIT 0"
    return f"""SELECT DISTINCT ON (id) json_extract_string(u, '$.id') AS id,
            json_extract_string(u, '$.name') AS name, json_extract_string(u, '$.role') AS role
        FROM (SELECT {json_elements(column, "u", "i")} FROM {staged.table})"""


def _finish(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    select: str,
    what: str,
    total_sql: str,
    merged: bool = False,
) -> Staged:
    """Make `select` the staged table; the note says how the vendor's events became
    rows (`merged`: several clock events of one instant make one change)."""
    table = f"{staged.table}_history"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    columns = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    total = con.sql(total_sql).fetchall()[0][0]
    if merged:
        note = (
            f"{total:,} {what} became {rows:,} history rows (the clock events of one "
            "instant are one change; SLA, breach and measure events are no history)"
        )
    else:
        note = (
            f"{what}: {rows:,} history events read as rows; {total - rows:,} other "
            "events (no status, team, assignee or reply) passed over"
        )
    notes = [*staged.notes, note]
    return dataclasses.replace(
        staged, table=table, headers=columns, columns=columns, rows=rows, notes=notes
    )


def prepare_audits(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Audits → one row per history child event (rules in the module docstring)."""
    _each(con, staged, "audits", "zd_audits")
    fields = ", ".join(f"'{f}'" for f in HISTORY_FIELDS)
    comments = ", ".join(f"'{c}'" for c in COMMENT_TYPES)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE zd_children AS
        SELECT a.page, a.pos, CAST(a.child AS INTEGER) AS child,
            json_extract_string(a.obj, '$.ticket_id') AS ticket_id,
            json_extract_string(a.obj, '$.created_at') AS ts,
            json_extract_string(a.obj, '$.id') AS audit_id,
            json_extract_string(a.c, '$.id') AS event_id,
            json_extract_string(a.c, '$.type') AS type,
            json_extract_string(a.c, '$.field_name') AS field,
            json_extract_string(a.c, '$.value') AS value,
            json_extract(a.c, '$.public') AS public,
            coalesce(json_extract_string(a.c, '$.author_id'),
                     json_extract_string(a.obj, '$.author_id')) AS author
        FROM (SELECT *, {json_elements("json_extract(obj, '$.events')", "c", "child")}
              FROM zd_audits) a""")
    select = f"""
        WITH users AS ({_sideload(staged, "users")}),
        groups AS ({_sideload(staged, "groups")}),
        k AS (
            SELECT *, type IN ({comments}) AS is_comment,
                arg_min(author, (ts, page, pos, child)) FILTER (WHERE type IN ({comments}))
                    OVER (PARTITION BY ticket_id) AS first_commenter
            FROM zd_children
            WHERE (type IN ('Create', 'Change') AND field IN ({fields}))
               OR type IN ({comments})
        ), r AS (
            SELECT k.*, CASE WHEN k.author = '-1' THEN 'system'
                WHEN u.role IS NOT NULL THEN coalesce({_role_map("u.role")}, 'agent')
                WHEN k.author = k.first_commenter THEN 'requester' ELSE 'agent' END AS actor,
                g.name AS group_name, au.name AS assignee_name
            FROM k
            LEFT JOIN users u ON u.id = k.author
            LEFT JOIN groups g ON k.field = 'group_id' AND g.id = k.value
            LEFT JOIN users au ON k.field = 'assignee_id' AND au.id = k.value
        )
        SELECT row_number() OVER (ORDER BY page, pos, child) AS __row, ticket_id, ts AS at,
            CASE WHEN field = 'status' THEN value END AS status,
            CASE WHEN field = 'group_id' THEN coalesce(group_name, value) END AS service_team,
            CASE WHEN field = 'assignee_id' THEN coalesce(assignee_name, value) END AS assignee,
            CASE WHEN field = 'status' THEN 'status'
                 WHEN field IN ('group_id', 'assignee_id') THEN 'assignment'
                 WHEN is_comment AND coalesce(CAST(public AS BOOLEAN), true)
                      AND actor = 'agent' THEN 'reply'
                 ELSE 'other' END AS kind,
            actor, audit_id || ':' || coalesce(event_id, CAST(child AS VARCHAR)) AS event_key
        FROM r"""
    audits = con.sql("SELECT count(*) FROM zd_audits").fetchall()[0][0]
    return _finish(
        con, staged, select, f"{audits:,} ticket audits", "SELECT count(*) FROM zd_children"
    )


def _role_map(role: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ROLES.items())
    return f"CASE {role} {whens} END"


def prepare_metric_events(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Metric events → status changes and replies per ticket and instant."""
    _each(con, staged, "ticket_metric_events", "zd_metric_events")
    con.execute("""CREATE OR REPLACE TEMP TABLE zd_metric AS
        SELECT m.page, m.pos,
            json_extract_string(m.obj, '$.id') AS id,
            json_extract_string(m.obj, '$.ticket_id') AS ticket_id,
            json_extract_string(m.obj, '$.metric') AS metric,
            json_extract_string(m.obj, '$.type') AS type,
            json_extract_string(m.obj, '$.time') AS ts
        FROM zd_metric_events m""")
    select = """
        WITH g AS (
            SELECT ticket_id, ts, min(page * 1000000 + pos) AS first_pos, min(id) AS id,
                bool_or(metric = 'requester_wait_time' AND type = 'fulfill') AS solved,
                bool_or(metric = 'agent_work_time' AND type = 'pause') AS work_paused,
                bool_or(metric = 'requester_wait_time' AND type = 'pause') AS wait_paused,
                bool_or(type = 'activate' AND metric IN ('agent_work_time',
                    'requester_wait_time')) AS activated,
                bool_or(metric = 'reply_time' AND type = 'fulfill') AS replied
            FROM zd_metric GROUP BY ticket_id, ts
        ), s AS (
            SELECT *, CASE WHEN solved THEN 'solved'
                WHEN work_paused AND wait_paused THEN 'pending'
                WHEN work_paused THEN 'hold'
                WHEN activated THEN 'open' END AS status
            FROM g
        )
        SELECT row_number() OVER (ORDER BY first_pos, kind) AS __row, * FROM (
            SELECT ticket_id, ts AS at, status, 'status' AS kind, NULL AS actor,
                'metric:' || id AS event_key, first_pos
            FROM s WHERE status IS NOT NULL
            UNION ALL
            SELECT ticket_id, ts, NULL, 'reply', 'agent', 'reply:' || id, first_pos
            FROM s WHERE replied)"""
    select = f"SELECT * EXCLUDE (first_pos) FROM ({select})"
    return _finish(
        con, staged, select, "ticket metric events", "SELECT count(*) FROM zd_metric", merged=True
    )


AUDITS = Adapter(
    name="zendesk_audits",
    kind="events",
    source="zendesk",
    aliases=EVENT_ALIASES,
    signature=frozenset({"audits"}),
    value_maps={"status": STATUS},
    prepare=prepare_audits,
)
# One audit per line (no page wrapper).
AUDIT_LINES = dataclasses.replace(
    AUDITS, signature=frozenset({"ticket_id", "events", "author_id", "created_at"})
)
METRIC_EVENTS = dataclasses.replace(
    AUDITS,
    name="zendesk_metric_events",
    signature=frozenset({"ticket_metric_events"}),
    prepare=prepare_metric_events,
)
METRIC_EVENT_LINES = dataclasses.replace(
    METRIC_EVENTS, signature=frozenset({"ticket_id", "metric", "instance_id", "type", "time"})
)

ADAPTERS = (AUDITS, AUDIT_LINES, METRIC_EVENTS, METRIC_EVENT_LINES)
