"""Alignment: planted links are found, independent trending series are not, BH is exact.

The null simulations are the important tests: trending, autocorrelated series
are exactly the case where a naive correlation "finds" links, so we measure the
false-positive rate of the whole pipeline (and show the naive one fails).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy.stats import spearmanr

from dashboard.config import Config, Goal
from dashboard.metrics import alignment_stats as st
from dashboard.metrics.alignment import (
    CONTRACT_COLUMNS,
    alignment_table,
    external_series,
    goal_attainment,
    internal_series,
    plain_sentence,
)
from dashboard.warehouse import migrate

ALPHA = 0.05


def _ar1(rng: np.random.Generator, rows: int, n: int, phi: float) -> np.ndarray:
    e = rng.normal(size=(rows, n))
    out = np.zeros_like(e)
    for t in range(n):
        out[:, t] = e[:, t] + (phi * out[:, t - 1] if t else 0.0)
    return out


def _any_significant(p: np.ndarray, n_pairs: np.ndarray, min_periods: int = 12) -> np.ndarray:
    """Per simulation row: does BH over that row's lags flag anything (the table's rule)?"""
    flagged = np.zeros(p.shape[0], dtype=bool)
    for i in range(p.shape[0]):
        q = st.benjamini_hochberg(p[i])
        flagged[i] = bool(np.any((q <= ALPHA) & (n_pairs[i] >= min_periods)))
    return flagged


# ------------------------------------------------------------------ statistics


def test_planted_negative_lag2_link_is_found_at_lag_2() -> None:
    rng = np.random.default_rng(7)
    n = 104
    x = 20 + np.cumsum(rng.normal(size=n))  # internal metric wanders like a random walk
    y = np.full(n, np.nan)
    y[2:] = 50 - 1.0 * x[:-2] + 0.02 * np.arange(n - 2) + rng.normal(scale=0.8, size=n - 2)
    res = st.lagged_correlations(x, y, max_lag=4)
    q = st.benjamini_hochberg(res.p_value)[0]
    best = int(np.nanargmax(np.abs(res.correlation[0])))
    assert abs(best - 2) <= 1
    assert res.correlation[0, best] < 0
    assert q[best] <= ALPHA
    assert res.ci_high[0, best] < 0  # the CI agrees with the test


def test_false_positive_rate_random_walks_with_shared_trend() -> None:
    """200 null simulations; the per-table rate of any `significant` row must stay near 5 %."""
    rng = np.random.default_rng(2024)
    sims, n = 200, 104
    trend = 0.5 * np.arange(n)  # strong shared upward trend
    x = np.cumsum(rng.normal(size=(sims, n)), axis=1) + trend
    y = np.cumsum(rng.normal(size=(sims, n)), axis=1) + trend
    res = st.lagged_correlations(x, y, max_lag=4)
    fpr = _any_significant(res.p_value, res.n_pairs).mean()
    # binomial sd at 5 % with 200 sims is 1.5 points; allow ~2.3 sd
    assert fpr <= ALPHA + 0.035, f"false-positive rate {fpr:.3f}"

    # the same data analysed naively (levels, no pre-whitening, no n_eff) is badly fooled:
    naive_p = np.array(
        [[spearmanr(x[i, : n - k], y[i, k:]).pvalue for k in range(5)] for i in range(sims)]
    )
    naive = _any_significant(naive_p, np.full(naive_p.shape, n)).mean()
    assert naive >= 0.5, f"naive rate {naive:.3f}: the null simulation is not hard enough"


def test_false_positive_rate_autocorrelated_stationary_series() -> None:
    rng = np.random.default_rng(11)
    x = _ar1(rng, 200, 52, 0.8)
    y = _ar1(rng, 200, 52, 0.8)
    res = st.lagged_correlations(x, y, max_lag=4)
    assert _any_significant(res.p_value, res.n_pairs).mean() <= ALPHA + 0.035


def test_spearman_matches_scipy_on_prewhitened_series() -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=60))
    y = np.cumsum(rng.normal(size=60))
    y[10] = np.nan
    res = st.lagged_correlations(x, y, max_lag=3)
    tx, ty = st.transform_series(x), st.transform_series(y)
    phi, order = st.fit_ar(tx)
    ex, ey = st.ar_filter(tx, phi)[0], st.ar_filter(ty, phi)[0]
    assert order[0] == res.ar_order[0]
    for k in range(4):
        a, b = ex[: ex.size - k], ey[k:]
        ok = np.isfinite(a) & np.isfinite(b)
        assert res.n_pairs[0, k] == ok.sum()
        assert res.correlation[0, k] == pytest.approx(spearmanr(a[ok], b[ok]).statistic, abs=1e-12)


def test_ar_fit_recovers_coefficient() -> None:
    rng = np.random.default_rng(5)
    x = _ar1(rng, 50, 400, 0.6)
    phi, order = st.fit_ar(x, max_order=3)
    assert np.median(phi[:, 0]) == pytest.approx(0.6, abs=0.05)
    assert np.mean(order >= 1) == 1.0


@settings(max_examples=25, deadline=None)
@given(seed=hs.integers(0, 2**32 - 1), rows=hs.integers(1, 6), n=hs.integers(3, 40))
def test_vectorised_rows_equal_one_at_a_time(seed: int, rows: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(rows, n)), axis=1)
    y = np.cumsum(rng.normal(size=(rows, n)), axis=1)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    batch = st.lagged_correlations(x, y, max_lag=3)
    for i in range(rows):
        one = st.lagged_correlations(x[i], y[i], max_lag=3)
        np.testing.assert_array_equal(batch.n_pairs[i], one.n_pairs[0])
        np.testing.assert_allclose(batch.correlation[i], one.correlation[0], equal_nan=True)
        np.testing.assert_allclose(batch.p_value[i], one.p_value[0], equal_nan=True)
    # anything computed is a proper correlation with a proper p-value and a CI around it
    ok = np.isfinite(batch.correlation)
    assert np.all(np.abs(batch.correlation[ok]) <= 1)
    assert np.all((batch.p_value[ok] >= 0) & (batch.p_value[ok] <= 1))
    assert np.all(batch.ci_low[ok] <= batch.correlation[ok] + 1e-12)
    assert np.all(batch.correlation[ok] <= batch.ci_high[ok] + 1e-12)
    assert np.all(batch.n_pairs[ok] >= st.MIN_PAIRS)


def test_too_short_series_are_null_not_zero() -> None:
    res = st.lagged_correlations(np.arange(5.0) ** 2, np.arange(5.0), max_lag=4)
    assert np.all(np.isnan(res.correlation))
    assert np.all(np.isnan(res.p_value))
    flat = st.lagged_correlations(np.ones(30), np.arange(30.0) ** 1.5, max_lag=1)
    assert np.all(np.isnan(flat.correlation))  # no variation: unknown, not 0


# ------------------------------------------------------------------ BH


def _bh_brute_force(p: list[float], dependent: bool = False) -> list[float]:
    """q_i = the smallest level at which the step-up BH procedure rejects test i."""
    finite = [v for v in p if not np.isnan(v)]
    m = len(finite)
    c = sum(1.0 / k for k in range(1, m + 1)) if dependent else 1.0
    ranked = sorted(finite)
    candidates = sorted({min(1.0, m * c * ranked[k - 1] / k) for k in range(1, m + 1)} | {1.0})
    out = []
    for v in p:
        if np.isnan(v):
            out.append(float("nan"))
            continue
        for level in candidates:  # smallest level first
            ks = [k for k in range(1, m + 1) if ranked[k - 1] <= k * level / (m * c) + 1e-15]
            if ks and v <= ranked[max(ks) - 1]:
                out.append(level)
                break
        else:  # never rejected below level 1: q-values are capped at 1
            out.append(1.0)
    return out


@settings(max_examples=60, deadline=None)
@given(
    p=hs.lists(
        hs.one_of(hs.floats(0, 1), hs.sampled_from([0.01, 0.04, 0.5, float("nan")])),
        min_size=1,
        max_size=40,
    ),
    dependent=hs.booleans(),
)
def test_bh_matches_brute_force(p: list[float], dependent: bool) -> None:
    got = st.benjamini_hochberg(np.array(p), dependent=dependent)
    np.testing.assert_allclose(
        got, _bh_brute_force(p, dependent), rtol=1e-9, atol=1e-12, equal_nan=True
    )


def test_bh_keeps_shape() -> None:
    p = np.array([[0.01, 0.02], [np.nan, 0.9]])
    q = st.benjamini_hochberg(p)
    assert q.shape == p.shape and np.isnan(q[1, 0])
    assert q[0, 0] == pytest.approx(0.03) and q[0, 1] == pytest.approx(0.03)


# ------------------------------------------------------------------ warehouse end to end

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
WEEKS = 80


def _warehouse(weeks: int = WEEKS, seed: int = 1) -> duckdb.DuckDBPyConnection:
    """Tickets for two teams and two departments, plus a planted lag-2 link.

    IT Service Desk's resolution time for Customer Support (department "Support
    Ops", mapped through `org`) follows an AR(1); Customer Support's external
    customer CSAT falls 0.4 points per extra hour two weeks later. "Sales" is
    not in `org`, so it is its own business unit, with unrelated outcomes.
    """
    rng = np.random.default_rng(seed)
    con = duckdb.connect()
    migrate(con)
    level = 24 + 6 * _ar1(rng, 1, weeks, 0.5)[0]
    rows = []
    for w in range(weeks):
        for team in ("IT Service Desk", "HR Help"):
            for dept in ("Support Ops", "Sales"):
                for i in range(6):
                    created = START + timedelta(weeks=w, days=i % 7, hours=9 + i)
                    planted = team == "IT Service Desk" and dept == "Support Ops"
                    hours = (level[w] if planted else 24 + 6 * rng.normal()) * np.exp(
                        0.03 * rng.normal()
                    )
                    rows.append(
                        {
                            "ticket_id": f"{team[:2]}-{dept[:2]}-{w}-{i}",
                            "source": "generic",
                            "service_team": team,
                            "requester_id": f"u{i}",
                            "requester_department": dept,
                            "requester_type": "employee",
                            "channel": "portal",
                            "category": "access",
                            "priority": "normal",
                            "ticket_type": "request",
                            "status": "solved",
                            "created_at": created,
                            "updated_at": created + timedelta(hours=float(hours)),
                            "first_response_at": created + timedelta(minutes=30 + 5 * i),
                            "resolved_at": created + timedelta(hours=float(hours)),
                            "reopen_count": 0,
                            "subject": "x",
                            "ingest_id": 1,
                        }
                    )
    tickets = pl.DataFrame(rows)
    con.register("new_tickets", tickets)
    con.execute("INSERT INTO tickets BY NAME SELECT * FROM new_tickets")
    con.execute("INSERT INTO org VALUES ('Support Ops', 'Customer Support', 1)")
    out = []
    for w in range(weeks):
        period = (START + timedelta(weeks=w)).date()
        csat = 80.0 + 0.05 * w + rng.normal(scale=0.6)
        if w >= 2:
            csat -= 0.4 * level[w - 2]
        out.append((period, "Customer Support", "customer_csat", csat, "crm", 1))
        out.append((period, "Sales", "customer_csat", 70 + rng.normal(), "crm", 1))
        out.append(
            (period, "Customer Support", "revenue", 1e6 + 1e3 * w + 5e3 * rng.normal(), "erp", 1)
        )
    con.executemany("INSERT INTO external_outcomes VALUES (?, ?, ?, ?, ?, ?)", out)
    surveys = [
        (
            f"s{w}-{i}",
            "generic",
            "pulse",
            START + timedelta(weeks=w, days=2),
            f"r{i}",
            "Support Ops",
            "IT Service Desk",
            None,
            "csat",
            float(rng.integers(1, 6)),
            1.0,
            5.0,
            None,
            1,
        )
        for w in range(weeks)
        for i in range(3)
    ]
    cols = (
        "response_id, source, survey, submitted_at, respondent_id, respondent_department, "
        "service_team, ticket_id, metric, score, scale_min, scale_max, comment, ingest_id"
    )
    con.executemany(
        f"INSERT INTO survey_responses ({cols}) VALUES ({', '.join(['?'] * 14)})", surveys
    )
    return con


@pytest.fixture(scope="module")
def warehouse() -> duckdb.DuckDBPyConnection:
    return _warehouse()


def test_internal_series_maps_departments_and_fills_zero_volume(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    s = internal_series(warehouse, "week")
    assert set(s["business_unit"]) == {"Customer Support", "Sales"}
    assert set(s["service_team"]) == {"IT Service Desk", "HR Help", "all"}
    one = s.filter((pl.col("service_team") == "all") & (pl.col("business_unit") == "Sales"))
    assert one["ticket_volume"].to_list()[:3] == [12, 12, 12]
    # tickets fall on Monday..Saturday: the history ends before the last Sunday, so the
    # final week is incomplete and left out rather than shown as a volume drop
    assert one.height == WEEKS - 1
    it = s.filter(
        (pl.col("service_team") == "IT Service Desk")
        & (pl.col("business_unit") == "Customer Support")
    )
    assert it["internal_csat"].null_count() == 0
    hidden = internal_series(warehouse, "week", min_respondents=5)
    assert hidden["internal_csat"].null_count() == hidden.height  # 3 respondents < 5
    ext = external_series(warehouse, "month")
    assert ext.filter(pl.col("external_metric") == "revenue").height <= 20


def test_external_weeks_map_to_the_monday_week_they_overlap_most() -> None:
    con = duckdb.connect()
    migrate(con)
    con.executemany(
        "INSERT INTO external_outcomes VALUES (?, ?, 'nps', ?, 'x', 1)",
        [
            (datetime(2024, 1, 7).date(), "A", 1.0),  # Sunday-start week: Jan 7-13
            (datetime(2024, 1, 8).date(), "B", 2.0),  # Monday
            (datetime(2024, 1, 13).date(), "C", 3.0),  # Saturday-start week: Jan 13-19
        ],
    )
    ext = external_series(con, "week").sort("business_unit")
    assert ext["period_start"].to_list() == [datetime(2024, 1, d).date() for d in (8, 8, 15)]


def test_end_to_end_planted_link(warehouse: duckdb.DuckDBPyConnection) -> None:
    table = alignment_table(warehouse, Config(), period="week", max_lag=4)
    assert table.columns[: len(CONTRACT_COLUMNS)] == list(CONTRACT_COLUMNS)
    # 3 teams × 2 units × 5 metrics × (2 outcomes for CS, 1 for Sales) × 5 lags
    assert table.height == 3 * 5 * (2 + 1) * 5
    hit = table.filter(
        (pl.col("service_team") == "IT Service Desk")
        & (pl.col("internal_metric") == "median_resolution_hours")
        & (pl.col("business_unit") == "Customer Support")
        & (pl.col("external_metric") == "customer_csat")
    ).sort("lag_periods")
    best = hit.sort(pl.col("correlation").abs(), descending=True).row(0, named=True)
    assert abs(best["lag_periods"] - 2) <= 1
    assert best["correlation"] < 0 and best["significant"]
    assert best["n_periods"] >= 70
    sentence = plain_sentence(best)
    assert sentence.startswith("When IT Service Desk resolution time for Customer Support rises,")
    assert "Customer Support's customer CSAT is lower" in sentence
    assert "weeks)" in sentence
    # unrelated rows are rarely flagged (BH over the whole table)
    others = table.filter(
        ~(
            (pl.col("internal_metric") == "median_resolution_hours")
            & (pl.col("business_unit") == "Customer Support")
            & (pl.col("external_metric") == "customer_csat")
            & pl.col("service_team").is_in(["IT Service Desk", "all"])
        )
    )
    assert others["significant"].sum() <= 2
    assert table["q_value"].drop_nulls().min() >= table["p_value"].drop_nulls().min()


def test_filters_shrink_the_family(warehouse: duckdb.DuckDBPyConnection) -> None:
    full = alignment_table(warehouse, Config())
    small = alignment_table(
        warehouse,
        Config(),
        teams=["IT Service Desk"],
        internal_metrics=["median_resolution_hours"],
        external_metrics=["customer_csat"],
    )
    assert small.height == 2 * 5  # two business units × 5 lags
    key = ["service_team", "internal_metric", "business_unit", "external_metric", "lag_periods"]
    both = small.join(full, on=key, suffix="_full")
    # same correlations and p-values; BH runs over the smaller family only
    assert (both["correlation"] - both["correlation_full"]).abs().max() < 1e-12
    assert (both["p_value"] - both["p_value_full"]).abs().max() < 1e-15
    assert small["q_value"].to_numpy() == pytest.approx(
        st.benjamini_hochberg(small["p_value"].to_numpy())
    )
    planted = both.filter(
        (pl.col("business_unit") == "Customer Support") & (pl.col("lag_periods") == 2)
    ).row(0, named=True)
    assert planted["q_value"] < planted["q_value_full"] and planted["significant"]
    with pytest.raises(ValueError, match="unknown internal metric"):
        alignment_table(warehouse, Config(), internal_metrics=["speed"])


def test_not_enough_data_rows_are_null() -> None:
    con = _warehouse(weeks=10, seed=3)
    table = alignment_table(con, Config(alignment_min_periods=12), period="week")
    assert table.height > 0
    assert table["correlation"].null_count() == table.height
    assert table["q_value"].null_count() == table.height
    assert not table["significant"].any()
    assert set(table["note"]) == {"not enough data"}
    assert plain_sentence(table.row(0, named=True)).startswith("Not enough data")


def test_empty_warehouse_gives_empty_table() -> None:
    con = duckdb.connect()
    migrate(con)
    table = alignment_table(con, Config())
    assert table.height == 0 and table.columns[:12] == list(CONTRACT_COLUMNS)


def test_plain_sentence_forms() -> None:
    row = {
        "service_team": "all",
        "internal_metric": "ticket_volume",
        "business_unit": "Finance",
        "external_metric": "churn_rate",
        "lag_periods": 1,
        "n_periods": 20,
        "correlation": 0.6,
        "q_value": 0.0004,
        "significant": True,
        "period": "month",
    }
    assert plain_sentence(row) == (
        "When ticket volume across all service teams for Finance "
        "rises, Finance's churn rate is higher one month later "
        "(q < 0.001, 20 months)"
    )
    row |= {"significant": False, "q_value": 0.41, "lag_periods": 0}
    assert plain_sentence(row).startswith("No clear link between ticket volume")
    assert "in the same month (q = 0.410, 20 months)" in plain_sentence(row)


def test_goal_attainment(warehouse: duckdb.DuckDBPyConnection) -> None:
    cfg = Config(
        goals=(
            Goal("median_first_response_hours", 2.0, "lower", "First response under 2 h"),
            Goal("customer_csat", 99.0, "higher"),
            Goal("no_such_metric", 1.0),
        )
    )
    g = goal_attainment(warehouse, cfg)
    assert g["metric"].to_list() == [
        "median_first_response_hours",
        "customer_csat",
        "no_such_metric",
    ]
    fr, csat, unknown = g.iter_rows(named=True)
    assert 0.5 < fr["current_value"] < 1.0 and fr["attained"] is True
    assert csat["attained"] is False
    assert unknown["current_value"] is None and unknown["attained"] is None
    assert unknown["note"] == "unknown metric"


def test_reopen_goal_counts_only_tickets_with_a_reopen_count() -> None:
    """Two tickets reopened, two not, four from a tool without reopen counts: 50 %, not
    25 % (unknown is not "never reopened"), and the goal's note says so."""
    con = duckdb.connect()
    migrate(con)
    at = datetime(2024, 3, 1, tzinfo=UTC)
    con.executemany(
        "INSERT INTO tickets (source, ticket_id, service_team, created_at, updated_at, "
        "reopen_count) VALUES ('generic', ?, 'IT', ?, ?, ?)",
        [(f"T{i}", at, at, n) for i, n in enumerate([1, 3, 0, 0, None, None, None, None])],
    )
    (row,) = goal_attainment(con, Config(goals=(Goal("reopen_rate", 0.1, "lower"),))).iter_rows(
        named=True
    )
    assert row["current_value"] == pytest.approx(0.5)
    assert "no reopen count" in row["note"]
