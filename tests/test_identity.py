"""One internal customer across tools (CONTRACT "Who a requester is"), on exports Inward
did not write: an independent organisation in Zendesk, ServiceNow, Freshservice, Jira
and Qualtrics layouts (tests/multitool.py), with a people file loaded *after* the
tickets, two people who share a name, leavers, quitters and a lagged outcome link."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import scoped
from dashboard.access import OPERATOR
from dashboard.cli import main
from dashboard.config import Config
from dashboard.ingest import ingest_paths
from dashboard.metrics.alignment import alignment_table
from dashboard.metrics.engagement import elsewhere
from dashboard.metrics.identity import find_requesters, match_summary, unmatched_requesters
from tests import multitool
from tests.conftest import snapshot


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("multitool")
    w, link = multitool.build()
    multitool.write(w, link, root / "exports")
    db = root / "inward.duckdb"
    f = w.files
    tickets_first = [f["zendesk"], f["servicenow"], f["freshservice"], f["jira"], f["qualtrics"]]
    results = ingest_paths(db, tickets_first, Config())
    results += ingest_paths(db, [f["people"], f["org"], f["outcomes"]], Config())
    assert all(r.status == "loaded" and r.rows_rejected == 0 for r in results), [
        r.message for r in results
    ]
    return w, db, results


def _connect(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection as the operator sees it (raw ids: the planted names)."""
    con = duckdb.connect(str(db), read_only=True)
    scoped.install(con, OPERATOR, db)
    return con


def _read(db: Path, sql: str) -> pl.DataFrame:
    con = _connect(db)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_every_person_has_one_requester_id_in_every_tool(world) -> None:
    w, db, _ = world
    got = dict(_read(db, "SELECT source || '/' || ticket_id, requester_id FROM tickets").rows())
    source = {
        "IT Service Desk": "zendesk",
        "HR Operations": "servicenow",
        "Facilities": "freshservice",
        "Legal": "jira",
    }
    wrong = [
        (t.team, t.person.person_id, got.get(f"{source[t.team]}/{t.ticket_id}"))
        for t in w.tickets
        if got.get(f"{source[t.team]}/{t.ticket_id}") != w.expected_requester(t)
    ]
    assert not wrong, wrong[:10]
    # a person filing with two tools is one requester with two teams
    teams = Counter(
        _read(db, "SELECT DISTINCT requester_id, service_team FROM tickets")[
            "requester_id"
        ].to_list()
    )
    assert sum(1 for n in teams.values() if n >= 2) >= 0.9 * len(w.people) - len(w.leavers)


def test_namesakes_are_never_merged_and_are_reported(world) -> None:
    w, db, _ = world
    a, b = w.namesakes
    jira = _read(
        db,
        "SELECT DISTINCT requester_id FROM tickets WHERE source = 'jira' "
        f"AND requester_id IN ('{a}', '{b}')",
    )
    assert jira.is_empty()  # the Jira export shows only the shared name: no guess
    con = _connect(db)
    try:
        unmatched = unmatched_requesters(con)
        ids = find_requesters(con, multitool.NAMESAKE)
    finally:
        con.close()
    amb = unmatched.filter(pl.col("matched_by") == "ambiguous")
    assert amb.height == 1 and amb["source"][0] == "jira" and amb["candidates"][0] == 2
    # by e-mail both are matched in Zendesk; the name alone names three requesters
    assert {a, b} < set(ids) and len(ids) == 3


def test_match_rates_per_source(world) -> None:
    _, db, results = world
    con = _connect(db)
    try:
        rates = {r["source"]: r for r in match_summary(con).iter_rows(named=True)}
    finally:
        con.close()
    assert rates["zendesk"]["match_rate"] == 1.0 and rates["zendesk"]["by_email"] > 0
    assert rates["freshservice"]["match_rate"] == 1.0
    assert rates["qualtrics"]["match_rate"] == 1.0  # respondents meet the same people
    sn = rates["servicenow"]
    assert sn["match_rate"] == 1.0 and sn["by_name"] > 0 and sn["by_email"] > 0
    jira = rates["jira"]
    assert jira["by_name"] == jira["requesters"] - 1 and jira["ambiguous"] == 1
    # ingested before the people file, the ticket files said "no people file"; the
    # people file's line reports the re-match
    assert "no people file" in results[0].summary()
    assert "requesters loaded so far" in results[5].summary()


def test_departments_filled_from_the_export_or_people(world) -> None:
    w, db, _ = world
    dept = {p.person_id: p.department for p in w.people}
    t = _read(
        db,
        "SELECT source, requester_id, requester_department, "
        "requester_department_source, requester_type FROM tickets",
    )
    matched = t.filter(pl.col("requester_id").is_in(list(dept)))
    assert matched.height >= 0.98 * t.height
    want = matched["requester_id"].replace_strict(dept)
    assert (matched["requester_department"] == want).all()
    src = dict(matched.group_by("source").agg(pl.col("requester_department_source").first()).rows())
    assert src == {
        "zendesk": "export",
        "freshservice": "export",
        "servicenow": "people",
        "jira": "people",
    }
    assert matched["requester_type"].is_in(["employee", "contractor"]).all()


def test_planted_quitters_found_and_leavers_excluded(world) -> None:
    w, db, _ = world
    e = _read(db, "SELECT * FROM requester_engagement")
    flagged = set(
        e.filter(pl.col("status").is_in(["at_risk", "gone_quiet"]))
        .select("requester_id", "service_team")
        .rows()
    )
    hits = len(flagged & w.quitters)
    recall, precision = hits / len(w.quitters), hits / max(len(flagged), 1)
    assert len(w.quitters) >= 20
    assert recall >= 0.9 and precision >= 0.8, (recall, precision, len(flagged))
    assert not set(e["requester_id"]) & w.leavers


def test_quitters_still_filing_elsewhere_are_seen_across_teams(world) -> None:
    w, db, _ = world
    con = _connect(db)
    try:
        across = elsewhere.across_teams(con)
        pairs = elsewhere.team_switches(con)
        reasons = dict(
            con.sql(
                "SELECT requester_id || '|' || service_team, reason FROM requester_engagement"
            ).fetchall()
        )
    finally:
        con.close()
    found = set(across.select("requester_id", "quiet_with").rows())
    # every planted quitter kept filing with their other team after quitting
    assert len(found & w.quitters) >= 0.9 * len(w.quitters)
    it_quitter = next(q for q in sorted(found & w.quitters) if q[1] == "IT Service Desk")
    assert "still files with" in reasons[f"{it_quitter[0]}|IT Service Desk"]
    assert pairs.filter(pl.col("quiet_with") == "IT Service Desk")["people"].sum() >= 1


def test_planted_lagged_link_is_found(world) -> None:
    _, db, _ = world
    con = _connect(db)
    try:
        table = alignment_table(con, Config())
    finally:
        con.close()
    hit = table.filter(
        pl.col("significant"),
        pl.col("internal_metric") == "median_resolution_hours",
        pl.col("business_unit") == "Customer Support",
        pl.col("external_metric") == "customer_csat",
        pl.col("service_team").is_in(["IT Service Desk", "all"]),
    )
    assert hit.height >= 1, table.sort("q_value").head(5)
    assert (hit["lag_periods"] == multitool.LAG_WEEKS).any() and (hit["correlation"] < 0).all()


def test_reingesting_changes_nothing(world, tmp_path) -> None:
    w, db, _ = world
    copy = tmp_path / "again.duckdb"
    shutil.copy(db, copy)
    before = snapshot(copy)
    ids = _read(copy, "SELECT * FROM requester_identities ORDER BY ALL")
    results = ingest_paths(copy, list(w.files.values()), Config())
    assert {r.status for r in results} == {"unchanged"}
    assert snapshot(copy) == before
    assert _read(copy, "SELECT * FROM requester_identities ORDER BY ALL").equals(ids)


def test_cli_engagement_for_one_person(world, capsys) -> None:
    w, db, _ = world
    person = next(p for p in w.people if p.person_id not in w.leavers and p.name != "Alex Kim")
    assert main(["engagement", "--db", str(db), "--person", person.email, "--format", "json"]) == 0
    out = pl.read_json(capsys.readouterr().out.encode())
    assert set(out["requester_id"]) == {person.person_id} and out.height == 2
    assert main(["engagement", "--db", str(db), "--person", multitool.NAMESAKE]) == 1
    assert "names 3 requesters" in capsys.readouterr().err
