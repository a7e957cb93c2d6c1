"""Department signals: activity per head, the shift to reactive work, survey fatigue,
and the one-row-per-department summary the Engagement page shows."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from dashboard.filters import Filters
from dashboard.metrics.engagement.terms import ENGAGEMENT_FILTERS, filter_where
from dashboard.metrics.stats import benjamini_hochberg


def department_activity(
    con: duckdb.DuckDBPyConnection,
    period: str = "month",
    since: date | None = None,
    until: date | None = None,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """Active requesters and tickets per head, per department x team x period
    (`filters`: team, department, requester type).

    Head count comes from `people` (active during any part of the period), so a
    department that grew is not mistaken for one that uses the service more.
    Per-head values are null when the department has no people rows.
    Columns: requester_department, service_team, period_start, tickets,
    active_requesters, headcount, active_per_head, tickets_per_head.
    """
    if period not in ("week", "month", "quarter", "year"):
        raise ValueError(f"period must be week, month, quarter or year, not {period!r}")
    where, params = filter_where(filters)
    q = f"""
    WITH t AS (
        SELECT requester_department, service_team, requester_id,
               CAST(date_trunc('{period}', utc(created_at)) AS DATE) AS period_start
        FROM tickets
        WHERE ($since IS NULL OR utc(created_at) >= CAST($since AS DATE))
          AND ($until IS NULL
               OR utc(created_at) < CAST($until AS DATE) + INTERVAL 1 DAY)
          AND {where}
    ), agg AS (
        SELECT requester_department, service_team, period_start, count(*) AS tickets,
               count(DISTINCT requester_id) AS active_requesters
        FROM t GROUP BY ALL
    ), periods AS (
        SELECT DISTINCT requester_department, period_start,
               CAST(period_start + INTERVAL 1 {period} AS DATE) AS period_end FROM agg
    ), heads AS (
        SELECT p.requester_department, p.period_start, count(pe.person_id) AS headcount
        FROM periods p
        LEFT JOIN people pe ON pe.department = p.requester_department
            AND (pe.active_from IS NULL OR pe.active_from < p.period_end)
            AND (pe.active_to IS NULL OR pe.active_to >= p.period_start)
        GROUP BY ALL
    )
    SELECT a.requester_department, a.service_team, a.period_start, a.tickets,
           a.active_requesters, h.headcount,
           CASE WHEN h.headcount > 0 THEN a.active_requesters / h.headcount END
               AS active_per_head,
           CASE WHEN h.headcount > 0 THEN a.tickets / h.headcount END AS tickets_per_head
    FROM agg a LEFT JOIN heads h USING (requester_department, period_start)
    ORDER BY requester_department NULLS LAST, service_team NULLS LAST, period_start
    """
    return con.sql(q, params={"since": since, "until": until, **params}).pl()


def reactive_shift(
    con: duckdb.DuckDBPyConnection,
    alpha: float = 0.05,
    min_tickets: int = 30,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """Share of reactive work (incidents or urgent) per department per quarter, and who shifted.

    reactive = ticket_type 'incident' or priority 'urgent'; planned = 'request'
    or 'question' that is not urgent; share = reactive / (reactive + planned),
    other types left out. A department that goes quiet on requests while
    incidents keep coming has stopped asking for help before things break.

    Test: the quarters present in the data are split into a first and a last
    half (the middle quarter dropped when their number is odd; the same split
    for every department so they are comparable); a one-sided pooled
    two-proportion z-test asks whether the share rose; p-values are adjusted
    with Benjamini-Hochberg across departments and `flagged` = q <= alpha,
    share rose, and both halves have at least `min_tickets` classified tickets.

    Returns one row per department x quarter with the department's test
    columns repeated: requester_department, quarter_start, reactive, planned,
    reactive_share, first_half_share, last_half_share, z, p_value, q_value,
    flagged, test.

    `filters`: team and requester type choose the tickets; a department filter
    only chooses which departments' rows are returned, after every department
    was tested, so narrowing the view never changes a q-value.
    """
    where, params = filter_where((filters or Filters()).only(("teams", "requester_types")))
    per_q = (
        con.sql(
            f"""
        SELECT requester_department,
               CAST(date_trunc('quarter', utc(created_at)) AS DATE) AS quarter_start,
               count(*) FILTER (WHERE ticket_type = 'incident' OR priority = 'urgent') AS reactive,
               count(*) FILTER (WHERE ticket_type IN ('request', 'question')
                                AND coalesce(priority, '') <> 'urgent') AS planned
        FROM tickets WHERE requester_department IS NOT NULL AND {where}
        GROUP BY ALL
    """,
            params=params,
        )
        .pl()
        .with_columns(pl.col("reactive").cast(pl.Int64), pl.col("planned").cast(pl.Int64))
    )
    schema_extra = {
        "first_half_share": pl.Float64,
        "last_half_share": pl.Float64,
        "z": pl.Float64,
        "p_value": pl.Float64,
        "q_value": pl.Float64,
        "flagged": pl.Boolean,
        "test": pl.String,
    }
    if per_q.height == 0:
        return per_q.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("reactive_share"),
            *[pl.lit(None, dtype=d).alias(c) for c, d in schema_extra.items()],
        )
    quarters = sorted(per_q["quarter_start"].unique().to_list())
    half = len(quarters) // 2
    first, last = set(quarters[:half]), set(quarters[len(quarters) - half :])
    per_q = per_q.with_columns(
        (pl.col("reactive") / (pl.col("reactive") + pl.col("planned"))).alias("reactive_share"),
        pl.when(pl.col("quarter_start").is_in(list(first)))
        .then(pl.lit("first"))
        .when(pl.col("quarter_start").is_in(list(last)))
        .then(pl.lit("last"))
        .alias("_half"),
    )
    halves = (
        per_q.filter(pl.col("_half").is_not_null())
        .group_by("requester_department", "_half")
        .agg(pl.col("reactive").sum(), pl.col("planned").sum())
    )
    wide = (
        halves.with_columns((pl.col("reactive") + pl.col("planned")).alias("n"))
        .pivot(on="_half", index="requester_department", values=["reactive", "n"])
        .sort("requester_department")
    )
    for col in ("reactive_first", "reactive_last", "n_first", "n_last"):
        if col not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(col))
    x1 = wide["reactive_first"].fill_null(0).to_numpy().astype(float)
    n1 = wide["n_first"].fill_null(0).to_numpy().astype(float)
    x2 = wide["reactive_last"].fill_null(0).to_numpy().astype(float)
    n2 = wide["n_last"].fill_null(0).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (p2 - p1) / se
    testable = (n1 >= min_tickets) & (n2 >= min_tickets) & (se > 0)
    z = np.where(testable, z, np.nan)
    pval = np.where(testable, stats.norm.sf(z), np.nan)
    qval = benjamini_hochberg(pval)
    flagged = np.where(testable, (qval <= alpha) & (p2 > p1), False)
    tests = pl.DataFrame(
        {
            "requester_department": wide["requester_department"],
            "first_half_share": np.where(n1 > 0, p1, np.nan),
            "last_half_share": np.where(n2 > 0, p2, np.nan),
            "z": z,
            "p_value": pval,
            "q_value": qval,
            "flagged": flagged.astype(bool),
        }
    ).with_columns(
        pl.col(c).fill_nan(None)
        for c in ("first_half_share", "last_half_share", "z", "p_value", "q_value")
    )
    test_name = (
        f"one-sided pooled two-proportion z-test, first {half} vs last {half} quarters, "
        f"Benjamini-Hochberg across departments, alpha {alpha}"
    )
    out = (
        per_q.drop("_half")
        .join(tests, on="requester_department", how="left")
        .with_columns(pl.col("flagged").fill_null(False), pl.lit(test_name).alias("test"))
        .sort("requester_department", "quarter_start")
    )
    if filters is not None and filters.departments:
        out = out.filter(pl.col("requester_department").is_in(list(filters.departments)))
    return out


def survey_fatigue(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Survey responses per resolved ticket, per department x quarter, and its trend.

    Falling response rates while tickets keep being resolved mean requesters are
    tired of being asked; the CSAT that remains then over-represents the
    strongly (dis)satisfied. Responses are counted once per (source,
    response_id) whatever the number of metrics; tickets by resolved_at and
    requester_department, responses by submitted_at and respondent_department.
    Trend per department: ordinary least-squares slope of responses_per_resolved
    on the quarter index (per quarter), its p-value (scipy linregress, needs
    >= 3 quarters) and the slope relative to the department's mean rate.
    Columns: department, quarter_start, resolved_tickets, responses,
    responses_per_resolved, slope_per_quarter, slope_p_value, relative_slope.
    `filters`: team and department on both sides (the respondent's department for
    answers); requester type on tickets only (answers do not carry it).
    """
    f = (filters or Filters()).only(ENGAGEMENT_FILTERS)
    t_where, t_params = f.where(prefix="t_")
    s_where, s_params = f.survey_where()
    df = (
        con.sql(
            f"""
        WITH res AS (
            SELECT requester_department AS department,
                   CAST(date_trunc('quarter', utc(resolved_at)) AS DATE)
                       AS quarter_start,
                   count(*) AS resolved_tickets
            FROM tickets WHERE resolved_at IS NOT NULL AND requester_department IS NOT NULL
              AND {t_where}
            GROUP BY ALL
        ), sur AS (
            SELECT respondent_department AS department,
                   CAST(date_trunc('quarter', utc(submitted_at)) AS DATE)
                       AS quarter_start,
                   count(DISTINCT (source, response_id)) AS responses
            FROM survey_responses
            WHERE submitted_at IS NOT NULL AND respondent_department IS NOT NULL
              AND {s_where}
            GROUP BY ALL
        )
        SELECT department, quarter_start, coalesce(res.resolved_tickets, 0) AS resolved_tickets,
               coalesce(sur.responses, 0) AS responses
        FROM res FULL OUTER JOIN sur USING (department, quarter_start)
        ORDER BY department, quarter_start
    """,
            params=t_params | s_params,
        )
        .pl()
        .with_columns(pl.col("resolved_tickets").cast(pl.Int64), pl.col("responses").cast(pl.Int64))
    )
    df = df.with_columns(
        pl.when(pl.col("resolved_tickets") > 0)
        .then(pl.col("responses") / pl.col("resolved_tickets"))
        .alias("responses_per_resolved")
    )
    rows: list[dict[str, Any]] = []
    # One small regression per department (tens of departments, not millions).
    for (dept,), part in df.filter(pl.col("responses_per_resolved").is_not_null()).group_by(
        "department", maintain_order=True
    ):
        quarters = part["quarter_start"].to_list()
        idx = np.array([(q.year * 4 + (q.month - 1) // 3) for q in quarters], dtype=float)
        y = part["responses_per_resolved"].to_numpy().astype(float)
        slope = p_value = rel = None
        if len(y) >= 3 and np.ptp(idx) > 0:
            fit = stats.linregress(idx, y)
            slope, p_value = float(fit.slope), float(fit.pvalue)
            rel = slope / float(np.mean(y)) if np.mean(y) > 0 else None
        rows.append(
            {
                "department": dept,
                "slope_per_quarter": slope,
                "slope_p_value": p_value,
                "relative_slope": rel,
            }
        )
    trend = pl.DataFrame(
        rows,
        schema={
            "department": pl.String,
            "slope_per_quarter": pl.Float64,
            "slope_p_value": pl.Float64,
            "relative_slope": pl.Float64,
        },
    )
    return df.join(trend, on="department", how="left").sort("department", "quarter_start")


def department_signals(
    con: duckdb.DuckDBPyConnection, filters: Filters | None = None
) -> pl.DataFrame:
    """One row per requester department, the Engagement page's summary table: the
    latest quarter's tickets, active requesters and head count, the reactive share
    over the first and the last half of the history (and whether it rose
    significantly), and the trend of survey answers per resolved ticket.

    Columns: requester_department, tickets, active_requesters (summed over teams: a
    person filing with two teams counts twice), headcount, first_half_share,
    last_half_share, turned_reactive, survey_response_trend (relative change per
    quarter). `filters`: team, department, requester type.
    """
    # Only the latest quarter is shown: activity is computed for it alone (counting
    # distinct requesters over every quarter of the history cost the page seconds).
    where, params = filter_where(filters)
    newest = con.sql(
        f"SELECT CAST(date_trunc('quarter', max(utc(created_at))) AS DATE) FROM tickets "
        f"WHERE {where}",
        params=params,
    ).fetchall()[0][0]
    latest = department_activity(con, "quarter", since=newest, filters=filters)
    shift = reactive_shift(con, filters=filters)
    fatigue = survey_fatigue(con, filters)
    out = (
        latest.filter(pl.col("requester_department").is_not_null())
        .group_by("requester_department")
        .agg(
            pl.col("tickets").sum(),
            pl.col("active_requesters").sum(),
            pl.col("headcount").max(),
        )
        .join(
            shift.group_by("requester_department").agg(
                pl.col("first_half_share").first(),
                pl.col("last_half_share").first(),
                pl.col("flagged").first().alias("turned_reactive"),
            ),
            on="requester_department",
            how="left",
        )
        .join(
            fatigue.group_by("department").agg(
                pl.col("relative_slope").first().alias("survey_response_trend")
            ),
            left_on="requester_department",
            right_on="department",
            how="left",
        )
        .sort("tickets", "requester_department", descending=[True, False])
    )
    if filters is not None and filters.departments:
        out = out.filter(pl.col("requester_department").is_in(list(filters.departments)))
    return out
