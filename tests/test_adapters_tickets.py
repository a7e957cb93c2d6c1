"""Ticket vendor adapters: every fixture ingests with the right adapter and the
nothing-lost invariant, mapped values are spot-checked, and the real public
exports (read by path from ../shared/real-exports, never copied) ingest without
a mapping file. Event logs collapse to one ticket per incident/case."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config
from dashboard.ingest import ingest_paths
from dashboard.ingest.mapping_report import (
    mapping_report,
)
from tests.conftest import FIXTURES, REAL_EXPORTS

needs_real = pytest.mark.skipif(
    not REAL_EXPORTS.is_dir(), reason=f"real exports not present at {REAL_EXPORTS}"
)

FIXTURE_FILES = [
    ("zendesk/tickets.csv", "zendesk", 12),
    ("zendesk/tickets.jsonl", "zendesk", 13),
    ("jira/issues.csv", "jira", 12),
    ("servicenow/incident.csv", "servicenow", 12),
    ("servicenow/incident.xlsx", "servicenow", 12),
    ("freshservice/tickets.csv", "freshservice", 12),
]


def tickets(db: Path, where: str = "true") -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(f"SELECT * FROM ticket_times WHERE {where}").pl().to_dicts()
    finally:
        con.close()
    return {r["ticket_id"]: r for r in rows}


def ingest_one(db: Path, path: Path, **kw):
    [r] = ingest_paths(db, [path], Config(), **kw)
    assert r.status == "loaded", r.message
    assert r.rows_read == r.rows_loaded + r.rows_rejected
    return r


@pytest.mark.parametrize(("rel", "fmt", "rows"), FIXTURE_FILES)
def test_fixture_ingests_with_its_adapter(fresh_db: Path, rel: str, fmt: str, rows: int) -> None:
    r = ingest_one(fresh_db, FIXTURES / rel)
    assert (r.format, r.kind, r.rows_read, r.rows_loaded) == (fmt, "tickets", rows, rows)
    assert f"detected {fmt}" in r.message
    con = duckdb.connect(str(fresh_db), read_only=True)
    sources = con.sql("SELECT DISTINCT source FROM tickets").fetchall()
    con.close()
    assert sources == [(fmt,)]


def test_zendesk_csv_values(fresh_db: Path) -> None:
    ingest_one(fresh_db, FIXTURES / "zendesk/tickets.csv")
    t = tickets(fresh_db)
    assert t["48112"]["reopen_count"] == 2 and t["48103"]["reopen_count"] == 1
    assert t["48105"]["status"] == "pending" and t["48106"]["status"] == "on_hold"
    assert t["48101"]["first_response_minutes"] == 34.0
    assert t["48107"]["priority"] is None and t["48110"]["priority"] == "urgent"
    assert t["48104"]["ticket_type"] == "request"  # Task
    assert [t[i]["channel"] for i in ("48101", "48102", "48106", "48107", "48111")] == [
        "email",
        "portal",
        "phone",
        "api",
        "other",
    ]
    assert t["48103"]["requester_type"] == "contractor"
    assert t["48101"]["requester_department"] == "Finance"


def test_zendesk_excel_mangled_requester_id_falls_back_to_email(
    tmp_path: Path, fresh_db: Path
) -> None:
    f = tmp_path / "zd.csv"
    text = (FIXTURES / "zendesk/tickets.csv").read_text(encoding="utf-8")
    f.write_text(text.replace(",10300612345601,", ",1.03006E+13,"), encoding="utf-8")
    r = ingest_one(fresh_db, f)
    assert "rounded by Excel" in r.message
    t = tickets(fresh_db)
    # no people file: the e-mail is the key; the mangled id is dropped, the intact one kept
    assert t["48101"]["requester_id"] == "priya.natarajan@northwind.example"
    assert t["48102"]["requester_id"] == "marcus.fielding@northwind.example"
    con = duckdb.connect(str(fresh_db), read_only=True)
    try:
        ids = dict(
            con.sql(
                "SELECT requester_id, list(alias ORDER BY alias) FROM "
                "requester_aliases WHERE kind = 'tool_id' GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert "priya.natarajan@northwind.example" not in ids
    assert ids["marcus.fielding@northwind.example"] == ["10300612345602"]


UCI_HEADER = (
    "number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,"
    "caller_id,opened_by,opened_at,sys_created_by,sys_created_at,sys_updated_by,sys_updated_at,"
    "contact_type,location,category,subcategory,u_symptom,cmdb_ci,impact,urgency,priority,"
    "assignment_group,assigned_to,knowledge,u_priority_confirmation,notify,problem_id,rfc,"
    "vendor,caused_by,closed_code,resolved_by,resolved_at,closed_at\n"
)


def _uci_row(number: str, state: str, mods: int, updated: str, group: str, assignee: str,
             opened: str = "3/2/2016 09:00", reopens: int = 0) -> str:  # fmt: skip
    return (
        f"{number},{state},true,0,{reopens},{mods},true,Caller 1,Opened by 1,{opened},"
        f"Created by 1,{opened},Updated by 1,{updated},Email,Location 1,Category 1,Sub 1,?,?,"
        f"2 - Medium,2 - Medium,2 - High,{group},{assignee},false,false,Do Not Notify,?,?,?,?,"
        f"code 1,Resolved by 1,13/2/2016 10:00,?\n"
    )


def test_event_log_collapse_rules_and_row_accounting(tmp_path: Path, fresh_db: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text(
        UCI_HEADER
        + _uci_row("INC1", "New", 0, "3/2/2016 09:05", "Group A", "?")
        + _uci_row("INC1", "Active", 1, "3/2/2016 10:30", "Group A", "Agent 1")
        + _uci_row("INC1", "Resolved", 3, "13/2/2016 10:00", "?", "Agent 1", reopens=1)
        + _uci_row("INC1", "-100", 2, "4/2/2016 10:00", "Group B", "Agent 1")
        + _uci_row("INC2", "New", 0, "3/2/2016 09:05", "Group C", "?", opened="soon")
        + _uci_row("INC2", "Closed", 1, "3/2/2016 09:06", "Group C", "?", opened="soon")
    )
    # --format servicenow also picks the event-log variant
    r = ingest_one(fresh_db, f, fmt="servicenow")
    assert (r.format, r.rows_read, r.rows_loaded, r.rows_rejected) == (
        "servicenow_event_log",
        2,
        1,
        1,
    )
    assert "6 event rows collapsed into 2 incidents" in r.message
    t = tickets(fresh_db)["INC1"]
    assert t["first_response_minutes"] == 90.0  # first event assigned / past New
    assert t["service_team"] == "Group B"  # last event (by sys_mod_count) with a group
    assert (t["status"], t["priority"], t["reopen_count"], t["channel"]) == (
        "solved",
        "high",
        1,
        "email",
    )
    con = duckdb.connect(str(fresh_db), read_only=True)
    [(row, reason, raw)] = con.sql("SELECT row_number, reason, raw FROM rejected_rows").fetchall()
    con.close()
    assert row == 5 and reason.startswith("created_at: could not read 'soon'")
    assert '"event_rows":"2"' in raw.replace(" ", "")


def test_zendesk_jsonl_values(fresh_db: Path) -> None:
    ingest_one(fresh_db, FIXTURES / "zendesk/tickets.jsonl")
    t = tickets(fresh_db)
    assert t["48101"]["first_response_minutes"] == 34.0
    assert t["48112"]["reopen_count"] == 2
    assert t["48106"]["status"] == "on_hold" and t["48105"]["status"] == "pending"
    assert t["48113"]["status"] == "cancelled"  # deleted
    assert t["48102"]["channel"] == "portal" and t["48101"]["resolved_at"] is not None


def test_zendesk_api_page_is_unnested(tmp_path: Path, fresh_db: Path) -> None:
    import json

    objs = [
        json.loads(line)
        for line in (FIXTURES / "zendesk/tickets.jsonl").read_text().split("\n")
        if line
    ]
    sets = [o.pop("metric_set") for o in objs if "metric_set" in o]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"tickets": objs, "metric_sets": sets, "end_of_stream": True}))
    r = ingest_one(fresh_db, page)
    assert (r.format, r.rows_read, r.rows_loaded) == ("zendesk", 13, 13)
    assert tickets(fresh_db)["48101"]["first_response_minutes"] == 34.0


def test_jira_values(fresh_db: Path) -> None:
    ingest_one(fresh_db, FIXTURES / "jira/issues.csv")
    t = tickets(fresh_db)
    assert t["ITSD-103"]["status"] == "pending"  # Waiting for customer
    assert t["HROPS-41"]["status"] == "on_hold"  # Pending
    assert t["ITSD-107"]["status"] == "cancelled"
    assert t["ITSD-105"]["priority"] == "urgent" and t["ITSD-101"]["priority"] == "normal"
    # [CHART] Date of First Response, 08:43:00.101 (milliseconds kept)
    assert t["ITSD-101"]["first_response_minutes"] == pytest.approx(38.0 + 0.101 / 60)
    assert t["HROPS-41"]["ticket_type"] == "question" and t["ITSD-109"]["ticket_type"] == "change"
    assert t["ITSD-101"]["service_team"] == "IT Service Desk"
    assert t["ITSD-101"]["created_at"].hour == 8 and t["ITSD-101"]["created_at"].minute == 5


def test_servicenow_values(fresh_db: Path) -> None:
    ingest_one(fresh_db, FIXTURES / "servicenow/incident.csv")
    t = tickets(fresh_db)
    assert t["INC0012004"]["priority"] == "urgent" and t["INC0012006"]["priority"] == "low"
    assert t["INC0012012"]["reopen_count"] == 2 and t["INC0012007"]["reopen_count"] == 1
    assert t["INC0012005"]["status"] == "on_hold" and t["INC0012008"]["status"] == "cancelled"
    assert t["INC0012004"]["status"] == "solved" and t["INC0012006"]["service_team"] is None
    assert t["INC0012003"]["channel"] == "walk_in" and t["INC0012002"]["channel"] == "portal"
    assert t["INC0012001"]["requester_department"] == "Finance"


def test_servicenow_xlsx_matches_csv(tmp_path: Path) -> None:
    out = []
    for name in ("incident.csv", "incident.xlsx"):
        db = tmp_path / f"{name}.duckdb"
        ingest_one(db, FIXTURES / "servicenow" / name)
        t = tickets(db)
        out.append(
            {
                k: (v["status"], v["priority"], v["created_at"], v["resolved_at"])
                for k, v in t.items()
            }
        )
    assert out[0] == out[1]


def test_freshservice_values(fresh_db: Path) -> None:
    ingest_one(fresh_db, FIXTURES / "freshservice/tickets.csv")
    t = tickets(fresh_db)
    assert t["INC-2103"]["status"] == "pending" and t["SR-2102"]["status"] == "solved"
    assert t["INC-2101"]["priority"] == "normal"  # Medium
    assert t["INC-2104"]["channel"] == "walk_in" and t["INC-2109"]["channel"] == "chat"
    assert t["INC-2107"]["reopen_count"] == 1  # tagged reopened
    assert t["INC-2101"]["first_response_minutes"] == 41.0
    assert t["SR-2102"]["ticket_type"] == "request" and t["INC-2104"]["first_response_at"] is None


def test_mapping_report_shows_unmapped_values(tmp_path: Path) -> None:
    f = tmp_path / "zd.csv"
    text = (FIXTURES / "zendesk/tickets.csv").read_text(encoding="utf-8")
    f.write_text(text.replace(",Hold,", ",Snoozed,").replace(",Chat,", ",Carrier pigeon,"))
    db = tmp_path / "w.duckdb"
    [result] = ingest_paths(db, [f], Config())
    assert result.status == "loaded"
    con = duckdb.connect(str(db), read_only=True)
    try:
        report = mapping_report(con)
    finally:
        con.close()
    bad = report.filter(~report["recognised"])
    pairs = {(r["column_name"], r["raw_value"], r["mapped_value"]) for r in bad.to_dicts()}
    assert pairs == {("status", "Snoozed", None), ("channel", "Carrier pigeon", "other")}
    assert report["recognised"].to_list()[:2] == [False, False]  # unrecognised first
    good = {(r["column_name"], r["raw_value"]): r["mapped_value"] for r in report.to_dicts()}
    assert good[("channel", "Mail")] == "email" and good[("status", "Pending")] == "pending"


def test_mapping_report_agrees_with_the_loaded_tickets(tmp_path: Path) -> None:
    """Every recorded pair is what the loaded tickets got for that raw text, and its
    count is the file rows with that text (brute force over the CSV), for odd
    spellings, stray spaces, case and blanks alike."""
    import csv

    lines = (FIXTURES / "zendesk/tickets.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], list(csv.reader(lines[1:]))
    spellings = ["Solved", " open ", "PENDING", "Snoozed", "", "hold", "n/a"]
    names = next(csv.reader([header]))
    status = names.index("Status")
    for i, r in enumerate(rows):
        r[status] = spellings[i % len(spellings)]
    f = tmp_path / "zd.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        fh.write(header + "\n")
        csv.writer(fh, lineterminator="\n").writerows(rows)
    db = tmp_path / "w.duckdb"
    [result] = ingest_paths(db, [f], Config())
    assert result.status == "loaded", result.message
    con = duckdb.connect(str(db), read_only=True)
    try:
        report = mapping_report(con)
        stored = dict(con.sql("SELECT ticket_id, status FROM tickets").fetchall())
    finally:
        con.close()
    pairs = {
        r["raw_value"]: (r["mapped_value"], r["rows"])
        for r in report.filter(report["column_name"] == "status").to_dicts()
    }
    missing = {"", "n/a"}
    expected_counts: dict[str, int] = {}
    for r in rows:
        raw = r[status].strip()
        if raw.lower() not in missing:
            expected_counts[raw] = expected_counts.get(raw, 0) + 1
    assert {raw: n for raw, (_, n) in pairs.items()} == expected_counts
    ids = names.index("Id")
    for r in rows:
        raw = r[status].strip()
        if r[ids] in stored and raw.lower() not in missing:
            assert pairs[raw][0] == stored[r[ids]], raw


# Real public exports: (path under real-exports, adapter, rows_loaded lower bound, exact rows_read)
REAL_FILES = [
    ("servicenow/pdi_demo/incident.csv", "servicenow", 66, 66),
    ("servicenow/pdi_demo/incident.xlsx", "servicenow", 82, 82),
    (
        "servicenow/uci_incident_event_log/incident_event_log.sample_mod3.csv",
        "servicenow_event_log",
        8300,
        8341,
    ),
    ("jira_service_management/it_helpdesk_simulation_es/Jira.csv", "jira", 3, 3),
    ("bpi2013_volvo_it_incidents/VINST-new.csv", "bpi_volvo", 7500, 7554),
    ("helpdesk_event_log_italian/helpdesk.csv", "helpdesk_log", 3800, 3804),
]


@needs_real
@pytest.mark.parametrize(("rel", "fmt", "at_least", "read"), REAL_FILES)
def test_real_export_ingests(fresh_db: Path, rel: str, fmt: str, at_least: int, read: int) -> None:
    r = ingest_one(fresh_db, REAL_EXPORTS / rel)
    assert r.format == fmt and r.kind == "tickets"
    assert r.rows_read == read and r.rows_loaded >= at_least
    con = duckdb.connect(str(fresh_db), read_only=True)
    n, bad = con.sql(
        "SELECT count(*), count(*) FILTER (WHERE resolved_at < created_at "
        "OR first_response_at < created_at) FROM tickets"
    ).fetchall()[0]
    con.close()
    assert n == r.rows_loaded and bad == 0


@needs_real
def test_real_event_logs_collapse_sensibly(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    uci = ingest_one(db, REAL_EXPORTS / REAL_FILES[2][0])
    assert "47,493 event rows collapsed into 8,341 incidents" in uci.message
    t = tickets(db, "ticket_id = 'INC0000045'")["INC0000045"]
    # opened 29/2/2016 01:16; first non-New event 08:53; resolved 11:29; closed
    assert (t["status"], t["priority"], t["service_team"], t["channel"]) == (
        "closed",
        "normal",
        "Group 56",
        "phone",
    )
    assert t["first_response_minutes"] == 457.0 and t["resolution_minutes"] == 613.0
    volvo = ingest_one(db, REAL_EXPORTS / REAL_FILES[4][0])
    assert "65,533 event rows" in volvo.message
    v = tickets(db, "ticket_id = '1-364285768'")["1-364285768"]
    assert v["created_at"].isoformat().startswith("2010-03-31T14:59:42")  # +01:00 → UTC
    # Completed-Resolved on 2010-04-06, queued again a few seconds later (the one reopen),
    # then completed for good on 2012-05-03 and closed
    assert v["status"] == "closed" and v["reopen_count"] == 1
    helpdesk = ingest_one(db, REAL_EXPORTS / REAL_FILES[5][0])
    assert "13,710 event rows collapsed into 3,804 cases" in helpdesk.message


@needs_real
def test_spanish_jira_dates_and_resolution_fallback(fresh_db: Path) -> None:
    ingest_one(fresh_db, REAL_EXPORTS / REAL_FILES[3][0])
    t = tickets(fresh_db)
    ihs5 = t["IHS-5"]
    assert ihs5["created_at"].isoformat().startswith("2026-07-18T09:10")
    assert ihs5["status"] == "closed" and t["IHS-4"]["status"] == "solved"  # Completado, Resuelta
    assert ihs5["resolved_at"].isoformat().startswith("2026-07-18T10:53")  # Categoría cambiada
    assert ihs5["first_response_at"].isoformat().startswith("2026-07-18T10:52")  # agent comment


def test_spanish_months_and_freshdesk_layout(tmp_path: Path, fresh_db: Path) -> None:
    jira = tmp_path / "jira_es.csv"
    jira.write_text(
        "Resumen,Clave de incidencia,ID de la incidencia,Tipo de Incidencia,Estado,"
        "Nombre del proyecto,Prioridad,Informador,ID del informador,Creada,Actualizada,Resuelta,"
        "Comentario,Categoría de estado,Categoría de estado cambiada\n"
        "VPN,ES-1,1,[System] Incident,Esperando al cliente,Mesa,Alta,ana@x.example,qm:1,"
        "3/ene/26 9:10 a. m.,5/ago/26 1:00 p. m.,,5/ago/26 1:00 PM;qm:1;gracias,En curso,"
        "5/ago/26 1:00 PM\n"
        "Alta,ES-2,2,Solicitud de acceso,Flujo propio,Mesa,Media,ana@x.example,qm:1,"
        "1/sept/26 8:00 AM,2/dic/26 8:00 AM,,2/sept/26 9:30 AM;557:agent;hecho,Listo,"
        "2/dic/26 8:00 AM\n",
        encoding="utf-8",
    )
    r = ingest_one(fresh_db, jira)
    assert (r.format, r.rows_loaded) == ("jira", 2)
    t = tickets(fresh_db)
    assert t["ES-1"]["created_at"].isoformat().startswith("2026-01-03T09:10")
    assert t["ES-1"]["updated_at"].isoformat().startswith("2026-08-05T13:00")
    assert (t["ES-1"]["status"], t["ES-1"]["priority"]) == ("pending", "high")
    assert t["ES-1"]["first_response_at"] is None  # only the reporter commented
    assert t["ES-1"]["resolved_at"] is None  # category En curso: not done
    assert t["ES-2"]["status"] == "closed"  # unknown status, category Listo
    assert t["ES-2"]["ticket_type"] == "request"
    assert t["ES-2"]["first_response_at"].isoformat().startswith("2026-09-02T09:30")
    assert t["ES-2"]["resolved_at"].isoformat().startswith("2026-12-02T08:00")

    fd = tmp_path / "freshdesk.csv"
    fd.write_text(
        "Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,Due by Time,"
        "Resolved time,Closed time,Last update time,Initial response time,Full name,Email\n"
        "77,Printer,Closed,Medium,Phone,Incident,Bo,Facilities,2026-03-02 08:00:00,"
        "2026-03-03 08:00:00,,2026-03-02 10:00:00,2026-03-02 10:00:00,2026-03-02 08:30:00,"
        "Ana,ana@x.example\n",
        encoding="utf-8",
    )
    r = ingest_one(fresh_db, fd)
    assert (r.format, r.rows_loaded) == ("freshservice", 1)
    t = tickets(fresh_db, "source = 'freshservice'")["77"]
    assert (t["requester_id"], t["resolution_minutes"], t["first_response_minutes"]) == (
        "ana@x.example",
        120.0,
        30.0,
    )
