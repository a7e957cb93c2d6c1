"""The survey tables: `inward surveys` (one row per group), trends per month or quarter,
and every cell the survey views can publish, with hidden numbers nulled."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import duckdb
import polars as pl

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.surveys.answers import (
    DIMENSIONS,
    PERIODS,
    load_rows,
    month_bounds,
    parse_by,
    period_start_sql,
    select_groups,
)
from dashboard.metrics.surveys.parts import PIPELINES, protected_table
from dashboard.metrics.surveys.scores import with_scores

# Output columns nulled when a metric is hidden (the row stays).
_METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "csat": (
        "csat_responses",
        "csat_mean",
        "csat_top2_share",
        "csat_top2_ci_low",
        "csat_top2_ci_high",
    ),
    "nps": ("nps_responses", "nps", "nps_ci_low", "nps_ci_high"),
    "ces": ("ces_responses", "ces_mean"),
}
SUMMARY_COLUMNS: tuple[str, ...] = (
    "responses",
    "respondents",
    "csat_mean",
    "csat_top2_share",
    "nps",
    "ces_mean",
    "suppressed",
    "csat_responses",
    "csat_top2_ci_low",
    "csat_top2_ci_high",
    "nps_responses",
    "nps_ci_low",
    "nps_ci_high",
    "ces_responses",
    "resolved_tickets",
    "response_rate",
    "partial",
)


def _finish(out: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Null hidden numbers (row-wide and per metric) and put columns in contract order."""
    by = list(by)
    out = with_scores(out, by)
    for _, _, metric in PIPELINES[1:]:
        assert metric is not None
        hide = pl.col(f"_hide_{metric}_respondents")
        out = out.with_columns(
            [
                pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
                for c in _METRIC_COLUMNS[metric]
            ]
        )
    out = out.with_columns(pl.col("_hide_respondents").alias("suppressed"))
    row_cols = [c for c in SUMMARY_COLUMNS if c in out.columns and c != "suppressed"]
    out = out.with_columns(
        [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in row_cols]
    )
    cols = [*by, *[c for c in SUMMARY_COLUMNS if c in out.columns]]
    return out.select(cols).sort(by) if by else out.select(cols)


def _resolved_tickets(
    con: duckdb.DuckDBPyConnection, filters: Filters, by: Sequence[str], period: str | None = None
) -> pl.DataFrame:
    """Resolved tickets per group (denominator of the response rate), same dimensions."""
    lo, hi = month_bounds(filters)
    period_sql = period_start_sql("t.resolved_at", period)
    q = f"""
    SELECT {period_sql} AS period_start,
        coalesce(t.service_team, 'unknown') AS service_team,
        coalesce(nullif(t.requester_department, ''), p.department, 'unknown') AS department,
        lower(coalesce(p.person_type, nullif(nullif(t.requester_type, ''), 'unknown'),
                       'unknown')) AS requester_type
    FROM ticket_latest t LEFT JOIN people p ON p.person_id = t.requester_id
    WHERE t.resolved_at >= $lo AND t.resolved_at < $hi
    """
    t = select_groups(con.sql(q, params={"lo": lo, "hi": hi}).pl(), filters.survey_selection())
    if not by:
        return pl.DataFrame({"resolved_tickets": [t.height]})
    return t.group_by(list(by)).agg(pl.len().alias("resolved_tickets"))


def summary_frame(
    rows: pl.DataFrame, tickets: pl.DataFrame, by: Sequence[str], filters: Filters, k: int
) -> pl.DataFrame:
    out = protected_table(rows, by, filters.survey_selection(), k)
    if by:
        out = out.join(tickets, on=list(by), how="left")
    else:
        out = out.with_columns(pl.lit(tickets["resolved_tickets"][0]).alias("resolved_tickets"))
    # a partial row's responses leave months out that its resolved tickets include
    out = out.with_columns(
        pl.when((pl.col("resolved_tickets") > 0) & ~pl.col("partial"))
        .then(pl.col("responses") / pl.col("resolved_tickets"))
        .alias("response_rate")
    )
    return _finish(out, by)


def survey_summary(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    by: tuple[str, ...] = (),
    filters: Filters | None = None,
) -> pl.DataFrame:
    """The `inward surveys` table: one row per group, anonymity applied.

    Columns: group columns (canonical order service_team, department,
    requester_type), then responses, respondents, csat_mean (1–5 scale),
    csat_top2_share, nps (−100..100), ces_mean (1–7 scale), suppressed, and extras:
    per-metric response counts, Wilson CI of the top-2 share, bootstrap CI of
    NPS, resolved_tickets and response_rate (responses per resolved ticket).
    """
    filters = filters or Filters()
    by = parse_by(by)
    rows = load_rows(con, filters)
    tickets = _resolved_tickets(con, filters, by)
    return summary_frame(rows, tickets, by, filters, config.anonymity_min_group)


def trend(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str = "month",
    filters: Filters | None = None,
    by: tuple[str, ...] = (),
) -> pl.DataFrame:
    """CSAT/NPS/CES per month or quarter (by submission date), with suppression.

    A period is a union of months, shown only where each of its months is (rule 6),
    so a trend row is made of the same parts as every other view. No weeks: a
    week straddles months, and its parts could be differenced against them.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown survey period {period!r} (use month or quarter)")
    filters = filters or Filters()
    by_all = ("period_start", *parse_by(by))
    rows = load_rows(con, filters, period)
    tickets = _resolved_tickets(con, filters, by_all, period)
    return summary_frame(rows, tickets, by_all, filters, config.anonymity_min_group)


def published_cells(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Every number the survey views can publish, month by month: one row per month
    and group of every grouping of team, department and requester type (a NULL
    dimension = all of it), suppression applied exactly as `inward surveys` does.

    Analysts without a raw grant get survey data only as this table (and
    `published_comments`): by rule 6 any range or filter they could ask for is a
    sum of these parts, so their SQL can add up nothing the product would hide.
    """
    frames = []
    for size in range(len(DIMENSIONS) + 1):
        for by in combinations(DIMENSIONS, size):
            t = trend(con, config, "month", Filters(), by=by)
            frames.append(
                t.rename({"period_start": "month"}).with_columns(
                    pl.lit(None, dtype=pl.String).alias(d) for d in DIMENSIONS if d not in by
                )
            )
    cols = ["month", *DIMENSIONS, *(c for c in SUMMARY_COLUMNS if c != "partial")]
    return pl.concat([f.select(cols) for f in frames]).sort("month", *DIMENSIONS, nulls_last=False)
