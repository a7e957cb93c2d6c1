"""Business-hours calendars as data: the per-UTC-day table that business time is read from.

Pure calendar math (numpy and zoneinfo, no database): `dashboard.metrics.business_time`
turns the table into SQL for reading, `dashboard.derive.business_minutes` stores what
it gives per ticket.

Why this shape
--------------
"Friday 18:00 → Monday 09:15 waited 15 business minutes" needs, per ticket, the
measure of the team's business hours inside an interval. Walking the calendar per
ticket is O(length of the interval) and a Python loop over 10M tickets is hours.
Instead we use a cumulative function: F(t) = business time from a fixed origin up
to instant t. Then business(a, b) = F(b) − F(a), and F is O(1) to evaluate with
one equality join:

    F(t) = cum_before(utc_day(t)) + Σ_k clamp(t − open_k, 0, len_k)

where, for each *UTC* day, (open_k, len_k) are the (at most a handful of)
business-hour pieces that fall inside that UTC day, and cum_before is the
business time of all earlier UTC days. Keying the table by UTC day (an integer
computed from `epoch_us`) rather than the team's local date means the hot query
never converts a timestamp to a time zone: ICU conversions per row are the
expensive part at 10M tickets; integer arithmetic and a hash join on a table of a
few thousand rows are cheap.

Time zones, DST and holidays
----------------------------
The pieces are built in Python per calendar (a loop per *day*, vectorised with
numpy, never per ticket) from the exact definition used by the tests' brute-force
reference: instant t is business time iff its local wall-clock time, in the
calendar's zone, falls on a workday that is not a holiday and between `start`
(inclusive) and `end` (exclusive). For each span of constant UTC offset we map
the local window [day+start, day+end) to UTC and intersect it with the span. So:

* on a spring-forward day the skipped hour simply is not business time (a 01:00–
  05:00 window lasts 3 h); if `start` itself falls in the gap the day opens at the
  transition instant, the first moment whose wall clock is ≥ start;
* on a fall-back day the repeated hour counts twice when it is inside the window
  (01:00–05:00 lasts 5 h), and a window starting or ending *inside* the repeated
  hour becomes two pieces, exactly like the wall clock says;
* holidays and non-workdays contribute no pieces; a holiday is a local date.

Offset changes are found by sampling the zone every 12 h and bisecting to the
second, so an offset change undone within 12 h would be missed (the tz database
has none for real zones in modern times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from dashboard.config import Calendar, Config

US = 1_000_000
DAY_S = 86_400
DAY_US = DAY_S * US
MINUTE_US = 60 * US
_SAMPLE_S = 12 * 3600
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class CalendarTable:
    """The per-UTC-day table of one set of calendars, ready to register in DuckDB.

    `days` has columns cal (int), day (UTC epoch day), cum (business µs before
    the day), o0, l0, o1, l1, … (piece start in epoch µs and its length in µs;
    unused pieces are o = day start, l = 0). `pieces` is the number of (o, l)
    column pairs; `teams` maps service teams with their own calendar to `cal`
    (every other team, and NULL, is calendar 0: `calendar.default`).
    `spans` lists every business piece once (cal, cum = business µs before it,
    o, l): the inverse of F, "when does the clock reach N business minutes", is
    an ASOF join on it.
    """

    days: pl.DataFrame
    pieces: int
    teams: pl.DataFrame
    spans: pl.DataFrame


def _offset_s(zone: ZoneInfo, t_s: int) -> int:
    """UTC offset in seconds of `zone` at epoch second `t_s`."""
    off = datetime.fromtimestamp(t_s, tz=UTC).astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


@lru_cache(maxsize=128)
def _offset_spans(zone: ZoneInfo, lo_s: int, hi_s: int) -> tuple[tuple[int, int, int], ...]:
    """Spans [start, end) of constant UTC offset covering [lo_s, hi_s): (start, end, offset).

    Cached: the app asks for the same range on every rerun, and zoneinfo calls
    are the only per-day Python work left.
    """
    spans: list[tuple[int, int, int]] = []
    start, cur = lo_s, _offset_s(zone, lo_s)
    t = lo_s
    while t < hi_s:
        nxt = min(t + _SAMPLE_S, hi_s)
        off = _offset_s(zone, nxt)
        if off != cur:
            a, b = t, nxt  # offset(a) == cur, offset(b) != cur: bisect to the second
            while b - a > 1:
                m = (a + b) // 2
                if _offset_s(zone, m) == cur:
                    a = m
                else:
                    b = m
            spans.append((start, b, cur))
            start, cur = b, _offset_s(zone, b)
        t = nxt
    spans.append((start, hi_s, cur))
    return tuple(spans)


def business_pieces(cal: Calendar, lo_s: int, hi_s: int) -> np.ndarray:
    """Disjoint, sorted business intervals [open, close) in epoch seconds within [lo_s, hi_s).

    Shape (n, 2). Follows the wall-clock definition in the module docstring, so
    DST gaps and folds inside the window come out right without special cases.
    """
    zone = ZoneInfo(cal.timezone)
    start = cal.start.hour * 3600 + cal.start.minute * 60
    end = cal.end.hour * 3600 + cal.end.minute * 60
    workdays = np.array(sorted(cal.weekday_numbers), dtype=np.int64)
    holidays = np.array([(h - _EPOCH).days for h in cal.holidays], dtype=np.int64)
    out = []
    for a, b, off in _offset_spans(zone, lo_s, hi_s):
        # Local days whose window, shifted by this offset, can touch [a, b).
        d = np.arange((a - end + off) // DAY_S, (b - start + off) // DAY_S + 2, dtype=np.int64)
        iso_weekday = (d + 3) % 7 + 1  # epoch day 0 (1970-01-01) was a Thursday
        d = d[np.isin(iso_weekday, workdays) & ~np.isin(d, holidays)]
        o = np.maximum(d * DAY_S + start - off, a)
        c = np.minimum(d * DAY_S + end - off, b)
        keep = c > o
        out.append(np.stack([o[keep], c[keep]], axis=1))
    pieces = np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)
    return pieces[np.argsort(pieces[:, 0], kind="stable")]


@dataclass
class _DayPieces:
    """One calendar's pieces split at UTC midnights: per-day columns plus per-piece arrays."""

    cols: dict[str, np.ndarray]  # cal, day, cum (one entry per UTC day)
    open_us: np.ndarray  # per piece
    length_us: np.ndarray
    day_idx: np.ndarray  # index of the piece's UTC day in `cols`
    rank: np.ndarray  # 0-based position of the piece within its day


def _day_rows(cal_id: int, pieces_s: np.ndarray, lo_day: int, hi_day: int) -> _DayPieces:
    """Split pieces at UTC midnights and lay them out per UTC day (numpy, no per-day loop)."""
    o = pieces_s[:, 0].astype(np.int64)
    c = pieces_s[:, 1].astype(np.int64)
    # A window is < 25 h, so splitting at most a few times covers every piece.
    parts_o, parts_c = [], []
    while o.size:
        day_end = (o // DAY_S + 1) * DAY_S
        head_c = np.minimum(c, day_end)
        parts_o.append(o)
        parts_c.append(head_c)
        rest = c > day_end
        o, c = day_end[rest], c[rest]
    po = np.concatenate(parts_o) if parts_o else np.empty(0, dtype=np.int64)
    pc = np.concatenate(parts_c) if parts_c else np.empty(0, dtype=np.int64)
    order = np.argsort(po, kind="stable")
    po, pc = po[order], pc[order]
    pday = po // DAY_S
    length = (pc - po) * US
    ndays = hi_day - lo_day + 1
    per_day = np.bincount(pday - lo_day, minlength=ndays)
    day_total = np.zeros(ndays, dtype=np.int64)
    np.add.at(day_total, pday - lo_day, length)
    cum = np.concatenate([[0], np.cumsum(day_total)[:-1]]).astype(np.int64)
    first_of_day = np.concatenate([[0], np.cumsum(per_day)[:-1]]).astype(np.int64)
    rank = np.arange(po.size) - first_of_day[pday - lo_day]
    days = np.arange(lo_day, hi_day + 1, dtype=np.int64)
    cols = {"cal": np.full(ndays, cal_id, dtype=np.int64), "day": days, "cum": cum}
    return _DayPieces(cols, po * US, length, pday - lo_day, rank)


def build_calendar_table(
    config: Config, teams: list[str], lo: datetime, hi: datetime
) -> CalendarTable:
    """Day table for the default calendar and each of `teams` that has its own, over [lo, hi].

    Identical calendars share one `cal` id so the table stays small however many
    teams point at the same hours.
    """
    lo_day = int(lo.timestamp()) // DAY_S - 2
    hi_day = int(hi.timestamp()) // DAY_S + 2
    cals: list[Calendar] = [config.calendar_for(None)]
    team_rows: list[tuple[str, int]] = []
    for team in sorted({t for t in teams if t is not None}):
        cal = config.calendar_for(team)
        if cal not in cals:
            cals.append(cal)
        idx = cals.index(cal)
        if idx:
            team_rows.append((team, idx))
    built = []
    for cal_id, cal in enumerate(cals):
        pieces = business_pieces(cal, lo_day * DAY_S, (hi_day + 1) * DAY_S)
        built.append(_day_rows(cal_id, pieces, lo_day, hi_day))
    k = max([1] + [int(b.rank.max()) + 1 for b in built if b.rank.size])
    frames, spans = [], []
    for b in built:
        cal_id = int(b.cols["cal"][0])
        starts = (np.cumsum(b.length_us) - b.length_us).astype(np.int64)
        spans.append(
            pl.DataFrame(
                {
                    "cal": np.full(b.open_us.size, cal_id, dtype=np.int64),
                    "cum": starts,
                    "o": b.open_us.astype(np.int64),
                    "l": b.length_us.astype(np.int64),
                }
            )
        )
        cols = dict(b.cols)
        for j in range(k):
            o = cols["day"] * DAY_US
            ln = np.zeros(o.size, dtype=np.int64)
            sel = b.rank == j
            o[b.day_idx[sel]] = b.open_us[sel]
            ln[b.day_idx[sel]] = b.length_us[sel]
            cols[f"o{j}"], cols[f"l{j}"] = o, ln
        frames.append(pl.DataFrame(cols))
    teams_df = pl.DataFrame(
        team_rows, schema={"service_team": pl.String, "cal": pl.Int64}, orient="row"
    )
    return CalendarTable(pl.concat(frames), k, teams_df, pl.concat(spans))
