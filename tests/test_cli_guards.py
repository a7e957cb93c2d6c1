"""Options and config that used to be accepted silently: each is now a clear error
(exit 2, one line) or a stated warning, and a corrected option on a re-ingest
takes effect instead of being skipped as "unchanged"."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.cli import main
from tests.conftest import TWO_TICKETS, fetch


def created(db: Path) -> list[tuple]:
    return fetch(db, "SELECT ticket_id, epoch(created_at)::BIGINT FROM tickets ORDER BY 1")


def test_metrics_loads_the_config_and_a_bad_one_is_exit_2(demo_wh, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[queries]\ntime_limit_seconds = nan\n")
    assert main(["--config", str(bad), "metrics", "--db", str(demo_wh.db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "queries.time_limit_seconds" in err


def test_unknown_timezone_is_refused_before_anything_is_read(tmp_path, capsys) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TWO_TICKETS)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db), "--timezone", "Mars/Olympus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Mars/Olympus" in err
    assert not db.exists()


def test_settings_for_teams_that_do_not_exist_are_a_stated_warning(tmp_path, capsys) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TWO_TICKETS)
    cfg = tmp_path / "inward.toml"
    cfg.write_text(
        '[calendar."IT Servce Desk"]\ntimezone = "Europe/Berlin"\n'
        '[sla."Payroll"]\nfirst_response = { high = 30 }\n'
    )
    db = tmp_path / "w.duckdb"
    assert main(["--config", str(cfg), "ingest", str(f), "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert 'calendar."IT Servce Desk"' in err and "IT Service Desk" in err  # the near miss
    assert 'sla."Payroll"' in err
    assert main(["--config", str(cfg), "metrics", "--db", str(db)]) == 0
    assert 'calendar."IT Servce Desk"' in capsys.readouterr().err


def test_a_corrected_timezone_on_reingest_takes_effect(tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TWO_TICKETS)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    as_utc = created(db)
    assert main(["ingest", str(f), "--db", str(db), "--timezone", "Europe/Berlin"]) == 0
    as_berlin = created(db)
    assert [t for t, _ in as_berlin] == ["T1", "T2"]  # replaced, not added
    assert [u - b for (_, u), (_, b) in zip(as_utc, as_berlin, strict=True)] == [3600, 3600]
    # the same file with the same options again changes nothing
    con = duckdb.connect(str(db))
    before = con.sql("SELECT count(*) FROM ingests WHERE status = 'loaded'").fetchall()
    con.close()
    assert main(["ingest", str(f), "--db", str(db), "--timezone", "Europe/Berlin"]) == 0
    assert created(db) == as_berlin
    con = duckdb.connect(str(db))
    after = con.sql("SELECT count(*) FROM ingests WHERE status = 'loaded'").fetchall()
    last = con.sql("SELECT status FROM ingests ORDER BY ingest_id DESC LIMIT 1").fetchall()
    con.close()
    assert before == after and last == [("unchanged",)]


def test_a_corrected_kind_on_reingest_takes_effect(tmp_path, capsys) -> None:
    f = tmp_path / "units.csv"
    f.write_text("department,business_unit,period_start,nps\nSales,Retail,2026-01-05,31\n")
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db), "--kind", "outcomes"]) == 0
    assert main(["ingest", str(f), "--db", str(db), "--kind", "org"]) == 0
    out = capsys.readouterr().out
    assert "unchanged" not in out.splitlines()[-1]
    con = duckdb.connect(str(db), read_only=True)
    try:
        org = con.sql("SELECT department, business_unit FROM org").fetchall()
        outcomes = con.sql("SELECT count(*) FROM external_outcomes").fetchall()
    finally:
        con.close()
    assert org == [("Sales", "Retail")]
    assert outcomes == [(0,)]  # the wrong load is replaced, not kept beside the right one


@pytest.mark.parametrize("explicit", [["--kind", "tickets"], ["--format", "generic"]])
def test_naming_what_was_detected_is_still_unchanged(tmp_path, capsys, explicit) -> None:
    f = tmp_path / "t.csv"
    f.write_text(TWO_TICKETS)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    assert main(["ingest", str(f), "--db", str(db), *explicit]) == 0
    assert "unchanged" in capsys.readouterr().out.splitlines()[-1]
