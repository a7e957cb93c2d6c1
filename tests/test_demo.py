"""The demo: deterministic, and its vendor-format exports load to the same tickets as the
canonical layout (so `inward demo` exercises the adapters without changing the numbers)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config
from dashboard.demo import write_demo
from dashboard.demo_exports import ZENDESK_TEAMS
from dashboard.ingest import ingest_paths
from dashboard.metrics.identity import match_summary
from tests.conftest import fetch


def digest(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_same_seed_same_files(tmp_path: Path) -> None:
    a = write_demo(tmp_path / "a", seed=3, tickets=1500)
    b = write_demo(tmp_path / "b", seed=3, tickets=1500)
    c = write_demo(tmp_path / "c", seed=4, tickets=1500)
    assert digest(a.all()) == digest(b.all())
    assert digest(a.all()) != digest(c.all())


def team_summary(db: Path) -> dict[str, tuple[int, float, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql("""SELECT service_team, count(*), median(resolution_minutes),
                              count(requester_department)
                          FROM ticket_times GROUP BY 1""").fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def test_vendor_layout_loads_like_generic(tmp_path: Path) -> None:
    dbs, files = {}, {}
    for layout in ("vendor", "generic"):
        files[layout] = write_demo(tmp_path / layout, seed=5, tickets=3000, layout=layout)
        dbs[layout] = tmp_path / f"{layout}.duckdb"
        results = ingest_paths(dbs[layout], files[layout].all(), Config())
        assert all(r.status == "loaded" and r.rows_rejected == 0 for r in results), [
            r.message for r in results
        ]
        if layout == "vendor":
            assert {r.format for r in results} >= {
                "zendesk",
                "servicenow",
                "freshservice",
                "jira",
                "qualtrics",
                "google_forms",
                "zendesk_audits",
            }
    vendor, generic = team_summary(dbs["vendor"]), team_summary(dbs["generic"])
    assert vendor.keys() == generic.keys()
    # Jira shows only names: the two namesakes' Legal tickets match nobody, so they get
    # no department from the people file (every other ticket does, or has its own)
    namesakes = files["vendor"].namesakes
    assert len(namesakes) == 2
    con = duckdb.connect(str(dbs["generic"]), read_only=True)
    try:
        unmatchable = con.sql(
            "SELECT count(*) FROM tickets WHERE service_team = 'Legal' AND requester_id IN "
            f"{namesakes}"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert unmatchable > 0
    for team, (n, median_res, with_dept) in generic.items():
        assert vendor[team][0] == n
        # Jira exports minute-precision times: medians agree to the minute
        assert vendor[team][1] == pytest.approx(median_res, abs=1.0)
        assert with_dept == n
        assert vendor[team][2] == n - (unmatchable if team == "Legal" else 0)

    # History: the Zendesk audits give the Zendesk teams' tickets exactly the waiting
    # time the generic events file gives them (resolved tickets; open ones run to their
    # own source's as-of); the other tools' exports carry no history.
    waiting = {
        layout: dict(
            fetch(
                db,
                """
        SELECT service_team, (sum(waiting_minutes) FILTER (WHERE resolved_at IS NOT NULL),
            count(waiting_minutes)) FROM tickets GROUP BY 1""",
            )
        )
        for layout, db in dbs.items()
    }
    for team, (total, n) in waiting["generic"].items():
        if team in ZENDESK_TEAMS:
            assert waiting["vendor"][team] == (pytest.approx(total), n) and total > 0
        else:
            assert waiting["vendor"][team] == (None, 0)


def test_vendor_demo_exercises_identity_matching(tmp_path: Path) -> None:
    """Tools show requesters as they really do (numeric Zendesk ids, ServiceNow and Jira
    display names, e-mails): matching gives one person one requester_id everywhere."""
    files = write_demo(tmp_path / "exports", seed=5, tickets=3000)
    db = tmp_path / "w.duckdb"
    ingest_paths(db, files.all(), Config())
    con = duckdb.connect(str(db), read_only=True)
    try:
        rates = {r["source"]: r for r in match_summary(con).iter_rows(named=True)}
        people = {r[0] for r in con.sql("SELECT person_id FROM people").fetchall()}
        cross = con.sql(
            "SELECT count(*) FROM (SELECT requester_id FROM tickets GROUP BY 1 "
            "HAVING count(DISTINCT source) >= 3)"
        ).fetchall()[0][0]
        requesters = dict(
            con.sql(
                "SELECT service_team, list(DISTINCT requester_id) FROM tickets GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert rates["zendesk"]["by_email"] > 0 and rates["zendesk"]["by_alias"] > 0
    assert rates["servicenow"]["by_email"] > 0 and rates["servicenow"]["by_name"] > 0
    assert rates["jira"]["by_name"] > 0 and rates["jira"]["ambiguous"] >= 1
    for source in ("zendesk", "servicenow", "jira", "qualtrics", "google_forms"):
        assert rates[source]["match_rate"] >= 0.95, rates[source]
    assert cross > 0  # the same person, three tools, one id
    # the planted quitters carry the id matching gives them (person ids, mostly)
    assert files.quitters and all(q in requesters[t] for q, t in files.quitters)
    assert sum(q in people for q, _ in files.quitters) >= 0.9 * len(files.quitters)
