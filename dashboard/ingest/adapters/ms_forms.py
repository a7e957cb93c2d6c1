"""Microsoft Forms "Open results in Excel" workbooks (XLSX).

`ID, Start time, Completion time, Email, Name[, Last modified time]`, then one
column per question headed by its text. Anonymous forms put `anonymous` in
Email (and `Anonymous` or nothing in Name), which becomes a null respondent, not
a person called "anonymous". Email and Name identify the respondent.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest import survey_questions as sq
from dashboard.ingest.read import Staged

METADATA = {"id", "start_time", "completion_time", "email", "name", "last_modified_time"}


def _prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    questions = [
        sq.Question(col, header, keys=(col,))
        for col, header in zip(staged.columns, staged.headers, strict=True)
        if col not in METADATA
    ]
    roles = {
        "response_id": "id",
        "submitted_at": "completion_time",
        "respondent_email": "email",
        "respondent_name": "name",
    }
    return sq.prepare_survey(con, staged, questions, roles, "Microsoft Forms survey")


ADAPTER = sq.survey_adapter(
    "ms_forms", {"id", "start_time", "completion_time", "email", "name"}, _prepare
)
