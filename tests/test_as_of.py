"""As of the data (CONTRACT): SLAs, backlog and silence are judged at each source's
own time, never the wall clock.

The main case is the one the issue reported: a 2019 ServiceNow list export with
tickets still open when it was taken. Judged today every open ticket is years
overdue; judged as of its own time only those already past their deadline then
are misses. Expected numbers come from a brute-force pass over the planted rows.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dashboard import as_of, warehouse
from dashboard.cli import main
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.ingest import ingest_paths
from dashboard.metrics.response_times import AGE_BUCKETS, backlog_age, summary
from tests.conftest import REAL_EXPORTS

TARGET_MIN = {"normal": 4320, "high": 1440}  # the default resolution targets, minutes
CONFIG = "[sla.default]\nbusiness = false\n"  # calendar minutes: a simple reference
HEADER = [
    "number",
    "opened_at",
    "short_description",
    "caller_id",
    "priority",
    "state",
    "assignment_group",
    "assigned_to",
    "sys_updated_on",
    "resolved_at",
    "closed_at",
]
PRIORITY = {"normal": "3 - Moderate", "high": "2 - High"}


def fmt(t: datetime | None) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def servicenow_2019(path: Path, seed: int = 3) -> list[dict]:
    """A ServiceNow incident list export (field-name headers, every value quoted, naive
    `yyyy-MM-dd HH:mm:ss`, as in docs/vendor-formats.md §3a) taken on 2019-07-31
    17:00: resolved tickets inside and outside their target, and open ones both
    within their target and already past it at export time. Returns the rows."""
    rng = random.Random(seed)
    export = datetime(2019, 7, 31, 17, 0)
    rows = []
    for i in range(60):
        prio = rng.choice(["normal", "high"])
        target = timedelta(minutes=TARGET_MIN[prio])
        kind = ["met"] * 10 + ["late"] * 3 + ["open_ok"] * 5 + ["open_late"] * 2
        kind = kind[i % 20]
        if kind in ("met", "late"):
            created = export - timedelta(days=rng.uniform(6, 50))
            took = target * (rng.uniform(0.1, 0.9) if kind == "met" else rng.uniform(1.1, 3))
            resolved = created + took
            updated, state = resolved + timedelta(hours=1), "Resolved"
        else:
            age = target * (rng.uniform(0.05, 0.9) if kind == "open_ok" else rng.uniform(1.2, 4))
            created, resolved, state = export - age, None, "In Progress"
            updated = created + (export - created) * rng.uniform(0.1, 0.9)
        rows.append(
            {
                "number": f"INC{1000000 + i:07d}",
                "created": created,
                "resolved": resolved,
                "updated": updated,
                "priority": prio,
                "state": state,
            }
        )
    rows[0]["updated"] = export  # the export's newest timestamp: its own time
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            w.writerow(
                [
                    r["number"],
                    fmt(r["created"]),
                    "Printer jams",
                    "Abel Tuter",
                    PRIORITY[r["priority"]],
                    r["state"],
                    "Service Desk",
                    "Beth Anglin",
                    fmt(r["updated"]),
                    fmt(r["resolved"]),
                    "",
                ]
            )
    return rows


def reference_rate(rows: list[dict], at: datetime) -> float:
    """Resolution SLA met rate judged at `at`, straight from the definition: resolved
    tickets by their duration; open ones are misses once their deadline has passed
    at `at` and unknown (left out) before."""
    met = judged = 0
    for r in rows:
        due = r["created"] + timedelta(minutes=TARGET_MIN[r["priority"]])
        if r["resolved"] is not None:
            judged += 1
            met += r["resolved"] <= due
        elif due <= at:
            judged += 1
    return met / judged


@pytest.fixture
def export_2019(tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    db, cfg = tmp_path / "w.duckdb", tmp_path / "inward.toml"
    cfg.write_text(CONFIG)
    f = tmp_path / "incident.csv"
    rows = servicenow_2019(f)
    assert main(["--config", str(cfg), "ingest", str(f), "--db", str(db)]) == 0
    return db, cfg, rows


def metrics_json(capsys, db: Path, cfg: Path) -> tuple[list[dict], str]:
    code = main(["--config", str(cfg), "metrics", "--db", str(db), "--format", "json"])
    out = capsys.readouterr()
    assert code == 0
    return json.loads(out.out), out.err  # stdout is nothing but the JSON list


def test_a_2019_export_with_open_tickets_reports_sla_as_of_its_own_time(
    export_2019, capsys
) -> None:
    db, cfg, rows = export_2019
    capsys.readouterr()
    got, err = metrics_json(capsys, db, cfg)
    export = datetime(2019, 7, 31, 17, 0)
    expected = reference_rate(rows, export)
    assert got[0]["tickets"] == len(rows)
    assert got[0]["sla_resolution_met_rate"] == pytest.approx(expected)
    # what the wall clock would say: every open ticket years overdue
    assert expected - reference_rate(rows, datetime.now()) > 0.1
    assert "2019-07-31 17:00 UTC (servicenow)" in err


def test_each_source_is_judged_at_its_own_as_of(export_2019, tmp_path: Path, capsys) -> None:
    """A newer source in the same warehouse does not move the 2019 export's clock."""
    db, cfg, rows = export_2019
    newer = tmp_path / "newer.csv"
    newer.write_text(
        "ticket_id,service_team,priority,status,created_at,updated_at\n"
        "N1,Facilities,normal,open,2024-05-01 09:00,2024-05-02 10:00\n"
    )
    assert main(["--config", str(cfg), "ingest", str(newer), "--db", str(db)]) == 0
    capsys.readouterr()
    with warehouse.reader(db) as con:
        assert as_of.as_of_by_source(con) == {
            "generic": datetime(2024, 5, 2, 10, tzinfo=UTC),
            "servicenow": datetime(2019, 7, 31, 17, tzinfo=UTC),
        }
        assert as_of.warehouse_as_of(con) == datetime(2024, 5, 2, 10, tzinfo=UTC)
        snow = summary(con, Filters(teams=("Service Desk",)), [])
    assert snow["sla_resolution_met_rate"][0] == pytest.approx(
        reference_rate(rows, datetime(2019, 7, 31, 17))
    )


def test_report_month_and_as_of_follow_the_bulk_of_the_data(export_2019, tmp_path) -> None:
    """One 2024 ticket beside the 2019 export: the report's default month is the last
    full one before the 2019 export's own time (where the app's default range is),
    not April 2024 with one ticket; its footer names each source's as-of."""
    from dashboard.report.content import default_filters

    db, cfg, _ = export_2019
    newer = tmp_path / "newer.csv"
    newer.write_text("ticket_id,service_team,created_at,updated_at\nN1,HR,2024-05-01,2024-05-02\n")
    assert main(["--config", str(cfg), "ingest", str(newer), "--db", str(db)]) == 0
    with warehouse.reader(db) as con:
        f = default_filters(con, Filters())
        note = as_of.describe(as_of.as_of_frame(con), lead="")
    assert (f.date_from, f.date_to) == (date(2019, 6, 1), date(2019, 6, 30))
    assert note.startswith("2019-07-31 17:00 UTC (servicenow); 2024-05-02 00:00 UTC (generic)")


def test_config_as_of_applies_without_a_new_ingest(export_2019, capsys) -> None:
    db, cfg, rows = export_2019
    earlier = datetime(2019, 7, 20, 12, 0)
    cfg.write_text(f'as_of = "{earlier:%Y-%m-%dT%H:%M:%S}Z"\n' + CONFIG)
    capsys.readouterr()
    got, err = metrics_json(capsys, db, cfg)
    # Tickets opened after a configured as-of are still counted (periods are by
    # created_at); only clocks that have not stopped are judged at the as-of.
    assert got[0]["sla_resolution_met_rate"] == pytest.approx(reference_rate(rows, earlier))
    assert "2019-07-20 12:00 UTC (servicenow), set by as_of in the config" in err
    cfg.write_text(CONFIG)  # back to the data's own time
    got, err = metrics_json(capsys, db, cfg)
    assert got[0]["sla_resolution_met_rate"] == pytest.approx(
        reference_rate(rows, datetime(2019, 7, 31, 17))
    )
    assert "each source's newest ticket update" in err


def test_a_bad_as_of_is_an_error_naming_the_key(export_2019, capsys) -> None:
    db, cfg, _ = export_2019
    cfg.write_text('as_of = "last tuesday"\n')
    capsys.readouterr()
    assert main(["--config", str(cfg), "metrics", "--db", str(db)]) == 2  # bad usage
    err = capsys.readouterr().err
    assert "as_of" in err and "last tuesday" in err and len(err.strip().splitlines()) == 1


def test_backlog_age_is_measured_at_the_as_of(export_2019) -> None:
    db, _, rows = export_2019
    export = datetime(2019, 7, 31, 17, 0)
    expected = dict.fromkeys(AGE_BUCKETS, 0)
    for r in rows:
        if r["resolved"] is None:
            age = (export - r["created"]).total_seconds() / 86400
            band = next((i for i, d in enumerate((1, 3, 7, 14, 28)) if age < d), 5)
            expected[AGE_BUCKETS[band]] += 1
    with warehouse.reader(db) as con:
        got = dict(backlog_age(con, Filters()).select("age", "tickets").iter_rows())
    assert got == expected  # judged today, every open ticket would be "over 4 weeks"


def test_an_older_export_does_not_move_the_as_of_back(export_2019, tmp_path: Path) -> None:
    db, cfg, rows = export_2019
    older = tmp_path / "older.csv"
    older.write_text(
        '"number","opened_at","state","sys_updated_on","assignment_group"\n'
        f'"INC1000001","{fmt(rows[1]["created"])}","New",'
        f'"{fmt(rows[1]["created"])}","Service Desk"\n'
    )
    assert main(["--config", str(cfg), "ingest", str(older), "--db", str(db)]) == 0
    with warehouse.reader(db) as con:
        assert as_of.as_of_by_source(con)["servicenow"] == datetime(2019, 7, 31, 17, tzinfo=UTC)


def test_an_older_warehouse_gets_its_as_of_from_its_tickets(export_2019) -> None:
    """A warehouse written before the as-of table existed: the migration fills it."""
    db, _, _ = export_2019
    con = duckdb.connect(str(db))
    for view in ("open_tickets", "ticket_spans", "ticket_latest", "ticket_times"):
        con.execute(f"DROP VIEW IF EXISTS {view}")  # they read source_as_of
    con.execute("DROP TABLE source_as_of")
    con.execute(
        f"UPDATE inward_meta SET value = '{warehouse.SOURCE_AS_OF_VERSION - 1}' "
        "WHERE key = 'schema_version'"
    )
    con.execute("UPDATE inward_meta SET value = 'older' WHERE key = 'definitions'")
    con.close()
    warehouse.ensure_current(db)
    with warehouse.reader(db) as con:
        assert as_of.as_of_by_source(con) == {"servicenow": datetime(2019, 7, 31, 17, tzinfo=UTC)}


def test_days_silent_are_counted_to_each_sources_as_of(tmp_path: Path) -> None:
    """Two tools ending years apart: a requester's silence in the older one is measured
    to that tool's own last update, not to the newer tool's."""
    db = tmp_path / "w.duckdb"
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text(
        '"number","opened_at","caller_id","state","assignment_group","sys_updated_on"\n'
        + "".join(
            f'"INC{i:07d}","2019-0{1 + i}-01 09:00:00","ann","Closed","HR",'
            f'"2019-0{1 + i}-01 10:00:00"\n'
            for i in range(5)
        )
    )
    new.write_text(
        "ticket_id,service_team,requester_id,created_at,updated_at\n"
        "N1,IT,bob,2024-05-01 09:00,2024-05-03 09:00\n"
    )
    assert all(r.status == "loaded" for r in ingest_paths(db, [old, new], Config()))
    with warehouse.reader(db) as con:
        silent = dict(
            con.sql("SELECT requester_id, days_silent FROM requester_engagement").fetchall()
        )
    # requester ids are per person (dashboard.identity): find each by the name it ends in
    by_name = {next(n for n in ("ann", "bob") if rid.endswith(n)): d for rid, d in silent.items()}
    assert by_name["ann"] == pytest.approx(1 / 24)  # last ticket 09:00, export 10:00 that day
    assert by_name["bob"] == pytest.approx(2.0)


PDI_PRIORITY = {  # docs/vendor-formats.md §3a: ServiceNow's five priorities
    "1 - Critical": "urgent",
    "2 - High": "high",
    "3 - Moderate": "normal",
    "4 - Low": "low",
    "5 - Planning": "low",
}
CALENDAR_TARGETS = {  # CONTRACT defaults, minutes: (first response, resolution)
    "urgent": (60, 480),
    "high": (240, 1440),
    "normal": (480, 4320),
    "low": (1440, 10080),
}


@pytest.mark.skipif(not REAL_EXPORTS.is_dir(), reason=f"real exports not at {REAL_EXPORTS}")
@pytest.mark.parametrize("configured", [None, datetime(2021, 2, 8)])
def test_real_servicenow_export_is_judged_as_of_its_own_time(
    tmp_path: Path, configured: datetime | None
) -> None:
    """The PDI list export (2015–2021, 39 tickets still open, no response or
    resolution times): its as-of is its newest `opened_at` (or the configured one,
    the day after its last open tickets), and an open ticket is a miss only when its
    target had run out by then, else not yet judged."""
    src = REAL_EXPORTS / "servicenow/pdi_demo/incident.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    opened = {r["number"]: datetime.fromisoformat(r["opened_at"]) for r in rows}
    at = configured or max(opened.values())
    expected = {}
    for r in rows:
        fr, res = CALENDAR_TARGETS[PDI_PRIORITY[r["priority"]]]
        done = r["state"] == "Closed"  # closed without a resolution time: not judged
        expected[r["number"]] = tuple(
            None if done or opened[r["number"]] + timedelta(minutes=m) > at else False
            for m in (fr, res)
        )
    db, cfg = tmp_path / "w.duckdb", tmp_path / "inward.toml"
    setting = f'as_of = "{configured:%Y-%m-%dT%H:%M:%S}Z"\n' if configured else ""
    cfg.write_text(setting + CONFIG)
    assert main(["--config", str(cfg), "ingest", str(src), "--db", str(db)]) == 0
    with warehouse.reader(db) as con:
        assert as_of.as_of_by_source(con) == {"servicenow": at.replace(tzinfo=UTC)}
        got = con.sql(
            "SELECT ticket_id, sla_first_response_met, sla_resolution_met FROM ticket_times"
        ).fetchall()
    assert {t: (f, r) for t, f, r in got} == expected
    if configured:  # open tickets of 7 Feb: answer overdue, resolution not yet due
        assert expected["INC0000046"] == (False, None)
