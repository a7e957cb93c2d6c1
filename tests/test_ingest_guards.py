"""Ingest that used to lose or leak silently (issue 17): each case is refused or loaded
with its reason stated, and what the CLI prints stays one line per file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from dashboard.cli import main

TICKETS = """Ticket ID,Team,Priority,Status,Created,Resolved
T1,IT Service Desk,high,solved,2026-03-02 10:00,2026-03-02 12:00
T2,IT Service Desk,normal,open,2026-03-03 09:30,
"""


def ingests(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.sql("SELECT * FROM ingests ORDER BY ingest_id").pl()
    finally:
        con.close()
    return frame.to_dicts()


def test_a_symlink_out_of_the_folder_is_refused_unread(tmp_path, capsys) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    target = secret / "shadow.csv"
    target.write_text("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nx,y\n")
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "tickets.csv").write_text(TICKETS)
    os.symlink(target, exports / "leak.csv")
    os.symlink(exports / "tickets.csv", exports / "same_folder_link.csv")
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(exports), "--db", str(db), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    leak = next(r for r in out if r["source_file"].endswith("leak.csv"))
    assert leak["status"] == "refused" and "outside" in leak["message"]
    assert leak["sha256"] == ""
    for row in ingests(db):  # nothing of the target reached the warehouse
        assert "hashhash" not in row["message"] and "secret" not in row["source_file"]
    assert {r["status"] for r in out if not r["source_file"].endswith("leak.csv")} <= {
        "loaded",
        "unchanged",
    }


def test_a_newline_in_a_file_name_stays_one_line(tmp_path, capsys) -> None:
    f = tmp_path / "evil\nname\r.csv"
    f.write_text(TICKETS)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("evil\\nname\\r.csv: loaded 2 of 2")
