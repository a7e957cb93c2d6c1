"""The demo: deterministic, and its vendor-format exports load to the same tickets as the
canonical layout (so `inward demo` exercises the adapters without changing the numbers)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config
from dashboard.demo import write_demo
from dashboard.ingest import ingest_paths


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
    dbs = {}
    for layout in ("vendor", "generic"):
        files = write_demo(tmp_path / layout, seed=5, tickets=3000, layout=layout)
        dbs[layout] = tmp_path / f"{layout}.duckdb"
        results = ingest_paths(dbs[layout], files.all(), Config())
        assert all(r.status == "loaded" and r.rows_rejected == 0 for r in results), [
            r.message for r in results
        ]
        if layout == "vendor":
            assert {r.format for r in results} >= {
                "zendesk",
                "freshservice",
                "jira",
                "qualtrics",
                "google_forms",
            }
    vendor, generic = team_summary(dbs["vendor"]), team_summary(dbs["generic"])
    assert vendor.keys() == generic.keys()
    for team, (n, median_res, with_dept) in generic.items():
        assert vendor[team][0] == n
        # Jira exports minute-precision times: medians agree to the minute
        assert vendor[team][1] == pytest.approx(median_res, abs=1.0)
        assert vendor[team][2] == with_dept == n  # departments filled from the people file
