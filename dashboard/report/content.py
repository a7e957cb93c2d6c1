"""What the executive report says: every number from the metric functions the CLI and
the pages call, gathered once for a period and a filter set.

No SQL here (GUIDE: one definition of each number): the report is a reading of
`response_times` and of the pages' panels (`dashboard/panels.py`: engagement,
voice, alignment, each honouring the filters its page honours), so `inward
metrics` and `inward panel` print the same tickets, medians, rates and scores. The
connection is the caller's, so a scoped connection (access control) applies to
the report exactly as it does to the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import polars as pl

from dashboard import as_of as data_as_of
from dashboard import panels
from dashboard.config import Config
from dashboard.filters import SURVEY_FILTERS, Filters
from dashboard.formatting import fmt
from dashboard.metrics import alignment as al
from dashboard.metrics import response_times as rt
from dashboard.metrics.date_range import default_range
from dashboard.metrics.surveys.answers import whole_months

TREND_WEEKS = 13  # weekly charts show at least a quarter, so one month has context
MAX_SENTENCES = 5  # alignment findings an executive reads; the page has the rest
ALIGNMENT_PERIOD, ALIGNMENT_MAX_LAG = "week", 4  # the Alignment page's defaults


@dataclass(frozen=True)
class Report:
    """Everything the report shows, in reading order."""

    filters: Filters
    as_of: datetime | None
    as_of_note: str  # each source's as-of (dashboard/as_of.py describe)
    generated_at: datetime
    headline: str
    kpis: list[rt.Kpi]
    trend: pl.DataFrame  # weekly_trend over the trend window
    trend_filters: Filters
    teams: pl.DataFrame  # summary by service_team, with previous-period columns
    quiet: pl.DataFrame  # quiet_by_quarter rows for the filtered teams
    reactive: pl.DataFrame  # departments that turned reactive: first/last half shares
    voice: dict[str, Any] | None  # survey summary row, None when nothing to show
    voice_teams: pl.DataFrame  # visible (unsuppressed) survey rows per team
    voice_hidden: int  # survey groups hidden by the anonymity rule
    survey_scope: Filters  # surveys.answers.whole_months of the report filters
    alignment: list[str]  # plain sentences of significant links
    alignment_tested: int
    anonymity_min_group: int

    @property
    def period_label(self) -> str:
        f = self.filters
        return f"{f.date_from:%-d %b %Y} – {f.date_to:%-d %b %Y}"


def last_full_month(as_of: datetime | date) -> tuple[date, date]:
    """The last calendar month that ended before `as_of` (the data's, not the clock's)."""
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def period_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The instant the default report month is judged against: the newest as-of of
    the sources the app's default date range shows (dashboard/metrics/date_range.py),
    and no later than the end of that range. When one small source is far newer than
    the rest, the newest as-of of all would make the report's month one of a handful
    of tickets; and one source can hold exports years apart (the real ServiceNow
    files: a 2016 event log, a 2024 list export). The default range already ends
    where the bulk of the data ends; a week of slack keeps an export taken a few
    days after its last new ticket judged at its own time."""
    span = default_range(con)
    if span is None:
        return rt.data_as_of(con)
    shown = [s.source for s in span.sources if s.in_range]
    end = datetime.combine(span.date_to + timedelta(days=8), time(), UTC)
    return min(data_as_of.warehouse_as_of(con, shown) or end, end)


def default_filters(con: duckdb.DuckDBPyConnection, filters: Filters) -> Filters:
    """`filters` with the report period filled in: the last full month before the
    data's as-of (`period_as_of`) when no dates were given; a missing end means the
    as-of day, a missing start the first of that month."""
    if filters.date_from and filters.date_to:
        return filters
    as_of = period_as_of(con)
    if as_of is None:
        raise ValueError("the warehouse has no tickets yet")
    if filters.date_from is None and filters.date_to is None:
        lo, hi = last_full_month(as_of)
    else:
        hi = filters.date_to or as_of.date()
        lo = filters.date_from or hi.replace(day=1)
    return replace(filters, date_from=lo, date_to=hi)


def trend_window(filters: Filters) -> Filters:
    """The report period, widened to start on a Monday at least TREND_WEEKS weeks
    before its end, so the weekly charts have context and whole weeks."""
    assert filters.date_from and filters.date_to
    start = min(filters.date_from, filters.date_to - timedelta(weeks=TREND_WEEKS) + timedelta(1))
    start -= timedelta(days=start.weekday())
    return replace(filters, date_from=start)


def _relative(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return now / before - 1


def _duration(hours: float | None) -> str:
    """Short durations in minutes, so a 4 % change never reads "1.6 h → 1.6 h"."""
    if hours is not None and hours < 3:
        return f"{hours * 60:,.0f} min"
    return fmt(hours, "h")


def headline(kpis: list[rt.Kpi], teams: pl.DataFrame) -> str:
    """One sentence of what changed: the duration that moved most (with the volume it
    moved on) and the team whose resolution SLA fell most, when one did."""
    by = {k.label: k for k in kpis}
    volume = by["Tickets"]
    if not volume.value:
        return "No tickets match these filters in this period."
    parts: list[str] = []
    moves = [
        (abs(r), k, r)
        for k in (by["Median resolution"], by["Median first response"])
        if (r := _relative(k.value, k.previous)) is not None
    ]
    change = _relative(volume.value, volume.previous)
    on = ""
    if change is not None and abs(change) >= 0.005:
        on = f" on {abs(change):.0%} {'more' if change > 0 else 'fewer'} tickets"
    if moves:
        _, k, r = max(moves, key=lambda m: m[0])
        how = "faster" if r < 0 else "slower"
        parts.append(
            f"{k.label.lower()} got {abs(r):.0%} {how} ({_duration(k.previous)} → "
            f"{_duration(k.value)}){on}"
        )
    else:
        parts.append(f"{fmt(volume.value, '')} tickets, no earlier period to compare with")
    drops = teams.filter(
        pl.col("sla_resolution_met_rate").is_not_null()
        & pl.col("previous_sla_resolution_met_rate").is_not_null()
    ).with_columns(
        (pl.col("sla_resolution_met_rate") - pl.col("previous_sla_resolution_met_rate")).alias("_d")
    )
    worst = drops.sort("_d").head(1)
    if worst.height and worst["_d"][0] <= -0.02:
        row = worst.row(0, named=True)
        parts.append(
            f"{row['service_team']}'s resolution SLA fell {-row['_d'] * 100:.1f} pts to "
            f"{fmt(row['sla_resolution_met_rate'], '%')}"
        )
    elif (sla := by["SLA met (resolution)"]).value is not None:
        parts.append(f"resolution SLA met {fmt(sla.value, '%')}")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _teams(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """The Overview's by-team summary, with the previous period's tickets, median
    resolution and SLA rate alongside for deltas."""
    now = rt.summary(con, filters, ["service_team"])
    prev_filters = filters.previous()
    keep = ["tickets", "median_resolution_minutes", "sla_resolution_met_rate"]
    prev = rt.summary(con, prev_filters, ["service_team"]) if prev_filters else None
    if prev is None or prev.is_empty():
        return now.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"previous_{c}") for c in keep)
    prev = prev.select("service_team", *[pl.col(c).alias(f"previous_{c}") for c in keep])
    return now.join(prev, on="service_team", how="left").sort("tickets", descending=True)


def _flagged(shift: pl.DataFrame) -> pl.DataFrame:
    """One row per department that turned reactive (`engagement.reactive` rows)."""
    return (
        shift.filter(pl.col("flagged"))
        .group_by("requester_department")
        .agg(pl.col("first_half_share", "last_half_share", "q_value").first())
        .sort("last_half_share", descending=True)
    )


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters) -> Report:
    """Gather the report for `filters` (dates defaulted by `default_filters`)."""
    filters = default_filters(con, filters)
    comparison = rt.period_comparison(con, filters)
    kpis = rt.kpi_tiles(comparison, rt.period_csat(con, filters, config.anonymity_min_group))
    teams = _teams(con, filters)
    window = trend_window(filters)

    def panel(name: str, **options: Any) -> pl.DataFrame:
        # the pages' panels: each honours the filters its page does, no more
        return panels.get(name).run(con, filters, config, **options)

    overall = panel("voice.summary")
    voice = overall.row(0, named=True) if overall.height else None
    if voice is not None and (voice["suppressed"] is None or voice["suppressed"]):
        voice = None
    by_team = panel("voice.groups", by="service_team")
    table = panel("alignment.table", period=ALIGNMENT_PERIOD, max_lag=ALIGNMENT_MAX_LAG)
    significant = table.filter(pl.col("significant")).sort("q_value")
    return Report(
        filters=filters,
        as_of=rt.data_as_of(con),
        as_of_note=data_as_of.describe(data_as_of.as_of_frame(con), lead=""),
        generated_at=datetime.now(UTC),
        headline=headline(kpis, teams),
        kpis=kpis,
        trend=rt.weekly_trend(con, window),
        trend_filters=window,
        teams=teams,
        quiet=panel("engagement.quiet"),
        reactive=_flagged(panel("engagement.reactive")),
        voice=voice,
        voice_teams=by_team.filter(pl.col("suppressed") == False),  # noqa: E712
        voice_hidden=by_team.filter(pl.col("suppressed")).height,
        survey_scope=whole_months(filters.only(SURVEY_FILTERS)),
        alignment=[
            al.plain_sentence(row) for row in significant.head(MAX_SENTENCES).iter_rows(named=True)
        ],
        alignment_tested=table.filter(pl.col("p_value").is_not_null()).height,
        anonymity_min_group=config.anonymity_min_group,
    )
