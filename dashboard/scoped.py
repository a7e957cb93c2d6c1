"""The scoped connection: one place where a viewer's scope and privacy reach the data.

Every built-in reader — metric functions, pages, downloads, the report, the CLI
with `--as-user` — gets its rows from a connection made here. For a scope that
does not cover everything, each base table the scope applies to is shadowed by a
temp view of the same name holding only the in-scope rows; for a scope without
`raw`, rows that are ids by nature (requester aliases, rejected rows' raw text)
are hidden; and on every connection `inward_id(x)` is the id as the viewer may
see it (the keyed pseudonym, or the id itself for `raw`), used by every query
that outputs a person's id.

Why temp views work (checked on DuckDB 2.0.1, pinned by tests/test_scoped.py):
name resolution searches the temp catalog first, at query time, also inside
views stored in the warehouse. So `ticket_times` (a view over `tickets`) and the
warehouse's macros see the shadow, and so does `main.tickets` (the temp catalog
has a schema called main too). Only a catalog-qualified name such as
`"inward".main.tickets` reaches the base table: the shadow views themselves use
it, and a test forbids it anywhere else in the product's SQL.

Why pseudonyms are not in the views: a view column computed with HMAC costs
4–9 µs per row whenever a query touches it (measured: `count(DISTINCT requester_id)`
over 0.9M rows went from 0.4 s to 7 s), and many metrics group by requester.
Grouping needs no pseudonym, only output does, so outputs call `inward_id`.
A test runs every metric function on a non-raw connection and checks that no
raw id comes out.

Analyst SQL never runs here: a scoped connection is only as safe as the SQL run
on it, and analyst SQL is untrusted (see `dashboard.mart`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from dashboard import pseudonyms, warehouse
from dashboard.access import Scope
from dashboard.sql import quote_ident, quote_literal

# Tables whose rows carry no person and no team's data: the same for every viewer.
SHARED_TABLES: dict[str, str] = {
    "external_outcomes": "business-unit outcomes, not tickets or people",
    "org": "department → business unit map",
    "sla_targets": "configured targets",
    "value_mappings": "vendor values and what they map to",
    "ingests": "which files were loaded (counts and status)",
    "inward_meta": "schema version and fingerprints",
    "flow_refresh": "which history refresh a source had",
    # every viewer judges open clocks at the same instant (CONTRACT "As of the data")
    "source_as_of": "each source's as-of: one instant per tool",
}

# Per base table: the in-scope rows, given `pred(team_sql, department_sql)`. `{wh}` is
# the warehouse's catalog; unqualified names inside refer to the other shadows.
_LATEST_TICKET = """
    SELECT ticket_id, service_team, requester_department FROM {wh}.main.tickets
    QUALIFY row_number() OVER (PARTITION BY ticket_id
        ORDER BY updated_at DESC NULLS LAST, ingest_id DESC NULLS LAST) = 1
"""
SCOPED_TABLES: dict[str, str] = {
    "tickets": "SELECT * FROM {wh}.main.tickets WHERE {tickets}",
    # a response belongs to the team and department the survey module reports it under:
    # its own fields, else its ticket's, else the people file's department
    "survey_responses": """
        SELECT s.* FROM {wh}.main.survey_responses s
        LEFT JOIN {wh}.main.people p ON p.person_id = s.respondent_id
        LEFT JOIN ("""
    + _LATEST_TICKET
    + """) t ON t.ticket_id = s.ticket_id
        WHERE {surveys}""",
    "requester_engagement": "SELECT * FROM {wh}.main.requester_engagement WHERE {engagement}",
    "people": """
        SELECT * FROM {wh}.main.people WHERE {people}
            OR person_id IN (SELECT requester_id FROM tickets)
            OR person_id IN (SELECT respondent_id FROM survey_responses)""",
    "requester_identities": """
        SELECT * FROM {wh}.main.requester_identities
        WHERE requester_id IN (SELECT requester_id FROM tickets)
            OR requester_id IN (SELECT respondent_id FROM survey_responses)""",
    **{
        name: f"""
        SELECT * FROM {{wh}}.main.{name}
        WHERE (source, ticket_id) IN (SELECT source, ticket_id FROM tickets)"""
        for name in ("ticket_events", "ticket_status_time", "ticket_status_spans", "ticket_keys")
    },
    **{
        name: f"SELECT * FROM {{wh}}.main.{name} WHERE {{engagement}}"
        for name in ("rollup_counts", "rollup_durations")
    },
    # a rejected row belongs to no known team or department: all-scope viewers only
    "rejected_rows": "SELECT * FROM {wh}.main.rejected_rows WHERE FALSE",
}
# Without `raw`, whatever the scope: raw rows are hidden and the identifiers a tool
# showed for a person (e-mail, name, tool id, employee number) become pseudonyms too,
# so they still count, match and group (the Data page's match rates) but say nothing.
_MASK_ID = "inward_id({c}) AS {c}"
UNRAW_TABLES: dict[str, str] = {
    "rejected_rows": "SELECT * REPLACE (NULL::VARCHAR AS raw) FROM {src}",
    "requester_identities": "SELECT * REPLACE ("
    + ", ".join(_MASK_ID.format(c=c) for c in ("tool_id", "email", "name", "employee_id"))
    + ") FROM {src}",
    "people": "SELECT * REPLACE ("
    + ", ".join(_MASK_ID.format(c=c) for c in ("email", "name", "employee_id"))
    # (a lambda cannot call inward_id: the list keeps its length, not its values)
    + ", list_transform(aliases, lambda a: NULL::VARCHAR) AS aliases) FROM {src}",
}


def _in(column: str, values: Iterable[str]) -> str:
    vals = list(values)
    return f"{column} IN ({', '.join(map(quote_literal, vals))})" if vals else "FALSE"


def predicates(scope: Scope) -> dict[str, str]:
    """The row filter of each scoped table (SQL over the base table's columns)."""

    def pred(team: str, dept: str) -> str:
        return f"({_in(team, scope.teams)} OR {_in(dept, scope.departments)})"

    team = "coalesce(nullif(s.service_team, ''), t.service_team)"
    dept = (
        "coalesce(nullif(s.respondent_department, ''), p.department, "
        "nullif(t.requester_department, ''))"
    )
    return {
        "tickets": pred("service_team", "requester_department"),
        "surveys": pred(team, dept),
        "engagement": pred("service_team", "requester_department"),
        "people": _in("department", scope.departments),
    }


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    name = con.sql("SELECT current_database()").fetchall()[0][0]
    return quote_ident(name)


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's own tables (main schema of the file, not temp)."""
    rows = con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def install(con: duckdb.DuckDBPyConnection, scope: Scope, db: str | os.PathLike[str]) -> None:
    """Apply `scope` to this connection (see the module docstring)."""
    pseudonyms.install(con, None if scope.raw else pseudonyms.load_key(db))
    wh = _catalog(con)
    tables = base_tables(con)
    views: dict[str, str] = {}
    if not scope.all:
        preds = predicates(scope)
        for name in tables:
            if name in SCOPED_TABLES:
                views[name] = SCOPED_TABLES[name].format(wh=wh, **preds)
            elif name not in SHARED_TABLES:
                # fail closed: a table nobody classified yet shows no rows to a scoped user
                views[name] = f"SELECT * FROM {wh}.main.{name} WHERE FALSE"
    if not scope.raw:
        for name, sql in UNRAW_TABLES.items():
            if name in tables:
                src = f"({views[name]})" if name in views else f"{wh}.main.{name}"
                views[name] = sql.format(src=src)
    # tickets first: other shadows read it (and survey_responses) by name
    order = ["tickets", "survey_responses"]
    for name in sorted(views, key=lambda n: (order.index(n) if n in order else 9, n)):
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {views[name]}')


@contextmanager
def reader(
    db: str | os.PathLike[str], scope: Scope, wait_seconds: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only warehouse connection under `scope`."""
    with warehouse.reader(Path(db), wait_seconds=wait_seconds) as con:
        install(con, scope, db)
        yield con
