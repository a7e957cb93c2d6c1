"""The Data page's uploader (issue 17): two uploads with one name are two files, and
names like `..` or empty are a clear refusal line, not a crashed page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.app.components.upload import ingest_uploads
from tests.conftest import fetch


@dataclass
class Upload:  # what st.file_uploader hands over: a name and the bytes
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def csv(ticket: str) -> bytes:
    return (
        "Ticket ID,Team,Priority,Status,Created\n"
        f"{ticket},IT Service Desk,high,open,2026-03-02 10:00\n"
    ).encode()


def tickets(db: Path) -> list[str]:
    return [r[0] for r in fetch(db, "SELECT ticket_id FROM tickets ORDER BY 1")]


def test_two_uploads_with_the_same_name_both_load(tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    ok, lines = ingest_uploads(
        [Upload("tickets.csv", csv("A1")), Upload("tickets.csv", csv("B1"))], db
    )
    assert ok, lines
    assert tickets(db) == ["A1", "B1"]
    assert len(lines) == 2 and not any("same content" in line for line in lines)


def test_odd_upload_names_are_a_line_each_not_a_crash(tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    files = [Upload("..", csv("X")), Upload("", csv("Y")), Upload("a\nb.csv", csv("Z"))]
    ok, lines = ingest_uploads(files, db)
    assert not ok and len(lines) == 3
    assert "unsupported file type" in lines[0] and "unsupported file type" in lines[1]
    assert lines[2].startswith("✅ a_b.csv") and tickets(db) == ["Z"]
