"""Repeat avoidance: planted quitters, regulars, occasional requesters and leavers."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import as_of
from dashboard.config import Config, EngagementSettings
from dashboard.derive.engagement import refresh_engagement
from dashboard.filters import Filters
from dashboard.metrics.engagement import departments, model, retention, terms
from dashboard.warehouse import migrate
from tests import engagement_population

T0 = datetime(2025, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
# The CONTRACT columns of requester_engagement, restated (not imported from
# terms.ENGAGEMENT_COLUMNS) so that renaming or reordering one there fails here.
CONTRACT_COLUMNS = [
    "requester_id", "service_team", "requester_department", "requester_type",
    "first_ticket_at", "last_ticket_at", "tickets", "typical_gap_days", "days_silent",
    "p_alive", "status", "reason",
]  # fmt: skip


def _ticket(
    rid: str,
    team: str,
    at: datetime,
    *,
    dept: str | None = "Sales",
    res_minutes: float = 240.0,
    sla_met: bool | None = True,
    reopens: int | None = 0,
    priority: str = "normal",
    ticket_type: str = "request",
) -> dict:
    return {
        "requester_id": rid,
        "service_team": team,
        "requester_department": dept,
        "requester_type": "employee",
        "created_at": at,
        "resolved_at": at + timedelta(minutes=res_minutes),
        "resolution_minutes": res_minutes,
        "reopen_count": reopens,
        "sla_resolution_met": sla_met,
        "priority": priority,
        "ticket_type": ticket_type,
        "status": "solved",
    }


def planted_population(seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Tickets, people and the planted truth per requester (one team each)."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    truth: dict[str, str] = {}
    horizon = (AS_OF - T0).days

    def cadence(
        rid: str,
        team: str,
        gap: float,
        jitter: float,
        start: float,
        end: float,
        long_break_at: float | None = None,
    ) -> None:
        day = start
        while day <= end:
            rows.append(_ticket(rid, team, T0 + timedelta(days=float(day))))
            step = gap + rng.uniform(-jitter, jitter)
            if long_break_at is not None and day < long_break_at <= day + step:
                step += 45.0  # a one-off holiday the median must shrug off
            day += step

    for i in range(40):  # steady regulars, a quarter with a holiday in their history
        rid = f"regular{i}"
        truth[rid] = "active"
        cadence(
            rid,
            "IT Service Desk",
            7.0,
            2.0,
            rng.uniform(0, 20),
            horizon - rng.uniform(0, 5),
            long_break_at=150.0 if i % 4 == 0 else None,
        )
    for i in range(20):  # quitters: weekly, then a bad ticket and silence
        rid = f"quitter{i}"
        truth[rid] = "flagged"
        quit_day = horizon - rng.uniform(60, 150)
        cadence(rid, "IT Service Desk", 7.0, 2.0, rng.uniform(0, 20), quit_day - 7)
        rows.append(
            _ticket(
                rid,
                "IT Service Desk",
                T0 + timedelta(days=quit_day),
                res_minutes=12 * 1440.0,
                sla_met=False,
                reopens=2,
            )
        )
    for i in range(20):  # occasional: every ~3 months for ~18 months, still in rhythm
        rid = f"occasional{i}"
        truth[rid] = "occasional"
        gap = rng.uniform(70, 110)
        last = horizon - rng.uniform(0, 1.5 * gap)
        cadence(rid, "HR Services", gap, 20.0, last - 6 * gap, last)
    for i in range(8):  # leavers: would look like quitters, but they left the company
        rid = f"leaver{i}"
        truth[rid] = "left"
        cadence(rid, "IT Service Desk", 7.0, 2.0, 0.0, horizon - 100)
    for i in range(5):  # new: two tickets this month
        rid = f"new{i}"
        truth[rid] = "new"
        rows.append(_ticket(rid, "IT Service Desk", AS_OF - timedelta(days=20)))
        rows.append(_ticket(rid, "IT Service Desk", AS_OF - timedelta(days=3)))
    tickets = pl.DataFrame(rows).with_columns(
        pl.col("created_at").dt.replace_time_zone("UTC"),
        pl.col("resolved_at").dt.replace_time_zone("UTC"),
    )
    tickets = tickets.sample(fraction=1.0, shuffle=True, seed=seed)  # arrival order must not matter
    people = pl.DataFrame(
        {
            "person_id": [f"leaver{i}" for i in range(8)] + ["regular0", "quitter0"],
            "department": ["Sales"] * 10,
            "person_type": ["employee"] * 10,
            "active_from": [date(2020, 1, 1)] * 10,
            "active_to": [date(2025, 11, 1)] * 8 + [None, None],
        }
    )
    return tickets, people, truth


@pytest.fixture(scope="module")
def planted() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str], pl.DataFrame]:
    tickets, people, truth = planted_population()
    out = model.compute_engagement(tickets, people, AS_OF, EngagementSettings())
    return tickets, people, truth, out


def test_columns_are_the_contract(planted) -> None:
    *_, out = planted
    assert out.columns == CONTRACT_COLUMNS
    assert set(out["status"].unique()) <= set(terms.STATUSES)
    assert out.select(pl.struct("requester_id", "service_team").is_unique().all()).item()


def test_planted_statuses(planted) -> None:
    _, _, truth, out = planted
    got = dict(zip(out["requester_id"], out["status"], strict=True))
    for rid, expected in truth.items():
        if expected == "left":
            assert rid not in got, f"{rid} left the organisation and must be excluded"
        elif expected == "flagged":
            assert got[rid] in ("at_risk", "gone_quiet"), (rid, got[rid])
        else:
            assert got[rid] == expected, (rid, got[rid])


def test_reason_names_rhythm_silence_and_bad_experience(planted) -> None:
    _, _, _, out = planted
    row = out.filter(pl.col("requester_id") == "quitter3").row(0, named=True)
    reason = row["reason"]
    assert reason.startswith("Used IT Service Desk every ~7 days for ")
    assert f"silent {round(row['days_silent'])} days" in reason
    assert "took 12 days to resolve" in reason
    assert "missed its resolution SLA" in reason
    assert "was reopened twice" in reason
    occ = out.filter(pl.col("requester_id") == "occasional0")["reason"].item()
    assert "occasionally" in occ
    assert all(r and r[0].isupper() for r in out["reason"])


def test_gap_and_silence_match_brute_force(planted) -> None:
    tickets, _, _, out = planted
    by_key: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for rid, team, at in tickets.select("requester_id", "service_team", "created_at").iter_rows():
        by_key[(rid, team)].append(at)
    for row in out.iter_rows(named=True):
        times = sorted(by_key[(row["requester_id"], row["service_team"])])
        gaps = [(b - a).total_seconds() / 86400 for a, b in pairwise(times)]
        expected_gap = max(statistics.median(gaps), 1.0) if gaps else None
        assert row["tickets"] == len(times)
        assert row["first_ticket_at"] == times[0] and row["last_ticket_at"] == times[-1]
        if expected_gap is None:
            assert row["typical_gap_days"] is None
        else:
            # Gaps are computed at millisecond resolution.
            assert row["typical_gap_days"] == pytest.approx(expected_gap, abs=1e-7)
        assert row["days_silent"] == pytest.approx((AS_OF - times[-1]).total_seconds() / 86400)


def test_p_alive_ranks_quitters_below_regulars(planted) -> None:
    _, _, _, out = planted
    p = {k: v for k, v in zip(out["requester_id"], out["p_alive"], strict=True)}
    quitters = [v for k, v in p.items() if k.startswith("quitter")]
    regulars = [v for k, v in p.items() if k.startswith("regular")]
    assert all(0.0 <= v <= 1.0 for v in p.values())
    assert max(quitters) < min(regulars)


def test_as_of_defaults_to_last_ticket_and_replays_the_past(planted) -> None:
    tickets, people, _, _ = planted
    default = model.compute_engagement(tickets, people, None, EngagementSettings())
    last = tickets["created_at"].max()
    explicit = model.compute_engagement(tickets, people, last, EngagementSettings())
    assert default.equals(explicit)
    # Replaying an earlier as-of ignores later tickets: quitters were regulars back then.
    early = model.compute_engagement(
        tickets, people, T0 + timedelta(days=200), EngagementSettings()
    )
    early_status = dict(zip(early["requester_id"], early["status"], strict=True))
    assert all(early_status[f"quitter{i}"] == "active" for i in range(20))
    assert early["last_ticket_at"].max() <= T0 + timedelta(days=200)


def test_occasional_never_flagged_for_long_gaps_alone() -> None:
    # Every 120 days for three years, silent 200 days: the naive 90-day rule
    # would flag it, its own rhythm says it is simply between tickets.
    rows = [_ticket("occ", "HR", T0 + timedelta(days=120 * i)) for i in range(9)]
    rows += [
        _ticket(f"r{j}", "HR", T0 + timedelta(days=7 * i)) for j in range(40) for i in range(60)
    ]
    tickets = pl.DataFrame(rows).with_columns(
        pl.col("created_at").dt.replace_time_zone("UTC"),
        pl.col("resolved_at").dt.replace_time_zone("UTC"),
    )
    as_of = T0 + timedelta(days=120 * 8 + 200)
    out = model.compute_engagement(tickets, None, as_of, EngagementSettings())
    row = out.filter(pl.col("requester_id") == "occ").row(0, named=True)
    assert row["status"] == "occasional"
    assert row["typical_gap_days"] == pytest.approx(120.0)
    # ...but silence far beyond its own rhythm is flagged.
    later = model.compute_engagement(
        tickets, None, T0 + timedelta(days=120 * 8 + 900), EngagementSettings()
    )
    assert later.filter(pl.col("requester_id") == "occ")["status"].item() in (
        "at_risk",
        "gone_quiet",
    )


def test_people_fill_department_and_type() -> None:
    rows = [_ticket("p1", "IT", T0 + timedelta(days=i), dept=None) for i in range(3)]
    rows += [
        _ticket("p2", "IT", T0 + timedelta(days=i), dept="Ops" if i == 0 else None)
        for i in range(3)
    ]
    tickets = pl.DataFrame(rows).with_columns(
        pl.col("created_at").dt.replace_time_zone("UTC"),
        pl.col("resolved_at").dt.replace_time_zone("UTC"),
        pl.lit("unknown").alias("requester_type"),
    )
    people = pl.DataFrame(
        {
            "person_id": ["p1"],
            "department": ["Legal"],
            "person_type": ["contractor"],
            "active_from": [None],
            "active_to": [None],
        },
        schema_overrides={"active_from": pl.Date, "active_to": pl.Date},
    )
    out = model.compute_engagement(tickets, people, None, EngagementSettings())
    got = {r["requester_id"]: r for r in out.iter_rows(named=True)}
    assert got["p1"]["requester_department"] == "Legal"
    assert got["p1"]["requester_type"] == "contractor"
    assert got["p2"]["requester_department"] == "Ops"  # last known, not the trailing nulls
    assert got["p1"]["status"] == "new" and got["p1"]["p_alive"] is None  # too small to fit


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]), st.sampled_from(["X", "Y"]), st.integers(0, 400 * 24)
        ),
        min_size=1,
        max_size=60,
    )
)
def test_aggregation_matches_brute_force_on_random_tickets(items) -> None:
    rows = [_ticket(r, team, T0 + timedelta(hours=h)) for r, team, h in items]
    tickets = pl.DataFrame(rows).with_columns(
        pl.col("created_at").dt.replace_time_zone("UTC"),
        pl.col("resolved_at").dt.replace_time_zone("UTC"),
    )
    out = model.compute_engagement(tickets, None, None, EngagementSettings())
    as_of = max(T0 + timedelta(hours=h) for *_, h in items)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r, team, h in items:
        groups[(r, team)].append(h)
    assert out.height == len(groups)
    for row in out.iter_rows(named=True):
        hours = sorted(groups[(row["requester_id"], row["service_team"])])
        assert row["tickets"] == len(hours)
        gaps = [(b - a) / 24 for a, b in pairwise(hours)]
        if gaps:
            assert row["typical_gap_days"] == pytest.approx(max(statistics.median(gaps), 1.0))
        else:
            assert row["typical_gap_days"] is None
        silent = (as_of - (T0 + timedelta(hours=hours[-1]))).total_seconds() / 86400
        assert row["days_silent"] == pytest.approx(silent)


# ------------------------------------------------------------------ warehouse functions


def _warehouse(
    tickets: pl.DataFrame, people: pl.DataFrame | None = None, surveys: pl.DataFrame | None = None
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    migrate(con)
    t = (
        tickets.with_row_index("n")
        .with_columns(
            pl.format("T{}", pl.col("n")).alias("ticket_id"),
            pl.lit("generic").alias("source"),
            pl.col("created_at").alias("updated_at"),
        )
        .drop("n", "resolution_minutes", "sla_resolution_met")
    )
    con.register("_t", t.to_arrow())
    con.execute("INSERT INTO tickets BY NAME SELECT * FROM _t")
    as_of.rebuild(con)  # what the loader records per file
    if people is not None:
        con.register("_p", people.to_arrow())
        con.execute("INSERT INTO people BY NAME SELECT * FROM _p")
    if surveys is not None:
        con.register("_s", surveys.to_arrow())
        con.execute("INSERT INTO survey_responses BY NAME SELECT * FROM _s")
    # Calendar-minute SLA of 3 days for every team and priority.
    con.execute(
        "INSERT INTO sla_targets VALUES ('*', 'normal', 480, 4320, FALSE), "
        "('*', 'urgent', 60, 480, FALSE)"
    )
    return con


def test_refresh_engagement_replaces_the_table(planted) -> None:
    tickets, people, truth, out = planted
    con = _warehouse(tickets, people)
    n = refresh_engagement(con, Config(), as_of=AS_OF)
    assert n == out.height == sum(1 for v in truth.values() if v != "left")
    assert refresh_engagement(con, Config(), as_of=AS_OF) == n  # replaced, not appended
    table = con.sql("SELECT * FROM requester_engagement").pl()
    assert table.height == n and table.columns == CONTRACT_COLUMNS
    status = dict(zip(table["requester_id"], table["status"], strict=True))
    assert all(status[f"quitter{i}"] in ("at_risk", "gone_quiet") for i in range(20))
    # The SLA verdict comes from the ticket_times view (3-day target): still named in the reason.
    reason = table.filter(pl.col("requester_id") == "quitter0")["reason"].item()
    assert "missed its resolution SLA" in reason


def _quarterly_tickets(seed: int = 5) -> pl.DataFrame:
    """8 quarters x 4 departments; only Legal's reactive share rises (0.25 -> 0.55)."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(8):
        start = datetime(2024 + q // 4, 3 * (q % 4) + 1, 1, tzinfo=UTC)
        for dept in ("Sales", "Legal", "Ops", "HR"):
            share = 0.25 + (0.30 * q / 7 if dept == "Legal" else 0.0)
            for i in range(120):
                reactive = rng.random() < share
                at = start + timedelta(days=int(rng.integers(0, 85)))
                rows.append(
                    _ticket(
                        f"{dept}{i % 30}",
                        "IT",
                        at,
                        dept=dept,
                        ticket_type="incident" if reactive else "request",
                    )
                )
    return pl.DataFrame(rows)


def test_reactive_shift_flags_only_the_planted_department() -> None:
    con = _warehouse(_quarterly_tickets())
    df = departments.reactive_shift(con)
    flagged = set(df.filter("flagged")["requester_department"].unique())
    assert flagged == {"Legal"}
    legal = df.filter(pl.col("requester_department") == "Legal")
    assert legal["last_half_share"][0] > legal["first_half_share"][0]
    assert "two-proportion z-test" in df["test"][0]
    # Shares per quarter against a brute-force count.
    raw = _quarterly_tickets()
    q = raw.filter(
        pl.col("requester_department") == "Sales",
        pl.col("created_at").dt.year() == 2024,
        pl.col("created_at").dt.month() <= 3,
    )
    expected = (q["ticket_type"] == "incident").mean()
    got = df.filter(
        pl.col("requester_department") == "Sales", pl.col("quarter_start") == date(2024, 1, 1)
    )["reactive_share"].item()
    assert got == pytest.approx(expected)


def test_cohort_retention_matches_brute_force(planted) -> None:
    tickets, *_ = planted
    con = _warehouse(tickets)
    df = retention.cohort_retention(con, as_of=AS_OF)
    months: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for rid, at in tickets.select("requester_id", "created_at").iter_rows():
        months[rid].add((at.year, at.month))
    idx = {rid: {y * 12 + m - 1 for y, m in ms} for rid, ms in months.items()}
    cohort = {rid: min(v) for rid, v in idx.items()}
    last_month = AS_OF.year * 12 + AS_OF.month - 1
    expected = {}
    for c in set(cohort.values()):
        members = [r for r, v in cohort.items() if v == c]
        for k in range(last_month - c + 1):
            active = sum(1 for r in members if c + k in idx[r])
            expected[(c, k)] = (len(members), active)
    got = {
        ((r["cohort_month"].year * 12 + r["cohort_month"].month - 1), r["months_since"]): (
            r["cohort_size"],
            r["active_requesters"],
        )
        for r in df.iter_rows(named=True)
    }
    assert got == expected
    assert df.filter(pl.col("months_since") == 0)["share_active"].to_list() == pytest.approx(
        [1.0] * df.filter(pl.col("months_since") == 0).height
    )


def test_lost_after_bad_experience_separates_planted_groups() -> None:
    rows = []
    for i in range(30):  # good experience -> back within 20 days
        rows.append(_ticket(f"g{i}", "IT", T0 + timedelta(days=i)))
        rows.append(_ticket(f"g{i}", "IT", T0 + timedelta(days=i + 20)))
    for i in range(20):  # 5-day resolution breaches the 3-day SLA -> never back
        rows.append(_ticket(f"b{i}", "IT", T0 + timedelta(days=i), res_minutes=5 * 1440))
    for i in range(10):  # reopened, but came back anyway
        rows.append(_ticket(f"r{i}", "IT", T0 + timedelta(days=i), reopens=1))
        rows.append(_ticket(f"r{i}", "IT", T0 + timedelta(days=i + 30)))
    rows.append(_ticket("late", "IT", T0 + timedelta(days=400)))  # sets as_of
    con = _warehouse(pl.DataFrame(rows))
    df = retention.lost_after_bad_experience(con, within_days=90)
    got = {r["experience"]: r for r in df.iter_rows(named=True)}
    # Brute force: eligible tickets are those >= 90 days before as_of (all but 'late').
    assert got["sla_breached"]["tickets"] == 20 and got["sla_breached"]["returned"] == 0
    assert got["reopened"]["tickets"] == 10 and got["reopened"]["returned"] == 10
    # none: 30 good first tickets (back), 30 good follow-ups and 10 reopened-group
    # follow-ups (no next ticket).
    assert got["none"]["tickets"] == 30 + 30 + 10 and got["none"]["returned"] == 30
    assert got["any_bad"]["tickets"] == 30
    assert got["sla_breached"]["ci_low"] == 0.0 and got["sla_breached"]["ci_high"] < 0.2
    assert got["sla_breached"]["difference_vs_none"] == pytest.approx(-30 / 70)


def test_an_unknown_reopen_count_is_neither_reopened_nor_a_good_experience() -> None:
    """Ten tickets from a tool without reopen counts, whose requesters never come back:
    counted as "not reopened" they would join the no-bad-experience baseline and pull
    it down; unknown, they are in neither row."""
    rows = []
    for i in range(30):  # good experience -> back within 20 days
        rows.append(_ticket(f"g{i}", "IT", T0 + timedelta(days=i)))
        rows.append(_ticket(f"g{i}", "IT", T0 + timedelta(days=i + 20)))
    for i in range(10):  # reopened, back after 30 days
        rows.append(_ticket(f"r{i}", "IT", T0 + timedelta(days=i), reopens=2))
        rows.append(_ticket(f"r{i}", "IT", T0 + timedelta(days=i + 30)))
    for i in range(10):  # reopen count unknown, never back
        rows.append(_ticket(f"u{i}", "IT", T0 + timedelta(days=i), reopens=None))
    rows.append(_ticket("late", "IT", T0 + timedelta(days=400)))  # sets as_of
    con = _warehouse(pl.DataFrame(rows))
    got = {
        r["experience"]: r
        for r in retention.lost_after_bad_experience(con, 90).iter_rows(named=True)
    }
    assert got["reopened"]["tickets"] == 10 and got["reopened"]["returned"] == 10
    # none: 30 good first tickets (back), 30 follow-ups and 10 reopened-group follow-ups
    assert got["none"]["tickets"] == 70 and got["none"]["returned"] == 30
    assert got["any_bad"]["tickets"] == 10


def test_low_csat_links_by_ticket_id() -> None:
    rows = [
        _ticket("a", "IT", T0),
        _ticket("a", "IT", T0 + timedelta(days=200)),
        _ticket("b", "IT", T0),
        _ticket("b", "IT", T0 + timedelta(days=10)),
        _ticket("z", "IT", T0 + timedelta(days=400)),
    ]
    surveys = pl.DataFrame(
        {
            "response_id": ["s1", "s2"],
            "source": ["generic"] * 2,
            "survey": ["csat"] * 2,
            "submitted_at": [T0 + timedelta(days=1)] * 2,
            "respondent_id": ["a", "b"],
            "respondent_department": ["Sales"] * 2,
            "service_team": ["IT"] * 2,
            "ticket_id": ["T0", "T2"],
            "metric": ["csat"] * 2,
            "score": [2.0, 9.0],
            "scale_min": [1.0, 0.0],
            "scale_max": [5.0, 10.0],
        }
    )
    con = _warehouse(pl.DataFrame(rows), surveys=surveys)
    got = {
        r["experience"]: r
        for r in retention.lost_after_bad_experience(con, 90).iter_rows(named=True)
    }
    assert got["low_csat"]["tickets"] == 1 and got["low_csat"]["returned"] == 0


def test_survey_fatigue_trend_and_counts() -> None:
    rows, surveys = [], []
    for q in range(6):
        start = datetime(2024 + q // 4, 3 * (q % 4) + 1, 2, tzinfo=UTC)
        for dept, rate in (("Sales", 0.5), ("Ops", 0.6 - 0.1 * q)):
            for i in range(40):
                rows.append(_ticket(f"{dept}{i}", "IT", start + timedelta(days=i), dept=dept))
            for j in range(round(40 * rate)):
                for metric in ("csat", "ces"):  # two metric rows, one response
                    surveys.append(
                        {
                            "response_id": f"{dept}{q}-{j}",
                            "source": "generic",
                            "submitted_at": start + timedelta(days=j + 1),
                            "respondent_department": dept,
                            "metric": metric,
                            "score": 4.0,
                        }
                    )
    con = _warehouse(pl.DataFrame(rows), surveys=pl.DataFrame(surveys))
    df = departments.survey_fatigue(con)
    ops = df.filter(pl.col("department") == "Ops").sort("quarter_start")
    assert ops["responses"].to_list() == [round(40 * (0.6 - 0.1 * q)) for q in range(6)]
    assert ops["resolved_tickets"].to_list() == [40] * 6
    assert ops["slope_per_quarter"][0] == pytest.approx(-0.1, abs=0.01)
    sales = df.filter(pl.col("department") == "Sales")
    assert abs(sales["slope_per_quarter"][0]) < 1e-9


def test_department_activity_per_head() -> None:
    rows = [
        _ticket(f"u{i}", "IT", datetime(2025, 3, 5 + i, tzinfo=UTC), dept="Sales") for i in range(6)
    ]
    rows += [_ticket("u0", "IT", datetime(2025, 3, 20, tzinfo=UTC), dept="Sales")]
    people = pl.DataFrame(
        {
            "person_id": [f"u{i}" for i in range(12)],
            "department": ["Sales"] * 12,
            "person_type": ["employee"] * 12,
            "active_from": [date(2024, 1, 1)] * 10 + [date(2025, 4, 1)] * 2,  # 2 join later
            "active_to": [None] * 9 + [date(2025, 2, 1)] + [None] * 2,  # 1 left before March
        }
    )
    con = _warehouse(pl.DataFrame(rows), people)
    row = departments.department_activity(con, period="month").row(0, named=True)
    assert row["period_start"] == date(2025, 3, 1)
    assert (row["tickets"], row["active_requesters"], row["headcount"]) == (7, 6, 9)
    assert row["active_per_head"] == pytest.approx(6 / 9)
    assert row["tickets_per_head"] == pytest.approx(7 / 9)


def test_department_signals_count_the_latest_quarter_by_brute_force() -> None:
    """The summary's tickets and active requesters are the latest quarter's (the quarter
    of the newest ticket), per department, requesters summed over teams: counted here
    in Python from the rows, on random tickets spread over two years, with and without
    a team filter."""
    rng = np.random.default_rng(7)
    rows = [
        _ticket(
            f"u{rng.integers(60)}",
            str(rng.choice(["IT", "HR", "Facilities"])),
            datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=int(rng.integers(2 * 365 * 24))),
            dept=str(rng.choice(["Sales", "Ops", "Legal"])),
        )
        for _ in range(3000)
    ]
    con = _warehouse(pl.DataFrame(rows))
    for teams in ((), ("HR",)):
        chosen = [r for r in rows if not teams or r["service_team"] in teams]
        quarter = lambda at: (at.year, (at.month - 1) // 3)  # noqa: E731
        newest = max(quarter(r["created_at"]) for r in chosen)
        latest = [r for r in chosen if quarter(r["created_at"]) == newest]
        expected = {}
        for dept in {r["requester_department"] for r in latest}:
            mine = [r for r in latest if r["requester_department"] == dept]
            pairs = {(r["service_team"], r["requester_id"]) for r in mine}
            expected[dept] = (len(mine), len(pairs))
        got = departments.department_signals(con, Filters(teams=teams))
        assert {
            r["requester_department"]: (r["tickets"], r["active_requesters"])
            for r in got.iter_rows(named=True)
        } == expected


def test_population_fit_stays_sane_on_the_benchmark_mixture() -> None:
    """Regression: on this planted mixture an unbounded BG/NBD fit ran off to a=1e139,
    where betaln's cancellation fakes a better likelihood, and every requester got
    P(alive) ~ 0. Regulars still ticketing at as_of must look alive."""
    pop = engagement_population.generate(20_000, 4)
    out = model.compute_engagement(
        pop.tickets, None, engagement_population.AS_OF, EngagementSettings(), seed=4
    )
    df = out.join(pop.truth, on=["requester_id", "service_team"])
    regular = df.filter(pl.col("kind") == "regular")
    assert regular["p_alive"].median() > 0.9
    occasional = df.filter(pl.col("kind") == "occasional")
    assert occasional["status"].is_in(["at_risk", "gone_quiet"]).mean() <= 0.05


def test_cohort_window_drops_a_stray_old_cohort() -> None:
    """One requester whose first ticket is in 2003, thirty over 2024: the grid keeps the
    24 months in a row with the most new requesters and follows each for < 24 months,
    instead of spanning 2003 to 2025."""
    rows = [_ticket("stray", "IT", datetime(2003, 5, 1, tzinfo=UTC))]
    for i in range(30):
        first = datetime(2024, 1 + i % 12, 3, tzinfo=UTC)
        rows += [_ticket(f"p{i}", "IT", first), _ticket(f"p{i}", "IT", first + timedelta(400))]
    con = _warehouse(pl.DataFrame(rows))
    whole = retention.cohort_retention(con)
    assert whole["cohort_month"].min() == date(2003, 5, 1)
    shown = retention.cohort_window(whole)
    months = sorted(set(shown["cohort_month"]))
    assert months[0] >= date(2024, 1, 1) and len(months) == 12  # every 2024 cohort, no 2003
    assert shown["months_since"].max() == retention.COHORT_WINDOW_MONTHS - 1
    # the rows kept are the whole frame's rows, unchanged
    assert shown.join(whole, on=["cohort_month", "months_since"]).height == shown.height
    assert shown.equals(
        whole.filter(
            pl.col("cohort_month").is_in(months)
            & (pl.col("months_since") < retention.COHORT_WINDOW_MONTHS)
        )
    )


def test_quiet_by_team_ties_read_in_natural_name_order() -> None:
    """Teams tied on how many went quiet list "Group 2" before "Group 10" (SQL's byte
    order put "Group 10" first)."""
    teams = ["Group 10", "Group 2", "group 3", "Group 1"]
    rows = [
        _ticket(f"{team}-{i}", team, T0 + timedelta(days=30 * k))
        for team in teams
        for i in range(2)
        for k in range(3)
    ]
    con = _warehouse(pl.DataFrame(rows))
    refresh_engagement(con, Config(), as_of=T0 + timedelta(days=70))
    quiet = retention.quiet_by_quarter(con)
    assert quiet["went_quiet_this_quarter"].n_unique() == 1  # all tied
    assert quiet["service_team"].to_list() == ["Group 1", "Group 2", "group 3", "Group 10"]
