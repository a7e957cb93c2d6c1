"""The survey answers a view reads: one row per (response, metric) with normalised scores,
the groupings a table may have, and the whole calendar months a view covers (rule 6)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import duckdb
import polars as pl

from dashboard.filters import SURVEY_FILTERS, Filters

DIMENSIONS: tuple[str, ...] = ("service_team", "department", "requester_type")
# Canonical order of every column that can group a survey table (period first for trends).
GROUP_ORDER: tuple[str, ...] = ("period_start", *DIMENSIONS)
BY_ALIASES: dict[str, str] = {
    "team": "service_team",
    "service_team": "service_team",
    "department": "department",
    "requester_department": "department",
    "requester_type": "requester_type",
    "type": "requester_type",
}
# Survey periods are unions of whole months (rule 6): no weeks.
PERIODS: dict[str, str] = {"month": "month", "quarter": "quarter"}


def whole_months(filters: Filters) -> Filters:
    """The survey slice of a page's filters, dates widened to whole months.

    Every survey number covers whole months whatever dates are asked for (rule 6:
    comparing windows a day apart would otherwise isolate a few answers); pages,
    the report and the CLI use this to say which months they show. Ticket-only
    filters (priority, category, channel) are cleared, so they neither key caches
    nor look applied."""
    lo, hi = filters.date_from, filters.date_to
    return replace(
        filters.only(SURVEY_FILTERS),
        date_from=lo.replace(day=1) if lo else None,
        date_to=hi.replace(day=calendar.monthrange(hi.year, hi.month)[1]) if hi else None,
    )


def parse_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """CLI/app helper: 'team,department' -> ('service_team', 'department').

    Raises ValueError naming the unknown group so the CLI can exit 2 with a clear line.
    """
    if text is None or text == "":
        return ()
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    out: list[str] = []
    for p in parts:
        if p not in BY_ALIASES:
            raise ValueError(
                f"unknown survey grouping {p!r} (use team, department, requester_type)"
            )
        if BY_ALIASES[p] not in out:
            out.append(BY_ALIASES[p])
    return tuple(c for c in DIMENSIONS if c in out)


def period_start_sql(instant: str, period: str | None) -> str:
    """SQL for the UTC start of the period holding `instant`, or a typed NULL when the
    view is not split by period: answers and their ticket denominators must bucket alike."""
    if not period:
        return "NULL::DATE"
    return f"CAST(date_trunc('{PERIODS[period]}', utc({instant})) AS DATE)"


def month_bounds(filters: Filters) -> tuple[datetime, datetime]:
    """The instants a view covers: always whole calendar months (UTC), see rule 6."""
    months = whole_months(filters)
    lo = (
        datetime.combine(months.date_from, time(0), UTC)
        if months.date_from
        else datetime(1900, 1, 1, tzinfo=UTC)
    )
    hi = (
        datetime.combine(months.date_to + timedelta(days=1), time(0), UTC)
        if months.date_to
        else datetime(2999, 1, 1, tzinfo=UTC)
    )
    return lo, hi


def load_rows(
    con: duckdb.DuckDBPyConnection, filters: Filters, period: str | None = None
) -> pl.DataFrame:
    """One row per (response, metric), date-filtered only, with normalised scores
    (the warehouse view `survey_scores` is their one definition; `ticket_latest`
    links an answer to one version of its ticket).

    Dimension filters are deliberately *not* applied here: suppression needs the
    canonical table over all values of a filtered dimension (rule 3).
    """
    lo, hi = month_bounds(filters)
    period_sql = period_start_sql("s.submitted_at", period)
    q = f"""
    SELECT
        s.source || '|' || s.response_id AS response_key,
        coalesce(s.respondent_id, 'anon|' || s.source || '|' || s.response_id) AS respondent,
        s.submitted_at, s.survey, s.ticket_id, {period_sql} AS period_start,
        CAST(date_trunc('month', utc(s.submitted_at)) AS DATE) AS month,
        coalesce(nullif(s.service_team, ''), t.service_team, 'unknown') AS service_team,
        coalesce(nullif(s.respondent_department, ''), p.department,
                 nullif(t.requester_department, ''), 'unknown') AS department,
        lower(coalesce(p.person_type, nullif(nullif(t.requester_type, ''), 'unknown'),
                       pt.person_type, 'unknown')) AS requester_type,
        s.metric, s.score, s.scale_low AS scale_min, s.scale_high AS scale_max, s.comment,
        CASE WHEN s.metric = 'csat' THEN s.score_normalised END AS s_csat,
        CASE WHEN s.metric = 'csat' AND s.valid THEN s.top2 END AS top2,
        CASE WHEN s.metric = 'nps' THEN s.score_normalised END AS s_nps,
        CASE WHEN s.metric = 'ces' THEN s.score_normalised END AS s_ces,
        s.band
    FROM survey_scores s
    LEFT JOIN people p ON p.person_id = s.respondent_id
    LEFT JOIN ticket_latest t ON t.ticket_id = s.ticket_id
    LEFT JOIN people pt ON pt.person_id = t.requester_id
    WHERE s.submitted_at >= $lo AND s.submitted_at < $hi
    -- a month's rows in one order, so its lattice is memoised; csat first per response
    ORDER BY response_key, metric <> 'csat', metric
    """
    return con.sql(q, params={"lo": lo, "hi": hi}).pl()


def select_groups(rows: pl.DataFrame, selection: dict[str, frozenset[str]]) -> pl.DataFrame:
    for dim, values in selection.items():
        rows = rows.filter(pl.col(dim).is_in(sorted(values)))
    return rows


def ordered(cols: Iterable[str]) -> list[str]:
    s = set(cols)
    return [c for c in GROUP_ORDER if c in s]


def answer_span(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None]:
    """When the warehouse's survey answers were first and last submitted (UTC), so an
    empty view can say which dates do hold answers (surveys often run years apart from
    the tickets the default range follows)."""
    first, last = con.sql(
        "SELECT min(utc(submitted_at)), max(utc(submitted_at)) FROM survey_responses"
    ).fetchall()[0]
    return first, last
