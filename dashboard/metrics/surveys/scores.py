"""The numbers of one survey group: counts and id sets, CSAT mean and top-2 share with
a Wilson interval, NPS with a bootstrap interval, CES, and a Welch difference of means."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from dashboard.metrics.stats import Z95, wilson_interval

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240607


def nps_bootstrap_interval(
    promoters: int,
    passives: int,
    detractors: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI for NPS, vectorised.

    Resampling n respondents with replacement from a three-category sample is
    exactly a multinomial draw of the three counts, so one `multinomial` call
    with `size=resamples` replaces the per-resample Python loop.
    """
    n = promoters + passives + detractors
    if n <= 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [promoters / n, passives / n, detractors / n], size=resamples)
    nps = 100.0 * (draws[:, 0] - draws[:, 2]) / n
    a = (1 - level) / 2
    lo, hi = np.quantile(nps, [a, 1 - a])
    return (float(lo), float(hi))


def welch_difference(
    a: np.ndarray, b: np.ndarray, level: float = 0.95
) -> tuple[float, float, float, float]:
    """mean(a) − mean(b) with a Welch CI and p-value: unequal variances are the norm
    (a small 'reopened' group is far more spread out than the rest)."""
    n1, n2 = len(a), len(b)
    m1, m2 = float(np.mean(a)), float(np.mean(b))
    v1 = float(np.var(a, ddof=1)) if n1 > 1 else 0.0
    v2 = float(np.var(b, ddof=1)) if n2 > 1 else 0.0
    diff = m1 - m2
    se2 = v1 / n1 + v2 / n2
    if se2 <= 0 or n1 < 2 or n2 < 2:
        return (diff, diff, diff, 0.0 if diff != 0 else 1.0)
    se = math.sqrt(se2)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return (diff, diff - t * se, diff + t * se, p)


def aggregate(rows: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Counts, id sets and score sums per group; the building block of every table."""
    keys = list(keys)
    if not keys:
        rows = rows.with_columns(pl.lit(1).alias("_all"))
        keys = ["_all"]
    m = pl.col("metric")
    r = pl.col("respondent")
    out = rows.group_by(keys).agg(
        pl.col("response_key").n_unique().alias("responses"),
        r.n_unique().alias("respondents"),
        r.unique().alias("respondent_ids"),
        pl.col("s_csat").count().alias("csat_responses"),
        r.filter(pl.col("s_csat").is_not_null()).n_unique().alias("csat_respondents"),
        r.filter(pl.col("s_csat").is_not_null()).unique().alias("csat_ids"),
        pl.col("s_csat").mean().alias("csat_mean"),
        pl.col("top2").sum().alias("_top2"),
        pl.col("s_nps").count().alias("nps_responses"),
        r.filter(pl.col("s_nps").is_not_null()).n_unique().alias("nps_respondents"),
        r.filter(pl.col("s_nps").is_not_null()).unique().alias("nps_ids"),
        (pl.col("s_nps") >= 9 - 1e-9).sum().alias("_promoters"),
        (pl.col("s_nps") <= 6 + 1e-9).sum().alias("_detractors"),
        pl.col("s_ces").count().alias("ces_responses"),
        r.filter(pl.col("s_ces").is_not_null()).n_unique().alias("ces_respondents"),
        r.filter(pl.col("s_ces").is_not_null()).unique().alias("ces_ids"),
        pl.col("s_ces").mean().alias("ces_mean"),
        m.len().alias("_rows"),
    )
    if keys == ["_all"]:
        out = out.drop("_all")
    return out


def with_scores(df: pl.DataFrame, key_cols: Sequence[str]) -> pl.DataFrame:
    """Shares, NPS and intervals from the aggregated counts."""
    top2, nc = df["_top2"].to_list(), df["csat_responses"].to_list()
    pro, det, nn = (
        df["_promoters"].to_list(),
        df["_detractors"].to_list(),
        df["nps_responses"].to_list(),
    )
    keys = df.select(key_cols).rows() if key_cols else [()] * df.height
    w_lo, w_hi, share, nps, b_lo, b_hi = [], [], [], [], [], []
    for i in range(df.height):
        if nc[i]:
            share.append(top2[i] / nc[i])
            lo, hi = (float(v) for v in wilson_interval(int(top2[i]), int(nc[i]), Z95))
        else:
            share.append(None)
            lo = hi = None
        w_lo.append(lo)
        w_hi.append(hi)
        if nn[i]:
            nps.append(100.0 * (pro[i] - det[i]) / nn[i])
            # seed per group key: a group's CI does not change when other groups are filtered
            seed = BOOTSTRAP_SEED ^ zlib.crc32(repr(keys[i]).encode())
            lo, hi = nps_bootstrap_interval(
                int(pro[i]), int(nn[i] - pro[i] - det[i]), int(det[i]), seed=seed
            )
        else:
            nps.append(None)
            lo = hi = None
        b_lo.append(lo)
        b_hi.append(hi)
    return df.with_columns(
        pl.Series("csat_top2_share", share, dtype=pl.Float64),
        pl.Series("csat_top2_ci_low", w_lo, dtype=pl.Float64),
        pl.Series("csat_top2_ci_high", w_hi, dtype=pl.Float64),
        pl.Series("nps", nps, dtype=pl.Float64),
        pl.Series("nps_ci_low", b_lo, dtype=pl.Float64),
        pl.Series("nps_ci_high", b_hi, dtype=pl.Float64),
    )
