"""Who comes back: the return rate after a bad experience, first-ticket cohorts still
active N months later, and regulars gone quiet in the latest quarter."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from dashboard.filters import Filters
from dashboard.metrics.engagement.stored import LOW_CSAT_SQL
from dashboard.metrics.engagement.terms import as_of_or_newest, as_utc, filter_where
from dashboard.metrics.stats import wilson_interval
from dashboard.ordering import natural_order


def lost_after_bad_experience(
    con: duckdb.DuckDBPyConnection,
    within_days: int = 90,
    as_of: datetime | date | None = None,
    by_team: bool = False,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """P(next ticket to the same team within N days), split by the previous ticket's experience.

    For every ticket whose outcome is known at least `within_days` before
    as_of (reference time = resolved_at, else created_at; as_of is each
    ticket's source as-of unless one is given), "returned" means the
    same requester opened their next ticket with the same team within N days of
    that reference. Experiences (overlapping, each its own row): sla_breached
    (sla_resolution_met = false), reopened (reopen_count > 0), low_csat (a csat
    response for the ticket in the bottom two points of its scale, `survey_scores`),
    any_bad (any of those), none (none of those). A reopen count the export does
    not carry (NULL) is unknown, not "never reopened": such a ticket is in neither
    'reopened' nor 'none' (its experience might have been bad), only in the rows
    its other experiences decide ('sla_breached', 'low_csat', 'any_bad' when one
    of them holds).
    Columns: [service_team,] experience, tickets, returned, p_return, ci_low,
    ci_high (Wilson 95 %), difference_vs_none. `filters` (team, department,
    requester type) choose the tickets whose experience is judged; "next ticket"
    is still looked up in all of the requester's tickets to that team.
    """
    days = f"INTERVAL {int(within_days)} DAY"
    cutoff = "CAST($as_of AS TIMESTAMPTZ)" if as_of is not None else "as_of"
    where, params = filter_where(filters)
    if as_of is not None:
        params["as_of"] = as_utc(as_of)
    q = f"""
    WITH low AS ({LOW_CSAT_SQL}),
    t AS (
        SELECT service_team, requester_id, created_at, {where} AS _chosen,
               {cutoff} - {days} AS cutoff,
               coalesce(resolved_at, created_at) AS ref_at,
               coalesce(sla_resolution_met = FALSE, FALSE) AS sla_breached,
               reopen_count > 0 AS reopened,  -- NULL: unknown
               coalesce(low.low_csat, FALSE) AS low_csat,
               lead(created_at) OVER (PARTITION BY requester_id, service_team
                                      ORDER BY created_at, ticket_id) AS next_at
        FROM ticket_times LEFT JOIN low USING (ticket_id)
        WHERE requester_id IS NOT NULL
    ), e AS (
        -- three-valued: true when one bad experience is known, NULL when only the
        -- reopen is unknown, so `WHERE NOT any_bad` keeps tickets known to be fine
        SELECT *, sla_breached OR reopened OR low_csat AS any_bad,
               coalesce(next_at <= ref_at + INTERVAL {int(within_days)} DAY, FALSE) AS returned
        FROM t WHERE ref_at <= cutoff AND _chosen
    ), long AS (
        -- each ticket once per experience it had, in one pass over `e` (a UNION ALL
        -- of five filters read it five times); a NULL condition adds no row
        SELECT service_team, returned, unnest(list_filter([
            CASE WHEN sla_breached THEN 'sla_breached' END,
            CASE WHEN reopened THEN 'reopened' END,
            CASE WHEN low_csat THEN 'low_csat' END,
            CASE WHEN any_bad THEN 'any_bad' END,
            CASE WHEN NOT any_bad THEN 'none' END], lambda x: x IS NOT NULL)) AS experience
        FROM e
    )
    SELECT {"service_team, " if by_team else ""}experience, count(*) AS tickets,
           count(*) FILTER (WHERE returned) AS returned
    FROM long GROUP BY ALL
    """
    df = (
        con.sql(q, params=params)
        .pl()
        .with_columns(pl.col("tickets").cast(pl.Int64), pl.col("returned").cast(pl.Int64))
    )
    order = {"sla_breached": 0, "reopened": 1, "low_csat": 2, "any_bad": 3, "none": 4}
    k = df["returned"].to_numpy().astype(float)
    n = df["tickets"].to_numpy().astype(float)
    lo, hi = wilson_interval(k, n)
    group = ["service_team"] if by_team else []
    df = df.with_columns(
        (pl.col("returned") / pl.col("tickets")).alias("p_return"),
        pl.Series("ci_low", lo),
        pl.Series("ci_high", hi),
        pl.col("experience").replace_strict(order, return_dtype=pl.Int64).alias("_o"),
    )
    base = df.filter(pl.col("experience") == "none").select(
        *group, pl.col("p_return").alias("_base")
    )
    if group:
        df = df.join(base, on=group, how="left")
    else:
        df = df.with_columns(
            pl.lit(base["_base"][0] if base.height else None, dtype=pl.Float64).alias("_base")
        )
    return (
        df.with_columns((pl.col("p_return") - pl.col("_base")).alias("difference_vs_none"))
        .sort([*group, "_o"])
        .drop("_o", "_base")
    )


def cohort_retention(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime | date | None = None,
    service_team: str | None = None,
    filters: Filters | None = None,
) -> pl.DataFrame:
    """Share of each first-ticket-month cohort still raising tickets N months later
    (`filters`: team, department, requester type choose the tickets counted).

    Cohort = calendar month (UTC) of a requester's first ticket (to
    `service_team` when given, else to any team); active in month N = at least
    one ticket in calendar month cohort + N. Months after as_of's month are
    not reported (they have not happened yet), month 0 is 100 % by definition.
    Columns: cohort_month, months_since, cohort_size, active_requesters, share_active.

    `t` holds each requester's active months once, so counting its rows per cohort
    and month counts requesters: no DISTINCT over every ticket of the history.
    """
    as_of_dt = as_of_or_newest(con, as_of)
    where, params = filter_where(filters)
    q = f"""
    WITH t AS (
        SELECT DISTINCT requester_id,
               CAST(date_trunc('month', utc(created_at)) AS DATE) AS m
        FROM tickets
        WHERE requester_id IS NOT NULL AND created_at <= $as_of
          AND ($team IS NULL OR service_team = $team) AND {where}
    ), firsts AS (
        SELECT requester_id, min(m) AS cohort_month FROM t GROUP BY requester_id
    ), sizes AS (
        SELECT cohort_month, count(*) AS cohort_size FROM firsts GROUP BY cohort_month
    ), spine AS (
        SELECT s.cohort_month, s.cohort_size, CAST(g.k AS BIGINT) AS months_since
        FROM sizes s, LATERAL generate_series(0, date_diff('month', s.cohort_month,
            CAST(date_trunc('month', utc(CAST($as_of AS TIMESTAMPTZ))) AS DATE)))
            AS g(k)
    ), act AS (
        SELECT f.cohort_month, date_diff('month', f.cohort_month, t.m) AS months_since,
               count(*) AS active_requesters
        FROM t JOIN firsts f USING (requester_id) GROUP BY ALL
    )
    SELECT s.cohort_month, s.months_since, s.cohort_size,
           coalesce(a.active_requesters, 0) AS active_requesters,
           coalesce(a.active_requesters, 0) / s.cohort_size AS share_active
    FROM spine s LEFT JOIN act a USING (cohort_month, months_since)
    ORDER BY s.cohort_month, s.months_since
    """
    return (
        con.sql(q, params={"as_of": as_of_dt, "team": service_team, **params})
        .pl()
        .with_columns(
            pl.col("cohort_size").cast(pl.Int64), pl.col("active_requesters").cast(pl.Int64)
        )
    )


COHORT_WINDOW_MONTHS = 24


def cohort_window(cohorts: pl.DataFrame, months: int = COHORT_WINDOW_MONTHS) -> pl.DataFrame:
    """The `months` consecutive first-ticket months holding the most requesters (the
    latest such run on a tie), each followed for at most `months` months.

    Why: one stray old ticket (a 2003 `created_at` beside a 2016 export) starts a
    cohort decades before the rest and stretches the grid to hundreds of empty
    columns; the bulk of the requesters is what a reader compares."""
    if cohorts.is_empty():
        return cohorts
    sizes = cohorts.group_by("cohort_month").agg(pl.col("cohort_size").first())
    index = sizes.with_columns(
        (pl.col("cohort_month").dt.year() * 12 + pl.col("cohort_month").dt.month()).alias("_m")
    )
    by_month = dict(zip(index["_m"].to_list(), index["cohort_size"].to_list(), strict=True))
    starts = sorted(by_month)
    best = max(
        starts,
        key=lambda s: (sum(by_month.get(s + k, 0) for k in range(months)), s),
    )
    kept = index.filter(pl.col("_m").is_between(best, best + months - 1))["cohort_month"]
    return cohorts.filter(
        pl.col("cohort_month").is_in(kept.to_list()) & (pl.col("months_since") < months)
    )


def quiet_by_quarter(
    con: duckdb.DuckDBPyConnection, days: int = 91, filters: Filters | None = None
) -> pl.DataFrame:
    """Per team: regular requesters flagged (at risk or gone quiet) whose last ticket fell
    in the latest quarter, against the quarter before — the executive's "how many
    regulars did we lose lately, and is it getting worse".

    Quarters are the `days` windows ending at each row's as-of (its last ticket plus
    its days silent: the source's as-of the model judged it at), so an old export
    is compared on its own last quarter; `filters` (team, department, requester
    type) choose the rows counted.
    """
    where, params = filter_where(filters)
    frame = con.sql(
        f"""
        WITH e AS (
            SELECT *, last_ticket_at + to_microseconds(CAST(days_silent * 86400e6 AS BIGINT))
                AS as_of
            FROM requester_engagement),
        f AS (
            SELECT service_team,
                CASE WHEN last_ticket_at > as_of - INTERVAL {int(days)} DAY THEN 'this'
                     WHEN last_ticket_at > as_of - INTERVAL {2 * int(days)} DAY THEN 'previous'
                END AS quarter,
                status IN ('at_risk', 'gone_quiet') AS flagged,
                status NOT IN ('new', 'occasional') AS regular
            FROM e WHERE {where}
        )
        SELECT service_team,
            count(*) FILTER (WHERE regular) AS regular_requesters,
            count(*) FILTER (WHERE flagged AND quarter = 'this') AS went_quiet_this_quarter,
            count(*) FILTER (WHERE flagged AND quarter = 'previous')
                AS went_quiet_previous_quarter
        FROM f GROUP BY 1""",
        params=params,
    ).pl()
    # most went quiet first; teams tied on it (often many at 0) in natural name order
    return natural_order(frame, ["service_team"]).sort(
        "went_quiet_this_quarter", descending=True, maintain_order=True
    )
