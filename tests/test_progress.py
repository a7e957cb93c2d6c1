"""Phase lines of long ingests (issue 16): quiet for short work, complete for long work,
and the rows they name are the rows the ingest counted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import progress
from dashboard.config import load_config
from dashboard.ingest import ingest_paths
from dashboard.progress import Phases


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_short_work_says_nothing_long_work_says_every_phase_in_order() -> None:
    clock, said = Clock(), []
    quick = Phases(said.append, "small.csv", quiet_seconds=2.0, clock=clock)
    clock.now += 0.5
    quick.done("read", 10)
    clock.now += 0.5
    quick.done("written", 10)
    assert said == [] and [t for _, t in quick.timings] == [0.5, 0.5]

    slow = Phases(said.append, "big.csv", quiet_seconds=2.0, clock=clock)
    clock.now += 1.5
    slow.done("read", 2_000_000)
    assert said == []  # 1.5 s in: still quiet
    clock.now += 1.0
    slow.done("typed and checked", 2_000_000)  # 2.5 s in: both phases come out
    clock.now += 0.25
    slow.done("committed")
    assert said == [
        "big.csv: read 2,000,000 rows in 1.5 s",
        "big.csv: typed and checked 2,000,000 rows in 1.0 s",
        "big.csv: committed in 0.2 s",
    ]


def test_ingest_phases_name_the_rows_it_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)  # say everything, however quick
    path = tmp_path / "tickets.csv"
    path.write_text(
        "ticket_id,service_team,priority,status,created_at,resolved_at\n"
        "T1,IT,high,solved,2026-03-02 10:00,2026-03-02 12:00\n"
        "T2,IT,low,open,not a date,\n"
        "T3,HR,normal,open,2026-03-03 09:00,\n"
    )
    said: list[str] = []
    db = tmp_path / "w.duckdb"
    [r] = ingest_paths(db, [path], load_config(None), say=said.append)
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    phases = [re.sub(r" in \d+\.\d s$", "", line) for line in said]
    assert phases == [
        "tickets.csv: checksum",
        "tickets.csv: read as generic tickets 3 rows",
        "tickets.csv: typed and checked 3 rows",
        "tickets.csv: shaped: 1 of 3 rows rejected",
        "tickets.csv: written 2 rows",
        "tickets.csv: committed",
        "derived data: requester identities",
        "derived data: business minutes and SLA due times 2 rows",
        "derived data: time in status",
        "derived data: engagement 0 rows",  # no requester ids in the file
    ]
    said.clear()
    [again] = ingest_paths(db, [path], load_config(None), say=said.append)
    assert again.status == "unchanged"
    assert [re.sub(r" in \d+\.\d s$", "", line) for line in said] == ["tickets.csv: checksum"]
