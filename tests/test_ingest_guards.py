"""Ingest that used to lose or leak silently (issue 17): each case is refused or loaded
with its reason stated, and what the CLI prints stays one line per file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from dashboard.cli import main
from tests.conftest import TWO_TICKETS, fetch, ingests_rows


def test_a_symlink_out_of_the_folder_is_refused_unread(tmp_path, capsys) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    target = secret / "shadow.csv"
    target.write_text("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nx,y\n")
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "tickets.csv").write_text(TWO_TICKETS)
    os.symlink(target, exports / "leak.csv")
    os.symlink(exports / "tickets.csv", exports / "same_folder_link.csv")
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(exports), "--db", str(db), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    leak = next(r for r in out if r["source_file"].endswith("leak.csv"))
    assert leak["status"] == "refused" and "outside" in leak["message"]
    assert leak["sha256"] == ""
    for row in ingests_rows(db):  # nothing of the target reached the warehouse
        assert "hashhash" not in row["message"] and "secret" not in row["source_file"]
    assert {r["status"] for r in out if not r["source_file"].endswith("leak.csv")} <= {
        "loaded",
        "unchanged",
    }


def test_a_newline_in_a_file_name_stays_one_line(tmp_path, capsys) -> None:
    f = tmp_path / "evil\nname\r.csv"
    f.write_text(TWO_TICKETS)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("evil\\nname\\r.csv: loaded 2 of 2")


HEAD = ["Ticket ID", "Team", "Priority", "Status", "Created"]


def workbook(path: Path, sheets: list[tuple[str, list[list[str]], bool]]) -> Path:
    """An .xlsx with (name, rows, hidden) sheets, written by xlsxwriter."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, rows, hidden in sheets:
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            ws.write_row(i, 0, row)
        if hidden:
            ws.hide()
    wb.worksheets()[[h for *_, h in sheets].index(False)].activate()
    wb.close()
    return path


def loaded_ids(db: Path) -> list[str]:
    return [r[0] for r in fetch(db, "SELECT ticket_id FROM tickets ORDER BY 1")]


def test_xlsx_hidden_first_sheet_is_not_loaded_instead_of_the_visible_one(tmp_path) -> None:
    old = [HEAD, ["OLD1", "IT", "high", "open", "2020-01-01 10:00"]]
    new = [HEAD, ["NEW1", "IT", "high", "open", "2026-01-01 10:00"]]
    f = workbook(
        tmp_path / "t.xlsx",
        [("Old copy", old, True), ("Notes", [["read me"]], False), ("Export", new, False)],
    )
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    assert loaded_ids(db) == ["NEW1"]
    message = ingests_rows(db)[-1]["message"]
    assert "sheet 'Export' loaded (of 3)" in message
    assert "hidden sheets not loaded: 'Old copy'" in message


def test_xlsx_with_many_data_sheets_names_every_one_not_loaded(tmp_path) -> None:
    sheets = [
        (f"Week {i}", [HEAD, [f"W{i}", "IT", "high", "open", "2026-01-01 10:00"]], False)
        for i in range(1, 31)
    ]
    f = workbook(tmp_path / "weeks.xlsx", sheets)
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    assert loaded_ids(db) == ["W1"]
    message = ingests_rows(db)[-1]["message"]
    assert "sheet 'Week 1' loaded (of 30)" in message
    assert "other sheets with data not loaded: 'Week 2'" in message and "and 19 more" in message


def test_xlsx_that_unpacks_past_the_cap_is_refused_before_reading(tmp_path, monkeypatch) -> None:
    """Stands in for the 6.5 MB workbook holding 1.9 GB of XML: the cap is lowered
    instead of writing gigabytes in a test; the refusal comes from the zip directory."""
    from dashboard.ingest import read_xlsx

    rows = [HEAD] + [[f"T{i}", "IT", "high", "open", "2026-01-01 10:00"] for i in range(3000)]
    f = workbook(tmp_path / "big.xlsx", [("Export", rows, False)])
    monkeypatch.setattr(read_xlsx, "MAX_XLSX_UNPACKED", 100_000)
    monkeypatch.setattr(
        read_xlsx.pl, "read_excel", lambda *a, **k: pytest.fail("the workbook was read")
    )
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 1
    row = ingests_rows(db)[-1]
    assert row["status"] == "refused" and "MB of XML" in row["message"]
    assert "export it as CSV" in row["message"]


def teams(db: Path) -> list[str]:
    return [r[0] for r in fetch(db, "SELECT service_team FROM tickets ORDER BY 1")]


def test_a_file_mixing_utf8_and_cp1252_lines_reads_each_line_right(tmp_path) -> None:
    head = b"Ticket ID,Team,Priority,Status,Created\n"
    utf8 = "T1,Büro Zürich,high,open,2026-01-01 10:00\n".encode()
    legacy = "T2,Médiathèque,high,open,2026-01-01 11:00\n".encode("cp1252")
    f = tmp_path / "appended.csv"
    f.write_bytes(head + utf8 + legacy + utf8.replace(b"T1", b"T3"))
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    assert teams(db) == ["Büro Zürich", "Büro Zürich", "Médiathèque"]  # no Ã¼ mojibake
    message = ingests_rows(db)[-1]["message"]
    assert "mixed encodings: 1 lines were not UTF-8 and were read as cp1252" in message


def test_a_cp1252_file_still_reads_whole_and_without_a_mixed_note(tmp_path) -> None:
    text = "Ticket ID,Team,Priority,Status,Created\nT1,Médiathèque,high,open,2026-01-01 10:00\n"
    f = tmp_path / "legacy.csv"
    f.write_bytes(text.encode("cp1252"))
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    assert teams(db) == ["Médiathèque"]
    assert "mixed" not in ingests_rows(db)[-1]["message"]


def test_a_jsonl_of_audit_pages_loads_under_a_small_memory_cap(tmp_path, monkeypatch) -> None:
    """A Zendesk audits JSONL (saved API pages, one per line) ingests within a memory cap
    far below what the old reader took: `read_json_auto` with a 128 MiB record limit
    asked for 256 MiB buffers whatever the file, and typed the whole file into structs
    (a 320 MB demo export ran out of the 1.5 GiB cap). Every planted event is loaded."""
    from dashboard import memory
    from dashboard.config import Config
    from dashboard.ingest import ingest_paths

    monkeypatch.setattr(memory, "INGEST_MEMORY_LIMIT", 256 << 20)
    path = tmp_path / "zendesk_ticket_audits.jsonl"
    pages, per_page, k = 10, 1000, 0
    with path.open("w") as fh:
        for _ in range(pages):
            audits = []
            for _ in range(per_page):
                k += 1
                audits.append(
                    {
                        "id": k,
                        "ticket_id": 1 + k // 3,
                        "created_at": f"2025-05-01T{k % 24:02d}:{k % 60:02d}:00Z",
                        "author_id": 7,
                        "events": [
                            {
                                "id": 10 * k,
                                "type": "Change",
                                "field_name": "status",
                                "value": "open",
                                "previous_value": "new",
                            },
                            {
                                "id": 10 * k + 1,
                                "type": "Comment",
                                "author_id": 7,
                                "public": True,
                                "body": "x" * 200,
                            },
                            {"id": 10 * k + 2, "type": "Notification", "body": "sent"},
                        ],
                    }
                )
            users = [{"id": 7, "name": "Agent", "role": "agent"}]
            fh.write(json.dumps({"audits": audits, "users": users, "next_page": None}) + "\n")
    (result,) = ingest_paths(tmp_path / "w.duckdb", [path], Config())
    assert result.status == "loaded", result.message
    assert result.rows_read == result.rows_loaded == 2 * pages * per_page
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        kinds = dict(con.sql("SELECT kind, count(*) FROM ticket_events GROUP BY kind").fetchall())
        at = con.sql('SELECT min("at"), max("at") FROM ticket_events').fetchall()[0]
    finally:
        con.close()
    assert kinds == {"status": pages * per_page, "reply": pages * per_page}
    assert (at[0].hour, at[1].hour) == (0, 23)
