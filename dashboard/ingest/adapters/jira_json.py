"""Jira Service Management issues as REST API JSON, with their changelog.

Layout in docs/vendor-formats.md §2b: a saved search page
(`GET /rest/api/3/search?expand=changelog`, or `/search/jql`: `{"issues": [...]}`)
or JSONL with one issue (or one page) per line. Each issue has `key`, `fields`
(`summary`, `status{name, statusCategory}`, `created`, `updated`,
`resolutiondate`, `priority{name}`, `issuetype{name}`, `project{name}`,
`reporter`, `assignee`, `comment.comments`) and, when expanded, `changelog.histories`:
`{created, author, items[{field, fromString, toString}]}`.

The issue becomes a ticket row through the CSV adapter's own rules (`jira.prepare`:
status by name else by category, keyword issue types, resolved from
`resolutiondate`), under the CSV's column names. Its history becomes events:

* the issue's creation, in its first state: the `fromString` of the earliest
  status / project / assignee change, else the current value (only for issues
  exported with their changelog: without it an issue has no history);
* every changelog item on `status` (→ the status after it), `assignee` (→ an
  assignment) or `project` (the JSM project is the serving team → a hand-off);
  other fields are not history;
* every comment: by anyone but the reporter a reply (public unless `jsdPublic` is
  false, then an internal note, `other`), by the reporter a requester message.
  The first reply also gives `first_response_at` when the issue has no
  `[CHART] Date of First Response`.

Timestamps are ISO with milliseconds and an offset (`2026-03-02T08:05:00.000+0000`).
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters import jira
from dashboard.ingest.adapters._derive import json_elements, keep_history
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import Staged

HISTORY_FIELDS = ("status", "assignee", "project")


def _issues(staged: Staged) -> str:
    if "issues" in staged.columns:
        return (
            f"SELECT __row * 100000 + pos AS __row, obj FROM (SELECT __row, "
            f"{json_elements('issues')} FROM {staged.table})"
        )
    cols = ", ".join(
        f"'{c}': coalesce(try_cast({c} AS JSON), to_json({c}))" for c in staged.columns
    )
    return f"SELECT __row, to_json({{{cols}}}) AS obj FROM {staged.table}"


def _s(path: str, obj: str = "obj") -> str:
    return f"json_extract_string({obj}, '{path}')"


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Issues → ticket rows under the CSV export's column names, and their history."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE jira_issues AS {_issues(staged)}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE jira_comments AS
        SELECT __row, key, {_s("$.created", "c")} AS ts,
            coalesce({_s("$.author.accountId", "c")}, {_s("$.author.name", "c")}) AS author,
            coalesce(CAST(json_extract(c, '$.jsdPublic') AS BOOLEAN), true) AS public, i
        FROM (SELECT __row, {_s("$.key")} AS key,
                  {json_elements("json_extract(obj, '$.fields.comment.comments')", "c", "i")}
              FROM jira_issues WHERE json_type(obj, '$.fields.comment.comments') = 'ARRAY')""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE jira_items AS
        SELECT __row, key, h_pos, i_pos, {_s("$.created", "h")} AS ts,
            lower({_s("$.field", "it")}) AS field,
            {_s("$.fromString", "it")} AS from_text, {_s("$.toString", "it")} AS to_text,
            {_s("$.id", "h")} AS history_id
        FROM (SELECT __row, key, h, h_pos,
                  {json_elements("json_extract(h, '$.items')", "it", "i_pos")}
              FROM (SELECT __row, {_s("$.key")} AS key,
                        {json_elements("json_extract(obj, '$.changelog.histories')", "h", "h_pos")}
                    FROM jira_issues
                    WHERE json_type(obj, '$.changelog.histories') = 'ARRAY'))""")
    reporter = f"coalesce({_s('$.fields.reporter.accountId')}, {_s('$.fields.reporter.name')})"
    table = f"{staged.table}_issues"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT i.__row, {_s("$.key")} AS issue_key, {_s("$.id")} AS issue_id,
            {_s("$.fields.summary")} AS summary,
            {_s("$.fields.issuetype.name")} AS issue_type,
            {_s("$.fields.status.name")} AS status,
            {_s("$.fields.status.statusCategory.name")} AS status_category,
            {_s("$.fields.statuscategorychangedate")} AS status_category_changed,
            {_s("$.fields.project.name")} AS project_name,
            {_s("$.fields.priority.name")} AS priority,
            coalesce({_s("$.fields.reporter.emailAddress")}, {reporter}) AS reporter,
            {reporter} AS reporter_id,
            {_s("$.fields.created")} AS created, {_s("$.fields.updated")} AS updated,
            {_s("$.fields.resolutiondate")} AS resolved,
            (SELECT strftime(min(CAST(c.ts AS TIMESTAMPTZ)) AT TIME ZONE 'UTC',
                             '%Y-%m-%d %H:%M:%S')
             FROM jira_comments c WHERE c.__row = i.__row
               AND c.author IS DISTINCT FROM {reporter} AND c.public)
                AS custom_field_chart_date_of_first_response
        FROM jira_issues i""")
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    issues = dataclasses.replace(
        staged,
        table=table,
        rows=rows,
        headers=[r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:],
        notes=[*staged.notes, f"{rows:,} Jira issues read from the API JSON"],
    )
    issues.columns = list(issues.headers)
    return keep_history(con, jira.prepare(con, issues), _history(reporter))


def _history(reporter: str) -> str:
    """Events: creation in the first state, changelog items, comments."""
    fields = ", ".join(f"'{f}'" for f in HISTORY_FIELDS)
    first = (
        "arg_min(from_text, (CAST(ts AS TIMESTAMPTZ), h_pos, i_pos)) FILTER (WHERE field = '{f}')"
    )
    return f"""
        WITH firsts AS (
            SELECT __row, {first.format(f="status")} AS status,
                {first.format(f="project")} AS project, {first.format(f="assignee")} AS assignee,
                bool_or(field = 'assignee') AS assignee_changed
            FROM jira_items GROUP BY __row
        ), created AS (
            SELECT i.__row, {_s("$.key")} AS ticket_id, {_s("$.fields.created")} AS "at",
                coalesce(f.status, {_s("$.fields.status.name")}) AS status,
                coalesce(f.project, {_s("$.fields.project.name")}) AS service_team,
                CASE WHEN coalesce(f.assignee_changed, false) THEN f.assignee
                     ELSE {_s("$.fields.assignee.displayName")} END AS assignee,
                'status' AS kind, 'requester' AS actor, 'created' AS event_key, 0 AS o1, 0 AS o2
            FROM jira_issues i LEFT JOIN firsts f USING (__row)
            -- an issue exported without its changelog has no history to start
            WHERE json_type(i.obj, '$.changelog.histories') = 'ARRAY'
        ), changes AS (
            SELECT __row, key, ts,
                CASE WHEN field = 'status' THEN to_text END,
                CASE WHEN field = 'project' THEN to_text END,
                CASE WHEN field = 'assignee' THEN to_text END,
                CASE WHEN field = 'status' THEN 'status' ELSE 'assignment' END, 'agent',
                'history ' || coalesce(history_id, CAST(h_pos AS VARCHAR)) || ':'
                    || CAST(i_pos AS VARCHAR),
                1 + h_pos, i_pos
            FROM jira_items WHERE field IN ({fields})
        ), comments AS (
            SELECT c.__row, c.key, c.ts, NULL, NULL, NULL,
                CASE WHEN c.author = {reporter} THEN 'other'
                     WHEN c.public THEN 'reply' ELSE 'other' END,
                CASE WHEN c.author = {reporter} THEN 'requester' ELSE 'agent' END,
                'comment ' || CAST(c.i AS VARCHAR), 1000000 + c.i, 0
            FROM jira_comments c JOIN jira_issues i USING (__row)
            WHERE json_type(i.obj, '$.changelog.histories') = 'ARRAY'
        )
        SELECT row_number() OVER (ORDER BY __row, o1, o2) AS __row, ticket_id, "at", status,
            service_team, assignee, kind, actor, event_key
        FROM (SELECT * FROM created UNION ALL SELECT * FROM changes
              UNION ALL SELECT * FROM comments)"""


ADAPTER = Adapter(
    name="jira_json",
    kind="tickets",
    source="jira",
    aliases=jira.ALIASES,
    signature=frozenset({"issues"}),
    value_maps=jira.VALUE_MAPS,
    prepare=prepare,
)
# One issue per line (JSONL), as exporters that page through the API often write.
ISSUE_LINES = dataclasses.replace(ADAPTER, signature=frozenset({"key", "fields"}))

ADAPTERS = (ADAPTER, ISSUE_LINES)
