"""The default date range: a meaningful quarter whatever the sources' ends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from dashboard import warehouse
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.ingest import ingest_paths
from dashboard.metrics.date_range import default_range, weekly_counts
from dashboard.report.content import default_filters
from dashboard.warehouse import migrate
from tests.conftest import REAL_EXPORTS


def warehouse_of(tickets: list[tuple[str, datetime]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    frame = pl.DataFrame(
        {"source": [s for s, _ in tickets], "created_at": [t for _, t in tickets]},
        schema={"source": pl.String, "created_at": pl.Datetime("us", "UTC")},
    ).with_row_index("n")
    con.register("planted", frame.to_arrow())
    con.execute(
        "INSERT INTO tickets (ticket_id, source, created_at) "
        "SELECT 'T' || n, source, created_at FROM planted"
    )
    return con


def steady(
    source: str,
    start: date,
    end: date,
    per_day: float,
    rng: random.Random,
) -> list[tuple[str, datetime]]:
    out = []
    day = start
    while day <= end:
        for _ in range(int(per_day) + (rng.random() < per_day % 1)):
            out.append(
                (
                    source,
                    datetime(day.year, day.month, day.day, tzinfo=UTC)
                    + timedelta(seconds=rng.uniform(0, 86399)),
                )
            )
        day += timedelta(days=1)
    return out


def old_default(last: date) -> tuple[date, date]:
    """The previous rule: the last 91 days, starting on a Monday."""
    start = last - timedelta(days=90)
    return start + timedelta(days=(7 - start.weekday()) % 7), last


def test_weekly_counts_match_python_weeks() -> None:
    rng = random.Random(1)
    times = [
        datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 4e7))
        for _ in range(3000)
    ]
    times += [
        datetime(2024, 3, 3, 23, 59, 59, tzinfo=UTC),  # Sunday night
        datetime(2024, 3, 4, 0, 0, tzinfo=UTC),
    ]  # Monday midnight: the next week
    con = warehouse_of([("s", t) for t in times])
    got = {(r["week"]): r["tickets"] for r in weekly_counts(con).iter_rows(named=True)}
    expected: dict[date, int] = {}
    for t in times:
        monday = t.date() - timedelta(days=t.weekday())
        expected[monday] = expected.get(monday, 0) + 1
    assert got == expected


def test_one_steady_source_keeps_the_last_quarter() -> None:
    """A single tool exported on a Wednesday: the same range as the old rule."""
    rng = random.Random(2)
    con = warehouse_of(steady("zendesk", date(2023, 1, 4), date(2025, 3, 19), 30, rng))
    r = default_range(con)
    assert (r.date_from, r.date_to) == old_default(date(2025, 3, 19))
    assert r.notes == ()


def test_a_shrinking_team_keeps_its_latest_quarter() -> None:
    """Volume falling to a third of its peak is still the present, not a tail."""
    rng = random.Random(3)
    tickets = []
    for year, rate in ((2022, 60), (2023, 40), (2024, 20)):
        tickets += steady("jira", date(year, 1, 1), date(year, 12, 31), rate, rng)
    r = default_range(warehouse_of(tickets))
    assert (r.date_from, r.date_to) == old_default(date(2024, 12, 31))


def test_a_tiny_newer_source_does_not_take_the_default() -> None:
    """Years of one tool that ended in May 2016, and three tickets from a new one in
    2026: the default is the old tool's last busy quarter, and the notes say so."""
    rng = random.Random(4)
    bulk = steady("servicenow", date(2015, 3, 1), date(2016, 5, 25), 25, rng)
    tail = steady("servicenow", date(2016, 5, 26), date(2016, 12, 31), 0.05, rng)
    tiny = [("jira", datetime(2026, 7, 18, 9, tzinfo=UTC))] * 3
    r = default_range(warehouse_of(bulk + tail + tiny))
    # brute force: the busiest weeks end in the week of 2016-05-23; the range is the
    # 13 weeks ending that Sunday
    assert r.date_to == date(2016, 5, 29) and r.date_from == date(2016, 2, 29)
    expected = sum(1 for _, t in bulk + tail if r.date_from <= t.date() <= r.date_to)
    assert r.tickets == expected and r.total == len(bulk) + len(tail) + 3
    assert any(n.startswith("jira: tickets run to 2026-07-18") for n in r.notes)
    assert r.notes[0].startswith("Sources end at different times")
    # what the old rule showed
    lo, hi = old_default(r.last)
    assert sum(1 for _, t in bulk + tail + tiny if lo <= t.date() <= hi) == 3


def test_an_old_source_far_before_the_range_gets_a_note() -> None:
    rng = random.Random(5)
    old = steady("generic", date(2010, 1, 1), date(2012, 6, 30), 5, rng)
    new = steady("zendesk", date(2024, 1, 1), date(2024, 12, 31), 20, rng)
    r = default_range(warehouse_of(old + new))
    assert (r.date_from, r.date_to) == old_default(date(2024, 12, 31))
    assert any(n.startswith("generic: its") and "before the default range" in n for n in r.notes)


def test_less_than_a_quarter_of_data_is_shown_whole() -> None:
    rng = random.Random(6)
    con = warehouse_of(steady("g", date(2025, 2, 5), date(2025, 3, 20), 10, rng))
    r = default_range(con)
    assert (r.date_from, r.date_to) == (date(2025, 2, 5), date(2025, 3, 20))
    assert r.tickets == r.total


def test_an_empty_warehouse_has_no_default() -> None:
    assert default_range(warehouse_of([])) is None


TICKET_EXPORTS = (
    "servicenow/uci_incident_event_log/incident_event_log.sample_mod3.csv",
    "servicenow/pdi_demo/incident.csv",
    "servicenow/pdi_demo/incident.xlsx",
    "jira_service_management/it_helpdesk_simulation_es/Jira.csv",
    "bpi2013_volvo_it_incidents/VINST-new.csv",
    "helpdesk_event_log_italian/helpdesk.csv",
)


@pytest.mark.skipif(not REAL_EXPORTS.is_dir(), reason=f"real exports not at {REAL_EXPORTS}")
def test_real_exports_default_range_shows_a_meaningful_share(tmp_path) -> None:
    """The public exports end in 2012, 2017, 2019, 2024 and 2026: the old rule showed
    the 3 Jira tickets of 2026; the default must show a real share of the data."""
    db = tmp_path / "real.duckdb"
    results = ingest_paths(db, [REAL_EXPORTS / p for p in TICKET_EXPORTS], Config())
    assert all(r.status == "loaded" for r in results), [r.message for r in results]
    with warehouse.reader(db) as con:
        r = default_range(con)
        lo, hi = old_default(r.last)
        old_shown = con.sql(
            "SELECT count(*) FROM tickets WHERE CAST(utc(created_at) AS DATE) BETWEEN ? AND ?",
            params=[lo, hi],
        ).fetchall()[0][0]
        shown = con.sql(
            "SELECT count(*) FROM tickets WHERE CAST(utc(created_at) AS DATE) BETWEEN ? AND ?",
            params=[r.date_from, r.date_to],
        ).fetchall()[0][0]
        month = default_filters(con, Filters())  # the report's default period
        in_month = con.sql(
            "SELECT count(*) FROM tickets WHERE CAST(utc(created_at) AS DATE) BETWEEN ? AND ?",
            params=[month.date_from, month.date_to],
        ).fetchall()[0][0]
    assert shown == r.tickets
    assert old_shown / r.total < 0.01  # the bug: a handful of tickets
    assert r.share >= 0.25
    assert any(n.startswith("jira:") for n in r.notes)
    # the report's month lies in that range (not in 2024 or 2026) and is well filled
    assert r.date_from <= month.date_from and month.date_to <= r.date_to
    assert in_month >= r.tickets / 6
