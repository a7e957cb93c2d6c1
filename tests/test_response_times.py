"""Response-time metrics against brute-force Python over the same warehouse rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import duckdb
import pytest

from dashboard.filters import Filters
from dashboard.metrics import response_times as rt

RANGE = Filters(date_from=date(2026, 6, 1), date_to=date(2026, 8, 31))


@pytest.fixture(scope="module")
def con(demo_wh):
    c = duckdb.connect(str(demo_wh.db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def rows(con) -> list[dict]:
    return con.sql("SELECT * FROM ticket_times").pl().to_dicts()


def in_range(r: dict, f: Filters) -> bool:
    d = r["created_at"].astimezone(UTC).date()
    return f.date_from <= d <= f.date_to


def test_backlog_matches_counting_open_tickets(con, rows) -> None:
    frame = rt.backlog(con, RANGE)
    got = dict(zip(frame["day"].to_list(), frame["open"].to_list(), strict=True))
    for day in (date(2026, 6, 1), date(2026, 7, 15), date(2026, 8, 31)):
        # end of day d in UTC: created on or before d, not resolved on or before d
        expected = sum(
            1 for r in rows
            if r["created_at"].astimezone(UTC).date() <= day
            and (r["resolved_at"] is None or r["resolved_at"].astimezone(UTC).date() > day)
        )
        assert got[day] == expected


def test_backlog_age_buckets(con, rows) -> None:
    as_of = datetime.combine(RANGE.date_to, time(23, 59, 59), UTC)
    expected: Counter[str] = Counter()
    for r in rows:
        if r["created_at"] > as_of or (r["resolved_at"] and r["resolved_at"] <= as_of):
            continue
        if r["status"] == "cancelled":
            continue
        age = (as_of - r["created_at"]).total_seconds() / 86400
        label = next((lab for d, lab in rt.AGE_BUCKETS if d and age < d), rt.AGE_BUCKETS[-1][1])
        expected[label] += 1
    frame = rt.backlog_age(con, RANGE)
    assert dict(zip(frame["age"], frame["tickets"], strict=True)) == {
        lab: expected.get(lab, 0) for _, lab in rt.AGE_BUCKETS}


def test_heatmap_medians(con, rows) -> None:
    frame = rt.heatmap(con, RANGE)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if in_range(r, RANGE) and r["first_response_minutes"] is not None:
            groups[(r["requester_department"], r["service_team"])].append(
                r["first_response_minutes"])
    for row in frame.iter_rows(named=True):
        key = (row["requester_department"], row["service_team"])
        assert row["median_hours"] == pytest.approx(statistics.median(groups[key]) / 60)


def test_previous_period_and_filters(con, rows) -> None:
    f = Filters(date_from=date(2026, 7, 1), date_to=date(2026, 7, 31), teams=("Facilities",),
                priorities=("high", "urgent"))
    prev = f.previous()
    assert (prev.date_from, prev.date_to) == (date(2026, 5, 31), date(2026, 6, 30))
    table = rt.period_comparison(con, f)
    counts = dict(zip(table["period"], table["tickets"], strict=True))
    for label, ff in (("this period", f), ("previous period", prev)):
        expected = sum(1 for r in rows if in_range(r, ff) and r["service_team"] == "Facilities"
                       and r["priority"] in ("high", "urgent"))
        assert counts[label] == expected


def test_tickets_per_head(con, demo_wh) -> None:
    frame = rt.tickets_per_head(con, RANGE)
    people = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        heads = Counter(
            d for d, a, t in people.sql("SELECT department, active_from, active_to FROM people"
                                        ).fetchall()
            if (a is None or a <= RANGE.date_to) and (t is None or t >= RANGE.date_from))
    finally:
        people.close()
    for row in frame.iter_rows(named=True):
        assert row["head_count"] == heads[row["department"]]
        assert row["tickets_per_head"] == pytest.approx(row["tickets"] / heads[row["department"]])


def test_ticket_list_pseudonymises_requesters(con) -> None:
    frame = rt.ticket_list(con, RANGE, limit=50)
    assert frame.height == 50
    assert all(r.startswith("R-") and len(r) == 10 for r in frame["requester"])
    assert "requester_id" not in frame.columns
    assert frame["created_at"].is_sorted(descending=True)


def test_filters_previous_and_year_before() -> None:
    f = Filters(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))
    assert f.previous().date_to == date(2024, 2, 29)
    assert f.previous().date_to - f.previous().date_from == timedelta(days=30)
    leap = Filters(date_from=date(2024, 2, 29), date_to=date(2024, 2, 29)).year_before()
    assert leap.date_from == date(2023, 2, 28)
    assert Filters().previous() is None
