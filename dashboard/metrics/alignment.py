"""Alignment: do internal service metrics move what external customers feel?

The question a CIO or HR director asks is "if IT resolves Customer Support's
tickets faster, do Customer Support's customers notice?". This module builds
the series that question needs and tests every (service team × internal metric
× business unit × external metric × lag) combination with the honest recipe in
`alignment_stats` (differencing, pre-whitening, effective sample size,
Benjamini–Hochberg over the whole table).

Series
  * internal, per period × service team (plus ``all``) × business unit: the
    requester's department mapped through `org` (a department missing there is
    its own business unit). Tickets count in the period they were *created*.
  * external, per period × business unit × metric, from `external_outcomes`
    (several rows in one period are averaged, so monthly revenue reported weekly
    becomes a weekly mean, not a sum that depends on the number of weeks).

Only *complete* periods of the ticket history are used: a half-exported first or
last week would show a volume drop that correlates with anything that moved.
Periods are UTC weeks (Monday) or calendar months.

Reading a row: `correlation` relates period-to-period *changes* (after removing
the internal metric's own momentum, see `alignment_stats`), not levels. A
negative rho at lag 2 says "weeks in which resolution time went up were
followed, two weeks later, by weeks in which customer CSAT went down". All
lags 0..max_lag are in the BH family, so picking the best lag is paid for.

Known simplifications: a real service team literally named "all" would collide
with the all-teams rows. internal_csat is the mean CSAT on the 1–5 reporting
scale (`survey_scores`), so 1–5 and 0–10 surveys mix correctly.

Correlation is not causation, and a table of ~1,500+ tests will contain
coincidences; the `significant` flag (BH q ≤ 0.05 and enough periods) keeps the
expected share of false discoveries among flagged rows at 5 %, not zero.

Why one file of ~700 lines: building the paired series, the lag grid and the
multiple-testing correction is one table's definition (its statistics live in
`alignment_stats`); split, the table's columns would be defined in several places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

import duckdb
import numpy as np
import polars as pl

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics import alignment_stats as st

Period = Literal["week", "month"]

INTERNAL_METRICS: tuple[str, ...] = (
    "ticket_volume",
    "median_first_response_hours",
    "median_resolution_hours",
    "sla_met_rate",
    "internal_csat",
)
ALL_TEAMS = "all"
UNKNOWN = "unknown"

#: The contract's columns, in order; extras follow them.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "service_team",
    "internal_metric",
    "business_unit",
    "external_metric",
    "lag_periods",
    "n_periods",
    "correlation",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
)
EXTRA_COLUMNS: tuple[str, ...] = (
    "period",
    "n_effective",
    "ar_order",
    "lags_tested",
    "transform",
    "method",
    "note",
)
SCHEMA: dict[str, Any] = {
    "service_team": pl.String,
    "internal_metric": pl.String,
    "business_unit": pl.String,
    "external_metric": pl.String,
    "lag_periods": pl.Int64,
    "n_periods": pl.Int64,
    "correlation": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "significant": pl.Boolean,
    "period": pl.String,
    "n_effective": pl.Float64,
    "ar_order": pl.Int64,
    "lags_tested": pl.Int64,
    "transform": pl.String,
    "method": pl.String,
    "note": pl.String,
}
SIGNIFICANCE_Q = 0.05

INTERNAL_LABELS = {
    "ticket_volume": "ticket volume",
    "median_first_response_hours": "first-response time",
    "median_resolution_hours": "resolution time",
    "sla_met_rate": "SLA attainment",
    "internal_csat": "internal CSAT",
}
#: What each internal metric is counted in: the pair chart's axis titles say it.
INTERNAL_UNITS = {
    "ticket_volume": "tickets",
    "median_first_response_hours": "hours",
    "median_resolution_hours": "hours",
    "sla_met_rate": "share met, 0–1",
    "internal_csat": "1–5",
}
EXTERNAL_LABELS = {
    "customer_csat": "customer CSAT",
    "csat": "CSAT",
    "nps": "NPS",
    "churn_rate": "churn rate",
    "revenue": "revenue",
}
_NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def _check_period(period: str) -> Period:
    if period not in ("week", "month"):
        raise ValueError(f"period must be 'week' or 'month', got {period!r}")
    return period  # type: ignore[return-value]


def _unit_sql(dept_col: str) -> str:
    return f"coalesce(o.business_unit, {dept_col}, '{UNKNOWN}')"


def internal_series(
    con: duckdb.DuckDBPyConnection, period: Period = "week", *, min_respondents: int | None = None
) -> pl.DataFrame:
    """Internal metrics per complete period × service team (and 'all') × business unit.

    Columns: period_start (date), service_team, business_unit, ticket_volume
    (0 in a complete period without tickets, not missing), median_first_response_hours,
    median_resolution_hours (calendar time, exact medians), sla_met_rate (share of
    the SLA targets that were due and met, first response and resolution pooled),
    internal_csat (mean CSAT score, joined by service team and the respondent's
    business unit), csat_respondents.

    `min_respondents` (pass `config.anonymity_min_group` when showing the series
    to people) blanks internal_csat where fewer respondents answered: a weekly
    mean of one response *is* that person's answer. The alignment table uses the
    unblanked values; it only publishes correlations.
    """
    period = _check_period(period)
    step = f"INTERVAL 1 {period.upper()}"
    query = f"""
    WITH bounds AS (
        SELECT min(utc(created_at))::DATE AS d0,
               max(utc(created_at))::DATE AS d1
        FROM tickets
    ),
    periods AS (
        SELECT CAST(p AS DATE) AS period_start
        FROM bounds, generate_series(
            CAST(date_trunc('{period}', d0) AS TIMESTAMP),
            CAST(date_trunc('{period}', d1) AS TIMESTAMP), {step}) AS g(p)
        -- complete periods only: the whole period lies within the exported history
        WHERE CAST(p AS DATE) >= d0 AND CAST(p + {step} AS DATE) - 1 <= d1
    ),
    t AS (
        SELECT CAST(date_trunc('{period}', utc(created_at)) AS DATE) AS period_start,
               coalesce(service_team, '{UNKNOWN}') AS service_team,
               {_unit_sql("t.requester_department")} AS business_unit,
               first_response_minutes, resolution_minutes,
               sla_first_response_met, sla_resolution_met
        FROM ticket_times t LEFT JOIN org o ON o.department = t.requester_department
    ),
    tagg AS (
        SELECT period_start,
               CASE WHEN grouping(service_team) = 1 THEN '{ALL_TEAMS}' ELSE service_team END
                   AS service_team,
               business_unit,
               count(*) AS ticket_volume,
               quantile_cont(first_response_minutes, 0.5) / 60.0 AS median_first_response_hours,
               quantile_cont(resolution_minutes, 0.5) / 60.0 AS median_resolution_hours,
               (count_if(sla_first_response_met) + count_if(sla_resolution_met))
                   / nullif(count(sla_first_response_met) + count(sla_resolution_met), 0)
                   AS sla_met_rate
        FROM t
        GROUP BY GROUPING SETS ((period_start, service_team, business_unit),
                                (period_start, business_unit))
    ),
    s AS (
        SELECT CAST(date_trunc('{period}', utc(submitted_at)) AS DATE) AS period_start,
               coalesce(service_team, '{UNKNOWN}') AS service_team,
               {_unit_sql("s.respondent_department")} AS business_unit,
               score_normalised AS score, coalesce(respondent_id, response_id) AS who
        FROM survey_scores s LEFT JOIN org o ON o.department = s.respondent_department
        WHERE metric = 'csat' AND score_normalised IS NOT NULL AND submitted_at IS NOT NULL
    ),
    sagg AS (
        SELECT period_start,
               CASE WHEN grouping(service_team) = 1 THEN '{ALL_TEAMS}' ELSE service_team END
                   AS service_team,
               business_unit,
               avg(score) AS internal_csat,
               count(DISTINCT who) AS csat_respondents
        FROM s
        GROUP BY GROUPING SETS ((period_start, service_team, business_unit),
                                (period_start, business_unit))
    ),
    combos AS (
        SELECT DISTINCT service_team, business_unit FROM tagg
        UNION SELECT DISTINCT service_team, business_unit FROM sagg
    )
    SELECT p.period_start, c.service_team, c.business_unit,
           coalesce(tagg.ticket_volume, 0) AS ticket_volume,
           tagg.median_first_response_hours, tagg.median_resolution_hours, tagg.sla_met_rate,
           sagg.internal_csat, coalesce(sagg.csat_respondents, 0) AS csat_respondents
    FROM periods p CROSS JOIN combos c
    LEFT JOIN tagg USING (period_start, service_team, business_unit)
    LEFT JOIN sagg USING (period_start, service_team, business_unit)
    ORDER BY c.service_team, c.business_unit, p.period_start
    """
    df = con.sql(query).pl()
    df = df.with_columns(
        pl.col("ticket_volume").cast(pl.Int64), pl.col("csat_respondents").cast(pl.Int64)
    )
    if min_respondents is not None:
        df = df.with_columns(
            pl.when(pl.col("csat_respondents") >= min_respondents)
            .then(pl.col("internal_csat"))
            .otherwise(None)
            .alias("internal_csat")
        )
    return df


def external_series(con: duckdb.DuckDBPyConnection, period: Period = "week") -> pl.DataFrame:
    """External outcomes per period × business unit × metric (mean of the rows in a period).

    Columns: period_start (date), business_unit, external_metric, value. Outcome
    periods are mapped to the same week (Monday) / month starts as the internal
    series so the two line up.
    """
    period = _check_period(period)
    # A week reported from its Sunday (or Saturday, or Tuesday) belongs to the Monday week
    # it overlaps most: shifting by 3 days before truncating does exactly that. Plain
    # truncation would file a Sunday-start week under the previous Monday: a one-week lag
    # error that would show up as a spurious "one week later".
    shifted = "period_start + 3" if period == "week" else "period_start"
    query = f"""
    SELECT CAST(date_trunc('{period}', {shifted}) AS DATE) AS period_start,
           business_unit, metric AS external_metric, avg(value) AS value
    FROM external_outcomes
    WHERE value IS NOT NULL AND isfinite(value)
    GROUP BY ALL
    ORDER BY business_unit, external_metric, period_start
    """
    return con.sql(query).pl()


def _period_grid(dates: list[date], period: Period) -> dict[date, int]:
    """Index every week/month start from the earliest to the latest date given."""
    if not dates:
        return {}
    lo, hi = min(dates), max(dates)
    interval = "1w" if period == "week" else "1mo"
    grid = pl.date_range(lo, hi, interval=interval, eager=True).to_list()
    return {d: i for i, d in enumerate(grid)}


def empty_alignment() -> pl.DataFrame:
    """The alignment table with no rows (empty warehouse), schema intact."""
    return pl.DataFrame(schema=SCHEMA)


def alignment_table(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period = "week",
    max_lag: int = 4,
    *,
    teams: Sequence[str] | None = None,
    internal_metrics: Sequence[str] | None = None,
    business_units: Sequence[str] | None = None,
    external_metrics: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Every team × internal metric × business unit × external metric × lag, tested honestly.

    Rows pair a team's internal metric *for one business unit's requesters* with
    that same unit's external outcome. `correlation` is Spearman's rho between
    the pre-whitened period-to-period changes (internal at t, external at
    t + lag_periods); `n_periods` is the number of such pairs it rests on.
    Below `config.alignment_min_periods` pairs, correlation, CI, p and q stay
    null (note "not enough data"); BH runs over every row that has a p-value.

    The optional filters shrink the family of tests *before* BH. Searching ~1,500
    combinations costs a lot of power (see benchmarks/alignment_power.py); a
    question asked in advance ("does IT resolution time move customer CSAT?") is
    a smaller family and detects much weaker links. Choosing the filter after
    looking at the full table defeats the purpose.
    """
    period = _check_period(period)
    if max_lag < 0:
        raise ValueError("max_lag must be >= 0")
    unknown = sorted(set(internal_metrics or ()) - set(INTERNAL_METRICS))
    if unknown:
        raise ValueError(
            f"unknown internal metric {unknown[0]!r}; use one of {', '.join(INTERNAL_METRICS)}"
        )
    metric_idx = [
        (mi, m)
        for mi, m in enumerate(INTERNAL_METRICS)
        if internal_metrics is None or m in internal_metrics
    ]
    internal = internal_series(con, period)
    external = external_series(con, period)
    if internal.is_empty() or external.is_empty():
        return empty_alignment()
    grid = _period_grid(
        internal["period_start"].to_list() + external["period_start"].to_list(), period
    )
    t_len = len(grid)

    # internal: (team, unit) × metric × period
    int_keys = internal.select("service_team", "business_unit").unique(maintain_order=True)
    key_index = {(r[0], r[1]): i for i, r in enumerate(int_keys.iter_rows())}
    int_arr = np.full((len(key_index), len(INTERNAL_METRICS), t_len), np.nan)
    ki = np.array(
        [
            key_index[(a, b)]
            for a, b in zip(internal["service_team"], internal["business_unit"], strict=True)
        ]
    )
    ti = np.array([grid[d] for d in internal["period_start"]])
    for mi, metric in enumerate(INTERNAL_METRICS):
        int_arr[ki, mi, ti] = internal[metric].cast(pl.Float64).fill_null(np.nan).to_numpy()

    # external: (unit, metric) × period
    ext_keys = external.select("business_unit", "external_metric").unique(maintain_order=True)
    ext_index = {(r[0], r[1]): i for i, r in enumerate(ext_keys.iter_rows())}
    ext_arr = np.full((len(ext_index), t_len), np.nan)
    ei = np.array(
        [
            ext_index[(a, b)]
            for a, b in zip(external["business_unit"], external["external_metric"], strict=True)
        ]
    )
    ext_arr[ei, np.array([grid[d] for d in external["period_start"]])] = external[
        "value"
    ].to_numpy()

    # pairs: same business unit on both sides
    ext_by_unit: dict[str, list[tuple[str, int]]] = {}
    for (unit, metric), i in ext_index.items():
        ext_by_unit.setdefault(unit, []).append((metric, i))
    meta: list[tuple[str, str, str, str]] = []
    x_rows: list[tuple[int, int]] = []
    y_rows: list[int] = []
    for (team, unit), k in key_index.items():
        if (teams is not None and team not in teams) or (
            business_units is not None and unit not in business_units
        ):
            continue
        for ext_metric, e in sorted(ext_by_unit.get(unit, [])):
            if external_metrics is not None and ext_metric not in external_metrics:
                continue
            for mi, metric in metric_idx:
                meta.append((team, metric, unit, ext_metric))
                x_rows.append((k, mi))
                y_rows.append(e)
    if not meta:
        return empty_alignment()
    xr = np.array(x_rows)
    x = int_arr[xr[:, 0], xr[:, 1]]
    y = ext_arr[np.array(y_rows)]

    res = st.lagged_correlations(x, y, max_lag)
    n = res.n_pairs
    enough = n >= config.alignment_min_periods
    computed = enough & np.isfinite(res.correlation)
    corr = np.where(computed, res.correlation, np.nan)
    p = np.where(computed, res.p_value, np.nan)
    q = st.benjamini_hochberg(p)
    significant = computed & (q <= SIGNIFICANCE_Q)
    note = np.where(
        ~enough, "not enough data", np.where(~np.isfinite(res.correlation), "no variation", "")
    )

    n_rows, n_lags = n.shape
    rep = np.repeat(np.arange(n_rows), n_lags)
    meta_arr = np.array(meta, dtype=object)

    def col(a: np.ndarray) -> np.ndarray:
        return a.reshape(-1)

    def nullable(a: np.ndarray) -> pl.Series:
        flat = col(np.where(computed, a, np.nan))
        return pl.Series(flat, dtype=pl.Float64).fill_nan(None)

    out = pl.DataFrame(
        {
            "service_team": meta_arr[rep, 0].tolist(),
            "internal_metric": meta_arr[rep, 1].tolist(),
            "business_unit": meta_arr[rep, 2].tolist(),
            "external_metric": meta_arr[rep, 3].tolist(),
            "lag_periods": np.tile(res.lags, n_rows).astype(np.int64),
            "n_periods": col(n).astype(np.int64),
            "correlation": nullable(corr),
            "ci_low": nullable(res.ci_low),
            "ci_high": nullable(res.ci_high),
            "p_value": nullable(p),
            "q_value": nullable(q),
            "significant": col(significant),
            "period": [period] * (n_rows * n_lags),
            "n_effective": nullable(res.n_effective),
            "ar_order": np.repeat(res.ar_order, n_lags).astype(np.int64),
            "lags_tested": [max_lag + 1] * (n_rows * n_lags),
            "transform": [res.transform] * (n_rows * n_lags),
            "method": [st.METHOD] * (n_rows * n_lags),
            "note": col(note).tolist(),
        },
        schema=SCHEMA,
    )
    return out.sort(
        "service_team", "internal_metric", "business_unit", "external_metric", "lag_periods"
    )


def _label(metric: str, labels: Mapping[str, str]) -> str:
    return labels.get(metric, metric.replace("_", " "))


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _when(lag: int, unit: str) -> str:
    if lag == 0:
        return f"in the same {unit}"
    word = _NUMBER_WORDS[lag] if lag < len(_NUMBER_WORDS) else str(lag)
    return f"{word} {unit}{'' if lag == 1 else 's'} later"


def _q_text(q: float) -> str:
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def plain_sentence(row: Mapping[str, Any]) -> str:
    """One sentence a manager can read for an alignment row (a dict: `iter_rows(named=True)`).

    Significant: "When IT Service Desk resolution time for Customer Support rises,
    Customer Support's customer CSAT is lower two weeks later (q = 0.003, 70 weeks)".
    Otherwise it says there is no clear link, or that there is not enough data,
    so a blank never reads as "no effect".
    """
    unit = str(row.get("period") or "week")
    team = str(row["service_team"])
    bu = str(row["business_unit"])
    internal = _label(str(row["internal_metric"]), INTERNAL_LABELS)
    external = _label(str(row["external_metric"]), EXTERNAL_LABELS)
    subject = (
        f"{internal} across all service teams for {bu}"
        if team == ALL_TEAMS
        else f"{team} {internal} for {bu}"
    )
    lag = int(row["lag_periods"])
    n = int(row["n_periods"] or 0)
    r = row.get("correlation")
    q = row.get("q_value")
    if r is None or q is None or (isinstance(r, float) and np.isnan(r)):
        reason = row.get("note") or "not enough data"
        if reason == "no variation":
            return (
                f"No variation to compare: {subject} or {bu}'s {external} did not change "
                f"over the {_count(n, unit)} available."
            )
        return (
            f"Not enough data to relate {subject} to {bu}'s {external} "
            f"{_when(lag, unit)}: only {_count(n, unit)} of paired changes."
        )
    evidence = f"({_q_text(float(q))}, {_count(n, unit)})"
    if row.get("significant"):
        direction = "higher" if float(r) > 0 else "lower"
        return (
            f"When {subject} rises, {bu}'s {external} is {direction} {_when(lag, unit)} {evidence}"
        )
    return f"No clear link between {subject} and {bu}'s {external} {_when(lag, unit)} {evidence}"


# ---------------------------------------------------------------- goals

GOAL_WINDOW_DAYS = 30
_GOAL_SQL: dict[str, str] = {
    "ticket_volume": "count(*)",
    "median_first_response_hours": "quantile_cont(first_response_minutes, 0.5) / 60.0",
    "median_resolution_hours": "quantile_cont(resolution_minutes, 0.5) / 60.0",
    "median_first_response_minutes": "quantile_cont(first_response_minutes, 0.5)",
    "median_resolution_minutes": "quantile_cont(resolution_minutes, 0.5)",
    "sla_met_rate": "(count_if(sla_first_response_met) + count_if(sla_resolution_met))"
    " / nullif(count(sla_first_response_met) + count(sla_resolution_met), 0)",
    "sla_first_response_met_rate": "avg(CAST(sla_first_response_met AS DOUBLE))",
    "sla_resolution_met_rate": "avg(CAST(sla_resolution_met AS DOUBLE))",
    # over the tickets whose export carries a reopen count (avg skips NULL: unknown)
    "reopen_rate": "avg(CAST(reopen_count > 0 AS DOUBLE))",
}


def goal_attainment(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Current value of each `[[goals]]` metric against its target.

    "Current" is the last `GOAL_WINDOW_DAYS` days of ticket/survey history (ending at
    the latest ticket, not today, so an old warehouse is not judged on an empty
    window) for internal metrics, and the latest reported period for an external
    metric (mean across business units). An unknown metric or a window without
    data gives a null value and null `attained`, with a `note`, never a fake miss.
    """
    schema: dict[str, Any] = {
        "metric": pl.String,
        "label": pl.String,
        "target": pl.Float64,
        "direction": pl.String,
        "current_value": pl.Float64,
        "attained": pl.Boolean,
        "window_start": pl.Date,
        "window_end": pl.Date,
        "note": pl.String,
    }
    if not config.goals:
        return pl.DataFrame(schema=schema)
    bounds = con.sql("SELECT max(utc(created_at))::DATE FROM tickets").fetchall()[0][0]
    internal: dict[str, Any] = {}
    if bounds is not None:
        exprs = ", ".join(f"{sql} AS {name}" for name, sql in _GOAL_SQL.items())
        q = (
            f"SELECT {exprs} FROM ticket_times WHERE utc(created_at)::DATE "
            f"> $end - {GOAL_WINDOW_DAYS} AND utc(created_at)::DATE <= $end"
        )
        internal = con.sql(q, params={"end": bounds}).pl().row(0, named=True)
        csat = con.sql(
            f"SELECT avg(score_normalised) FROM survey_scores WHERE metric = 'csat' "
            f"AND utc(submitted_at)::DATE > $end - {GOAL_WINDOW_DAYS} "
            f"AND utc(submitted_at)::DATE <= $end",
            params={"end": bounds},
        ).fetchall()[0][0]
        internal["internal_csat"] = csat
    ext = con.sql("""
        SELECT metric, period_start, avg(value) AS value FROM external_outcomes
        WHERE value IS NOT NULL
        GROUP BY metric, period_start
        QUALIFY period_start = max(period_start) OVER (PARTITION BY metric)
    """).pl()
    ext_latest = {r["metric"]: r for r in ext.iter_rows(named=True)}

    rows = []
    for g in config.goals:
        value: float | None = None
        start = end = None
        note = ""
        if g.metric in _GOAL_SQL or g.metric == "internal_csat":
            if bounds is None:
                note = "no tickets yet"
            else:
                raw = internal.get(g.metric)
                value = None if raw is None else float(raw)
                start, end = date.fromordinal(bounds.toordinal() - GOAL_WINDOW_DAYS + 1), bounds
                note = f"last {GOAL_WINDOW_DAYS} days" if value is not None else "no data in window"
                if g.metric == "reopen_rate":
                    note += "; tickets whose export has no reopen count are left out (unknown)"
        elif g.metric in ext_latest:
            r = ext_latest[g.metric]
            value, start, end = float(r["value"]), r["period_start"], r["period_start"]
            note = "latest reported period, mean across business units"
        else:
            note = "unknown metric"
        attained = None
        if value is not None and not np.isnan(value):
            attained = value >= g.target if g.direction == "higher" else value <= g.target
        rows.append(
            {
                "metric": g.metric,
                "label": g.label or g.metric,
                "target": g.target,
                "direction": g.direction,
                "current_value": value,
                "attained": attained,
                "window_start": start,
                "window_end": end,
                "note": note,
            }
        )
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------- filtered views

#: The sidebar filters the alignment views honour. Dates do not apply: the tests need
#: the whole history (enough periods), and re-running them on a range chosen after
#: looking would be exactly the forking path the corrections guard against.
ALIGNMENT_FILTERS: tuple[str, ...] = ("teams", "departments")


def business_units_of(con: duckdb.DuckDBPyConnection, departments: Sequence[str]) -> list[str]:
    """The business units requester departments report under (`org`; a department
    missing there is its own unit, as in the series)."""
    if not departments:
        return []
    rows = con.sql(
        f"""SELECT DISTINCT {_unit_sql("d.department")} FROM (SELECT unnest($deps) AS department) d
            LEFT JOIN org o ON o.department = d.department ORDER BY 1""",
        params={"deps": list(departments)},
    ).fetchall()
    return [r[0] for r in rows]


def filter_alignment(
    table: pl.DataFrame, teams: Sequence[str], business_units: Sequence[str]
) -> pl.DataFrame:
    """Rows of an alignment table for these teams (the all-teams rows drop out when a
    team is chosen) and business units. Rows are only selected, never re-tested:
    q-values stay those of the whole table, so a narrower view cannot make a link
    look stronger than it is."""
    if teams:
        table = table.filter(pl.col("service_team").is_in(list(teams)))
    if business_units:
        table = table.filter(pl.col("business_unit").is_in(list(business_units)))
    return table


def alignment_view(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period = "week",
    max_lag: int = 4,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """`alignment_table` (BH over every combination) cut to the filtered teams and the
    business units of the filtered departments."""
    f = filters or Filters()
    table = alignment_table(con, config, period, max_lag)
    return filter_alignment(table, f.teams, business_units_of(con, f.departments))


def pair_series(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: Period,
    team: str,
    unit: str,
    internal: str,
    external: str,
    lag: int,
) -> pl.DataFrame:
    """One internal and one external series side by side, the internal one shifted
    `lag` periods later (so a lead lines up), plus their period-to-period changes —
    the Alignment page's pair explorer and what the test statistic is built on.

    Columns: period_start, internal, external, internal_change, external_change.
    Internal CSAT is blanked where fewer than `anonymity_min_group` answered.
    """
    if internal not in INTERNAL_METRICS:
        raise ValueError(f"unknown internal metric {internal!r}")
    ins = internal_series(con, period, min_respondents=config.anonymity_min_group)
    ext = external_series(con, period)
    x = ins.filter((pl.col("service_team") == team) & (pl.col("business_unit") == unit)).select(
        "period_start", pl.col(internal).cast(pl.Float64).alias("internal")
    )
    y = ext.filter(
        (pl.col("business_unit") == unit) & (pl.col("external_metric") == external)
    ).select("period_start", pl.col("value").alias("external"))
    pair = x.join(y, on="period_start", how="full", coalesce=True).sort("period_start")
    return pair.with_columns(pl.col("internal").shift(lag)).with_columns(
        pl.col("internal").diff().alias("internal_change"),
        pl.col("external").diff().alias("external_change"),
    )


def pair_fit(pair: pl.DataFrame) -> tuple[float, float] | None:
    """Least-squares slope and intercept of external on internal changes (None below
    three complete pairs): the line drawn through the pair explorer's scatter."""
    changes = pair.drop_nulls(["internal_change", "external_change"])
    if changes.height < 3 or changes["internal_change"].n_unique() < 2:
        return None
    slope, intercept = np.polyfit(changes["internal_change"], changes["external_change"], 1)
    return float(slope), float(intercept)
