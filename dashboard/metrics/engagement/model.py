"""The repeat-avoidance model: one status per (requester, service team), from its
own rhythm (cadence) and a population BG/NBD fit (P(alive))."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from dashboard.config import EngagementSettings
from dashboard.metrics import bgnbd
from dashboard.metrics.engagement.reasons import add_reasons, still_files_elsewhere
from dashboard.metrics.engagement.segments import per_requester
from dashboard.metrics.engagement.terms import ENGAGEMENT_SCHEMA, as_utc

# Defaults of the knobs that are not (yet) in EngagementSettings; keyword
# arguments of compute_engagement so callers and tests can change them.
OCCASIONAL_GAP_DAYS = 45.0  # typical gap at or above this => naturally occasional
NEW_WINDOW_DAYS = 180.0  # fewer than min_tickets and first ticket this recent => "new"
MIN_GAP_DAYS = 1.0  # floor for the typical gap, so same-day bursts do not make it ~0
FIT_SAMPLE = 30_000  # BG/NBD is fitted on at most this many (requester, team) rows
MIN_FIT_ROWS = 30  # below this the population is too small for a BG/NBD fit

_DAY_US = 86_400_000_000.0


def to_utc(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Timestamps as UTC-aware Datetime(us): DuckDB hands TIMESTAMPTZ in the session zone."""
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Datetime):
        return expr.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


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


def _with_as_of(t: pl.DataFrame, as_of: datetime | None) -> pl.DataFrame:
    """Each ticket's as-of as column `_as_of` (UTC): `as_of` when given; else the
    ticket's own `as_of` column (its source's, from ticket_times); else the last
    ticket's created_at (frames built without a warehouse)."""
    moment = pl.Datetime("us", "UTC")
    fallback = pl.lit(t.select(pl.col("created_at").max()).item(), dtype=moment)
    if as_of is not None:
        value = pl.lit(as_utc(as_of), dtype=moment)
    elif "as_of" in t.columns:
        value = to_utc(pl.col("as_of"), t.schema["as_of"]).fill_null(fallback)
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
    t = t.with_columns(to_utc(pl.col("created_at"), t.schema["created_at"]).alias("created_at"))
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

    # per-ticket text may arrive categorical (see stored.model_inputs); per group it is text
    g = per_requester(t).with_columns(pl.col(pl.Categorical).cast(pl.String))
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
    g = still_files_elsewhere(add_reasons(g)).sort("_gid")
    return g.select(pl.col(c).cast(t) for c, t in ENGAGEMENT_SCHEMA.items())


def _empty_engagement() -> pl.DataFrame:
    return pl.DataFrame(schema=ENGAGEMENT_SCHEMA)
