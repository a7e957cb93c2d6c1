"""Google Forms responses, downloaded from the linked Sheet (CSV, TSV or XLSX).

`Timestamp` first (`12/13/2019 9:50:30`: US month-first, no zone; an Excel
datetime with milliseconds in XLSX), `Email Address` when the form collects it,
then one column per question headed by the full question text.

There is no response id in the file, so one is derived from the timestamp
rounded to the second (the CSV rounds what the XLSX keeps in milliseconds) plus
the e-mail and, for identical pairs, their order: the same response gets the
same id from the CSV and the XLSX, and from a later download of the same Sheet,
so re-ingesting replaces rather than duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboard.ingest import survey_questions as sq
from dashboard.ingest.base import Adapter
from dashboard.ingest.canonical import clean, day_first, ts_expr
from dashboard.ingest.read import Staged
from dashboard.sql import quote_ident

EMAIL = ("email_address", "email", "username")
# Columns that mean some other tool's export, even with a `Timestamp` first.
OTHER_TOOLS = {"responseid", "respondent_id", "respondentid", "response_id", "ticket_id", "id"}


@dataclass(frozen=True)
class _GoogleFormsAdapter(Adapter):
    """Google Forms has no distinctive column, only a shape: `Timestamp` first, then
    question-text headers. A set signature cannot say "first", so `matches` does."""

    def matches(self, columns: list[str]) -> bool:
        return (
            len(columns) >= 2
            and columns[0] == "timestamp"
            and not OTHER_TOOLS & set(columns)
            and any(c.count("_") >= 2 for c in columns[1:])  # a question, not a field name
        )


def derive_response_id(
    con: duckdb.DuckDBPyConnection, staged: Staged, ts_col: str, email_col: str | None
) -> str:
    """Add a stable response id column (see module docstring); returns its name."""
    name = "gf_response_id"
    ts = ts_expr(clean(quote_ident(ts_col)), "UTC", day_first(con, staged.table, [ts_col]))
    second = (
        f"strftime(date_trunc('second', timezone('UTC', {ts}) + INTERVAL 500 MILLISECOND), "
        f"'%Y-%m-%dT%H:%M:%S')"
    )
    email = f"coalesce(lower(trim({quote_ident(email_col)})), '')" if email_col else "''"
    key = f"coalesce({second}, trim({quote_ident(ts_col)}), '') || '|' || {email}"
    con.execute(f"ALTER TABLE {staged.table} ADD COLUMN {name} VARCHAR")
    con.execute(f"""
        UPDATE {staged.table} t SET {name} = k.id FROM (
            SELECT __row, 'gf-' || substr(md5(key || '#' || CAST(row_number() OVER (
                PARTITION BY key ORDER BY __row) AS VARCHAR)), 1, 16) AS id
            FROM (SELECT __row, {key} AS key FROM {staged.table})
        ) k WHERE t.__row = k.__row""")
    staged.headers.append("response id (derived by Inward)")
    staged.columns.append(name)
    return name


def _prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    cols = list(staged.columns)
    ts_col = cols[0]
    email = next((c for c in EMAIL if c in cols), None)
    questions = [
        sq.Question(col, header, keys=(col,))
        for col, header in zip(cols, staged.headers, strict=True)
        if col not in (ts_col, email)
    ]
    rid = derive_response_id(con, staged, ts_col, email)
    roles = {"response_id": rid, "submitted_at": ts_col} | (
        {"respondent_email": email} if email else {}
    )
    return sq.prepare_survey(con, staged, questions, roles, "Google Forms survey")


ADAPTER = sq.survey_adapter("google_forms", {"timestamp"}, _prepare, _GoogleFormsAdapter)
