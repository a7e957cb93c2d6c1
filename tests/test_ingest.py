"""Ingest v1: the nothing-lost invariant, dedupe, transactions, and the generic layouts."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard.config import Config
from dashboard.ingest import ingest_paths
from tests.conftest import fetch, ingests_rows, snapshot

GOOD = """Ticket ID,Team,Department,Priority,Status,Created,First response at,Resolved
T1,IT Service Desk,Sales,High,Solved,2024-01-02 10:00,2024-01-02 10:30,2024-01-03 10:00
T2,HR Operations,Sales,P1,open,2024-01-03 09:00,,
T3,Facilities,Finance,low,closed,2024-01-04 08:00:00,2024-01-04 09:00:00,2024-01-05 08:00:00
"""
BAD = """id,team,created_at,resolved_at,reopen_count
B1,IT,2024-01-02 10:00,2024-01-03 10:00,0
B2,IT,not a date,,0
B3,IT,2024-01-05 10:00,2024-01-04 10:00,0
B4,IT,,2024-01-04 10:00,0
B5,IT,2024-01-05 10:00,,lots
B1,IT,2024-01-02 10:00,2024-01-03 12:00,1
B6,IT,too,many,fields,here
"""


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def load(db: Path, *paths: Path, **kw) -> list:
    return ingest_paths(db, paths, Config(), **kw)


def rejected(db: Path) -> list[tuple]:
    return fetch(db, "SELECT row_number, reason FROM rejected_rows ORDER BY row_number")


def test_good_file_loads_every_row(tmp_path: Path, fresh_db: Path) -> None:
    [r] = load(fresh_db, write(tmp_path, "good.csv", GOOD))
    assert (r.status, r.kind, r.rows_read, r.rows_loaded, r.rows_rejected) == (
        "loaded",
        "tickets",
        3,
        3,
        0,
    )
    con = duckdb.connect(str(fresh_db), read_only=True)
    rows = con.sql(
        "SELECT ticket_id, priority, status, first_response_minutes FROM ticket_times ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [
        ("T1", "high", "solved", 30.0),
        ("T2", "urgent", "open", None),
        ("T3", "low", "closed", 60.0),
    ]


def test_bad_rows_are_rejected_with_a_reason_naming_the_column(
    tmp_path: Path, fresh_db: Path
) -> None:
    [r] = load(fresh_db, write(tmp_path, "bad.csv", BAD))
    assert r.rows_read == 7
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    reasons = dict(rejected(fresh_db))
    assert "duplicate 'B1'" in reasons[1]  # last row wins, the earlier one is counted
    assert reasons[2].startswith("created_at: could not read 'not a date'")
    assert reasons[3].startswith("resolved_at: '2024-01-04 10:00' is before created_at")
    assert reasons[4] == "created_at: empty (required)"
    assert reasons[5].startswith("reopen_count: could not read 'lots'")
    assert "too many columns" in reasons[7]
    assert r.rows_loaded == 1
    con = duckdb.connect(str(fresh_db), read_only=True)
    assert con.sql("SELECT reopen_count FROM tickets WHERE ticket_id = 'B1'").fetchall() == [(1,)]
    con.close()


def test_reingest_same_file_is_unchanged(tmp_path: Path, fresh_db: Path) -> None:
    f = write(tmp_path, "good.csv", GOOD)
    load(fresh_db, f)
    before = snapshot(fresh_db)
    [r] = load(fresh_db, f)
    assert r.status == "unchanged" and r.rows_read == r.rows_loaded == r.rows_rejected == 0
    assert snapshot(fresh_db) == before


def test_refused_file_leaves_tables_identical(tmp_path: Path, fresh_db: Path) -> None:
    load(fresh_db, write(tmp_path, "good.csv", GOOD))
    before = snapshot(fresh_db)
    [r] = load(fresh_db, write(tmp_path, "mystery.csv", "colour,size\nred,3\n"))
    assert r.status == "refused"
    assert "Columns seen: colour, size" in r.message and "ticket_id" in r.message
    assert snapshot(fresh_db) == before
    assert ingests_rows(fresh_db)[-1]["status"] == "refused"


def test_newer_export_of_same_ticket_wins_older_does_not(tmp_path: Path, fresh_db: Path) -> None:
    head = "id,created_at,updated_at,status\n"
    load(fresh_db, write(tmp_path, "a.csv", head + "X,2024-01-01 10:00,2024-01-02 10:00,open\n"))
    load(fresh_db, write(tmp_path, "b.csv", head + "X,2024-01-01 10:00,2024-01-05 10:00,solved\n"))
    load(fresh_db, write(tmp_path, "c.csv", head + "X,2024-01-01 10:00,2024-01-03 10:00,pending\n"))
    con = duckdb.connect(str(fresh_db), read_only=True)
    assert con.sql("SELECT status FROM tickets").fetchall() == [("solved",)]
    con.close()


def test_wide_and_long_outcomes_load_to_the_same_rows(tmp_path: Path) -> None:
    wide = write(
        tmp_path,
        "wide.csv",
        "period_start,business_unit,customer_csat,churn_rate\n"
        "2024-01-01,Sales,81.5,2.1\n2024-01-08,Sales,80.0,\n",
    )
    long = write(
        tmp_path,
        "long.csv",
        "period_start,business_unit,metric,value\n"
        "2024-01-01,Sales,customer_csat,81.5\n2024-01-01,Sales,churn_rate,2.1\n"
        "2024-01-08,Sales,customer_csat,80.0\n",
    )
    rows = []
    for f in (wide, long):
        db = tmp_path / f"{f.stem}.duckdb"
        [r] = load(db, f)
        assert r.kind == "outcomes" and r.rows_read == r.rows_loaded + r.rows_rejected
        con = duckdb.connect(str(db), read_only=True)
        rows.append(
            con.sql(
                "SELECT period_start, business_unit, metric, value "
                "FROM external_outcomes ORDER BY ALL"
            ).fetchall()
        )
        con.close()
    assert rows[0] == rows[1] and len(rows[0]) == 3


@pytest.mark.parametrize("fmt", ["parquet", "json_array", "jsonl", "xlsx"])
def test_other_file_types(tmp_path: Path, fresh_db: Path, fmt: str) -> None:
    frame = pl.DataFrame(
        {
            "ticket_id": ["P1", "P2"],
            "service_team": ["Legal", "Legal"],
            "created_at": ["2024-02-01 10:00:00", "2024-02-02 11:00:00"],
            "resolved_at": ["2024-02-01 12:00:00", None],
        }
    )
    if fmt == "parquet":
        path = tmp_path / "t.parquet"
        frame.write_parquet(path)
    elif fmt == "xlsx":
        path = tmp_path / "t.xlsx"
        frame.write_excel(path)
    elif fmt == "jsonl":
        path = tmp_path / "t.jsonl"
        frame.write_ndjson(path)
    else:
        path = tmp_path / "t.json"
        path.write_text(json.dumps(frame.to_dicts()))
    [r] = load(fresh_db, path)
    assert (r.status, r.kind, r.rows_read, r.rows_loaded) == ("loaded", "tickets", 2, 2)
    con = duckdb.connect(str(fresh_db), read_only=True)
    mins = con.sql("SELECT resolution_minutes FROM ticket_times ORDER BY ticket_id").fetchall()
    con.close()
    assert mins == [(120.0,), (None,)]


def test_people_org_and_surveys(tmp_path: Path, fresh_db: Path) -> None:
    results = load(
        fresh_db,
        write(tmp_path, "org.csv", "department,business_unit\nSales,Revenue\nLegal Affairs,Corp\n"),
        write(
            tmp_path,
            "people.csv",
            "person_id,department,person_type,active_from,active_to\n"
            "u1,Sales,employee,2023-01-01,\nu2,Sales,Contractor,2023-01-01,2024-06-30\n",
        ),
        write(
            tmp_path,
            "surveys.csv",
            "response_id,submitted_at,respondent_id,csat,nps,comment\n"
            "r1,2024-01-02 10:00,u1,5,9,great\nr2,2024-01-03 10:00,u2,7,,too high\n"
            "r3,2024-01-03 11:00,u2,,,\n",
        ),
    )
    assert [r.kind for r in results] == ["org", "people", "surveys"]
    surveys = results[2]
    assert (surveys.rows_read, surveys.rows_loaded, surveys.rows_rejected) == (3, 1, 2)
    reasons = dict(rejected(fresh_db))
    assert reasons[2] == "score: 7 is outside the 1–5 scale of csat"
    assert reasons[3] == "score: no survey score in this row"
    con = duckdb.connect(str(fresh_db), read_only=True)
    assert con.sql("SELECT metric, score FROM survey_responses ORDER BY metric").fetchall() == [
        ("csat", 5.0),
        ("nps", 9.0),
    ]
    assert con.sql("SELECT person_type FROM people ORDER BY person_id").fetchall() == [
        ("employee",),
        ("contractor",),
    ]
    con.close()


def test_naive_timestamps_use_the_given_timezone(tmp_path: Path, fresh_db: Path) -> None:
    f = write(tmp_path, "tz.csv", "id,created_at\nZ1,2024-07-01 09:00\nZ2,2024-07-01T09:00+02:00\n")
    load(fresh_db, f, timezone="Europe/Berlin")
    con = duckdb.connect(str(fresh_db), read_only=True)
    hours = con.sql(
        "SELECT hour(created_at AT TIME ZONE 'UTC') FROM tickets ORDER BY ticket_id"
    ).fetchall()
    con.close()
    assert hours == [(7,), (7,)]


def test_invariant_holds_for_every_ingest(demo_wh) -> None:
    for row in ingests_rows(demo_wh.db):
        assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"]
