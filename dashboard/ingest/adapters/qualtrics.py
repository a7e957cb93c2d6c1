"""Qualtrics survey exports (Data & Analysis › Export › CSV).

Current format: three header rows — column names (`StartDate`, …, `Q1`, embedded
data), labels (question text, in the survey's language), and ImportId JSON
(`{"ImportId":"QID1"}`, with `timeZone` on date columns in newer exports).
Legacy format: two header rows (`V1…V10, Q1…`, then labels such as `ResponseID`),
a UTF-8 BOM and a trailing comma that makes an empty last column.

Both are detected from row 1 and handled in `prepare`, which reads the extra
header rows before dropping them (the labels are the question text we match on).
Survey previews, test responses and spam (Status 1/2/8, or the text) are moved to
rejected rows with a reason: they are not real colleagues' answers, but they were
read, so the ingest invariant counts them.
"""

from __future__ import annotations

import json
import re

import duckdb

from dashboard.ingest import survey_questions as sq
from dashboard.ingest.read import Staged, drop_extra_header_rows, normalise
from dashboard.sql import quote_ident, quote_literal

# Qualtrics' own columns (normalised), never questions.
METADATA = {
    "startdate",
    "enddate",
    "status",
    "ipaddress",
    "progress",
    "duration_in_seconds",
    "finished",
    "recordeddate",
    "responseid",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "locationlatitude",
    "locationlongitude",
    "locationaccuracy",
    "distributionchannel",
    "userlanguage",
    "responseset",
    "name",
    "emailaddress",
    "q_recaptchascore",
    "q_relevantidduplicate",
    "q_relevantidduplicatescore",
    "q_relevantidfraudscore",
    "q_relevantidlastsubmission",
}
# Status codes / texts that are not real responses -> why.
NOT_REAL = {
    "1": "a survey preview (Status 1), not a real response",
    "survey preview": "a survey preview (Status 1), not a real response",
    "2": "a survey test response (Status 2), not a real response",
    "survey test": "a survey test response (Status 2), not a real response",
    "8": "flagged as spam by Qualtrics (Status 8)",
    "spam": "flagged as spam by Qualtrics (Status 8)",
}


def _import_ids(row: list[str]) -> list[dict[str, str]] | None:
    """The ImportId header row parsed, or None when this row is not one."""
    parsed = []
    for cell in row:
        if not cell.strip():
            parsed.append({})
            continue
        try:
            obj = json.loads(cell)
        except ValueError:
            return None
        if not isinstance(obj, dict) or "ImportId" not in obj:
            return None
        parsed.append({str(k): str(v) for k, v in obj.items()})
    return parsed


def _first(columns: list[str], *names: str) -> str | None:
    return next((n for n in names if n in columns), None)


def _reject_not_real(con: duckdb.DuckDBPyConnection, staged: Staged, status: str | None) -> None:
    if status is None:
        return
    col = f"lower(trim({quote_ident(status)}))"
    whens = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in NOT_REAL.items()
    )
    keys = ", ".join(quote_literal(k) for k in NOT_REAL)
    sq.reject_rows(
        con,
        staged,
        f"{col} IN ({keys})",
        f"'Status: ''' || trim({quote_ident(status)}) || ''' is ' || CASE {col} {whens} END",
    )


def _prepare_current(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    labels = sq.header_row(con, staged, 1)
    ids = _import_ids(sq.header_row(con, staged, 2))
    staged = drop_extra_header_rows(con, staged, 3 if ids is not None else 2)
    ids = ids or [{} for _ in staged.columns]
    cols = list(staged.columns)
    submitted = _first(cols, "recordeddate", "enddate", "startdate")
    if submitted:
        zone = ids[cols.index(submitted)].get("timeZone")
        if zone:
            sq.zone_to_utc_text(con, staged.table, submitted, zone)
    _reject_not_real(con, staged, _first(cols, "status"))
    questions = []
    for col, label, imp in zip(cols, labels, ids, strict=True):
        code = imp.get("ImportId", "")
        is_question = code.startswith("QID") if code else col not in METADATA
        if not is_question or col.endswith("nps_group") or code.endswith("_NPS_GROUP"):
            continue
        free = code.endswith("_TEXT") or "_TEXT_" in code
        questions.append(sq.Question(col, label or col, free_text=free, keys=(col, code)))
    roles = {
        k: v
        for k, v in {
            "response_id": _first(cols, "responseid"),
            "submitted_at": submitted,
            "respondent_email": _first(cols, "recipientemail"),
            # External Data Reference: the contact's id in another system (HR's, for
            # employee surveys distributed from an HR-fed directory)
            "respondent_employee_id": _first(cols, "externalreference"),
            "respondent_name": sq.full_name(
                con, staged, _first(cols, "recipientfirstname"), _first(cols, "recipientlastname")
            ),
        }.items()
        if v
    }
    return sq.prepare_survey(con, staged, questions, roles, "Qualtrics survey")


def _prepare_legacy(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    labels = sq.header_row(con, staged, 1)
    staged = drop_extra_header_rows(con, staged, 2)
    by_label = {normalise(lab): col for col, lab in zip(staged.columns, labels, strict=True)}
    questions = [
        sq.Question(col, lab or col, keys=(col,))
        for col, lab in zip(staged.columns, labels, strict=True)
        if lab.strip()
        and normalise(lab) not in METADATA
        and not re.fullmatch(r"v\d+", col)
        and not col.startswith("location")
    ]
    _reject_not_real(con, staged, by_label.get("status"))
    roles = {
        k: v
        for k, v in {
            "response_id": by_label.get("responseid"),
            "submitted_at": by_label.get("enddate") or by_label.get("startdate"),
            "respondent_email": by_label.get("emailaddress"),
            "respondent_employee_id": by_label.get("externaldatareference"),
        }.items()
        if v
    }
    return sq.prepare_survey(con, staged, questions, roles, "Qualtrics (legacy) survey")


ADAPTERS = [
    sq.survey_adapter("qualtrics", {"responseid", "startdate", "enddate"}, _prepare_current),
    sq.survey_adapter("qualtrics", {f"v{i}" for i in range(1, 11)}, _prepare_legacy),
]
