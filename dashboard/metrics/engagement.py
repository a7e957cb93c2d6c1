"""Repeat avoidance: which internal requesters have stopped coming back, and why it matters.

Internal customers are not captive in the way a ticket queue suggests: after a
bad experience they work around the service desk (ask a colleague, buy a tool,
live with the problem). The warehouse only sees that as silence. This module
turns silence into a signal per (requester, service team):

* a **cadence** signal - silent for more than k x their own typical (median)
  inter-ticket gap, which respects each requester's rhythm (someone who needs
  HR twice a year is not "quiet" after two months), and
* a **BG/NBD** signal - P(alive) from a beta-geometric/NBD model fitted to the
  whole population (`dashboard.metrics.bgnbd`), which weighs how much history
  backs that rhythm.

and adds department-level views (activity per head, reactive shift, return
rate after bad experiences, survey fatigue, cohort retention) that read the
warehouse directly.

Everything per requester is vectorised in Polars: one sort, one group-by and a
handful of column expressions, so a million requesters take seconds, not a
Python loop each.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from dashboard import pseudonyms, warehouse
from dashboard.as_of import warehouse_as_of
from dashboard.config import Config, EngagementSettings
from dashboard.filters import Filters
from dashboard.metrics import bgnbd
from dashboard.metrics.stats import benjamini_hochberg, wilson_interval

ENGAGEMENT_COLUMNS: tuple[str, ...] = (
    "requester_id",
    "service_team",
    "requester_department",
    "requester_type",
    "first_ticket_at",
    "last_ticket_at",
    "tickets",
    "typical_gap_days",
    "days_silent",
    "p_alive",
    "status",
    "reason",
)
STATUSES: tuple[str, ...] = ("new", "active", "occasional", "at_risk", "gone_quiet")

# Defaults of the knobs that are not (yet) in EngagementSettings; keyword
# arguments of compute_engagement so callers and tests can change them.
OCCASIONAL_GAP_DAYS = 45.0  # typical gap at or above this => naturally occasional
NEW_WINDOW_DAYS = 180.0  # fewer than min_tickets and first ticket this recent => "new"
MIN_GAP_DAYS = 1.0  # floor for the typical gap, so same-day bursts do not make it ~0
LONG_RESOLUTION_FACTOR = 3.0  # "took long" = at least this x the team's median resolution
FIT_SAMPLE = 30_000  # BG/NBD is fitted on at most this many (requester, team) rows
MIN_FIT_ROWS = 30  # below this the population is too small for a BG/NBD fit

_DAY_US = 86_400_000_000.0


def _to_utc(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Timestamps as UTC-aware Datetime(us): DuckDB hands TIMESTAMPTZ in the session zone."""
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Datetime):
        return expr.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _as_utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _days_text(days: pl.Expr) -> pl.Expr:
    """'1 day' / 'N days' from a (non-null) number of days, rounded."""
    n = days.round(0).cast(pl.Int64)
    return pl.when(n == 1).then(pl.lit("1 day")).otherwise(pl.format("{} days", n))


def _span_text(days: pl.Expr) -> pl.Expr:
    """A human duration for a history span: weeks, months or years."""
    weeks = (days / 7.0).round(0).cast(pl.Int64).clip(1)
    months = (days / 30.44).round(0).cast(pl.Int64)
    years = (days / 365.25).round(1)
    return (
        pl.when(days < 61)
        .then(pl.when(weeks == 1).then(pl.lit("1 week")).otherwise(pl.format("{} weeks", weeks)))
        .when(days < 730)
        .then(pl.format("{} months", months))
        .otherwise(pl.format("{} years", years))
    )


def _times_text(n: pl.Expr) -> pl.Expr:
    return (
        pl.when(n == 1)
        .then(pl.lit("once"))
        .when(n == 2)
        .then(pl.lit("twice"))
        .otherwise(pl.format("{} times", n))
    )


def _join_and(parts: list[pl.Expr]) -> pl.Expr:
    """'a', 'a and b', 'a, b and c' from nullable string expressions (nulls skipped).

    String concatenation plus one regex instead of list operations: the list
    version (slice by per-row length, join) was ~100x slower on a million rows.
    The parts must not contain commas themselves.
    """
    joined = pl.concat_str(parts, separator=", ", ignore_nulls=True)
    return pl.when(joined != "").then(joined.str.replace(r", ([^,]*)$", " and $1"))


def _fit_population(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, seed: int
) -> bgnbd.BGNBDParams | None:
    """BG/NBD fitted on (a sample of) the population, or None when it cannot be.

    A population with no repeat tickets at all, or a handful of rows, has no
    information about dropout; a null P(alive) then lets the cadence rule
    decide alone rather than trusting a degenerate fit.
    """
    n = x.size
    if n < MIN_FIT_ROWS or not np.any(x > 0):
        return None
    if n > FIT_SAMPLE:
        idx = np.random.default_rng(seed).choice(n, FIT_SAMPLE, replace=False)
        x, t_x, T = x[idx], t_x[idx], T[idx]
    # Weeks keep alpha near 1-100 (better conditioned than days); rounding to
    # 0.1 week (<1 day) makes many rows identical, which the fit collapses.
    try:
        params = bgnbd.fit(np.round(x), np.round(t_x, 1), np.round(T, 1))
    except (ValueError, FloatingPointError):  # pragma: no cover - defensive
        return None
    if not all(np.isfinite(v) and v > 0 for v in params.as_tuple()):
        return None  # pragma: no cover - defensive
    return params


def _codes(col: pl.Series) -> np.ndarray:
    """Exact integer codes of a string column (nulls get their own code); slower than hashing."""
    return col.cast(pl.Categorical).to_physical().cast(pl.Int64).fill_null(-1).to_numpy()


def _segment_order(segment: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Argsort by (segment, value) for non-negative int64 arrays.

    Packs both into one int64 when they fit (one quicksort of plain integers is
    ~10x faster than np.lexsort or a two-column sort on a busy 2-core box);
    `value` loses sub-second precision only if milliseconds would not fit.
    """
    seg_bits = max(int(segment.max(initial=0)).bit_length(), 1)
    for scale in (1, 1000):
        v = value // scale
        if seg_bits + max(int(v.max(initial=0)).bit_length(), 1) <= 62:
            shift = np.int64(max(int(v.max(initial=0)).bit_length(), 1))
            return np.argsort((segment.astype(np.int64) << shift) | v, kind="quicksort")
    return np.lexsort((value, segment))  # pragma: no cover - centuries of history


def _dense(values: np.ndarray) -> np.ndarray:
    """Dense codes 0..G-1 of int64 values, via one argsort."""
    order = np.argsort(values, kind="quicksort")
    sorted_vals = values[order]
    step = np.ones(values.size, dtype=bool)
    step[1:] = sorted_vals[1:] != sorted_vals[:-1]
    codes = np.empty(values.size, dtype=np.int64)
    codes[order] = np.cumsum(step) - 1
    return codes


def _per_requester(t: pl.DataFrame) -> pl.DataFrame:
    """Aggregate tickets to one row per (requester_id, service_team), in numpy.

    A Polars group_by on two string keys with a median of diffs and a dozen
    last() values was the bottleneck at 7.5M tickets. Here the key pair is
    hashed to one integer and made dense, one integer sort puts every
    requester's tickets together in time order, and the rest is prefix
    arithmetic on that order: first/last are gathers at the segment ends, the
    median gap is read off a sort of the gaps within segments, "last non-null
    department" is a running maximum of row positions. Hashes are verified
    with a second hash (a 64-bit collision is astronomically rare; if one
    happens, exact categorical codes are used instead).
    """
    created_ms = t["created_at"].dt.epoch("ms").to_numpy().astype(np.int64)
    rel_ms = created_ms - created_ms.min(initial=0)
    req_h = t["requester_id"].hash(seed=0).to_numpy().view(np.int64)
    team_h = t["service_team"].hash(seed=0).to_numpy().view(np.int64)
    group = _dense(req_h * np.int64(1_000_003) + team_h)
    order = _segment_order(group, rel_ms)
    n = order.size
    group_s = group[order]
    boundary = np.ones(n, dtype=bool)
    boundary[1:] = group_s[1:] != group_s[:-1]
    # Collision check: a second, independently seeded hash must be constant
    # within every segment (both colliding at once: ~2^-128).
    check = (
        t["requester_id"].hash(seed=1).to_numpy().view(np.int64) * np.int64(998_244_353)
        + t["service_team"].hash(seed=1).to_numpy().view(np.int64)
    )[order]
    changed = np.ones(n, dtype=bool)
    changed[1:] = check[1:] != check[:-1]
    if np.any(changed & ~boundary):  # pragma: no cover - needs a 64-bit hash collision
        req_c, team_c = _codes(t["requester_id"]), _codes(t["service_team"])
        group = _dense(req_c * np.int64(team_c.max(initial=0) + 2) + team_c + 1)
        order = _segment_order(group, rel_ms)
        group_s = group[order]
        boundary[1:] = group_s[1:] != group_s[:-1]
    created_s = rel_ms[order]
    starts = np.flatnonzero(boundary)
    ends = np.append(starts[1:], n) - 1
    counts = ends - starts + 1
    gid = np.cumsum(boundary) - 1

    # Median gap: gaps of non-first rows, sorted within their group.
    has_gap = ~boundary
    gaps = np.diff(created_s, prepend=created_s[:1])[has_gap]
    gap_gid = gid[has_gap]
    gaps = gaps[_segment_order(gap_gid, gaps)] if gaps.size else gaps
    n_gaps = counts - 1
    gap_start = np.concatenate([[0], np.cumsum(n_gaps)[:-1]])
    with_gap = n_gaps > 0
    lo = gap_start + np.maximum(n_gaps - 1, 0) // 2
    hi = gap_start + n_gaps // 2
    median_gap = np.full(starts.size, np.nan)
    if gaps.size:
        median_gap[with_gap] = (gaps[lo[with_gap]] + gaps[hi[with_gap]]) / 2.0 / 86_400_000.0

    def last_non_null(name: str) -> pl.Series:
        col = t[name]
        if col.null_count() == 0:  # the usual case: no need to scan for gaps
            return col.gather(order[ends])
        mask = col.is_not_null().to_numpy()[order]
        pos = np.maximum.accumulate(np.where(mask, np.arange(n), -1))[ends]
        ok = pos >= starts
        rows = order[np.where(ok, pos, ends)]
        return col.gather(rows).scatter(np.flatnonzero(~ok), None)

    first_rows, last_rows = order[starts], order[ends]
    last = t.select(
        "resolution_minutes",
        "sla_resolution_met",
        "reopen_count",
        "low_csat",
        "resolved_at",
        "status",
        "_as_of",
    ).gather(last_rows)
    return pl.DataFrame(
        {
            "_gid": np.arange(starts.size),
            "requester_id": t["requester_id"].gather(first_rows),
            "service_team": t["service_team"].gather(first_rows),
            "first_ticket_at": t["created_at"].gather(first_rows),
            "last_ticket_at": t["created_at"].gather(last_rows),
            "tickets": counts.astype(np.int64),
            "_median_gap": median_gap,
            "requester_department": last_non_null("requester_department"),
            "requester_type": last_non_null("requester_type"),
            "_last_res": last["resolution_minutes"],
            "_last_sla": last["sla_resolution_met"],
            "_last_reopens": last["reopen_count"],
            "_last_low_csat": last["low_csat"],
            "_last_resolved": last["resolved_at"],
            "_last_status": last["status"],
            "_as_of": last["_as_of"],
        }
    ).with_columns(pl.col("_median_gap").fill_nan(None))


def _with_as_of(t: pl.DataFrame, as_of: datetime | None) -> pl.DataFrame:
    """Each ticket's as-of as column `_as_of` (UTC): `as_of` when given; else the
    ticket's own `as_of` column (its source's, from ticket_times); else the last
    ticket's created_at (frames built without a warehouse)."""
    moment = pl.Datetime("us", "UTC")
    fallback = pl.lit(t.select(pl.col("created_at").max()).item(), dtype=moment)
    if as_of is not None:
        value = pl.lit(_as_utc(as_of), dtype=moment)
    elif "as_of" in t.columns:
        value = _to_utc(pl.col("as_of"), t.schema["as_of"]).fill_null(fallback)
    else:
        value = fallback
    return t.with_columns(value.alias("_as_of"))


def compute_engagement(
    tickets: pl.DataFrame,
    people: pl.DataFrame | None,
    as_of: datetime | None,
    settings: EngagementSettings,
    *,
    occasional_gap_days: float = OCCASIONAL_GAP_DAYS,
    new_window_days: float = NEW_WINDOW_DAYS,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per (requester, service team) with a status and a readable reason.

    Inputs: `tickets` with the ticket_times columns (at least requester_id,
    service_team, requester_department, requester_type, created_at,
    resolved_at, resolution_minutes, reopen_count, sla_resolution_met; optional
    boolean `low_csat`); `people` (person_id, department, person_type,
    active_to) or None. `as_of`, when given, is one instant for every ticket;
    when None each ticket is judged at its own `as_of` column (its source's
    as-of, as `ticket_times` carries it), else at the last ticket's created_at.
    Tickets created after their as-of are ignored, so the model can be replayed.
    A (requester, team) row is judged at the as-of of its last ticket.

    Per (requester, team): ``typical_gap_days`` is the median gap between
    consecutive tickets (a single long gap - a holiday, a project break - moves
    it little, unlike the mean), floored at 1 day; ``days_silent`` is as_of
    minus the last ticket; ``p_alive`` is BG/NBD P(alive) with x = tickets - 1,
    t_x = last - first, T = as_of - first (weeks), fitted on a sample of at
    most 30k rows of this population.

    Status rule (k = settings.gap_multiplier, m = settings.min_tickets):

    1. fewer than m tickets: ``new`` when the first ticket is less than
       `new_window_days` old, else ``occasional`` (a few tickets over a long
       time is a rhythm of its own, not enough to call a departure);
    2. overdue = days_silent > k x typical_gap_days (the requester's own rhythm);
    3. flagged = overdue AND (p_alive < settings.at_risk_p_alive OR silent
       > 2k gaps OR p_alive is null). The cadence rule alone flags noisy
       regulars and occasional requesters who are merely in a long gap (their
       own gaps vary), so BG/NBD must confirm it; but BG/NBD assumes Poisson
       (memoryless) timing and therefore understates how unusual a long silence
       is for a *regular* requester, so a silence beyond twice the alarm
       multiple stands on its own;
    4. gone_quiet = flagged AND (p_alive < settings.gone_quiet_p_alive, or
       silent > 2k gaps with p_alive < settings.at_risk_p_alive or null): both
       signals strong. Other flagged rows are ``at_risk`` (one signal strong);
    5. not flagged and typical gap >= `occasional_gap_days` => ``occasional``
       (naturally long gaps are never flagged for their length alone, only for
       being long relative to the requester's own rhythm);
    6. otherwise ``active``.

    Requesters who left (people.active_to < as_of date) are excluded. Missing
    department / type are filled from `people`.
    """
    t = tickets
    if t.height == 0:
        return _empty_engagement()
    t = t.with_columns(_to_utc(pl.col("created_at"), t.schema["created_at"]).alias("created_at"))
    t = _with_as_of(t, as_of)
    needed = [
        "requester_id",
        "service_team",
        "requester_department",
        "requester_type",
        "created_at",
        "resolved_at",
        "resolution_minutes",
        "reopen_count",
        "sla_resolution_met",
        "low_csat",
        "status",
        "_as_of",
    ]
    t = t.filter(pl.col("created_at") <= pl.col("_as_of"), pl.col("requester_id").is_not_null())
    t = t.select([c for c in needed if c in t.columns])
    for name, dtype in (
        ("low_csat", pl.Boolean),
        ("reopen_count", pl.Int64),
        ("sla_resolution_met", pl.Boolean),
        ("resolution_minutes", pl.Float64),
        ("resolved_at", pl.Datetime("us", "UTC")),
        ("status", pl.String),
    ):
        if name not in t.columns:
            t = t.with_columns(pl.lit(None, dtype=dtype).alias(name))

    if people is not None and people.height > 0:
        ppl = people.select(
            pl.col("person_id").cast(pl.String).alias("requester_id"),
            pl.col("department").alias("_p_dept"),
            pl.col("person_type").alias("_p_type"),
            pl.col("active_to").cast(pl.Date).alias("_p_to"),
        ).unique("requester_id", keep="last")
        # (requester, as-of) pairs where the person had left by that as-of: a few
        # distinct as-of instants (one per source) times the people who left
        leavers = (
            ppl.filter(pl.col("_p_to").is_not_null())
            .join(t.select(pl.col("_as_of").unique()), how="cross")
            .filter(pl.col("_p_to") < pl.col("_as_of").dt.date())
            .select(pl.col("requester_id").cast(t.schema["requester_id"]), "_as_of")
        )
        t = t.join(leavers, on=["requester_id", "_as_of"], how="anti")
    else:
        ppl = None
    if t.height == 0:
        return _empty_engagement()

    # Team median resolution: the yardstick for "a ticket that took long".
    team_median = (
        t.group_by("service_team")
        .agg(pl.col("resolution_minutes").median().alias("_team_median_res"))
        .with_columns(pl.col("service_team").cast(pl.String))
    )

    # per-ticket text may arrive categorical (see _model_inputs); per group it is text
    g = _per_requester(t).with_columns(pl.col(pl.Categorical).cast(pl.String))
    g = g.join(team_median, on="service_team", how="left")
    if ppl is not None:
        g = g.join(
            ppl.select("requester_id", "_p_dept", "_p_type"), on="requester_id", how="left"
        ).with_columns(
            pl.coalesce("requester_department", "_p_dept").alias("requester_department"),
            pl.when(pl.col("requester_type").is_null() | (pl.col("requester_type") == "unknown"))
            .then(pl.coalesce("_p_type", "requester_type"))
            .otherwise(pl.col("requester_type"))
            .alias("requester_type"),
        )

    g = g.with_columns(
        ((pl.col("_as_of") - pl.col("last_ticket_at")).dt.total_microseconds() / _DAY_US).alias(
            "days_silent"
        ),
        (
            (pl.col("last_ticket_at") - pl.col("first_ticket_at")).dt.total_microseconds() / _DAY_US
        ).alias("_span_days"),
        ((pl.col("_as_of") - pl.col("first_ticket_at")).dt.total_microseconds() / _DAY_US).alias(
            "_age_days"
        ),
    ).with_columns(
        pl.when(pl.col("tickets") >= 2)
        .then(pl.col("_median_gap").clip(MIN_GAP_DAYS))
        .alias("typical_gap_days"),
    )

    x = (g["tickets"].to_numpy() - 1).astype(np.float64)
    t_x = g["_span_days"].to_numpy().astype(np.float64) / 7.0
    T = g["_age_days"].to_numpy().astype(np.float64) / 7.0
    params = _fit_population(x, t_x, T, seed)
    if params is None:
        g = g.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_alive"))
    else:
        g = g.with_columns(pl.Series("p_alive", bgnbd.p_alive(x, t_x, T, params)))

    k = float(settings.gap_multiplier)
    ratio = pl.col("days_silent") / pl.col("typical_gap_days")
    enough = pl.col("tickets") >= settings.min_tickets
    overdue = enough & (ratio > k)
    p = pl.col("p_alive")
    strong = ratio > 2 * k
    flagged = overdue & (p.is_null() | (p < settings.at_risk_p_alive) | strong)
    deep = (p < settings.gone_quiet_p_alive) | (
        strong & (p.is_null() | (p < settings.at_risk_p_alive))
    )
    g = g.with_columns(
        pl.when(~enough & (pl.col("_age_days") < new_window_days))
        .then(pl.lit("new"))
        .when(~enough)
        .then(pl.lit("occasional"))
        .when(flagged & deep)
        .then(pl.lit("gone_quiet"))
        .when(flagged)
        .then(pl.lit("at_risk"))
        .when(pl.col("typical_gap_days") >= occasional_gap_days)
        .then(pl.lit("occasional"))
        .otherwise(pl.lit("active"))
        .alias("status"),
        overdue.alias("_overdue"),
        enough.alias("_enough"),
    )
    # Sorting 1M string pairs costs more than the model; the group index gives a
    # deterministic order for the same input instead (callers sort for display).
    g = _still_files_elsewhere(_add_reasons(g)).sort("_gid")
    return g.select(
        pl.col("requester_id").cast(pl.String),
        pl.col("service_team").cast(pl.String),
        pl.col("requester_department").cast(pl.String),
        pl.col("requester_type").cast(pl.String),
        pl.col("first_ticket_at"),
        pl.col("last_ticket_at"),
        pl.col("tickets").cast(pl.Int64),
        pl.col("typical_gap_days").cast(pl.Float64),
        pl.col("days_silent").cast(pl.Float64),
        pl.col("p_alive").cast(pl.Float64),
        pl.col("status"),
        pl.col("reason"),
    )


def _bad_experience_expr() -> pl.Expr:
    """' since a ticket that took 11 days to resolve and missed its SLA', or ''."""
    res = pl.col("_last_res")
    long_res = (
        res.is_not_null()
        & (res >= 1440)
        & (
            pl.col("_team_median_res").is_null()
            | (res >= LONG_RESOLUTION_FACTOR * pl.col("_team_median_res"))
        )
    )
    res_days = res / 1440.0
    took = pl.when(long_res).then(
        pl.format(
            "took {} to resolve",
            pl.when(res_days < 2)
            .then(pl.format("{} hours", (res / 60.0).round(0).cast(pl.Int64)))
            .otherwise(_days_text(res_days)),
        )
    )
    unresolved = pl.when(
        pl.col("_last_resolved").is_null()
        & ~pl.col("_last_status").fill_null("").is_in(["solved", "closed", "cancelled"])
    ).then(pl.lit("is still open"))
    breach = pl.when(pl.col("_last_sla") == False).then(  # noqa: E712 - null stays null
        pl.lit("missed its resolution SLA")
    )
    reopened = pl.when(pl.col("_last_reopens").fill_null(0) > 0).then(
        pl.format("was reopened {}", _times_text(pl.col("_last_reopens").cast(pl.Int64)))
    )
    low_csat = pl.when(pl.col("_last_low_csat") == True).then(  # noqa: E712
        pl.lit("got a low satisfaction score")
    )
    bad = _join_and([took, unresolved, breach, reopened, low_csat])
    return (
        pl.when(bad.is_not_null())
        .then(pl.format(" since a ticket that {}", bad))
        .otherwise(pl.lit(""))
    )


def _add_reasons(g: pl.DataFrame) -> pl.DataFrame:
    """One readable sentence per row, without per-row Python.

    Each row is formatted by the template of its own kind only (the frame is
    split by kind and put back together): a single when/then chain would
    format every template for every row, which cost seconds at 1M rows.
    """
    g = g.with_columns(
        pl.col("service_team").fill_null("the service").alias("_team_txt"),
        pl.format("~{}", _days_text(pl.col("typical_gap_days"))).alias("_gap_txt"),
        _span_text(pl.col("_span_days")).alias("_span_txt"),
        _days_text(pl.col("days_silent")).alias("_silent_txt"),
        pl.when(pl.col("status") == "new")
        .then(pl.lit("new"))
        .when((pl.col("status") == "occasional") & (pl.col("tickets") < 2))
        .then(pl.lit("one"))
        .when((pl.col("status") == "occasional") & pl.col("_enough"))
        .then(pl.lit("occ"))
        .when(pl.col("status") == "occasional")
        .then(pl.lit("few"))
        .when(pl.col("status").is_in(["at_risk", "gone_quiet"]))
        .then(pl.lit("flag"))
        .when(pl.col("_overdue"))
        .then(pl.lit("late"))
        .otherwise(pl.lit("ok"))
        .alias("_kind"),
    )
    team, gap_txt, span_txt, silent_txt = (
        pl.col(c) for c in ("_team_txt", "_gap_txt", "_span_txt", "_silent_txt")
    )
    n = pl.col("tickets")
    ratio = (pl.col("days_silent") / pl.col("typical_gap_days")).round(0).cast(pl.Int64)
    templates: dict[str, pl.Expr] = {
        "new": pl.format(
            "New to {}: {} since {}; too little history for a rhythm yet",
            team,
            pl.when(n == 1).then(pl.lit("1 ticket")).otherwise(pl.format("{} tickets", n)),
            pl.col("first_ticket_at").dt.strftime("%Y-%m-%d"),
        ),
        "one": pl.format(
            "One ticket to {}, {} ago; too little history for a rhythm", team, silent_txt
        ),
        "occ": pl.format(
            "Uses {} occasionally, every {} over {}; silent {}, {}",
            team,
            gap_txt,
            span_txt,
            silent_txt,
            pl.when(pl.col("_overdue"))
            .then(pl.lit("longer than usual but the overall pattern still looks active"))
            .otherwise(pl.lit("within the usual rhythm")),
        ),
        "few": pl.format(
            "{} tickets to {} over {}; too few for a rhythm, last one {} ago",
            n,
            team,
            span_txt,
            silent_txt,
        ),
        "flag": pl.format(
            "Used {} every {} for {}; silent {} ({}x the usual gap){}",
            team,
            gap_txt,
            span_txt,
            silent_txt,
            ratio,
            _bad_experience_expr(),
        ),
        "late": pl.format(
            "Uses {} every {} for {}; silent {}, longer than usual, but the "
            "overall pattern still looks active",
            team,
            gap_txt,
            span_txt,
            silent_txt,
        ),
        "ok": pl.format(
            "Uses {} every {} for {}; last ticket {} ago", team, gap_txt, span_txt, silent_txt
        ),
    }
    parts = [
        part.with_columns(templates[kind].alias("reason"))
        for (kind,), part in g.group_by("_kind", maintain_order=True)
    ]
    return (
        pl.concat(parts, how="vertical")
        if parts
        else g.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    )


def _still_files_elsewhere(g: pl.DataFrame) -> pl.DataFrame:
    """Append "; still files with HR Operations (last ticket 4 days ago)" to the reason of
    a flagged row whose requester kept filing with other teams after going quiet here.

    That is what tells a person who stopped using one service from one who left or no
    longer needs help: they are still around, still asking, just not here. Only
    meaningful because requester_id is the same person in every tool.
    """
    flagged = g.filter(pl.col("status").is_in(FLAGGED)).select(
        "_gid", "requester_id", "last_ticket_at"
    )
    if flagged.is_empty():
        return g
    others = g.filter(~pl.col("status").is_in(FLAGGED)).select(
        "requester_id",
        pl.col("service_team").alias("_other"),
        pl.col("last_ticket_at").alias("_other_last"),
        pl.col("days_silent").alias("_other_silent"),
    )
    still = (
        flagged.join(others, on="requester_id")
        .filter(pl.col("_other_last") > pl.col("last_ticket_at"), pl.col("_other").is_not_null())
        .sort("_other_last", descending=True)
        .group_by("_gid")
        .agg(pl.col("_other").str.join(", ").alias("_teams"), pl.col("_other_silent").min())
        .with_columns(
            pl.format(
                "; still files with {} (last ticket {} ago)",
                pl.col("_teams"),
                _days_text(pl.col("_other_silent")),
            ).alias("_still")
        )
    )
    return (
        g.join(still.select("_gid", "_still"), on="_gid", how="left")
        .with_columns(pl.concat_str("reason", pl.col("_still").fill_null("")).alias("reason"))
        .drop("_still")
    )


def _empty_engagement() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "requester_id": pl.String,
            "service_team": pl.String,
            "requester_department": pl.String,
            "requester_type": pl.String,
            "first_ticket_at": pl.Datetime("us", "UTC"),
            "last_ticket_at": pl.Datetime("us", "UTC"),
            "tickets": pl.Int64,
            "typical_gap_days": pl.Float64,
            "days_silent": pl.Float64,
            "p_alive": pl.Float64,
            "status": pl.String,
            "reason": pl.String,
        }
    )


# --------------------------------------------------------------------------- warehouse

# "got a low satisfaction score": the warehouse's one definition (view survey_scores:
# the bottom two points of the question's own CSAT scale)
_LOW_CSAT_SQL = """
SELECT DISTINCT ticket_id, TRUE AS low_csat
FROM survey_scores
WHERE metric = 'csat' AND ticket_id IS NOT NULL AND low_score
"""


_BATCH_ROWS = 500_000


def _model_inputs(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tickets (with a low-CSAT flag from linked survey answers) and people."""
    reader = con.sql(f"""
        SELECT t.requester_id, t.service_team, t.requester_department, t.requester_type,
               t.created_at, t.resolved_at, t.resolution_minutes, t.reopen_count,
               t.sla_resolution_met, t.status, t.as_of, coalesce(c.low_csat, FALSE) AS low_csat
        FROM ticket_times t
        LEFT JOIN ({_LOW_CSAT_SQL}) c USING (ticket_id)
        WHERE t.requester_id IS NOT NULL
    """).to_arrow_reader(batch_size=_BATCH_ROWS)
    # Batch by batch, text becomes categorical (4 bytes a value instead of a string
    # per ticket): at 5M tickets the frame is a third of the size, and the full
    # string copy never exists at once.
    batches = [
        pl.from_arrow(batch).with_columns(pl.col(pl.String).cast(pl.Categorical))  # type: ignore[union-attr]
        for batch in reader
    ]
    tickets = pl.concat(batches) if batches else pl.DataFrame()
    people = con.sql(
        "SELECT person_id, department, person_type, active_from, active_to FROM people"
    ).pl()
    return tickets, people


def engagement_rows(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime | date | None = None
) -> pl.DataFrame:
    """The stored `requester_engagement` rows, or a fresh computation for another as-of
    day (read-only: nothing is written). Sorted for reading: flagged first. Requester
    ids come out as the connection's scope allows (`inward_id`)."""
    if as_of is None:
        frame = con.sql(
            "SELECT * REPLACE (inward_id(requester_id) AS requester_id) FROM requester_engagement"
        ).pl()
    else:
        tickets, people = _model_inputs(con)
        frame = compute_engagement(tickets, people, _as_utc(as_of), config.engagement)
        frame = pseudonyms.ids(con, frame, ["requester_id"])
    order = {s: i for i, s in enumerate(("gone_quiet", "at_risk", "new", "active", "occasional"))}
    return frame.sort(
        pl.col("status").replace_strict(order, default=9),
        "service_team",
        pl.col("days_silent"),
        "requester_id",
        descending=[False, False, True, False],
    )


def refresh_engagement(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime | date | None = None
) -> int:
    """Recompute `requester_engagement` from `ticket_times` and `people`; returns its row count.

    The table is replaced inside one transaction so a reader never sees it half
    written (or empty) and a failure leaves the previous model in place.
    """
    tickets, people = _model_inputs(con)
    result = compute_engagement(
        tickets, people, _as_utc(as_of) if as_of else None, config.engagement
    )
    with warehouse.transaction(con):
        con.execute("DELETE FROM requester_engagement")
        if result.height:
            con.register("_inward_engagement", result.to_arrow())
            try:
                con.execute(
                    f"INSERT INTO requester_engagement ({', '.join(ENGAGEMENT_COLUMNS)}) "
                    f"SELECT {', '.join(ENGAGEMENT_COLUMNS)} FROM _inward_engagement"
                )
            finally:
                con.unregister("_inward_engagement")
    return result.height


# ------------------------------------------------------------------ department signals

# The sidebar filters the engagement views honour. Silence is judged at the as-of over
# each requester's whole history, so a date range does not apply; priority, category
# and channel describe single tickets, not the requester-team relationship.
ENGAGEMENT_FILTERS: tuple[str, ...] = ("teams", "departments", "requester_types")


def _where(filters: Filters | None, prefix: str = "f_") -> tuple[str, dict[str, Any]]:
    """SQL condition for the engagement filters (team, department, requester type)."""
    return (filters or Filters()).only(ENGAGEMENT_FILTERS).where(prefix=prefix)


def _as_of_sql(con: duckdb.DuckDBPyConnection, as_of: datetime | date | None) -> datetime:
    """`as_of` when given, else the warehouse's newest as-of (dashboard/as_of.py)."""
    if as_of is not None:
        return _as_utc(as_of)
    newest = warehouse_as_of(con)
    return _as_utc(newest) if newest is not None else datetime(1970, 1, 1, tzinfo=UTC)


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
    where, params = _where(filters)
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
    where, params = _where((filters or Filters()).only(("teams", "requester_types")))
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
    any_bad (any of those), none (none of those).
    Columns: [service_team,] experience, tickets, returned, p_return, ci_low,
    ci_high (Wilson 95 %), difference_vs_none. `filters` (team, department,
    requester type) choose the tickets whose experience is judged; "next ticket"
    is still looked up in all of the requester's tickets to that team.
    """
    days = f"INTERVAL {int(within_days)} DAY"
    cutoff = "CAST($as_of AS TIMESTAMPTZ)" if as_of is not None else "as_of"
    where, params = _where(filters)
    if as_of is not None:
        params["as_of"] = _as_utc(as_of)
    q = f"""
    WITH low AS ({_LOW_CSAT_SQL}),
    t AS (
        SELECT service_team, requester_id, created_at, {where} AS _chosen,
               {cutoff} - {days} AS cutoff,
               coalesce(resolved_at, created_at) AS ref_at,
               coalesce(sla_resolution_met = FALSE, FALSE) AS sla_breached,
               coalesce(reopen_count, 0) > 0 AS reopened,
               coalesce(low.low_csat, FALSE) AS low_csat,
               lead(created_at) OVER (PARTITION BY requester_id, service_team
                                      ORDER BY created_at, ticket_id) AS next_at
        FROM ticket_times LEFT JOIN low USING (ticket_id)
        WHERE requester_id IS NOT NULL
    ), e AS (
        SELECT *, sla_breached OR reopened OR low_csat AS any_bad,
               coalesce(next_at <= ref_at + INTERVAL {int(within_days)} DAY, FALSE) AS returned
        FROM t WHERE ref_at <= cutoff AND _chosen
    ), long AS (
        SELECT service_team, 'sla_breached' AS experience, returned FROM e WHERE sla_breached
        UNION ALL SELECT service_team, 'reopened', returned FROM e WHERE reopened
        UNION ALL SELECT service_team, 'low_csat', returned FROM e WHERE low_csat
        UNION ALL SELECT service_team, 'any_bad', returned FROM e WHERE any_bad
        UNION ALL SELECT service_team, 'none', returned FROM e WHERE NOT any_bad
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
    """
    as_of_dt = _as_of_sql(con, as_of)
    where, params = _where(filters)
    q = f"""
    WITH t AS (
        SELECT requester_id,
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
               count(DISTINCT t.requester_id) AS active_requesters
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
    where, params = _where(filters)
    return con.sql(
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
        FROM f GROUP BY 1 ORDER BY went_quiet_this_quarter DESC, 1""",
        params=params,
    ).pl()


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
    activity = department_activity(con, "quarter", filters=filters)
    latest = activity.filter(pl.col("period_start") == activity["period_start"].max())
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


FLAGGED: tuple[str, ...] = ("gone_quiet", "at_risk")


def at_risk_rows(
    con: duckdb.DuckDBPyConnection, config: Config, filters: Filters | None = None
) -> pl.DataFrame:
    """Requesters flagged at risk or gone quiet, worst first, for the filtered teams,
    departments and requester types. Requester ids as the viewer may see them (from
    `engagement_rows`: the same pseudonym as every other view without a raw grant)."""
    rows = engagement_rows(con, config).filter(pl.col("status").is_in(FLAGGED))
    f = (filters or Filters()).only(ENGAGEMENT_FILTERS)
    for field in ENGAGEMENT_FILTERS:
        values = getattr(f, field)
        if values:
            column = {"teams": "service_team", "departments": "requester_department"}.get(
                field, "requester_type"
            )
            rows = rows.filter(pl.col(column).is_in(list(values)))
    return rows.select(
        "status",
        "requester_id",
        "service_team",
        "requester_department",
        "requester_type",
        "tickets",
        "typical_gap_days",
        "days_silent",
        "p_alive",
        "last_ticket_at",
        "reason",
    )


# ------------------------------------------------------------------ one person, every team


def _across_teams_sql(teams: str, where: str = "TRUE") -> str:
    """Flagged (requester, team) rows with the teams the requester still files with;
    `teams` aggregates `o.service_team` (a readable list, or a list to unnest); `where`
    narrows the flagged rows (`q`)."""
    return f"""
        SELECT q.requester_id, q.requester_department, q.requester_type,
            q.service_team AS quiet_with, q.status, q.tickets, q.typical_gap_days,
            q.days_silent, {teams} AS still_files_with,
            min(o.days_silent) AS days_since_last_elsewhere,
            CAST(sum(o.tickets) AS BIGINT) AS tickets_elsewhere
        FROM requester_engagement q
        JOIN requester_engagement o ON o.requester_id = q.requester_id
            AND o.service_team IS DISTINCT FROM q.service_team
            AND o.status NOT IN {FLAGGED} AND o.last_ticket_at > q.last_ticket_at
        WHERE q.status IN {FLAGGED} AND {where}
        GROUP BY ALL"""


def _flagged_where(filters: Filters | None) -> tuple[str, dict[str, Any]]:
    """The engagement filters on the flagged row: the team is the one gone quiet with."""
    return (
        (filters or Filters())
        .only(ENGAGEMENT_FILTERS)
        .where(
            {
                "teams": "q.service_team",
                "departments": "q.requester_department",
                "requester_types": "q.requester_type",
            },
            time_column="",
        )
    )


def across_teams(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """People flagged (at risk / gone quiet) with one team who kept filing with another
    after their last ticket there: "stopped coming to IT, still files with HR".

    Still active elsewhere means still in the organisation and still asking for help,
    so the silence is about that one team. Columns: requester_id,
    requester_department, requester_type, quiet_with, status, tickets,
    typical_gap_days, days_silent, still_files_with (teams, most recent first),
    days_since_last_elsewhere, tickets_elsewhere. Most silent first. `filters`: the
    engagement filters (team = the team gone quiet with, department, requester type).
    """
    teams = "string_agg(o.service_team, ', ' ORDER BY o.last_ticket_at DESC)"
    where, params = _flagged_where(filters)
    return con.sql(
        f"SELECT * REPLACE (inward_id(requester_id) AS requester_id) FROM "
        f"({_across_teams_sql(teams, where)}) ORDER BY days_silent DESC, requester_id",
        params=params,
    ).pl()


def team_switches(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """How many people went quiet with one team while still filing with another, per
    (quiet_with, still_files_with) pair of teams: where requesters went round a team.
    `filters` as for `across_teams`."""
    where, params = _flagged_where(filters)
    return con.sql(
        f"""
        WITH a AS ({_across_teams_sql("list(o.service_team)", where)}),
        pairs AS (SELECT requester_id, quiet_with, unnest(still_files_with) AS still_files_with
                  FROM a)
        SELECT quiet_with, still_files_with, count(DISTINCT requester_id) AS people
        FROM pairs GROUP BY ALL ORDER BY people DESC, quiet_with, still_files_with""",
        params=params,
    ).pl()


def person_history(con: duckdb.DuckDBPyConnection, requester_id: str) -> pl.DataFrame:
    """One person's tickets per month and service team, across every tool (requester_id
    is the same person everywhere; give it as the viewer sees it, i.e. the pseudonym
    without a raw grant). Columns: service_team, month, tickets."""
    return con.sql(
        """WITH who AS (SELECT id FROM (SELECT DISTINCT requester_id AS id FROM tickets)
                        WHERE inward_id(id) = $id)
           SELECT service_team, CAST(date_trunc('month', utc(created_at)) AS DATE) AS month,
               count(*) AS tickets
           FROM tickets WHERE requester_id IN (SELECT id FROM who)
           GROUP BY ALL ORDER BY month, service_team""",
        params={"id": requester_id},
    ).pl()
