"""Hostile input: nothing may crash the loader, nothing is lost.

Every test builds its hostile file here and checks the contract: a row is loaded
or lands in `rejected_rows` with a reason naming the column and the value;
`rows_read = rows_loaded + rows_rejected`; a refused file or a crash mid-file
leaves every table as it was (`snapshot()`); row numbers are the file's data rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import warehouse
from dashboard.config import Config, parse_config
from dashboard.ingest import ingest_paths
from dashboard.ingest.load import IngestResult, ingest_file
from tests.conftest import fetch, ingests_rows, snapshot

HEAD = "id,team,created_at,resolved_at,status\n"
ROWS = [
    "A1,Zoë Team,2024-01-02 10:00,2024-01-03 10:00,open",
    "A2,HR,2024-01-03 10:00,,closed",
    "A3,Finance,2024-01-04 10:00,,new",
]


def text(rows: list[str] = ROWS, head: str = HEAD, nl: str = "\n") -> str:
    return (head + "\n".join(rows) + "\n").replace("\n", nl)


def put(tmp: Path, name: str, data: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def load(db: Path, path: Path, config: Config | None = None, **kw) -> IngestResult:
    [r] = ingest_paths(db, [path], config or Config(), **kw)
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    return r


def rejects(db: Path) -> dict[int, str]:
    return dict(fetch(db, "SELECT row_number, reason FROM rejected_rows ORDER BY row_number"))


def tickets(db: Path) -> list[tuple]:
    return fetch(db, "SELECT ticket_id, service_team, created_at FROM tickets ORDER BY ticket_id")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_refused_unchanged(db: Path, path: Path, *needles: str) -> IngestResult:
    """Load a good file first, then `path`: refused, one-line message, nothing changed."""
    load(db, put(path.parent, "baseline.csv", text()))
    before = snapshot(db)
    [r] = ingest_paths(db, [path], Config())
    assert r.status == "refused" and r.rows_read == r.rows_loaded == r.rows_rejected == 0
    assert "\n" not in r.message
    for n in needles:
        assert n in r.message, r.message
    assert snapshot(db) == before
    assert ingests_rows(db)[-1]["status"] == "refused"
    return r


# --- encodings ---------------------------------------------------------------


def test_utf8(tmp_path: Path, fresh_db: Path) -> None:
    r = load(fresh_db, put(tmp_path, "t.csv", text()))
    assert (r.status, r.rows_loaded) == ("loaded", 3)
    assert tickets(fresh_db)[0][1] == "Zoë Team"


def test_utf8_with_bom(tmp_path: Path, fresh_db: Path) -> None:
    r = load(fresh_db, put(tmp_path, "t.csv", codecs.BOM_UTF8 + text().encode()))
    assert (r.status, r.kind, r.rows_loaded) == ("loaded", "tickets", 3)  # "\ufeffid" is id


def test_cp1252(tmp_path: Path, fresh_db: Path) -> None:
    data = text([r.replace("HR", "Café – €uro") for r in ROWS]).replace("Zoë", "Zoë")
    r = load(fresh_db, put(tmp_path, "t.csv", data.encode("cp1252")))
    assert (r.status, r.rows_loaded) == ("loaded", 3)
    assert [t[1] for t in tickets(fresh_db)] == ["Zoë Team", "Café – €uro", "Finance"]


def test_utf16_excel_unicode_text(tmp_path: Path, fresh_db: Path) -> None:
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF, .txt."""
    data = text(nl="\r\n").replace(",", "\t").encode("utf-16")  # Python writes the BOM
    r = load(fresh_db, put(tmp_path, "export.txt", data))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)
    assert tickets(fresh_db)[0][1] == "Zoë Team"


def test_utf16_without_bom(tmp_path: Path, fresh_db: Path) -> None:
    r = load(fresh_db, put(tmp_path, "t.csv", text().encode("utf-16-le")))
    assert (r.status, r.rows_loaded) == ("loaded", 3)


# --- delimiters and line structure ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "delim"),
    [("t.csv", ","), ("t.csv", ";"), ("t.tsv", "\t"), ("t.txt", "\t"), ("t.csv", "|")],
)
def test_delimiters(tmp_path: Path, fresh_db: Path, name: str, delim: str) -> None:
    # values holding the other delimiters must not fool the sniffer
    rows = [r.split(",") for r in ROWS]
    rows[2][1] = "Finance, Legal; Tax|Audit"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delim, lineterminator="\n")
    writer.writerows([HEAD.strip().split(","), *rows])
    r = load(fresh_db, put(tmp_path, name, out.getvalue()))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)
    assert [t[1] for t in tickets(fresh_db)][2] == "Finance, Legal; Tax|Audit"


def test_quoted_newlines_keep_row_numbers(tmp_path: Path, fresh_db: Path) -> None:
    rows = ['Q1,"IT\nService ""Desk""",2024-01-02 10:00,,open', *ROWS, "Q2,IT,not a date,,open"]
    r = load(fresh_db, put(tmp_path, "t.csv", text(rows)))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (5, 4, 1)
    assert fetch(fresh_db, "SELECT service_team FROM tickets WHERE ticket_id = 'Q1'") == [
        ('IT\nService "Desk"',)
    ]
    assert rejects(fresh_db) == {5: "created_at: could not read 'not a date' as a date/time"}


def test_cr_only_line_endings(tmp_path: Path, fresh_db: Path) -> None:
    rows = [*ROWS, "C4,IT,yesterday,,open"]
    r = load(fresh_db, put(tmp_path, "mac.csv", text(rows, nl="\r")))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (4, 3, 1)
    assert list(rejects(fresh_db)) == [4]


def test_ragged_rows_are_rejected_with_reasons(tmp_path: Path, fresh_db: Path) -> None:
    rows = [ROWS[0], "R2,IT,2024-01-02 10:00,,open,extra,more", "R3,IT", ROWS[1], ROWS[2]]
    r = load(fresh_db, put(tmp_path, "t.csv", text(rows)))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (5, 3, 2)
    assert rejects(fresh_db) == {
        2: "row: too many columns (expected 5, found 7)",
        3: "row: missing columns (expected 5, found 2)",
    }
    raw = dict(fetch(fresh_db, "SELECT row_number, raw FROM rejected_rows"))
    assert raw[2] == "R2,IT,2024-01-02 10:00,,open,extra,more" and raw[3] == "R3,IT"


def test_row_numbers_exact_after_parse_rejects(tmp_path: Path, fresh_db: Path) -> None:
    """The known weakness: DuckDB numbers surviving rows without the ones its CSV
    reader rejected, so a validation reject after a ragged row got a too-small
    number. Parse rejects now switch to the exact path."""
    rows = [
        "G1,IT,2024-01-02 10:00,,open",
        "X2,IT,2024-01-02 10:00,,open,oops",  # parse reject, row 2
        'G3,"multi\nline",2024-01-02 10:00,,open',  # two physical lines, one row
        "X4,IT",  # parse reject, row 4
        "B5,IT,31/31/2024,,open",  # validation reject, row 5
        "G6,IT,2024-01-06 10:00,,open",
        "B7,IT,2024-01-07 10:00,2024-01-01 10:00,open",  # validation reject, row 7
    ]
    r = load(fresh_db, put(tmp_path, "t.csv", text(rows)))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (7, 3, 4)
    got = rejects(fresh_db)
    assert sorted(got) == [2, 4, 5, 7]
    assert got[5] == "created_at: could not read '31/31/2024' as a date/time"
    assert got[7].startswith("resolved_at: '2024-01-01 10:00' is before created_at")
    raw5 = fetch(fresh_db, "SELECT raw FROM rejected_rows WHERE row_number = 5")[0][0]
    assert '"id":"B5"' in raw5.replace(" ", "")


LONG = "L1,IT,2024-01-02 10:00,,open,x,y,z,w"


def test_row_numbers_exact_on_the_parallel_fast_path(tmp_path: Path, fresh_db: Path) -> None:
    """A file big enough for DuckDB to read with several threads (~20 MB) and no
    parse rejects: `__row` comes from rowid order, which must be file order."""
    n, bad = 300_000, {1, 77_777, 150_001, 299_999}
    lines = ["id,team,created_at,subject"]
    lines += [
        f"T{i},IT Service Desk,{'no date' if i in bad else '2024-01-02 10:00:00'},"
        "a subject long enough to spread the file over several scan buffers"
        for i in range(1, n + 1)
    ]
    r = load(fresh_db, put(tmp_path, "big.csv", "\n".join(lines) + "\n"))
    assert (r.rows_read, r.rows_rejected) == (n, len(bad))
    got = fetch(fresh_db, "SELECT row_number, json_extract_string(raw, '$.id') FROM rejected_rows")
    assert sorted(got) == sorted((i, f"T{i}") for i in bad)


@pytest.mark.parametrize(
    "rows",
    [
        [LONG, *ROWS],  # the first data row, inside every sniffer sample
        [LONG, ROWS[0]],  # half the data rows
        [LONG.replace(",", ";"), *(r.replace(",", ";") for r in ROWS)],
    ],
    ids=["first-row", "half-the-rows", "semicolon"],
)
def test_one_long_row_does_not_change_the_column_count(
    tmp_path: Path, fresh_db: Path, rows: list[str]
) -> None:
    head = HEAD.replace(",", ";") if ";" in rows[0] else HEAD
    r = load(fresh_db, put(tmp_path, "t.csv", text(rows, head=head)))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", len(rows) - 1, 1)
    assert rejects(fresh_db) == {1: "row: too many columns (expected 5, found 9)"}


def test_trailing_delimiter_and_title_line(tmp_path: Path, fresh_db: Path) -> None:
    trailing = text([r + "," for r in ROWS])
    assert load(fresh_db, put(tmp_path, "trail.csv", trailing)).rows_loaded == 3
    header_only_trailing = text([r.replace("A", "H") for r in ROWS], head=HEAD.strip() + ",\n")
    r = load(fresh_db, put(tmp_path, "head_trail.csv", header_only_trailing))
    assert (r.rows_loaded, r.rows_rejected) == (3, 0)
    titled = "Ticket export\n\n" + text([r.replace("A", "T") for r in ROWS])
    r = load(fresh_db, put(tmp_path, "titled.csv", titled))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)


def test_duplicate_header_names(tmp_path: Path, fresh_db: Path) -> None:
    data = "id,team,Team,created_at\nD1,a,b,2024-01-01 10:00\nD2,a,b,never\n"
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    assert tickets(fresh_db)[0][1] == "a"  # the first "team" feeds service_team
    [(raw,)] = fetch(fresh_db, "SELECT raw FROM rejected_rows")
    assert raw == '{"id":"D2","team":"a","Team_2":"b","created_at":"never"}'


# --- files that cannot be loaded: refused, nothing changes -----------------------


def test_empty_file(tmp_path: Path, fresh_db: Path) -> None:
    assert_refused_unchanged(fresh_db, put(tmp_path, "empty.csv", b""), "empty")


def test_blank_lines_only(tmp_path: Path, fresh_db: Path) -> None:
    assert_refused_unchanged(fresh_db, put(tmp_path, "blank.csv", "\n\r\n  \n"))


def test_header_only(tmp_path: Path, fresh_db: Path) -> None:
    r = load(fresh_db, put(tmp_path, "t.csv", HEAD))
    assert (r.status, r.kind, r.rows_read) == ("loaded", "tickets", 0)


def test_binary_garbage_named_csv(tmp_path: Path, fresh_db: Path) -> None:
    garbage = bytes(range(256)) * 40
    assert_refused_unchanged(fresh_db, put(tmp_path, "g.csv", garbage), "not a text CSV")


def test_workbook_named_csv(tmp_path: Path, fresh_db: Path) -> None:
    data = b"PK\x03\x04" + bytes(range(256)) * 4
    assert_refused_unchanged(fresh_db, put(tmp_path, "w.csv", data), "rename it to .xlsx")


def test_zero_byte_xlsx(tmp_path: Path, fresh_db: Path) -> None:
    assert_refused_unchanged(fresh_db, put(tmp_path, "t.xlsx", b""), "empty")


def test_corrupt_xlsx(tmp_path: Path, fresh_db: Path) -> None:
    data = b"PK\x03\x04" + b"not really a zip archive" * 20
    assert_refused_unchanged(fresh_db, put(tmp_path, "t.xlsx", data), "Excel workbook")


def test_no_usable_columns_lists_seen_and_needed(tmp_path: Path, fresh_db: Path) -> None:
    r = assert_refused_unchanged(fresh_db, put(tmp_path, "m.csv", "colour,size\nred,3\n"))
    assert "Columns seen: colour, size" in r.message and "ticket_id + created_at" in r.message


# --- timestamps ---------------------------------------------------------------------


def test_mixed_date_formats_in_one_column(tmp_path: Path, fresh_db: Path) -> None:
    data = (
        "id,created_at\n"
        "D1,2024-03-05 10:00\n"
        "D2,25/03/2024\n"  # day-first: 25 > 12 decides the column
        "D3,03/26/2024 10:30 PM\n"  # month-first with AM/PM still reads (26 > 12)
        "D4,1710000000\n"  # epoch seconds
        "D5,1710000000123\n"  # epoch milliseconds
        "D6,2024-03-05 10:00 PM\n"  # a trailing PM is not ignored
        "D7,05-03-2024\n"  # dd-mm-yyyy, not an offset of -2024
    )
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.rows_loaded, r.rows_rejected) == (7, 0)
    got = dict(fetch(fresh_db, "SELECT ticket_id, created_at FROM tickets"))
    assert got == {
        "D1": utc(2024, 3, 5, 10),
        "D2": utc(2024, 3, 25),
        "D3": utc(2024, 3, 26, 22, 30),
        "D4": utc(2024, 3, 9, 16),
        "D5": datetime(2024, 3, 9, 16, 0, 0, 123000, tzinfo=UTC),
        "D6": utc(2024, 3, 5, 22),
        "D7": utc(2024, 3, 5),
    }


def test_naive_timestamps_default_utc_timezone_option_and_config(
    tmp_path: Path, fresh_db: Path
) -> None:
    f = put(tmp_path, "a.csv", "id,created_at\nN1,2024-07-01 09:00\n")
    load(fresh_db, f)
    load(
        fresh_db,
        put(tmp_path, "b.csv", "id,created_at\nN2,2024-07-01 09:00\n"),
        timezone="Europe/Berlin",
    )
    load(
        fresh_db,
        put(tmp_path, "c.csv", "id,created_at\nN3,2024-07-01 09:00\n"),
        Config(timezone="America/New_York"),
    )
    got = dict(fetch(fresh_db, "SELECT ticket_id, created_at FROM tickets"))
    assert got == {"N1": utc(2024, 7, 1, 9), "N2": utc(2024, 7, 1, 7), "N3": utc(2024, 7, 1, 13)}


def test_timestamps_with_offsets_keep_them(tmp_path: Path, fresh_db: Path) -> None:
    data = (
        "id,created_at\n"
        "O1,2024-07-01T09:00:00+02:00\n"
        "O2,2024-07-01T07:00:00Z\n"
        "O3,2024-07-01 09:00:00 +0200\n"
        "O4,2024-07-01 07:00 UTC\n"
        "O5,2024-07-01 09:00 Europe/Berlin\n"
        "O6,2024-07-01T07:00:00.000Z\n"
    )
    r = load(fresh_db, put(tmp_path, "t.csv", data), timezone="America/New_York")
    assert (r.rows_loaded, r.rows_rejected) == (6, 0)
    assert {v for (v,) in fetch(fresh_db, "SELECT created_at FROM tickets")} == {utc(2024, 7, 1, 7)}


def test_dst_gap_and_overlap_rule(tmp_path: Path, fresh_db: Path) -> None:
    """Documented rule (canonical.ts_expr, as PostgreSQL): a wall time skipped by
    spring-forward takes the offset before the change; a repeated wall time in
    fall-back is the second occurrence (standard time). Nothing is rejected."""
    berlin = "id,created_at\nB1,2024-03-31 02:30\nB2,2024-10-27 02:30\n"
    load(fresh_db, put(tmp_path, "berlin.csv", berlin), timezone="Europe/Berlin")
    york = "id,created_at\nY1,2024-03-10 02:30\nY2,2024-11-03 01:30\n"
    r = load(fresh_db, put(tmp_path, "york.csv", york), timezone="America/New_York")
    assert r.rows_rejected == 0
    got = dict(fetch(fresh_db, "SELECT ticket_id, created_at FROM tickets"))
    assert got == {
        "B1": utc(2024, 3, 31, 1, 30),  # 02:30 CET (+01) = 03:30 CEST
        "B2": utc(2024, 10, 27, 1, 30),  # second 02:30, CET (+01)
        "Y1": utc(2024, 3, 10, 7, 30),  # 02:30 EST (-05) = 03:30 EDT
        "Y2": utc(2024, 11, 3, 6, 30),  # second 01:30, EST (-05)
    }


def test_resolved_before_created(tmp_path: Path, fresh_db: Path) -> None:
    data = "id,created_at,resolved_at\nR1,2024-01-05 10:00,2024-01-04 10:00\nR2,2024-01-05 10:00,\n"
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    assert rejects(fresh_db) == {
        1: "resolved_at: '2024-01-04 10:00' is before created_at '2024-01-05 10:00'"
    }


def test_first_response_before_created(tmp_path: Path, fresh_db: Path) -> None:
    data = "id,created_at,first_response_at\nF1,2024-01-05 10:00,2024-01-05 09:59\n"
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert r.rows_rejected == 1
    assert rejects(fresh_db)[1] == (
        "first_response_at: '2024-01-05 09:59' is before created_at '2024-01-05 10:00'"
    )


def test_future_and_pre_1970_dates(tmp_path: Path, fresh_db: Path) -> None:
    data = "id,created_at\nF1,2999-01-01 10:00\nF2,0001-01-01 00:00\nF3,2024-01-01 10:00\n"
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.rows_loaded, r.rows_rejected) == (1, 2)
    assert rejects(fresh_db) == {
        1: "created_at: '2999-01-01 10:00' is in the future",
        2: "created_at: '0001-01-01 00:00' is before 1970",
    }


# --- numbers and scores -----------------------------------------------------------


def test_numeric_junk_never_overflows(tmp_path: Path, fresh_db: Path) -> None:
    data = (
        "id,created_at,reopen_count,first_response_minutes\n"
        "N1,2024-01-01 10:00,1e12,5\n"
        "N2,2024-01-01 10:00,2,inf\n"
        "N3,2024-01-01 10:00,2,1e300\n"
        "N4,2024-01-01 10:00,-1,-5\n"
        "N5,2024-01-01 10:00,3,90\n"
    )
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 1, 4)
    got = rejects(fresh_db)
    assert got[1] == "reopen_count: could not read '1e12' as a whole number"
    assert got[2] == "first_response_minutes: could not read 'inf' as a number"
    assert got[3] == "first_response_minutes: '1e300' is more than ten years"
    assert "reopen_count: '-1' is negative" in got[4] and "'-5' is negative" in got[4]


def test_negative_non_numeric_and_out_of_scale_scores(tmp_path: Path, fresh_db: Path) -> None:
    data = (
        "response_id,submitted_at,csat,nps\n"
        "S1,2024-01-02 10:00,-1,\n"
        "S2,2024-01-02 10:00,great,\n"
        "S3,2024-01-02 10:00,,11\n"
        "S4,2024-01-02 10:00,1e300,\n"
        "S5,2024-01-02 10:00,4,9\n"
    )
    r = load(fresh_db, put(tmp_path, "s.csv", data))
    assert (r.kind, r.rows_loaded, r.rows_rejected) == ("surveys", 1, 4)
    assert rejects(fresh_db) == {
        1: "score: -1 is outside the 1–5 scale of csat",
        2: "score: could not read 'great' as a number (csat)",
        3: "score: 11 is outside the 0–10 scale of nps",
        4: "score: 1e300 is outside the 1–5 scale of csat",
    }


def test_duplicate_survey_responses_do_not_crash(tmp_path: Path, fresh_db: Path) -> None:
    data = "response_id,submitted_at,csat\nS1,2024-01-02 10:00,3\nS1,2024-01-02 11:00,5\n"
    r = load(fresh_db, put(tmp_path, "s.csv", data))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 1, 1)
    assert fetch(fresh_db, "SELECT score FROM survey_responses") == [(5.0,)]
    assert "duplicate 'S1'" in rejects(fresh_db)[1]


# --- duplicates and re-exports -------------------------------------------------------


def test_duplicate_ticket_ids_in_one_file_last_wins_counted(tmp_path: Path, fresh_db: Path) -> None:
    data = (
        "id,created_at,status\n"
        "T1,2024-01-01 10:00,open\nT2,2024-01-01 10:00,open\nT1,2024-01-01 10:00,solved\n"
    )
    r = load(fresh_db, put(tmp_path, "t.csv", data))
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    assert rejects(fresh_db) == {1: "ticket_id: duplicate 'T1' in this file; row 3 replaces it"}
    assert fetch(fresh_db, "SELECT status FROM tickets WHERE ticket_id = 'T1'") == [("solved",)]


@pytest.mark.parametrize("order", ["older_first", "newer_first"])
def test_same_ticket_in_two_exports_latest_updated_wins(
    tmp_path: Path, fresh_db: Path, order: str
) -> None:
    head = "id,created_at,updated_at,status\n"
    newer = put(tmp_path, "new.csv", head + "X,2024-01-01 10:00,2024-01-05 10:00,solved\n")
    older = put(tmp_path, "old.csv", head + "X,2024-01-01 10:00,2024-01-03 10:00,pending\n")
    for f in (older, newer) if order == "older_first" else (newer, older):
        load(fresh_db, f)
    assert fetch(fresh_db, "SELECT status, updated_at FROM tickets") == [
        ("solved", utc(2024, 1, 5, 10))
    ]


# --- transactions ---------------------------------------------------------------------


HOSTILE = (
    "id,team,created_at,resolved_at,status\n"
    "H1,Café,2024-01-02 10:00,,open\n"
    "H2,IT,2024-01-02 10:00,,open,extra\n"
    "H3,IT,bad,,open\n"
).encode("cp1252")


def test_crash_mid_file_leaves_every_table_as_it_was(tmp_path: Path, fresh_db: Path) -> None:
    load(fresh_db, put(tmp_path, "good.csv", text()))
    before = snapshot(fresh_db)
    f = put(tmp_path, "hostile.csv", HOSTILE)
    with warehouse.writer(fresh_db) as con:
        r = ingest_file(con, f, fail_after_write=True)
    assert r.status == "refused" and "rolled back" in r.message
    assert snapshot(fresh_db) == before
    again = load(fresh_db, f)
    assert (again.status, again.rows_loaded, again.rows_rejected) == ("loaded", 1, 2)


def test_reingesting_a_hostile_file_changes_nothing(tmp_path: Path, fresh_db: Path) -> None:
    f = put(tmp_path, "hostile.csv", HOSTILE)
    load(fresh_db, f)
    before = snapshot(fresh_db)
    assert load(fresh_db, f).status == "unchanged"
    assert snapshot(fresh_db) == before


# --- [mapping."<glob>"] overrides -------------------------------------------------------

HOUSE = "Case Ref,Opened On,Squad,Created\nC-1,2024-02-01 09:00,Payroll,1999-01-01\n"
MAPPING = {
    "helpdesk_*.csv": {"Case Ref": "ticket_id", "Opened On": "created_at", "Squad": "service_team"}
}


def test_mapping_renames_columns_before_detection(tmp_path: Path, fresh_db: Path) -> None:
    r = load(fresh_db, put(tmp_path, "Helpdesk_2024.csv", HOUSE), Config(mapping=MAPPING))
    assert (r.status, r.kind, r.rows_loaded) == ("loaded", "tickets", 1)
    assert "mapping helpdesk_*.csv: Case Ref → ticket_id" in r.message
    # "Created" (an alias of created_at) stepped aside for the mapped "Opened On"
    assert tickets(fresh_db) == [("C-1", "Payroll", utc(2024, 2, 1, 9))]


def test_mapping_only_applies_to_matching_files(tmp_path: Path, fresh_db: Path) -> None:
    r = load(
        fresh_db,
        put(tmp_path, "other.csv", HOUSE.replace("Created", "Note")),
        Config(mapping=MAPPING),
    )
    assert r.status == "refused" and "Columns seen: case_ref, opened_on, squad" in r.message


def test_mapping_from_inward_toml_and_conflicts(tmp_path: Path, fresh_db: Path) -> None:
    config = parse_config(
        tomllib.loads(
            '[mapping."exports/helpdesk_*.csv"]\n"Case Ref" = "ticket_id"\n"Squad" = "ticket_id"\n'
        )
    )
    (tmp_path / "exports").mkdir()
    r = load(fresh_db, put(tmp_path / "exports", "helpdesk_1.csv", HOUSE), config)
    assert r.status == "refused" and "maps Case Ref and Squad all to ticket_id" in r.message


# --- properties: random messy CSVs --------------------------------------------------------

JUNK = [
    "",
    " ",
    "null",
    "N/A",
    "-",
    "?",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e12",
    "-1",
    "0",
    "2024-01-02 10:00",
    "2024-13-45",
    "31/12/2024",
    "12/31/2024 11:59 PM",
    "1710000000",
    "1710000000123",
    "2024-03-31 02:30",
    "2999-01-01",
    "0001-01-01",
    "2024-07-01T09:00+02:00",
    "open",
    "Solved",
    "P1",
    "urgent",
    "x" * 300,
    "é€–",
    'quote " inside',
    "semi;colon",
    "tab\there",
    "new\nline",
    "cr\rreturn",
    "\ufeffbom",
    "'; DROP TABLE tickets; --",
]
COLUMNS = [
    "id",
    "created_at",
    "team",
    "resolved_at",
    "first_response_at",
    "status",
    "priority",
    "reopen_count",
    "first_response_minutes",
    "csat",
    "updated_at",
]
value = st.one_of(st.sampled_from(JUNK), st.text(max_size=12))


@st.composite
def messy_csv(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=7))
    if draw(st.booleans()):  # usually a loadable tickets file, sometimes not
        header = ["id", "created_at", *header]
    n = len(header)
    row = st.one_of(st.lists(value, min_size=n, max_size=n), st.lists(value, max_size=n + 2))
    rows = draw(st.lists(row, max_size=12))
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    nl = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    w = csv.writer(out, delimiter=delim, quoting=quoting, lineterminator=nl)
    w.writerow(header)
    w.writerows(rows)
    body = out.getvalue()
    if draw(st.booleans()):  # break the quoting somewhere
        at = draw(st.integers(0, len(body)))
        body = body[:at] + '"' + body[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    suffix = draw(st.sampled_from([".csv", ".txt", ".tsv"]))
    return body.encode(encoding, errors="replace"), suffix


def _state(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(
        "SELECT (SELECT count(*) FROM tickets), (SELECT sum(hash(t)) FROM tickets t), "
        "(SELECT count(*) FROM survey_responses), (SELECT count(*) FROM rejected_rows)"
    ).fetchall()


@pytest.fixture(scope="module")
def prop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prop") / "w.duckdb"


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(messy_csv())
def test_property_random_messy_csv_never_crashes_and_loses_nothing(
    prop_db: Path, tmp_path_factory: pytest.TempPathFactory, case: tuple[bytes, str]
) -> None:
    data, suffix = case
    path = tmp_path_factory.mktemp("m") / f"messy{suffix}"
    path.write_bytes(data)
    with warehouse.writer(prop_db) as con:
        before = _state(con)
        r = ingest_file(con, path)
        assert r.status in ("loaded", "refused", "unchanged"), r.message
        assert r.rows_read == r.rows_loaded + r.rows_rejected
        if r.status != "loaded":
            assert _state(con) == before
            return
        numbers = [
            n
            for (n,) in con.sql(
                "SELECT row_number FROM rejected_rows WHERE ingest_id = ?", params=[r.ingest_id]
            ).fetchall()
        ]
        assert len(numbers) == r.rows_rejected
        assert all(1 <= n <= r.rows_read for n in numbers)
        assert len(set(numbers)) == len(numbers)


_NONCE = itertools.count()


@st.composite
def numbered_file(draw: st.DrawFn) -> tuple[str, set[int], int]:
    """A file whose bad rows we know: ragged ones, unreadable dates, and good rows
    with quoted newlines so physical lines and data rows differ."""
    kinds = draw(
        st.lists(
            st.sampled_from(["good", "newline", "long", "short", "baddate"]),
            min_size=1,
            max_size=25,
        )
    )
    lines, bad = ["id,team,created_at"], set()
    nonce = next(_NONCE)  # unique content, so no example is an `unchanged` re-ingest
    for i, k in enumerate(kinds, start=1):
        row = {
            "good": f"K{nonce}-{i},IT,2024-01-02 10:00",
            "newline": f'K{nonce}-{i},"IT\nDesk",2024-01-02 10:00',
            "long": f"K{nonce}-{i},IT,2024-01-02 10:00,extra",
            "short": f"K{nonce}-{i},IT",
            "baddate": f"K{nonce}-{i},IT,no date",
        }[k]
        lines.append(row)
        if k in ("long", "short", "baddate"):
            bad.add(i)
    return "\n".join(lines) + "\n", bad, len(kinds)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(numbered_file())
def test_property_rejected_row_numbers_are_exact(
    prop_db: Path, tmp_path_factory: pytest.TempPathFactory, case: tuple[str, set[int], int]
) -> None:
    body, bad, n = case
    path = tmp_path_factory.mktemp("n") / "numbered.csv"
    path.write_text(body, encoding="utf-8", newline="")
    with warehouse.writer(prop_db) as con:
        r = ingest_file(con, path)
        assert (r.status, r.rows_read, r.rows_rejected) == ("loaded", n, len(bad)), r.message
        got = {
            k
            for (k,) in con.sql(
                "SELECT row_number FROM rejected_rows WHERE ingest_id = ?", params=[r.ingest_id]
            ).fetchall()
        }
        assert got == bad
