"""The default date range: a quarter that shows the data, whatever its sources' ends.

"The last 91 days of the newest ticket" is right for one tool exported today and
wrong as soon as sources end at different times: one small export from last
month beside years of history from a retired tool shows 3 tickets out of
20,000 (the real public exports did exactly that). So the default is chosen
from the shape of the data:

* windows are 13 weeks (a quarter) starting on a Monday, one per week of data,
  each ending on a Sunday (the newest ends at the last day of data: the same
  range as "the last 91 days, from a Monday" when that range is meaningful);
* a window is *meaningful* when it holds at least `MEANINGFUL_SHARE` of the
  tickets of the busiest window, and its own last week is busy too (at least
  that share of the busiest quarter's weekly average, partial weeks counted
  per day): a quarter in which a source is merely trickling (the tail of an
  export, a pilot of a new tool) is not, and the chosen quarter ends where the
  bulk of the data ends rather than weeks into its tail;
* the default is the newest meaningful window. One tool whose volume slowly
  falls keeps its latest quarter (it stays above a quarter of its peak); a
  warehouse whose newest source is tiny gets the latest quarter of the bulk.

The sources that the default leaves far behind or far ahead (more than a
window away from it) get a note, so the app can say why the range is where it
is. `choose` is pure (weekly counts in, a `DefaultRange` out); `default_range`
reads the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

WINDOW_WEEKS = 13
MEANINGFUL_SHARE = 0.25
_WINDOW = timedelta(weeks=WINDOW_WEEKS)
_US_PER_DAY = 86_400_000_000
# 1970-01-01 was a Thursday: shifting by 3 days makes integer weeks start on Monday.
_MONDAY_SHIFT_US = 3 * _US_PER_DAY
_US_PER_WEEK = 7 * _US_PER_DAY


@dataclass(frozen=True)
class SourceSpan:
    """One source's tickets: first and last creation day, count, and how many the
    default range shows and leaves after it."""

    source: str
    first: date
    last: date
    tickets: int
    in_range: int
    after: int


@dataclass(frozen=True)
class DefaultRange:
    """The default created-between range, the data's whole span (the picker's bounds)
    and why the range is where it is."""

    date_from: date
    date_to: date
    first: date
    last: date
    tickets: int  # in the default range
    total: int
    sources: tuple[SourceSpan, ...]
    notes: tuple[str, ...]

    @property
    def share(self) -> float:
        return self.tickets / self.total if self.total else 0.0


def weekly_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Tickets per source, Monday-starting UTC week and first/last creation day.

    Integer arithmetic on epoch microseconds instead of date_trunc: a scan of
    one column and a small hash aggregate (cheap even at 100M tickets)."""
    return con.sql(f"""
        SELECT source,
            CAST(make_timestamp(((epoch_us(created_at) + {_MONDAY_SHIFT_US})
                 // {_US_PER_WEEK}) * {_US_PER_WEEK} - {_MONDAY_SHIFT_US}) AS DATE) AS week,
            count(*) AS tickets,
            CAST(min(utc(created_at)) AS DATE) AS first_day,
            CAST(max(utc(created_at)) AS DATE) AS last_day
        FROM tickets GROUP BY ALL ORDER BY week, source""").pl()


def default_range(con: duckdb.DuckDBPyConnection) -> DefaultRange | None:
    """The default range of the warehouse's tickets (None when there are none)."""
    return choose(weekly_counts(con))


def choose(weeks: pl.DataFrame) -> DefaultRange | None:
    """The newest meaningful quarter of `weekly_counts` (rules in the module docstring)."""
    if weeks.is_empty():
        return None
    first, last = weeks["first_day"].min(), weeks["last_day"].max()
    per_week = weeks.group_by("week").agg(pl.col("tickets").sum()).sort("week")
    spine = pl.DataFrame(
        {"week": pl.date_range(per_week["week"][0], per_week["week"][-1], "1w", eager=True)}
    )
    # a week's rate per 7 days of data (the first and last weeks may be partial)
    days = (
        pl.min_horizontal(pl.col("week") + timedelta(days=6), pl.lit(last))
        - pl.max_horizontal(pl.col("week"), pl.lit(first))
    ).dt.total_days() + 1
    w = (
        spine.join(per_week, on="week", how="left")
        .with_columns(pl.col("tickets").fill_null(0))
        .with_columns(
            pl.col("tickets").rolling_sum(WINDOW_WEEKS, min_samples=1).alias("window"),
            (pl.col("tickets") * 7 / days).alias("rate"),
        )
    )
    best = w["window"].max()
    typical = best / WINDOW_WEEKS  # tickets per week in the busiest quarter
    ok = w.filter(
        (pl.col("window") >= MEANINGFUL_SHARE * best)
        & (pl.col("rate") >= MEANINGFUL_SHARE * typical)
    )
    pick = ok["week"][-1] if not ok.is_empty() else w.sort("window")["week"][-1]
    date_to = min(pick + timedelta(days=6), last)
    date_from = max(pick - _WINDOW + timedelta(weeks=1), first)
    spans = _spans(weeks, date_from, date_to)
    shown = sum(s.in_range for s in spans)
    total = int(weeks["tickets"].sum())
    return DefaultRange(
        date_from,
        date_to,
        first,
        last,
        shown,
        total,
        spans,
        _notes(spans, date_from, date_to, shown, total),
    )


def _spans(weeks: pl.DataFrame, lo: date, hi: date) -> tuple[SourceSpan, ...]:
    """Per source span; `in_range` counts whole weeks inside [lo, hi] (the range's
    weeks are whole except the data's own first and last, which hold no days
    outside the data)."""
    inside = (pl.col("week") >= lo - timedelta(days=6)) & (pl.col("week") <= hi)
    per = (
        weeks.group_by("source")
        .agg(
            pl.col("first_day").min(),
            pl.col("last_day").max(),
            pl.col("tickets").sum().alias("total"),
            pl.col("tickets").filter(inside).sum().alias("in_range"),
            pl.col("tickets").filter(pl.col("week") > hi).sum().alias("after"),
        )
        .sort("source")
    )
    return tuple(
        SourceSpan(
            r["source"],
            r["first_day"],
            r["last_day"],
            int(r["total"]),
            int(r["in_range"]),
            int(r["after"]),
        )
        for r in per.iter_rows(named=True)
    )


def _gap(days: int) -> str:
    """'3 years', '5 months', '40 days': how far a source is from the range."""
    if days >= 730:
        return f"{days / 365.25:.0f} years"
    if days >= 60:
        return f"{days / 30.44:.0f} months"
    return f"{days} days"


def _notes(
    spans: tuple[SourceSpan, ...], lo: date, hi: date, shown: int, total: int
) -> tuple[str, ...]:
    """One sentence per source far from the default range (more than a window away)."""
    notes = []
    for s in spans:
        if (s.last - hi).days > _WINDOW.days:
            which = f"{s.after:,} of its {s.tickets:,}"
            if s.after == s.tickets:
                which = f"all {s.after:,}"
            notes.append(
                f"{s.source}: tickets run to {s.last}, {_gap((s.last - hi).days)} after the "
                f"default range ({which} are later)."
            )
        elif (lo - s.last).days > _WINDOW.days:
            notes.append(
                f"{s.source}: its {s.tickets:,} tickets end {s.last}, "
                f"{_gap((lo - s.last).days)} before the default range."
            )
    if notes:
        notes.insert(
            0,
            f"Sources end at different times: the default range is the latest "
            f"quarter holding a meaningful share of the tickets "
            f"({shown:,} of {total:,}).",
        )
    return tuple(notes)
