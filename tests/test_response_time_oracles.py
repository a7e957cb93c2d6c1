"""Brute-force oracles for the Overview and Teams panels that had none: the weekly
trend (medians and p90s), the service mix rates, the channel mix and the slowest
categories. Each expectation is computed in plain Python from `ticket_times` rows,
with percentiles by linear interpolation between order statistics (the definition
DuckDB's `quantile_cont` and Spark's `percentile` share)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from dashboard.filters import Filters
from dashboard.metrics import response_times as rt

RANGE = Filters(date_from=date(2026, 6, 1), date_to=date(2026, 8, 31))
TEAM_RANGE = Filters(date_from=date(2026, 3, 1), date_to=date(2026, 9, 30))


@pytest.fixture(scope="module")
def con(demo_wh):
    c = duckdb.connect(str(demo_wh.db), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def rows(con) -> list[dict]:
    return con.sql("SELECT * FROM ticket_times").pl().to_dicts()


def utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC)


def selected(rows: list[dict], f: Filters) -> list[dict]:
    return [r for r in rows if f.date_from <= utc(r["created_at"]).date() <= f.date_to]


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation at rank p·(n−1), nulls ignored."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    k = p * (len(xs) - 1)
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def hours(values: list[float | None]) -> list[float | None]:
    return [None if v is None else v / 60 for v in values]


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    )


def test_weekly_trend_matches_brute_force(con, rows) -> None:
    weeks: dict[date, list[dict]] = defaultdict(list)
    for r in selected(rows, RANGE):
        day = utc(r["created_at"]).date()
        weeks[day - timedelta(days=day.weekday())].append(r)
    frame = rt.weekly_trend(con, RANGE)
    assert frame["week"].to_list() == sorted(weeks)
    for row in frame.iter_rows(named=True):
        group = weeks[row["week"]]
        assert row["tickets"] == len(group)
        assert row["resolved"] == sum(r["resolution_minutes"] is not None for r in group)
        fr = hours([r["first_response_minutes"] for r in group])
        res = hours([r["resolution_minutes"] for r in group])
        for column, values, p in (
            ("median_first_response_hours", fr, 0.5),
            ("p90_first_response_hours", fr, 0.9),
            ("median_resolution_hours", res, 0.5),
            ("p90_resolution_hours", res, 0.9),
        ):
            assert close(row[column], percentile(values, p)), (row["week"], column)
        met = [r["sla_resolution_met"] for r in group if r["sla_resolution_met"] is not None]
        assert close(row["sla_met_rate"], sum(met) / len(met) if met else None)


def share(hits: list[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def test_service_mix_matches_brute_force(con, rows) -> None:
    group = selected(rows, RANGE)
    resolved = [r for r in group if r["resolved_at"] is not None]
    requests = [r for r in group if r["ticket_type"] == "request"]

    def one_touch(r: dict) -> bool | None:
        if r["resolution_minutes"] is None or r["first_response_minutes"] is None:
            return None
        return r["reopen_count"] == 0 and (
            r["resolution_minutes"] - r["first_response_minutes"] <= 60
        )

    def after_hours(r: dict) -> bool:
        t = utc(r["created_at"])
        return not 8 <= t.hour <= 17 or t.isoweekday() > 5

    expected = {
        "reopen_rate": share([r["reopen_count"] > 0 for r in group]),
        "one_touch_rate": share([x for x in map(one_touch, resolved) if x is not None]),
        "last_minute_share": share([r["priority"] in ("urgent", "high") for r in requests]),
        "after_hours_share": share([after_hours(r) for r in group]),
    }
    assert expected["reopen_rate"] is not None and expected["last_minute_share"] is not None
    got = rt.service_mix(con, RANGE)
    for key, value in expected.items():
        assert close(got[key], value), key


def test_channel_mix_matches_brute_force(con, rows) -> None:
    counts = Counter((r["service_team"], r["channel"] or "unknown") for r in selected(rows, RANGE))
    per_team = Counter()
    for (team, _), n in counts.items():
        per_team[team] += n
    frame = rt.channel_mix(con, RANGE)
    got = {(r["service_team"], r["channel"]): r for r in frame.iter_rows(named=True)}
    assert set(got) == set(counts)
    for key, n in counts.items():
        assert got[key]["tickets"] == n
        assert close(got[key]["share"], n / per_team[key[0]])


def test_slowest_categories_match_brute_force(con, rows) -> None:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in selected(rows, TEAM_RANGE):
        if r["category"] is not None:
            groups[(r["service_team"], r["category"])].append(r)
    candidates = []
    for key, group in groups.items():
        res = [r["resolution_minutes"] for r in group if r["resolution_minutes"] is not None]
        if len(res) >= 5:
            candidates.append((percentile(res, 0.5) / 60, key, len(group), res))
    candidates.sort(key=lambda c: -c[0])
    assert len(candidates) > 3, "the fixture must have enough categories to rank"
    assert len({round(c[0], 9) for c in candidates[:4]}) == 4, "a tie would make the order moot"
    frame = rt.slowest_categories(con, TEAM_RANGE, top=3, min_tickets=5)
    got = list(frame.iter_rows(named=True))
    assert [(r["service_team"], r["category"]) for r in got] == [c[1] for c in candidates[:3]]
    for row, (median_h, _key, n, res) in zip(got, candidates, strict=False):
        assert close(row["median_resolution_hours"], median_h)
        assert close(row["p90_resolution_hours"], percentile(res, 0.9) / 60)
        assert row["tickets"] == n
