"""One definition per number: the warehouse views every reader shares.

A warehouse built through the real ingest path from a plain CSV whose statuses a
tool left blank or wrote in its own words (mapped to NULL), plus tickets marked
closed without a resolution time. The backlog must be the same number wherever
it is read, and a "low score" the same answers wherever it is judged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dashboard.analyst.catalog import get_query
from dashboard.analyst.run import run_query
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.ingest import ingest_paths
from dashboard.metrics import response_times as rt

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app" / "main.py")
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
STATUSES = ("", "Waiting for vendor", "open", "solved", "closed", "pending")


def _stamp(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """60 tickets: i % 6 picks the status; every third solved/closed one has no
    resolution time; the others are resolved 2 days after creation."""
    root = tmp_path_factory.mktemp("shared")
    rows = []
    for i in range(60):
        created = START + timedelta(hours=13 * i)
        status = STATUSES[i % 6]
        done = status in ("solved", "closed")
        resolved = created + timedelta(days=2) if done and i % 3 else None
        rows.append(
            {
                "ticket_id": f"T{i}",
                "service_team": "IT Service Desk" if i % 2 else "HR Operations",
                "requester_department": ("Sales", "Finance", "Legal")[i % 3],
                "status": status,
                "created_at": created,
                "updated_at": created + timedelta(days=3),
                "resolved_at": resolved,
            }
        )
    path = root / "tickets.csv"
    cols = list(rows[0])
    lines = [",".join(cols)]
    for r in rows:
        lines.append(
            ",".join(
                _stamp(r[c]) if isinstance(r[c], datetime) or r[c] is None else r[c] for c in cols
            )
        )
    path.write_text("\n".join(lines) + "\n")
    db = root / "w.duckdb"
    (result,) = ingest_paths(db, [path], Config())
    assert result.status == "loaded", result.message
    return db, rows


def brute_open(rows: list[dict], team: str | None = None) -> int:
    """Open at the as-of (the newest timestamp): not resolved, not marked done."""
    as_of = max(max(r["created_at"], r["updated_at"]) for r in rows)
    return sum(
        1
        for r in rows
        if (team is None or r["service_team"] == team)
        and r["created_at"] <= as_of
        and r["resolved_at"] is None
        and r["status"] not in ("solved", "closed")
    )


def test_null_statuses_are_in_the_warehouse(wh) -> None:
    db, _ = wh
    with duckdb.connect(str(db), read_only=True) as con:
        nulls = con.sql("SELECT count(*) FROM tickets WHERE status IS NULL").fetchall()[0][0]
    assert nulls == 20  # blank and "Waiting for vendor"


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    from dashboard.cli import main

    capsys.readouterr()
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _teams_page_open_now(db: Path, team: str | None, monkeypatch: pytest.MonkeyPatch) -> int:
    """The Teams page's "Open now" tile, rendered as the app renders it."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("INWARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    if team:
        at.query_params["team"] = team
    at.run()
    at.switch_page("app_pages/teams.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return int({m.label: m.value for m in at.metric}["Open now"].replace(",", ""))


@pytest.mark.parametrize("team", [None, "HR Operations"])
def test_one_backlog_number(wh, team, capsys, monkeypatch) -> None:
    db, rows = wh
    expected = brute_open(rows, team)
    unnamed = sum(
        r["status"] in ("", "Waiting for vendor") for r in rows if team in (None, r["service_team"])
    )
    assert expected > unnamed > 0  # tickets without a status are part of the backlog
    filters = Filters(teams=(team,) if team else ())
    with duckdb.connect(str(db), read_only=True) as con:
        by_age = int(rt.backlog_age(con, filters)["tickets"].sum())
        daily = rt.backlog(con, filters)["open"].to_list()[-1]
    spec = get_query("backlog_by_age")
    query = run_query(spec, {}, db, filters=filters).frame
    assert by_age == expected
    assert daily == expected  # the backlog chart ends on the same number
    assert int(query["tickets"].sum()) == expected
    team_args = ["--team", team] if team else []
    panel = _cli_json(capsys, "panel", "teams.backlog_age", "--db", str(db), *team_args)
    cli_query = _cli_json(capsys, "query", "backlog_by_age", "--db", str(db), *team_args)
    assert sum(r["tickets"] for r in panel) == expected  # `inward panel`
    assert sum(r["tickets"] for r in cli_query) == expected  # `inward query`
    assert _teams_page_open_now(db, team, monkeypatch) == expected  # the Teams page


def test_one_low_score_definition(tmp_path: Path) -> None:
    """CSAT on 1–5, 1–7 and 0–10, and NPS: Engagement's "low satisfaction score" and
    Voice's low band pick the same answers, the bottom two points of each scale."""
    from dashboard.metrics.engagement import stored
    from dashboard.metrics.surveys.answers import load_rows
    from dashboard.warehouse import connect, migrate

    con = connect(tmp_path / "s.duckdb")
    migrate(con)
    answers = []
    for lo, hi in ((1, 5), (1, 7), (0, 10)):
        for score in range(lo, hi + 1):
            answers.append(("csat", lo, hi, score, score <= lo + 1))
    for score in range(11):
        answers.append(("nps", 0, 10, score, score <= 6))
    for i, (metric, lo, hi, score, _) in enumerate(answers):
        con.execute(
            "INSERT INTO tickets (ticket_id, source, service_team, requester_id, created_at) "
            "VALUES (?, 'generic', 'IT', ?, TIMESTAMPTZ '2026-05-04 09:00:00+00')",
            [f"T{i}", f"p{i}"],
        )
        con.execute(
            "INSERT INTO survey_responses (response_id, source, submitted_at, respondent_id, "
            "service_team, ticket_id, metric, score, scale_min, scale_max) VALUES "
            "(?, 'forms', TIMESTAMPTZ '2026-05-05 09:00:00+00', ?, 'IT', ?, ?, ?, ?, ?)",
            [f"R{i}", f"p{i}", f"T{i}", metric, score, lo, hi],
        )
    expected_csat = {f"T{i}" for i, a in enumerate(answers) if a[0] == "csat" and a[4]}
    expected_all = {f"T{i}" for i, a in enumerate(answers) if a[4]}
    tickets, _ = stored.model_inputs(con)  # what the engagement model reads
    flagged = con.sql(f"SELECT ticket_id FROM ({stored.LOW_CSAT_SQL})").fetchall()
    rows = load_rows(con, Filters())
    voice_low = set(rows.filter(rows["band"] == "low")["ticket_id"])
    con.close()
    assert {t for (t,) in flagged} == expected_csat
    assert int(tickets["low_csat"].sum()) == len(expected_csat)
    assert voice_low == expected_all
