"""Survey vendor adapters (Qualtrics, SurveyMonkey, Google Forms, Microsoft Forms) and the
shared question detection: fixtures, config overrides, and the real public exports in
../shared/real-exports (read by path, never copied)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config, ConfigError
from dashboard.ingest import ingest_paths
from dashboard.ingest.load import IngestResult
from dashboard.ingest.survey_questions import score_of
from tests.conftest import FIXTURES, REAL_EXPORTS, fetch

needs_real = pytest.mark.skipif(
    not REAL_EXPORTS.is_dir(),
    reason=f"real exports not present at {REAL_EXPORTS} (shared folder of public vendor files)",
)
QUALTRICS = REAL_EXPORTS / "qualtrics"
SURVEYMONKEY = REAL_EXPORTS / "surveymonkey" / "fivethirtyeight"
R_SURVEY = REAL_EXPORTS / "google_forms" / "r_community_survey"
R_CSV = R_SURVEY / "2019 English R Community Survey Responses.csv"
R_XLSX = R_SURVEY / "2019 English R Community Survey Responses.xlsx"
R_TSV = R_SURVEY / "Learning R Internet Survey (Spanish Version) - Form Responses 1.tsv"
LDI = QUALTRICS / "ldi_tutorial_preserving_survey" / "Testing+preservation_June+16,+2026_15.35.csv"
R_NPS = "How likely are you to recommend R to a colleague, friend, or family member?"
PY_NPS = "How likely are you to recommend Python to a colleague, friend, or family member?"


def ingest(db: Path, path: Path, **survey_questions: str) -> IngestResult:
    """One file through the real entry point, with `[survey_questions]` as given."""
    [r] = ingest_paths(db, [path], Config(survey_questions=dict(survey_questions)))
    return r


def check_invariant(db: Path, r: IngestResult) -> None:
    """rows_read = loaded + rejected, and every rejected row is stored with a reason."""
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    [(stored,)] = fetch(db, "SELECT count(*) FROM rejected_rows WHERE ingest_id = ?", [r.ingest_id])
    assert stored == r.rows_rejected
    [(loaded,)] = fetch(
        db,
        "SELECT count(DISTINCT response_id) FROM survey_responses WHERE ingest_id = ?",
        [r.ingest_id],
    )
    assert loaded == r.rows_loaded


def metrics(db: Path, r: IngestResult) -> dict[str, tuple[int, float, float]]:
    """metric -> (responses, scale_min, scale_max) of one ingest."""
    got = fetch(
        db,
        "SELECT metric, count(*), min(scale_min), max(scale_max) FROM survey_responses "
        "WHERE ingest_id = ? GROUP BY metric",
        [r.ingest_id],
    )
    return {m: (n, lo, hi) for m, n, lo, hi in got}


def scores(db: Path, metric: str) -> dict[str, float]:
    return dict(
        fetch(db, "SELECT response_id, score FROM survey_responses WHERE metric = ?", [metric])
    )


# --- fixtures -----------------------------------------------------------------------

FIXTURE_CASES = [
    # path, adapter, read, loaded, rejected, {metric: count}
    ("qualtrics/survey.csv", "qualtrics", 10, 9, 1, {"csat": 9, "nps": 8}),
    ("surveymonkey/survey.csv", "surveymonkey", 9, 8, 1, {"csat": 8, "nps": 7}),
    ("google_forms/responses.csv", "google_forms", 10, 10, 0, {"csat": 10, "nps": 9}),
    ("ms_forms/responses.xlsx", "ms_forms", 9, 9, 0, {"csat": 9, "nps": 8}),
]


@pytest.mark.parametrize(("rel", "fmt", "read", "loaded", "rejected", "counts"), FIXTURE_CASES)
def test_fixture_ingests_with_its_adapter(
    fresh_db: Path,
    rel: str,
    fmt: str,
    read: int,
    loaded: int,
    rejected: int,
    counts: dict[str, int],
) -> None:
    r = ingest(fresh_db, FIXTURES / rel)
    assert (r.status, r.format, r.kind) == ("loaded", fmt, "surveys"), r.message
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (read, loaded, rejected)
    check_invariant(fresh_db, r)
    got = metrics(fresh_db, r)
    assert {m: n for m, (n, _, _) in got.items()} == counts
    assert got["csat"][1:] == (1, 5) and got["nps"][1:] == (0, 10)
    assert "csat = 'How satisfied were you with the support you received?' (1–5)" in r.message
    [(source,)] = fetch(fresh_db, "SELECT DISTINCT source FROM survey_responses")
    assert source == fmt


def test_qualtrics_fixture_details(fresh_db: Path) -> None:
    r = ingest(fresh_db, FIXTURES / "qualtrics/survey.csv")
    [(row, reason)] = fetch(
        fresh_db, "SELECT row_number, reason FROM rejected_rows WHERE ingest_id = ?", [r.ingest_id]
    )
    assert row == 4 and "survey preview" in reason
    got = {
        (rid, metric): (score, who, team, dept, ticket, at)
        for rid, metric, score, who, team, dept, ticket, at in fetch(
            fresh_db,
            "SELECT response_id, metric, score, respondent_id, service_team, "
            "respondent_department, ticket_id, submitted_at FROM survey_responses",
        )
    }
    first = got[("R_3kLmQ9xT2bVwA00", "csat")]
    assert first[:5] == (5.0, "priya.natarajan@northwind.example", "IT Service Desk", "Finance",
                         "INC-2101")  # fmt: skip
    # RecordedDate in the ImportId row's zone (Europe/London = UTC in early March)
    assert first[5] == datetime(2026, 3, 2, 12, 10, 54, tzinfo=UTC)
    # partial response (Progress 40): the CSAT it answered loads, the empty NPS does not
    assert ("R_3kLmQ9xT2bVwE04", "csat") in got and ("R_3kLmQ9xT2bVwE04", "nps") not in got
    # the NPS group column (1–3) is never mistaken for the NPS score
    assert got[("R_3kLmQ9xT2bVwA00", "nps")][0] == 9.0
    [(comment,)] = fetch(
        fresh_db,
        "SELECT comment FROM survey_responses WHERE response_id = 'R_3kLmQ9xT2bVwC02' "
        "AND metric = 'csat'",
    )
    assert comment.startswith("Took three days") and "\n" in comment


def test_qualtrics_zone_from_import_id_row_beats_timezone(tmp_path: Path, fresh_db: Path) -> None:
    text = (FIXTURES / "qualtrics/survey.csv").read_text(encoding="utf-8")
    path = tmp_path / "ny.csv"
    path.write_text(text.replace("Europe/London", "America/New_York"), encoding="utf-8")
    ingest(fresh_db, path)
    [(at,)] = fetch(
        fresh_db,
        "SELECT submitted_at FROM survey_responses WHERE response_id = 'R_3kLmQ9xT2bVwA00' "
        "AND metric = 'csat'",
    )
    assert at == datetime(2026, 3, 2, 17, 10, 54, tzinfo=UTC)  # 12:10:54 EST


def test_surveymonkey_choice_text_maps_to_1_to_5(fresh_db: Path) -> None:
    ingest(fresh_db, FIXTURES / "surveymonkey/survey.csv")
    csat = scores(fresh_db, "csat")
    assert csat["114563728901"] == 5  # Very satisfied
    assert csat["114563741222"] == 4  # Satisfied
    assert csat["114563850017"] == 3  # Neither satisfied nor dissatisfied
    assert csat["114563790004"] == 2  # Dissatisfied
    assert csat["114563921877"] == 1  # Very dissatisfied
    assert scores(fresh_db, "nps")["114563921877"] == 0
    anon = fetch(
        fresh_db,
        "SELECT DISTINCT respondent_id, ticket_id, service_team, submitted_at "
        "FROM survey_responses WHERE response_id = '114563899102'",
    )
    assert anon == [(None, None, None, datetime(2026, 3, 5, 17, 15, 38, tzinfo=UTC))]
    [(team, ticket)] = fetch(
        fresh_db,
        "SELECT DISTINCT service_team, ticket_id FROM survey_responses "
        "WHERE response_id = '114563790004'",
    )
    assert (team, ticket) == ("HR Operations", "SR-2105")  # custom variables team / ticket


def test_surveymonkey_unknown_choice_text_is_rejected_with_reason(
    tmp_path: Path, fresh_db: Path
) -> None:
    src = list(csv.reader((FIXTURES / "surveymonkey/survey.csv").open(encoding="utf-8")))
    src[2][11] = "Somewhat satisfied"
    src[3][11] = "Meh"
    path = tmp_path / "sm.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(src)
    r = ingest(fresh_db, path)
    check_invariant(fresh_db, r)
    assert scores(fresh_db, "csat")["114563728901"] == 4
    reasons = [x for (x,) in fetch(fresh_db, "SELECT reason FROM rejected_rows")]
    assert any("could not read 'Meh' as a number (csat)" in x for x in reasons)


def test_surveymonkey_xlsx_with_blank_continuation_headers(tmp_path: Path, fresh_db: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    src = list(csv.reader((FIXTURES / "surveymonkey/survey.csv").open(encoding="utf-8")))
    src[0] += ["Which channels did you use?", ""]
    src[1] += ["Email", "Phone"]
    for row in src[2:]:
        row += ["Email", ""]
    path = tmp_path / "sm.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    for i, row in enumerate(src):
        for j, v in enumerate(row):
            if v:
                ws.write_string(i, j, v)
    wb.close()
    r = ingest(fresh_db, path)
    assert (r.status, r.format, r.rows_read, r.rows_loaded) == ("loaded", "surveymonkey", 9, 8)
    check_invariant(fresh_db, r)
    assert scores(fresh_db, "csat")["114563850017"] == 3


def test_google_forms_fixture_details(fresh_db: Path) -> None:
    ingest(fresh_db, FIXTURES / "google_forms/responses.csv")
    got = fetch(
        fresh_db,
        "SELECT submitted_at, respondent_id, respondent_department, service_team, ticket_id, "
        "comment FROM survey_responses WHERE metric = 'csat' ORDER BY submitted_at",
    )
    assert got[2][:5] == (
        datetime(2026, 3, 3, 18, 5, 51, tzinfo=UTC),
        "rafael.souza@northwind.example",
        "Marketing",
        "HR Operations",
        "sr-2105",
    )
    assert got[-1][0] == datetime(2026, 3, 12, 16, 59, 59, tzinfo=UTC)  # month-first
    assert got[2][5].startswith("Slow.\nHad to chase")


def test_ms_forms_anonymous_is_no_respondent(fresh_db: Path) -> None:
    ingest(fresh_db, FIXTURES / "ms_forms/responses.xlsx")
    got = dict(
        fetch(
            fresh_db,
            "SELECT response_id, respondent_id FROM survey_responses WHERE metric = 'csat'",
        )
    )
    assert got["3"] is None and got["6"] is None
    assert got["1"] == "priya.natarajan@northwind.example"
    [(at,)] = fetch(
        fresh_db, "SELECT DISTINCT submitted_at FROM survey_responses WHERE response_id = '1'"
    )
    assert at == datetime(2026, 3, 2, 13, 2, 25, tzinfo=UTC)  # Completion time


# --- label scales --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "metric", "expected"),
    [
        ("Very satisfied", "csat", 5),
        ("Extremely dissatisfied", "csat", 1),
        ("neither satisfied nor dissatisfied", "csat", 3),
        ("5 - Very satisfied", "csat", 5),
        ("10 - Extremely likely", "nps", 10),
        ("0 (Not at all likely)", "nps", 0),
        ("Not at all likely", "nps", 0),
        ("Strongly agree", "ces", 7),
        ("Very difficult", "ces", 1),
        ("2017.0", "nps", 2017),
        ("Something else", "csat", None),
    ],
)
def test_score_of_labels(value: str, metric: str, expected: float | None) -> None:
    assert score_of(value, metric) == expected


# --- config override -------------------------------------------------------------------

SATISFIED = "How satisfied were you with the support you received?"


def test_override_ignore_by_normalised_name(fresh_db: Path) -> None:
    r = ingest(
        fresh_db,
        FIXTURES / "google_forms/responses.csv",
        how_satisfied_were_you_with_the_support_you_received="ignore",
    )
    assert set(metrics(fresh_db, r)) == {"nps"}
    assert (r.rows_loaded, r.rows_rejected) == (9, 1)  # the row with only a CSAT has no score
    check_invariant(fresh_db, r)


def test_override_forces_metric_by_question_text(fresh_db: Path) -> None:
    r = ingest(fresh_db, FIXTURES / "ms_forms/responses.xlsx", **{"  how SATISFIED were you "
               "with the support you received? ": "ces"})  # fmt: skip
    got = metrics(fresh_db, r)
    assert got["ces"] == (9, 1, 7) and "csat" not in got
    assert "ces = 'How satisfied" in r.message and "[survey_questions]" in r.message


def test_override_by_qualtrics_code(fresh_db: Path) -> None:
    r = ingest(fresh_db, FIXTURES / "qualtrics/survey.csv", Q1="ignore")
    assert set(metrics(fresh_db, r)) == {"nps"}
    check_invariant(fresh_db, r)


def test_override_two_questions_one_metric_is_refused(fresh_db: Path) -> None:
    r = ingest(
        fresh_db,
        FIXTURES / "google_forms/responses.csv",
        **{SATISFIED: "nps", "Your department": "nps"},
    )
    assert r.status == "refused"
    assert "[survey_questions] maps 2 questions of this file to nps" in r.message
    assert fetch(fresh_db, "SELECT count(*) FROM survey_responses") == [(0,)]


def test_override_bad_value_is_a_config_error(fresh_db: Path) -> None:
    with pytest.raises(ConfigError, match=r"survey_questions.*expected one of csat, nps, ces"):
        ingest(fresh_db, FIXTURES / "google_forms/responses.csv", **{SATISFIED: "happiness"})


# --- real exports ------------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize(
    ("path", "fmt", "seen"),
    [
        (QUALTRICS / "qualtRics_testfiles/sample.csv", "qualtrics", "This is a multiple choice"),
        (QUALTRICS / "qualtRics_testfiles/sample_legacy.csv", "qualtrics", "This is a free text"),
        (LDI, "qualtrics", "What is your gender?"),
        (SURVEYMONKEY / "steak-risk-survey.csv", "surveymonkey", "How do you like your steak"),
        (SURVEYMONKEY / "StarWars.csv", "surveymonkey", "Which character shot first?"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_real_surveys_without_service_questions_are_refused(
    fresh_db: Path, path: Path, fmt: str, seen: str
) -> None:
    """None of these asks about satisfaction, recommendation or effort (demo questions,
    film and steak polls): refused, saying so and listing what they do ask."""
    r = ingest(fresh_db, path)
    assert (r.status, r.format, r.kind) == ("refused", fmt, "surveys")
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (0, 0, 0)
    assert "no satisfaction (CSAT), recommendation (NPS) or effort (CES) question" in r.message
    assert "about other topics" in r.message and seen in r.message
    assert "[survey_questions]" in r.message
    assert fetch(fresh_db, "SELECT count(*) FROM survey_responses") == [(0,)]


@needs_real
def test_starwars_cr_line_endings_behave_identically(tmp_path: Path) -> None:
    out = []
    for name in ("StarWars.csv", "StarWars.2014-original-CR-line-endings.csv"):
        db = tmp_path / f"{name}.duckdb"
        r = ingest(db, SURVEYMONKEY / name)
        out.append((r.status, r.format, r.kind, r.rows_read, r.message))
        assert "Questions seen (14)" in r.message  # multi-column questions listed once
        assert "Expanded Universe" in r.message  # the non-UTF-8 header was read
    assert out[0] == out[1]


@needs_real
def test_real_qualtrics_previews_are_rejected_not_lost(fresh_db: Path) -> None:
    """The LDI demo survey has no service score; force its 'open browser tabs' number as
    NPS only to exercise the Qualtrics path on a real file: previews are rejected with a
    reason, out-of-scale numbers too, and the invariant holds."""
    tabs = "On your computer currently, how many open browser tabs do you have? - Number of tabs"
    r = ingest(fresh_db, LDI, **{tabs: "nps"})
    assert (r.status, r.rows_read) == ("loaded", 25)
    check_invariant(fresh_db, r)
    reasons = [x for (x,) in fetch(fresh_db, "SELECT reason FROM rejected_rows")]
    assert sum("Survey Preview" in x for x in reasons) == 2
    assert any("outside the 0–10 scale of nps" in x for x in reasons)
    # America/New_York from the ImportId row: 11:14:19 EDT = 15:14:19 UTC
    [(at,)] = fetch(
        fresh_db,
        "SELECT submitted_at FROM survey_responses WHERE response_id = 'R_5rYfeErcBsS3nsJ'",
    )
    assert at == datetime(2025, 7, 1, 15, 14, 19, tzinfo=UTC)


@needs_real
@pytest.mark.parametrize(
    ("path", "read", "loaded"),
    [(R_CSV, 1838, 1795), (R_XLSX, 1838, 1795), (R_TSV, 295, 260)],
    ids=["csv", "xlsx", "tsv-es"],
)
def test_r_community_surveys_load_their_nps(
    fresh_db: Path, path: Path, read: int, loaded: int
) -> None:
    r = ingest(fresh_db, path)
    assert (r.status, r.format, r.rows_read, r.rows_loaded) == (
        "loaded",
        "google_forms",
        read,
        loaded,
    ), r.message
    check_invariant(fresh_db, r)
    assert set(metrics(fresh_db, r)) == {"nps"} and metrics(fresh_db, r)["nps"][1:] == (0, 10)
    reasons = fetch(fresh_db, "SELECT DISTINCT reason FROM rejected_rows")
    assert reasons == [("score: no survey score in this row",)]  # blank NPS answers
    [(lo, hi, first)] = fetch(
        fresh_db, "SELECT min(score), max(score), min(submitted_at) FROM survey_responses"
    )
    assert lo >= 0 and hi == 10
    assert (
        first.date() == (datetime(2019, 12, 13) if path != R_TSV else datetime(2018, 12, 13)).date()
    )
    if path != R_TSV:  # "recommend Python" is a second NPS item: named, not mixed in
        assert "also nps-like but not loaded" in r.message and "Python" in r.message


@needs_real
def test_r_survey_csv_and_xlsx_load_the_same_records(tmp_path: Path) -> None:
    got = []
    for path in (R_CSV, R_XLSX):
        db = tmp_path / f"{path.suffix}.duckdb"
        ingest(db, path)
        got.append(
            {
                (rid, metric): (score, who, at)
                for rid, metric, score, who, at in fetch(
                    db,
                    "SELECT response_id, metric, score, respondent_id, submitted_at "
                    "FROM survey_responses",
                )
            }
        )
    csv_rows, xlsx_rows = got
    assert csv_rows.keys() == xlsx_rows.keys() and len(csv_rows) == 1795
    for key, (score, who, at) in csv_rows.items():
        x_score, x_who, x_at = xlsx_rows[key]
        assert (score, who) == (x_score, x_who)
        assert abs((at - x_at).total_seconds()) < 1  # XLSX keeps milliseconds


@needs_real
def test_r_survey_override_picks_the_python_nps(fresh_db: Path) -> None:
    r = ingest(fresh_db, R_CSV, **{PY_NPS: "nps"})
    assert (r.status, r.rows_loaded) == ("loaded", 1838 - 823)
    assert "set in [survey_questions]" in r.message and "recommend R" in r.message
    check_invariant(fresh_db, r)


def test_wording_without_the_scale_is_a_visible_near_miss(tmp_path: Path, fresh_db: Path) -> None:
    """'How satisfied' answered 0–10 is not CSAT (1–5): not loaded as csat, and the
    ingest message says why instead of dropping it silently."""
    src = list(csv.reader((FIXTURES / "google_forms/responses.csv").open(encoding="utf-8")))
    for i, row in enumerate(src[1:]):
        row[4] = str(i)  # 0..9
    path = tmp_path / "gf.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(src)
    r = ingest(fresh_db, path)
    assert set(metrics(fresh_db, r)) == {"nps"}
    assert "not used: 'How satisfied were you with the support you received?' is worded " in (
        r.message
    )
    assert "not on the 1–5 scale" in r.message


def test_survey_adapters_do_not_claim_ticket_fixtures() -> None:
    from dashboard.ingest import detect
    from dashboard.ingest.read import stage

    for folder in ("zendesk", "jira", "servicenow", "freshservice"):
        for path in sorted((FIXTURES / folder).glob("*")):
            con = duckdb.connect()
            try:
                staged = stage(con, path)
                try:
                    name = detect.choose(staged.columns, None, "auto", path.name).name
                except ValueError:  # not detectable at all: not ours either
                    continue
            finally:
                con.close()
            assert name not in {"qualtrics", "surveymonkey", "google_forms", "ms_forms"}, path


@pytest.mark.parametrize(
    ("rel", "fmt"),
    [("qualtrics/survey.csv", "qualtrics"), ("surveymonkey/survey.csv", "surveymonkey")],
)
def test_explicit_format(fresh_db: Path, rel: str, fmt: str) -> None:
    [r] = ingest_paths(fresh_db, [FIXTURES / rel], Config(), fmt=fmt)
    assert (r.status, r.format) == ("loaded", fmt)
    check_invariant(fresh_db, r)
