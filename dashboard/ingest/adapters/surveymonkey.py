"""SurveyMonkey "All responses data" exports (CSV or XLSX).

Two header rows: row 1 has the metadata names (`Respondent ID`, `Collector ID`,
`Start Date`, `End Date`, `Email Address`, …, custom variables) and the question
text, with an *empty* name over the 2nd…nth column of a multi-column question;
row 2 is empty under metadata and custom variables, `Response` under single
answers, `Open-Ended Response` under comment boxes, and the option / matrix row
text elsewhere. 2014 Audience exports start with `RespondentID` and have no dates.

Answers are choice text by default ("Very satisfied"), which the shared question
module maps to 1–5; NPS answers are 0–10.
"""

from __future__ import annotations

import re

import duckdb

from dashboard.ingest import survey_questions as sq
from dashboard.ingest.read import Staged, drop_extra_header_rows

METADATA = {
    "respondent_id",
    "respondentid",
    "collector_id",
    "collectorid",
    "start_date",
    "end_date",
    "ip_address",
    "email_address",
    "first_name",
    "last_name",
}
ANSWER_MARKERS = {"response", "open-ended response", "other (please specify)"}


def _blank_header(header: str) -> bool:
    """DuckDB names an empty CSV header `columnNN`; the Excel reader `__UNNAMED__N`."""
    return not header.strip() or bool(re.fullmatch(r"column\d+|__UNNAMED__\d+", header.strip()))


def _prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    options = sq.header_row(con, staged, 1)
    staged = drop_extra_header_rows(con, staged, 2)
    cols = staged.columns
    questions: list[sq.Question] = []
    current = ""
    for col, header, option in zip(cols, staged.headers, options, strict=True):
        if not _blank_header(header):
            current = header
        opt = option.strip()
        if col in METADATA or not opt:  # metadata and custom variables: row 2 is empty
            continue
        marker = opt.lower() in ANSWER_MARKERS
        text = current if marker else f"{current} - {opt}"
        questions.append(
            sq.Question(
                col,
                text,
                free_text=opt.lower() == "open-ended response",
                keys=(col,),
                group=current,
            )
        )
    pick = {
        "response_id": next((c for c in ("respondent_id", "respondentid") if c in cols), None),
        "submitted_at": next((c for c in ("end_date", "start_date") if c in cols), None),
        "respondent_email": "email_address" if "email_address" in cols else None,
        "respondent_name": sq.full_name(
            con,
            staged,
            "first_name" if "first_name" in cols else None,
            "last_name" if "last_name" in cols else None,
        ),
    }
    roles = {k: v for k, v in pick.items() if v}
    return sq.prepare_survey(con, staged, questions, roles, "SurveyMonkey survey")


ADAPTERS = [
    sq.survey_adapter("surveymonkey", {"respondent_id", "collector_id", "start_date"}, _prepare),
    # 2014 SurveyMonkey Audience exports: `RespondentID`, no collector or dates
    sq.survey_adapter("surveymonkey", {"respondentid"}, _prepare),
]
