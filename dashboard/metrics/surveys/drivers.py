"""What goes with low CSAT: each ticket factor level against the rest (Welch), and the
yes/no factors with the others held fixed (OLS)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.surveys.answers import load_rows, select_groups
from dashboard.metrics.surveys.scores import welch_difference
from dashboard.metrics.surveys.summary import summary_frame

_FACTOR_TEXT = {
    "reopened": "Reopened tickets",
    "first_response_slow": "Tickets whose first response was slower than the team median",
    "resolution_slow": "Tickets resolved slower than the team median",
}


def _driver_label(factor: str, level: str, effect: float, lo: float, hi: float, n: int) -> str:
    if factor in _FACTOR_TEXT:
        who = _FACTOR_TEXT[factor]
    elif factor == "channel":
        who = f"Tickets via {level}"
    elif factor == "priority":
        who = f"{level.capitalize()}-priority tickets"
    else:
        who = f"Tickets in category '{level}'"
    way = "lower" if effect < 0 else "higher"
    text = (
        f"{who} score {abs(effect):.1f} points {way} than the rest "
        f"(95% CI {lo:+.1f} to {hi:+.1f}, n = {n})"
    )
    if lo <= 0 <= hi:
        text += "; the interval includes 0, so this may be noise"
    return text


def survey_drivers(
    con: duckdb.DuckDBPyConnection, config: Config, filters: Filters | None = None
) -> pl.DataFrame:
    """What goes with low CSAT: each ticket factor level vs the rest, Welch 95 % CI.

    CSAT responses are linked to their ticket by ticket_id. Factors: reopened,
    first response slower than the team's median, resolution slower than the
    team's median, channel, priority, category. Each level (binary factors: the
    'yes' level) is compared with all other linked responses whose ticket has
    that factor (a ticket whose export carries no reopen count is in neither
    'reopened' nor its rest: unknown, not "not reopened"); effect is the
    difference in mean CSAT on the 1–5 scale, ranked by |effect|. A level is
    reported only when both it and the rest have ≥ anonymity_min_group
    respondents, and nothing is reported when the filtered selection itself is
    not publishable (its overall mean could otherwise be rebuilt from the two
    means and counts). Responses are treated as independent; a person who
    answered often weighs more. For the yes/no factors `effect_adjusted` (with
    its CI) is the same difference with all other factors held fixed (OLS).
    """
    filters = filters or Filters()
    k = config.anonymity_min_group
    empty = pl.DataFrame(
        schema={
            "factor": pl.String,
            "level": pl.String,
            "effect": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "p_value": pl.Float64,
            "n": pl.Int64,
            "respondents": pl.Int64,
            "mean_level": pl.Float64,
            "mean_rest": pl.Float64,
            "n_rest": pl.Int64,
            "label": pl.String,
        }
    )
    rows = load_rows(con, filters)
    overall = summary_frame(rows, pl.DataFrame({"resolved_tickets": [0]}), (), filters, k)
    if overall.is_empty() or overall["suppressed"][0] or overall["csat_mean"][0] is None:
        return empty
    sel = select_groups(rows, filters.survey_selection()).filter(
        pl.col("s_csat").is_not_null() & pl.col("ticket_id").is_not_null()
    )
    tickets = con.sql("""
        SELECT ticket_id, reopen_count > 0 AS reopened,
            first_response_minutes > median(first_response_minutes)
                OVER (PARTITION BY service_team) AS first_response_slow,
            resolution_minutes > median(resolution_minutes)
                OVER (PARTITION BY service_team) AS resolution_slow,
            channel, priority, category
        FROM ticket_latest""").pl()
    linked = sel.join(tickets, on="ticket_id", how="inner")
    results = []
    for factor in (
        "reopened",
        "first_response_slow",
        "resolution_slow",
        "channel",
        "priority",
        "category",
    ):
        col = linked[factor]
        if col.dtype == pl.Boolean:
            f = linked.filter(col.is_not_null())
            levels: list[tuple[str, pl.Series]] = [("yes", f[factor])]
        else:
            f = linked.filter(col.is_not_null())
            levels = [(str(v), f[factor] == v) for v in f[factor].unique().sort().to_list()]
        for level, mask in levels:
            a, b = _published_months(f.filter(mask), k), _published_months(f.filter(~mask), k)
            ra, rb = a["respondent"].n_unique(), b["respondent"].n_unique()
            if ra < k or rb < k or a.height < 2 or b.height < 2:
                continue
            diff, lo, hi, p = welch_difference(a["s_csat"].to_numpy(), b["s_csat"].to_numpy())
            results.append(
                {
                    "factor": factor,
                    "level": level,
                    "effect": diff,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": p,
                    "n": a.height,
                    "respondents": ra,
                    "mean_level": float(a["s_csat"].mean()),
                    "mean_rest": float(b["s_csat"].mean()),
                    "n_rest": b.height,
                    "label": _driver_label(factor, level, diff, lo, hi, a.height),
                }
            )
    if not results:
        return empty
    adjusted = _adjusted_effects(linked)
    for r in results:
        coef, lo, hi = adjusted.get(r["factor"], (None, None, None))
        r.update(effect_adjusted=coef, adjusted_ci_low=lo, adjusted_ci_high=hi)
        if coef is not None:
            r["label"] += (
                f"; {abs(coef):.1f} points {'lower' if coef < 0 else 'higher'} "
                "with the other factors held fixed"
            )
    out = pl.DataFrame(
        results,
        schema={
            **empty.schema,
            "effect_adjusted": pl.Float64,
            "adjusted_ci_low": pl.Float64,
            "adjusted_ci_high": pl.Float64,
        },
    )
    return out.sort(pl.col("effect").abs(), descending=True)


def _published_months(part: pl.DataFrame, k: int) -> pl.DataFrame:
    """Rule 6 for a driver level (or its rest): only the months in which it has at
    least k respondents count, so ranges a month apart differ by k people or more."""
    n = pl.col("respondent").n_unique().over("month")
    return part.filter(n >= k)


_BINARY_FACTORS = ("reopened", "first_response_slow", "resolution_slow")
_CATEGORICAL_FACTORS = ("channel", "priority", "category")


def _adjusted_effects(linked: pl.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Effect of each yes/no factor with the others held fixed (OLS, HC1 95 % CI).

    Why: the level-vs-rest differences are marginal, so a factor that merely
    travels with reopening (slow first responses are reopened more often in some
    teams) inherits part of its effect. One regression of CSAT on all factors
    (categoricals as dummies against their most common level) separates them.
    Heteroskedasticity-robust errors because scores are bounded and skewed.
    """
    cols = [*_BINARY_FACTORS, *_CATEGORICAL_FACTORS]
    d = linked.drop_nulls(cols)
    if d.height < 10:
        return {}
    parts = [np.ones(d.height)]
    names = ["(intercept)"]
    for f in _BINARY_FACTORS:
        parts.append(d[f].cast(pl.Float64).to_numpy())
        names.append(f)
    for f in _CATEGORICAL_FACTORS:
        counts = d[f].value_counts(sort=True)
        for level in counts[f].to_list()[1:]:
            parts.append((d[f] == level).cast(pl.Float64).to_numpy())
            names.append(f"{f}={level}")
    x = np.column_stack(parts)
    keep = x.std(axis=0) > 0
    keep[0] = True
    x, names = x[:, keep], [n for n, k in zip(names, keep, strict=True) if k]
    y = d["s_csat"].to_numpy()
    n, p = x.shape
    if n - p < 5 or np.linalg.matrix_rank(x) < p:
        return {}
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    cov = xtx_inv @ (x.T * resid**2) @ x @ xtx_inv * n / (n - p)
    t = float(stats.t.ppf(0.975, n - p))
    out = {}
    for i, name in enumerate(names):
        if name in _BINARY_FACTORS:
            se = math.sqrt(cov[i, i])
            out[name] = (float(beta[i]), float(beta[i] - t * se), float(beta[i] + t * se))
    return out
