"""Response-time metrics over `ticket_times`: summaries, KPIs with deltas, trends.

Medians and p90s are exact (`quantile_cont`), over tickets that have the
timestamp; tickets belong to periods by `created_at` (CONTRACT). One
`quantile_cont(x, [0.5, 0.9])` per duration is used rather than separate
`median()` calls: on 10M tickets it is ~3x cheaper (docs/architecture.md, Concurrency).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from dashboard.as_of import warehouse_as_of
from dashboard.filters import COLUMN_OF, Filters
from dashboard.models import Reader
from dashboard.ordering import natural_order, natural_sorted

GROUPS = {"team": "service_team", "department": "requester_department"}

# Shared with the Spark engine: written in the SQL both engines accept (see
# dashboard/models/), `$quantiles` bound to [0.5, 0.9] (no common array literal).
SUMMARY_AGGS = """
    count(*) AS tickets,
    percentile(first_response_minutes, $quantiles) AS _fr,
    percentile(resolution_minutes, $quantiles) AS _res,
    percentile(first_response_business_minutes, 0.5) AS median_first_response_business_minutes,
    percentile(resolution_business_minutes, 0.5) AS median_resolution_business_minutes,
    percentile(resolution_excluding_waiting_minutes, 0.5)
        AS median_resolution_excluding_waiting_minutes,
    avg(CAST(sla_first_response_met AS INTEGER)) AS sla_first_response_met_rate,
    avg(CAST(sla_resolution_met AS INTEGER)) AS sla_resolution_met_rate,
    avg(CAST(reopen_count > 0 AS INTEGER)) AS reopen_rate
"""
QUANTILES = [0.5, 0.9]
SUMMARY_COLUMNS = (
    "tickets",
    "median_first_response_minutes",
    "p90_first_response_minutes",
    "median_resolution_minutes",
    "p90_resolution_minutes",
    "median_first_response_business_minutes",
    "median_resolution_business_minutes",
    "sla_first_response_met_rate",
    "sla_resolution_met_rate",
    "reopen_rate",
    # CONTRACT addition (history): resolution minus time in pending/on_hold; null
    # over tickets whose source has no history
    "median_resolution_excluding_waiting_minutes",
)


def group_columns(by: str | None) -> list[str]:
    """`--by team,department` → ['service_team', 'requester_department']."""
    if not by:
        return []
    out = []
    for part in by.split(","):
        part = part.strip()
        if part not in GROUPS:
            raise ValueError(f"--by: unknown group {part!r} (use team, department or both)")
        out.append(GROUPS[part])
    return out


def _summaries(
    con: Reader, source: str, where: str, params: dict[str, object], by: list[str]
) -> pl.DataFrame:
    """SUMMARY_COLUMNS per group of `by` over `source` (a table, view or subquery).

    `con` is a DuckDB connection or the Spark engine (same `.sql(...).pl()` surface);
    groups sort with NULLs last on both (Spark's default is first)."""
    group = ", ".join(by)
    select_group = f"{group}, " if by else ""
    order = ", ".join(f"{c} NULLS LAST" for c in by)
    sql = f"""
        SELECT {select_group}{SUMMARY_AGGS}
        FROM {source} WHERE {where}
        {f"GROUP BY {group} ORDER BY {order}" if by else ""}
    """
    frame = con.sql(sql, params={**params, "quantiles": QUANTILES}).pl()
    frame = frame.with_columns(
        pl.col("_fr").list.get(0, null_on_oob=True).alias("median_first_response_minutes"),
        pl.col("_fr").list.get(1, null_on_oob=True).alias("p90_first_response_minutes"),
        pl.col("_res").list.get(0, null_on_oob=True).alias("median_resolution_minutes"),
        pl.col("_res").list.get(1, null_on_oob=True).alias("p90_resolution_minutes"),
    )
    return natural_order(frame.select(*by, *SUMMARY_COLUMNS), by)


def summary(con: Reader, filters: Filters, by: list[str]) -> pl.DataFrame:
    """One row per group with the CONTRACT's metrics columns (all tickets when `by` is empty),
    from the warehouse or, given the Spark engine, from the lake."""
    where, params = filters.where()
    return _summaries(con, "ticket_times", where, params, by)


PERIODS = ("this period", "previous period", "same period last year")


def _periods(filters: Filters) -> list[tuple[str, Filters]]:
    """This period, the previous equal one and the same one a year earlier (when bounded)."""
    candidates = (filters, filters.previous(), filters.year_before())
    return [(label, f) for label, f in zip(PERIODS, candidates, strict=True) if f is not None]


def period_comparison(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """The summary for this period, the previous equal period and the same period a
    year earlier (rows only where there are tickets).

    One scan for all three: each ticket is tagged with every period it falls in
    (periods may overlap when the range is longer than a year) and the summary is
    grouped by that tag, so the quantiles of the periods are sorted in parallel
    instead of in three single-threaded ungrouped aggregates.
    """
    periods = _periods(filters)
    where, params = filters.without_dates().where()
    tags, conds = [], []
    for i, (label, f) in enumerate(periods):
        cond, p = f.where(dict.fromkeys(COLUMN_OF, ""), prefix=f"p{i}_")  # dates only
        params |= p
        tags.append(f"CASE WHEN {cond} THEN '{label}' END")
        conds.append(f"({cond})")
    # the OR of the periods' date bounds lets zone maps skip the rest of history
    tagged = f"""(SELECT *, unnest(list_filter([{", ".join(tags)}], lambda x: x IS NOT NULL))
                  AS period FROM ticket_times WHERE {where} AND ({" OR ".join(conds)}))"""
    frame = _summaries(con, tagged, "TRUE", params, ["period"]).filter(pl.col("tickets") > 0)
    order = pl.DataFrame({"period": [label for label, _ in periods]})
    return order.join(frame, on="period", how="inner", maintain_order="left")


@dataclass(frozen=True)
class Kpi:
    """A headline number with its value in the previous equal period."""

    label: str
    value: float | None
    previous: float | None
    unit: str
    better: str  # "higher" or "lower"

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def period_csat(
    con: duckdb.DuckDBPyConnection, filters: Filters, min_group: int = 5
) -> dict[str, float | None]:
    """Mean CSAT per period label of `period_comparison`, None below `min_group`
    distinct respondents (anonymity)."""
    out: dict[str, float | None] = {}
    for label, f in _periods(filters):
        s_where, s_params = f.survey_where()
        out[label] = con.sql(
            f"""
            SELECT CASE WHEN count(DISTINCT respondent_id) >= {int(min_group)}
                        THEN avg(score_normalised) END
            FROM survey_scores WHERE metric = 'csat' AND {s_where}""",
            params=s_params,
        ).fetchall()[0][0]
    return out


def csat_respondents(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    """Distinct people who gave a CSAT answer in the filters' period: why a CSAT tile is
    empty (0: no survey answers loaded for these filters; else too few to show)."""
    s_where, s_params = filters.survey_where()
    return con.sql(
        f"""SELECT count(DISTINCT coalesce(respondent_id, response_id)) FROM survey_scores
            WHERE metric = 'csat' AND score_normalised IS NOT NULL AND {s_where}""",
        params=s_params,
    ).fetchall()[0][0]


def kpi_tiles(comparison: pl.DataFrame, csat: dict[str, float | None]) -> list[Kpi]:
    """Overview tiles from a `period_comparison` frame and `period_csat`: tickets,
    median first response and resolution (hours), SLA met, CSAT, each against the
    previous period (None when that period has no tickets)."""
    rows = {r["period"]: r for r in comparison.iter_rows(named=True)}
    now, prev = rows.get(PERIODS[0], {}), rows.get(PERIODS[1], {})

    def pair(column: str, scale: float = 1.0) -> tuple[float | None, float | None]:
        values = [row.get(column) for row in (now, prev)]
        return tuple(None if v is None else v / scale for v in values)  # type: ignore[return-value]

    return [
        Kpi("Tickets", now.get("tickets", 0), prev.get("tickets"), "", "neutral"),
        Kpi("Median first response", *pair("median_first_response_minutes", 60), "h", "lower"),
        Kpi("Median resolution", *pair("median_resolution_minutes", 60), "h", "lower"),
        Kpi("SLA met (resolution)", *pair("sla_resolution_met_rate"), "%", "higher"),
        Kpi(
            "CSAT (1–5)", csat.get(PERIODS[0]), csat.get(PERIODS[1]) if prev else None, "", "higher"
        ),
    ]


def kpis(con: duckdb.DuckDBPyConnection, filters: Filters, min_group: int = 5) -> list[Kpi]:
    """Overview tiles: tickets, median first response, median resolution, SLA-met, CSAT.

    CSAT is only shown when at least `min_group` people answered (anonymity).
    Pages that also show the comparison table call `period_comparison` and
    `kpi_tiles` themselves, to share the one scan.
    """
    return kpi_tiles(period_comparison(con, filters), period_csat(con, filters, min_group))


def weekly_trend(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Per ISO week: tickets, how many are resolved, median and p90 first response and
    resolution (hours). `resolved` tells a reader how far a week's resolution times
    can still grow: its slowest tickets are the ones still open."""
    where, params = filters.where()
    frame = con.sql(
        f"""
        SELECT CAST(date_trunc('week', utc(created_at)) AS DATE) AS week,
            count(*) AS tickets,
            count(resolution_minutes) AS resolved,
            quantile_cont(first_response_minutes / 60, [0.5, 0.9]) AS fr,
            quantile_cont(resolution_minutes / 60, [0.5, 0.9]) AS res,
            avg(CAST(sla_resolution_met AS INTEGER)) AS sla_met_rate
        FROM ticket_times WHERE {where}
        GROUP BY week ORDER BY week""",
        params=params,
    ).pl()
    return frame.with_columns(
        pl.col("fr").list.get(0, null_on_oob=True).alias("median_first_response_hours"),
        pl.col("fr").list.get(1, null_on_oob=True).alias("p90_first_response_hours"),
        pl.col("res").list.get(0, null_on_oob=True).alias("median_resolution_hours"),
        pl.col("res").list.get(1, null_on_oob=True).alias("p90_resolution_hours"),
    ).drop("fr", "res")


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Distinct values for each sidebar filter, and the data's date span."""
    out: dict[str, list[str]] = {}
    for field, column in COLUMN_OF.items():
        rows = con.sql(f"SELECT DISTINCT {column} FROM tickets WHERE {column} IS NOT NULL")
        out[field] = natural_sorted(r[0] for r in rows.fetchall())  # "Group 2" before "10"
    return out


def data_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The moment the data describes: the newest as-of of its sources (dashboard/as_of.py:
    config `as_of`, else each source's newest ticket update), None when empty. Reports
    and default periods are judged against it, never the wall clock."""
    return warehouse_as_of(con)


AGE_BUCKETS = ("under 1 day", "1–3 days", "3–7 days", "1–2 weeks", "2–4 weeks", "over 4 weeks")


def backlog(con: duckdb.DuckDBPyConnection, filters: Filters, period: str = "day") -> pl.DataFrame:
    """Open tickets at the end of each day (or week) in the date range, over all teams.

    The one backlog-over-time definition (`flow.backlog_by_team`): from ticket
    history where a ticket has it, else from `ticket_spans` (creation to closing),
    over *all* history so tickets opened before the range still count while open;
    other filters apply. The last day, at the as-of, equals `backlog_age`'s total.
    """
    from dashboard.metrics import flow

    frame = flow.backlog(con, filters)
    if period == "week":
        frame = (
            frame.with_columns(pl.col("day").dt.truncate("1w").alias("week"))
            .group_by("week")
            .agg(pl.col("open").last())
            .sort("week")
        )
    return frame


def backlog_age(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """The open backlog now (at each source's as-of) by age band, youngest first:
    `open_tickets`, the definition the backlog_by_age query and the CLI share.

    The date range does not apply (the backlog is a state at the as-of, not a count
    of tickets created in a period); every other filter does.
    """
    where, params = filters.without_dates().where()
    frame = con.sql(
        f"""
        SELECT age_bucket AS age, count(*) AS tickets, max(age_days) AS oldest_days
        FROM open_tickets WHERE {where} GROUP BY age_bucket""",
        params=params,
    ).pl()
    order = pl.DataFrame({"age": list(AGE_BUCKETS)})
    return order.join(frame, on="age", how="left", maintain_order="left").with_columns(
        pl.col("tickets").fill_null(0)
    )


def heatmap(
    con: duckdb.DuckDBPyConnection, filters: Filters, column: str = "first_response_minutes"
) -> pl.DataFrame:
    """Median of a duration (hours) per requester department × service team."""
    if column not in ("first_response_minutes", "resolution_minutes"):
        raise ValueError(column)
    where, params = filters.where()
    return con.sql(
        f"""
        SELECT requester_department, service_team, median({column}) / 60 AS median_hours,
            count(*) AS tickets
        FROM ticket_times WHERE {where} AND requester_department IS NOT NULL
        GROUP BY ALL ORDER BY ALL""",
        params=params,
    ).pl()


def durations(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 50_000
) -> pl.DataFrame:
    """Per-ticket first response and resolution hours with team (a sample when large),
    for distribution charts.

    Reads `tickets` rather than the view: the sample needs no business minutes or
    SLA columns, and skipping the view's joins made this the page's cheapest scan.
    """
    where, params = filters.where()
    return con.sql(
        f"""
        SELECT service_team,
            (epoch_us(first_response_at) - epoch_us(created_at)) / 3.6e9 AS first_response_hours,
            (epoch_us(resolved_at) - epoch_us(created_at)) / 3.6e9 AS resolution_hours
        FROM tickets WHERE {where}
        USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE (7)""",
        params=params,
    ).pl()


SPREAD = (0.1, 0.25, 0.5, 0.75, 0.9)


def resolution_spread(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """How resolution times spread per team: resolved tickets and the exact 10th, 25th,
    50th, 75th and 90th percentiles in hours (what a box plot of a sample would only
    approximate, and what the CLI can print)."""
    where, params = filters.where()
    frame = con.sql(
        f"""
        SELECT service_team, count(*) AS resolved,
            quantile_cont(resolution_minutes / 60, {list(SPREAD)}) AS q
        FROM ticket_times WHERE {where} AND resolution_minutes IS NOT NULL
        GROUP BY 1 ORDER BY 1""",
        params=params,
    ).pl()
    names = ("p10_hours", "p25_hours", "median_hours", "p75_hours", "p90_hours")
    frame = natural_order(frame, ["service_team"])
    return frame.with_columns(
        pl.col("q").list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(names)
    ).drop("q")


def slowest_categories(
    con: duckdb.DuckDBPyConnection, filters: Filters, top: int = 10, min_tickets: int = 5
) -> pl.DataFrame:
    """Categories with the longest median resolution (with enough tickets to mean it)."""
    where, params = filters.where()
    params["min_n"] = min_tickets
    params["top"] = top
    return con.sql(
        f"""
        SELECT service_team, category, count(*) AS tickets,
            median(resolution_minutes) / 60 AS median_resolution_hours,
            quantile_cont(resolution_minutes, 0.9) / 60 AS p90_resolution_hours
        FROM ticket_times WHERE {where} AND category IS NOT NULL
        GROUP BY ALL HAVING count(resolution_minutes) >= $min_n
        ORDER BY median_resolution_hours DESC LIMIT $top""",
        params=params,
    ).pl()


def ticket_list(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 5000
) -> pl.DataFrame:
    """The tickets behind a view, newest first; requesters as the viewer may see them
    (`inward_id`: pseudonyms unless the connection's scope has raw ids)."""
    where, params = filters.where()
    params["limit"] = limit
    # Top-N keys from the narrow table first, then the view's columns for those rows
    # only: ordering the whole view computed every row's SLA flags and pseudonym
    # (5x slower at 2M tickets); the created_at bound lets zone maps skip the rest.
    return con.sql(
        f"""
        WITH top AS (
            SELECT source, ticket_id, created_at FROM tickets WHERE {where}
            ORDER BY created_at DESC LIMIT $limit
        )
        SELECT ticket_id, service_team, inward_id(requester_id) AS requester, requester_department,
            requester_type, priority, ticket_type, channel, category, status, created_at,
            round(first_response_minutes / 60, 2) AS first_response_hours,
            round(resolution_minutes / 60, 2) AS resolution_hours,
            sla_first_response_met, sla_resolution_met, reopen_count
        FROM ticket_times
        WHERE created_at >= (SELECT min(created_at) FROM top)
          AND (source, ticket_id) IN (SELECT source, ticket_id FROM top)
        ORDER BY created_at DESC, ticket_id LIMIT $limit""",
        params=params,
    ).pl()


def service_mix(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, float | None]:
    """Rates a team lead asks about next to the durations.

    - reopen_rate: share of tickets reopened at least once;
    - one_touch_rate: share of resolved tickets closed without a reopen within an hour
      of the first response (exports carry no reply counts, so this is the closest
      observable proxy for Zendesk's "one-touch");
      both over the tickets whose export carries a reopen count (NULL, not 0 %, when
      none does: a Jira CSV has none);
    - last_minute_share: share of *requests* (planned work, not incidents) filed as
      urgent or high — demand arriving late through poor planning;
    - after_hours_share: share created outside 08:00–18:00 UTC or at weekends.
    """
    where, params = filters.where()
    row = con.sql(
        f"""
        SELECT avg(CAST(reopen_count > 0 AS INTEGER)),
            avg(CAST(reopen_count = 0 AND resolution_minutes - first_response_minutes <= 60
                AS INTEGER)) FILTER (WHERE resolved_at IS NOT NULL AND reopen_count IS NOT NULL),
            avg(CAST(priority IN ('urgent', 'high') AS INTEGER))
                FILTER (WHERE ticket_type = 'request'),
            avg(CAST(hour(utc(created_at)) NOT BETWEEN 8 AND 17
                OR isodow(utc(created_at)) > 5 AS INTEGER))
        FROM ticket_times WHERE {where}""",
        params=params,
    ).fetchall()[0]
    return dict(
        zip(
            ("reopen_rate", "one_touch_rate", "last_minute_share", "after_hours_share"),
            row,
            strict=True,
        )
    )


def channel_mix(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """First-contact channel share per service team."""
    where, params = filters.where()
    return con.sql(
        f"""
        SELECT service_team, coalesce(channel, 'unknown') AS channel, count(*) AS tickets,
            count(*) / sum(count(*)) OVER (PARTITION BY service_team) AS share
        FROM ticket_times WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2""",
        params=params,
    ).pl()


def tickets_per_head(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Tickets and distinct requesters per head count of each requester department.

    Head count = people active at any point in the range (people file); departments
    without people rows get null rates rather than a misleading number.
    """
    where, params = filters.where()
    lo = filters.date_from.isoformat() if filters.date_from else "1900-01-01"
    hi = filters.date_to.isoformat() if filters.date_to else "2999-12-31"
    params |= {"lo": lo, "hi": hi}
    return con.sql(
        f"""
        WITH t AS (
            SELECT requester_department AS department, count(*) AS tickets,
                count(DISTINCT requester_id) AS requesters
            FROM ticket_times WHERE {where} GROUP BY 1
        ), h AS (
            SELECT department, count(*) AS head_count FROM people
            WHERE coalesce(active_from, DATE '1900-01-01') <= CAST($hi AS DATE)
              AND coalesce(active_to, DATE '2999-12-31') >= CAST($lo AS DATE)
            GROUP BY 1
        )
        SELECT department, tickets, requesters, head_count,
            tickets / nullif(head_count, 0) AS tickets_per_head,
            requesters / nullif(head_count, 0) AS requesters_per_head
        FROM t LEFT JOIN h USING (department)
        WHERE department IS NOT NULL ORDER BY tickets DESC""",
        params=params,
    ).pl()
