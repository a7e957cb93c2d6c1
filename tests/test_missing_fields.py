"""A field an export does not carry is unknown (NULL), never 0, and pages say why.

A Jira CSV has no reopen count and a ServiceNow incident list no first-response
time. Stored as 0, a Jira team read "Reopened 0.0 %" (a false perfect score); left
blank without a word, a ServiceNow team's first response read as a drawing fault.
The fixtures are the vendor-format files the adapter tests use, plus a generic CSV
that does carry both fields, so the same warehouse shows known and unknown side by
side.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.ingest import ingest_paths
from dashboard.metrics import coverage
from dashboard.metrics import response_times as rt

FIXTURES = Path(__file__).parent / "fixtures"
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app" / "main.py")

# generic rows: (id, reopen_count, created, first response, resolved)
GENERIC = [
    ("G1", 0, "2026-03-02 09:00", "2026-03-02 10:00", "2026-03-03 09:00"),
    ("G2", 2, "2026-03-03 09:00", "2026-03-03 09:30", "2026-03-04 09:00"),
    ("G3", 1, "2026-03-04 09:00", "2026-03-04 12:00", "2026-03-05 09:00"),
    ("G4", 0, "2026-03-05 09:00", "2026-03-05 09:10", "2026-03-06 09:00"),
]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("missing")
    generic = root / "generic.csv"
    generic.write_text(
        "id,team,created_at,first_response_at,resolved_at,reopen_count\n"
        + "".join(f"{i},Generic Desk,{c},{f},{r},{n}\n" for i, n, c, f, r in GENERIC)
    )
    # the Jira fixture's HR Operations becomes Legal, a team only Jira serves
    jira = root / "issues.csv"
    jira.write_text((FIXTURES / "jira/issues.csv").read_text().replace("HR Operations", "Legal"))
    db = root / "w.duckdb"
    paths = [jira, FIXTURES / "servicenow/incident.csv", generic]
    results = ingest_paths(db, paths, Config())
    assert [r.status for r in results] == ["loaded"] * 3, [r.message for r in results]
    return db


def test_a_jira_export_stores_no_reopen_count(wh: Path) -> None:
    with duckdb.connect(str(wh), read_only=True) as con:
        counts = dict(
            con.sql("SELECT source, count(reopen_count) FROM tickets GROUP BY source").fetchall()
        )
        jira_tickets = con.sql("SELECT count(*) FROM tickets WHERE source = 'jira'").fetchall()
    assert jira_tickets[0][0] > 0 and counts["jira"] == 0  # unknown, not 0
    assert counts["servicenow"] > 0 and counts["generic"] == len(GENERIC)  # carried: kept


def test_reopen_rate_is_null_where_unknown_and_exact_where_known(wh: Path) -> None:
    with duckdb.connect(str(wh), read_only=True) as con:
        by_team = {
            r["service_team"]: r["reopen_rate"]
            for r in rt.summary(con, Filters(), ["service_team"]).iter_rows(named=True)
        }
        legal = rt.service_mix(con, Filters(teams=("Legal",)))
        generic = rt.service_mix(con, Filters(teams=("Generic Desk",)))
        desk = con.sql(  # IT Service Desk: Jira tickets (unknown) and ServiceNow ones
            "SELECT reopen_count FROM tickets WHERE service_team = 'IT Service Desk' "
            "AND source = 'servicenow'"
        ).fetchall()
    expected = sum(n > 0 for _, n, *_ in GENERIC) / len(GENERIC)
    assert by_team["Legal"] is None and legal["reopen_rate"] is None
    assert legal["one_touch_rate"] is None
    assert by_team["Generic Desk"] == pytest.approx(expected)
    assert generic["reopen_rate"] == pytest.approx(expected)
    assert by_team["IT Service Desk"] == pytest.approx(sum(n > 0 for (n,) in desk) / len(desk))


def test_missing_measures_names_each_source_and_field(wh: Path) -> None:
    with duckdb.connect(str(wh), read_only=True) as con:
        missing = coverage.missing_measures(con, Filters())
        narrowed = coverage.missing_measures(con, Filters(teams=("Generic Desk", "Legal")))
    lacks = {
        (r["service_team"], r["source"], r["measure"], r["partial"])
        for r in missing.iter_rows(named=True)
    }
    assert ("Legal", "jira", "reopen", False) in lacks
    assert ("IT Service Desk", "jira", "reopen", True) in lacks  # its ServiceNow ones count
    assert ("Facilities", "servicenow", "first_response", False) in lacks
    assert ("IT Service Desk", "servicenow", "first_response", True) in lacks
    assert not any(team == "Generic Desk" for team, *_ in lacks)
    assert not any(s == "jira" and m == "first_response" for _, s, m, _ in lacks)
    assert set(narrowed["service_team"]) == {"Legal"}  # only the teams in the selection
    (note,) = coverage.notes(missing, "reopen", "Reopened")
    assert note == (
        "Reopened: n/a for Legal — the jira export has no reopen count; for IT Service Desk "
        "only tickets from other tools count"
    )
    (note,) = coverage.notes(narrowed, "reopen", "Reopened")
    assert note == "Reopened: n/a for Legal — the jira export has no reopen count"


def _without_column(src: Path, dest: Path, column: str) -> Path:
    with src.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with dest.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, [c for c in rows[0] if c != column])
        w.writeheader()
        w.writerows({k: v for k, v in r.items() if k != column} for r in rows)
    return dest


def test_freshservice_without_tags_knows_no_reopens(tmp_path: Path) -> None:
    """The reopen count comes from a `reopened` tag: no Tags column, no count."""
    src = FIXTURES / "freshservice/tickets.csv"
    bare = _without_column(src, tmp_path / "tickets.csv", "Tags")
    for path, name in ((src, "tagged.duckdb"), (bare, "bare.duckdb")):
        (r,) = ingest_paths(tmp_path / name, [path], Config())
        assert r.status == "loaded", r.message
    with duckdb.connect(str(tmp_path / "tagged.duckdb"), read_only=True) as con:
        tagged = con.sql("SELECT count(reopen_count), count(*) FROM tickets").fetchall()[0]
    with duckdb.connect(str(tmp_path / "bare.duckdb"), read_only=True) as con:
        bare_known = con.sql("SELECT count(reopen_count) FROM tickets").fetchall()[0][0]
    assert tagged[0] == tagged[1] > 0 and bare_known == 0


def test_teams_page_says_na_and_why(wh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All of the data's dates, so the tiles have tickets to count (an empty range
    would read n/a for another reason)."""
    with duckdb.connect(str(wh), read_only=True) as con:
        first, last = con.sql(
            "SELECT CAST(min(utc(created_at)) AS DATE), CAST(max(utc(created_at)) AS DATE) "
            "FROM tickets"
        ).fetchall()[0]
        facilities = [
            n
            for (n,) in con.sql(
                "SELECT reopen_count FROM tickets WHERE service_team = 'Facilities'"
            ).fetchall()
        ]
    reopened = sum(n > 0 for n in facilities) / len(facilities)  # known: a real rate
    monkeypatch.setenv("INWARD_DB", str(wh))
    cases = (
        ("Legal", "n/a", "Reopened and one-touch: n/a for Legal — the jira export has no "
         "reopen count."),
        ("Facilities", f"{reopened:.1%}", "First response: n/a for Facilities — the "
         "servicenow export has no first reply time."),
    )  # fmt: skip
    for team, tile, expected in cases:
        at = AppTest.from_file(APP, default_timeout=180)  # a busy machine
        at.query_params["team"] = team
        at.query_params["dates"] = [first.isoformat(), last.isoformat()]
        at.run()
        at.switch_page("app_pages/teams.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert {m.label: m.value for m in at.metric}["Reopened"] == tile
        assert expected in [c.value.removeprefix(":material/info: ") for c in at.caption]
