"""Response-time metrics against brute-force Python over the same warehouse rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from dashboard import pseudonyms, scoped
from dashboard.access import OPEN
from dashboard.filters import Filters
from dashboard.metrics import response_times as rt

RANGE = Filters(date_from=date(2026, 6, 1), date_to=date(2026, 8, 31))


@pytest.fixture(scope="module")
def con(demo_wh):
    c = duckdb.connect(str(demo_wh.db), read_only=True)
    scoped.install(c, OPEN, demo_wh.db)  # what the app's open mode gives every reader
    yield c
    c.close()


@pytest.fixture(scope="module")
def rows(con) -> list[dict]:
    return con.sql("SELECT * FROM ticket_times").pl().to_dicts()


def con_db(con) -> str:
    return con.sql(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0][0]


def in_range(r: dict, f: Filters) -> bool:
    d = r["created_at"].astimezone(UTC).date()
    return f.date_from <= d <= f.date_to


def closed_at(r: dict) -> datetime | None:
    """Brute-force "closed": resolved, else marked done (at its last update)."""
    if r["resolved_at"] is not None:
        return r["resolved_at"]
    if r["status"] in ("solved", "closed", "cancelled"):
        return r["updated_at"] or r["created_at"]
    return None


def as_of_by_source(rows: list[dict]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for r in rows:
        stamps = [r[c] for c in ("created_at", "updated_at", "first_response_at", "resolved_at")]
        newest = max(t for t in stamps if t is not None)
        out[r["source"]] = max(out.get(r["source"], newest), newest)
    return out


def test_backlog_matches_counting_open_tickets(con, rows) -> None:
    frame = rt.backlog(con, RANGE)
    got = dict(zip(frame["day"].to_list(), frame["open"].to_list(), strict=True))
    for day in (date(2026, 6, 1), date(2026, 7, 15), date(2026, 8, 31)):
        # end of day d in UTC: created on or before d, not closed on or before d
        expected = sum(
            1
            for r in rows
            if r["created_at"].astimezone(UTC).date() <= day
            and (closed_at(r) is None or closed_at(r).astimezone(UTC).date() > day)
        )
        assert got[day] == expected


def test_backlog_age_buckets(con, rows) -> None:
    as_of = as_of_by_source(rows)
    bounds = (1, 3, 7, 14, 28)
    expected: Counter[str] = Counter()
    for r in rows:
        now = as_of[r["source"]]
        if r["created_at"] > now or (closed_at(r) is not None and closed_at(r) <= now):
            continue
        age = (now - r["created_at"]).total_seconds() / 86400
        expected[rt.AGE_BUCKETS[sum(age >= d for d in bounds)]] += 1
    assert sum(expected.values()) > 0
    frame = rt.backlog_age(con, RANGE)  # the date range does not apply to "open now"
    assert dict(zip(frame["age"], frame["tickets"], strict=True)) == {
        lab: expected.get(lab, 0) for lab in rt.AGE_BUCKETS
    }


def test_heatmap_medians(con, rows) -> None:
    frame = rt.heatmap(con, RANGE)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if in_range(r, RANGE) and r["first_response_minutes"] is not None:
            groups[(r["requester_department"], r["service_team"])].append(
                r["first_response_minutes"]
            )
    for row in frame.iter_rows(named=True):
        key = (row["requester_department"], row["service_team"])
        assert row["median_hours"] == pytest.approx(statistics.median(groups[key]) / 60)


def test_previous_period_and_filters(con, rows) -> None:
    f = Filters(
        date_from=date(2026, 7, 1),
        date_to=date(2026, 7, 31),
        teams=("Facilities",),
        priorities=("high", "urgent"),
    )
    prev = f.previous()
    assert (prev.date_from, prev.date_to) == (date(2026, 5, 31), date(2026, 6, 30))
    table = rt.period_comparison(con, f)
    counts = dict(zip(table["period"], table["tickets"], strict=True))
    for label, ff in (("this period", f), ("previous period", prev)):
        expected = sum(
            1
            for r in rows
            if in_range(r, ff)
            and r["service_team"] == "Facilities"
            and r["priority"] in ("high", "urgent")
        )
        assert counts[label] == expected


def test_period_comparison_matches_brute_force_even_when_periods_overlap(con, rows) -> None:
    """One grouped scan tags tickets with every period they fall in: a 15-month range
    overlaps its own year-before period, and each period must still equal a
    separate brute-force summary (and `summary` over that period's filters)."""
    f = Filters(date_from=date(2025, 6, 1), date_to=date(2026, 8, 31), teams=("Facilities",))
    table = rt.period_comparison(con, f)
    periods = dict(zip(rt.PERIODS, (f, f.previous(), f.year_before()), strict=True))
    assert table["period"].to_list() == [p for p in rt.PERIODS if p in table["period"]]
    assert "this period" in table["period"] and "same period last year" in table["period"]
    for row in table.iter_rows(named=True):
        ff = periods[row["period"]]
        mine = [r for r in rows if in_range(r, ff) and r["service_team"] == "Facilities"]
        assert row["tickets"] == len(mine) > 0
        resolution = [r["resolution_minutes"] for r in mine if r["resolution_minutes"] is not None]
        assert row["median_resolution_minutes"] == pytest.approx(statistics.median(resolution))
        alone = rt.summary(con, ff, []).row(0, named=True)
        assert {k: row[k] for k in alone} == pytest.approx(alone)


def test_kpi_tiles_compare_with_the_previous_period(con) -> None:
    tiles = {k.label: k for k in rt.kpis(con, RANGE)}
    now, prev = rt.summary(con, RANGE, []), rt.summary(con, RANGE.previous(), [])
    assert tiles["Tickets"].value == now["tickets"][0]
    assert tiles["Tickets"].previous == prev["tickets"][0]
    assert tiles["Median resolution"].delta == pytest.approx(
        (now["median_resolution_minutes"][0] - prev["median_resolution_minutes"][0]) / 60
    )
    unbounded = {k.label: k for k in rt.kpis(con, Filters())}
    assert unbounded["Tickets"].previous is None and unbounded["Tickets"].delta is None


def test_tickets_per_head(con, demo_wh) -> None:
    frame = rt.tickets_per_head(con, RANGE)
    people = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        heads = Counter(
            d
            for d, a, t in people.sql(
                "SELECT department, active_from, active_to FROM people"
            ).fetchall()
            if (a is None or a <= RANGE.date_to) and (t is None or t >= RANGE.date_from)
        )
    finally:
        people.close()
    for row in frame.iter_rows(named=True):
        assert row["head_count"] == heads[row["department"]]
        assert row["tickets_per_head"] == pytest.approx(row["tickets"] / heads[row["department"]])


def test_ticket_list_pseudonymises_requesters(con, rows) -> None:
    f = Filters(date_from=RANGE.date_from, date_to=RANGE.date_to, teams=("Facilities",))
    frame = rt.ticket_list(con, f, limit=50)
    assert frame.height == 50
    newest = sorted(
        (r for r in rows if in_range(r, f) and r["service_team"] == "Facilities"),
        key=lambda r: r["created_at"],
        reverse=True,
    )
    assert frame["created_at"].min() == newest[49]["created_at"]
    expected = {r["ticket_id"]: r for r in newest if r["created_at"] > newest[49]["created_at"]}
    for row in frame.iter_rows(named=True):
        if row["ticket_id"] in expected:
            want = expected.pop(row["ticket_id"])
            assert row["sla_resolution_met"] == want["sla_resolution_met"]
    assert not expected  # every ticket strictly newer than the 50th is listed
    key = pseudonyms.load_key(con_db(con))
    by_ticket = {r["ticket_id"]: r["requester_id"] for r in rows}
    for ticket, shown in zip(frame["ticket_id"], frame["requester"], strict=True):
        assert shown == pseudonyms.pseudonym(key, by_ticket[ticket])  # HMAC, not the raw id
    assert "requester_id" not in frame.columns
    assert frame["created_at"].is_sorted(descending=True)


def test_filters_previous_and_year_before() -> None:
    f = Filters(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))
    assert f.previous().date_to == date(2024, 2, 29)
    assert f.previous().date_to - f.previous().date_from == timedelta(days=30)
    leap = Filters(date_from=date(2024, 2, 29), date_to=date(2024, 2, 29)).year_before()
    assert leap.date_from == date(2023, 2, 28)
    assert Filters().previous() is None
