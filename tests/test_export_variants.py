"""Export variants the vendors really produce (docs/vendor-formats.md §7, §9-§11): every
row loads, or is rejected with a reason that says what was wrong.

Google Forms' own download writes zones as words; Excel re-saves a CSV in its
locale (delimiter, decimal mark, date order, serial dates, ids in scientific
notation); Jira writes headers, statuses and months in the user's language;
ServiceNow exports either display values or raw values (sys_ids, state codes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config
from dashboard.ingest import ingest_paths
from dashboard.ingest.canonical import decimal_comma, number_sql, ts_expr
from tests.conftest import FIXTURES, fetch


def load(db: Path, *paths: Path, **kw):
    results = ingest_paths(db, list(paths), Config(), **kw)
    for r in results:
        assert r.status == "loaded", r.message
        assert r.rows_read == r.rows_loaded + r.rows_rejected  # nothing lost
    return results


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


# ------------------------------------------------------------------ Google Forms


def test_forms_download_zones_are_read_as_the_offsets_they_name(tmp_path) -> None:
    """`Download responses (.csv)` from the Forms UI: `2024/01/02 5:05:35 PM GMT`,
    `GMT+1` in British summer, `GMT-05:00`, `AST` (Atlantic), `EST`/`EDT`."""
    db = tmp_path / "w.duckdb"
    gmt, ast = load(
        db,
        FIXTURES / "google_forms/forms_download_gmt.csv",
        FIXTURES / "google_forms/forms_download_ast.csv",
    )
    assert (gmt.rows_loaded, gmt.rows_rejected) == (7, 0)
    assert (ast.rows_loaded, ast.rows_rejected) == (4, 1)
    got = sorted(fetch(db, "SELECT DISTINCT submitted_at FROM survey_responses"))
    assert [t for (t,) in got] == [
        utc(2022, 6, 1, 20, 45, 10),  # 4:45:10 PM EDT = UTC-4
        utc(2022, 6, 22, 15, 7, 29),  # 11:07:29 AM AST = UTC-4 (Atlantic, not Alaska)
        utc(2022, 6, 22, 15, 7, 33),
        utc(2022, 12, 1, 21, 45, 10),  # 4:45:10 PM EST = UTC-5
        utc(2024, 1, 2, 17, 5, 35),  # 5:05:35 PM GMT
        utc(2024, 3, 30, 23, 59, 2),
        utc(2024, 3, 31, 8, 15),  # 9:15 AM GMT+1
        utc(2024, 7, 14, 11, 0),
        utc(2024, 10, 27, 0, 30),  # 1:30 AM GMT+1: the first 01:30 of the DST change
        utc(2024, 10, 27, 1, 30),  # 1:30 AM GMT: the second one, an hour later
        utc(2024, 11, 5, 13, 0),  # 8:00 AM GMT-05:00
    ]
    [(reason,)] = fetch(db, "SELECT reason FROM rejected_rows")
    assert "2022/06/23 9:00:00 AM XYZ" in reason and "unknown time zone XYZ" in reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/01/02 5:05:35 PM GMT", utc(2024, 1, 2, 17, 5, 35)),
        ("2024/01/02 5:05:35\u202fPM GMT+1", utc(2024, 1, 2, 16, 5, 35)),  # narrow nbsp
        ("2024/01/02 5:05:35 PM UTC+5:30", utc(2024, 1, 2, 11, 35, 35)),
        ("2024/01/02 5:05:35 PM GMT+0530", utc(2024, 1, 2, 11, 35, 35)),
        ("2024-01-02 17:05:35 BST", utc(2024, 1, 2, 16, 5, 35)),  # British, not Bangladesh
        ("2024-01-02 17:05:35 IST", utc(2024, 1, 2, 11, 35, 35)),  # India
        ("2024-01-02 17:05:35 CST", utc(2024, 1, 2, 23, 5, 35)),  # US Central
        ("2024-01-02 17:05:35 AEDT", utc(2024, 1, 2, 6, 5, 35)),
        ("2024/01/02 5:05:35 PM", utc(2024, 1, 2, 17, 5, 35)),  # no zone: --timezone
        ("12/13/2019 9:50:30", utc(2019, 12, 13, 9, 50, 30)),  # the Sheets download
        ("2024-01-02 17:05:35 Europe/Berlin", utc(2024, 1, 2, 16, 5, 35)),
        ("2010-03-31T15:59:42+01:00", utc(2010, 3, 31, 14, 59, 42)),
        ("45292.75", utc(2024, 1, 1, 18)),  # an Excel serial date
        ("12345", None),  # five digits, but 1933: no serial date
        ("2024/01/02 5:05:35 PM QQQ", None),
    ],
)
def test_timestamp_spellings(text: str, expected: datetime | None) -> None:
    con = duckdb.connect()
    got = con.sql(
        f"SELECT {ts_expr('v', 'UTC', False)} FROM (SELECT ? AS v)", params=[text]
    ).fetchall()[0][0]
    assert got == expected


# ---------------------------------------------------------------------------- Excel


def zendesk_tickets(db: Path) -> dict[str, tuple]:
    return {
        r[0]: r
        for r in fetch(
            db,
            "SELECT ticket_id, service_team, status, priority, channel, "
            "ticket_type, created_at, updated_at, first_response_at, resolved_at, "
            "reopen_count, requester_department FROM tickets",
        )
    }


@pytest.mark.parametrize("variant", ["zendesk_resaved_de.csv", "zendesk_resaved_us.csv"])
def test_excel_resaved_zendesk_export_loads_the_same_tickets(tmp_path, variant) -> None:
    """The Zendesk fixture opened and saved again by Excel: German (`;`, cp1252,
    `02.03.2026 08:14`, `3.229`, `1,03006E+13`) and US (`3/2/2026 8:14`, serial
    dates in Solved at, `3,229`, `1.03006E+13`). Same tickets, same times and
    numbers; the rounded requester ids are never taken for ids."""
    original, resaved = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    load(original, FIXTURES / "zendesk/tickets.csv")
    [r] = load(resaved, FIXTURES / "excel" / variant)
    assert r.rows_rejected == 0
    assert zendesk_tickets(resaved) == zendesk_tickets(original)
    ids = [i for (i,) in fetch(resaved, "SELECT requester_id FROM tickets")]
    assert ids and not any("E+" in (i or "") for i in ids)
    assert "rounded by Excel" in r.message


def test_excel_rounded_ticket_ids_are_rejected_with_the_reason(tmp_path) -> None:
    f = tmp_path / "export.csv"
    f.write_text(
        "ticket_id,created_at,requester_id\n"
        "2.02401E+13,2024-01-02 09:00,1.5E+12\n"
        "20240100000124,2024-01-02 10:00,1.5E+12\n"
    )
    db = tmp_path / "w.duckdb"
    [r] = load(db, f)
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    [(reason,)] = fetch(db, "SELECT reason FROM rejected_rows")
    assert "ticket_id: '2.02401E+13' is a number Excel rounded" in reason
    assert fetch(db, "SELECT ticket_id, requester_id FROM tickets") == [("20240100000124", None)]


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [
        ("1,234", False, 1234.0),
        ("1,234.5", False, 1234.5),
        ("1,234,567", False, 1234567.0),
        ("12,5", False, 12.5),  # a lone decimal comma in a point file: still a decimal
        ("1.234", False, 1.234),
        ("1.234", True, 1234.0),
        ("1.234,5", True, 1234.5),
        ("12,5", True, 12.5),
        ("1\u00a0234,5", True, 1234.5),  # French: no-break space groups
        ("1 234.5", False, 1234.5),
        ("-3", True, -3.0),
        ("1e3", False, 1000.0),
        ("12,34,5", False, None),
        ("abc", True, None),
    ],
)
def test_numbers_as_excel_writes_them(text: str, comma: bool, expected: float | None) -> None:
    con = duckdb.connect()
    got = con.sql(
        f"SELECT {number_sql('v', comma)} FROM (SELECT ? AS v)", params=[text]
    ).fetchall()[0][0]
    assert got == expected


@pytest.mark.parametrize(
    ("values", "delimiter", "expected"),
    [
        (["12,5", "3", "1.234,5"], ",", True),
        (["12.5", "3", "1,234.5"], ";", False),
        (["3.229", "34"], ";", True),  # no evidence: `;` is Excel's list separator there
        (["3.229", "34"], ",", False),
        (["1.234.567"], ",", True),
    ],
)
def test_decimal_comma_is_decided_per_file(values, delimiter, expected) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    assert decimal_comma(con, "t", ["v"], delimiter) is expected


# ----------------------------------------------------------------------------- Jira

JIRA_COLUMNS = (
    "SELECT ticket_id, service_team, status, priority, ticket_type, category, created_at, "
    "updated_at, first_response_at, resolved_at, subject, requester_id FROM tickets"
)


@pytest.mark.parametrize("locale", ["de", "fr"])
def test_localised_jira_export_loads_the_same_tickets(tmp_path, locale) -> None:
    """The Jira fixture as a German or French UI exports it: translated headers
    (`Vorgangsschlüssel`, `Clé de ticket`…), statuses and categories (`Warten auf
    Kunden`, `Terminé`), month names (`02/Mär/26`, `02/mars/26`) and, in French,
    priorities: the same tickets as the English export."""
    english, localised = tmp_path / "en.duckdb", tmp_path / f"{locale}.duckdb"
    load(english, FIXTURES / "jira/issues.csv")
    [r] = load(localised, FIXTURES / f"jira/issues_{locale}.csv")
    assert r.format == "jira" and r.rows_rejected == 0
    assert sorted(fetch(localised, JIRA_COLUMNS)) == sorted(fetch(english, JIRA_COLUMNS))


MONTHS_BY_LOCALE = {
    "Created": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "Creada": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"],
    "Erstellt": [
        "Jan",
        "Feb",
        "Mär",
        "Apr",
        "Mai",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Okt",
        "Nov",
        "Dez",
    ],
    "Création": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
}
HEADS = {
    "Created": "Issue key,Issue Type,Created",
    "Creada": "Clave de incidencia,Tipo de Incidencia,Creada",
    "Erstellt": "Vorgangsschlüssel,Vorgangstyp,Erstellt",
    "Création": "Clé de ticket,Type de ticket,Création",
}


@pytest.mark.parametrize("created", list(MONTHS_BY_LOCALE))
def test_jira_month_names_in_every_locale(tmp_path, created) -> None:
    f = tmp_path / "issues.csv"
    lines = [HEADS[created]] + [
        f"IT-{m + 1},[System] Incident,15/{name}/25 2:30 PM"
        for m, name in enumerate(MONTHS_BY_LOCALE[created])
    ]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    [r] = load(db, f)
    assert r.rows_rejected == 0, fetch(db, "SELECT reason FROM rejected_rows")
    got = dict(fetch(db, "SELECT ticket_id, created_at FROM tickets"))
    assert got == {f"IT-{m}": utc(2025, m, 15, 14, 30) for m in range(1, 13)}


# ----------------------------------------------------------------------- ServiceNow

SN_COLUMNS = (
    "SELECT ticket_id, service_team, status, priority, channel, category, ticket_type, "
    "created_at, updated_at, resolved_at, subject, requester_department FROM tickets"
)


@pytest.mark.parametrize("variant", ["incident_dv_twins.csv", "incident_table_api_all.json"])
def test_servicenow_display_and_raw_twins_load_like_the_display_export(tmp_path, variant) -> None:
    """`dv_` twins (displayvalue=all) and the Table API's {display_value, value} pairs
    (sysparm_display_value=all): display values win, raw times are UTC. The display
    export was taken by a user in New York, so it needs --timezone; the others not."""
    display, other = tmp_path / "d.duckdb", tmp_path / "o.duckdb"
    load(display, FIXTURES / "servicenow/incident.csv", timezone="America/New_York")
    [r] = load(other, FIXTURES / "servicenow" / variant)
    assert r.format == "servicenow" and r.rows_rejected == 0
    assert sorted(fetch(other, SN_COLUMNS)) == sorted(fetch(display, SN_COLUMNS))
    # the caller's sys_id is kept as the tool id, the name as the name
    con = duckdb.connect(str(other), read_only=True)
    try:
        ids = con.sql("SELECT tool_id, name FROM requester_identities").fetchall()
    finally:
        con.close()
    assert ids and all(len(t) == 32 and n and " " in n for t, n in ids)


def test_servicenow_raw_value_export_maps_codes_and_reads_utc(tmp_path) -> None:
    """sysparm_display_value=false: state and priority codes, sys_id references, UTC
    times. Same instants and statuses as the display export; teams stay sys_ids, and
    the ingest message says how to get their names."""
    display, raw = tmp_path / "d.duckdb", tmp_path / "r.duckdb"
    load(display, FIXTURES / "servicenow/incident.csv", timezone="America/New_York")
    [r] = load(raw, FIXTURES / "servicenow/incident_raw_values.csv", timezone="Asia/Tokyo")
    assert r.rows_rejected == 0 and "times read as UTC" in r.message
    assert "assignment groups are sys_ids" in r.message
    cols = "SELECT ticket_id, status, priority, channel, created_at, resolved_at FROM tickets"
    assert sorted(fetch(raw, cols)) == sorted(fetch(display, cols))
    teams = {t for (t,) in fetch(raw, "SELECT service_team FROM tickets") if t}
    assert teams and all(len(t) == 32 for t in teams)


def test_servicenow_task_state_codes_are_the_task_tables(tmp_path) -> None:
    """State 3 is On Hold on an incident but Closed Complete on a catalog task."""
    f = tmp_path / "tasks.csv"
    f.write_text(
        '"number","opened_at","state","assignment_group"\n'
        '"INC0010001","2024-01-02 09:00:00","3","0a52d3dcd7011200f2d224837e6103f2"\n'
        '"SCTASK0010001","2024-01-02 09:00:00","3","0a52d3dcd7011200f2d224837e6103f2"\n'
        '"RITM0010001","2024-01-02 09:00:00","-5","0a52d3dcd7011200f2d224837e6103f2"\n'
    )
    db = tmp_path / "w.duckdb"
    load(db, f)
    assert dict(fetch(db, "SELECT ticket_id, status FROM tickets")) == {
        "INC0010001": "on_hold",
        "SCTASK0010001": "closed",
        "RITM0010001": "pending",
    }
