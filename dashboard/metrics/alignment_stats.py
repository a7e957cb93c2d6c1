"""Lagged correlation between internal and external time series, done honestly.

Why this module exists: two trending or autocorrelated series (ticket volume and
customer NPS both drifting upward for two years) correlate strongly even when
they have nothing to do with each other (Yule 1926's "nonsense correlations",
Granger & Newbold 1974). A naive Spearman on the levels with the textbook
p-value flags most such pairs. Every step below removes one source of that
illusion:

1. **Transform: first differences** (`TRANSFORM = "difference"`). We correlate
   period-to-period *changes*. Differencing removes a linear trend (it becomes a
   constant, which the rank correlation ignores) *and* a stochastic trend (a
   random walk becomes white noise). Linear detrending (also offered, as
   `"detrend"`) removes only the deterministic trend: detrended random walks
   still wander and still give spurious links, and business series behave far
   more like random walks than like straight lines plus noise. The cost of
   differencing a series that was already stationary (a negative MA(1) blip) is
   absorbed by steps 2 and 4.
2. **Pre-whitening.** An AR(p) model (p ≤ 3, chosen by AIC, fitted by least
   squares) is fitted to the transformed internal series x, and *both* x and y
   are filtered with it (Box–Jenkins; PSU STAT 510 lesson 9.1). When x is white,
   the sample cross-correlation of x with any y that is unrelated has variance
   ≈ 1/n regardless of y's own autocorrelation, so the usual null distribution
   applies again.
3. **Spearman** on the lagged pairs (x_t, y_{t+k}): robust to the skewed,
   outlier-prone medians of resolution time.
4. **Effective sample size.** Whatever autocorrelation survives pre-whitening
   (low AR order cap, gaps) is accounted for with Bartlett's (1935) formula as
   popularised by Bretherton et al. (1999):
   n_eff = n / (1 + 2 Σ_{j=1}^{K} (1 − j/n) ρ_x(j) ρ_y(j)), computed on the ranks,
   capped at n (never claim more information than there are pairs).
5. **Analytic p-value and CI** from Fisher's z with the Spearman variance
   factor 1.06 (Fieller, Hartley & Pearson 1957): se = sqrt(1.06 / (n_eff − 3)).
   Analytic rather than permutation because the whole table is ~1,500–16,500
   tests: BH needs p-values down to ~1e-5 to resolve them, which a permutation
   test would need ~10^5–10^6 resamples per test to deliver, and an i.i.d.
   permutation is invalid for serially dependent data anyway (Romano & Tirlea
   2020). The same z gives the CI, so "CI excludes 0" ⇔ "p < 0.05".
6. **Benjamini–Hochberg** over the whole table (the contract), with
   Benjamini–Yekutieli available for arbitrary dependence.

Everything is vectorised over rows: the inputs are (pairs × periods) arrays and
each lag is a handful of array operations, so thousands of pairs take well under
a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import ndtr
from scipy.stats import rankdata

from dashboard.metrics.stats import benjamini_hochberg  # noqa: F401 (part of the API)

Transform = Literal["difference", "detrend", "none"]

#: The transform the product uses; the UI shows `TRANSFORM_LABELS[TRANSFORM]`.
TRANSFORM: Transform = "difference"
TRANSFORM_LABELS: dict[str, str] = {
    "difference": "period-to-period changes (first differences)",
    "detrend": "deviations from a straight-line trend (linear detrending)",
    "none": "raw levels (no transform: trends will produce spurious links)",
}
#: Short machine-readable description of the whole pipeline, for a `method` column.
METHOD = "spearman; first differences; AR(p≤3, AIC) pre-whitening; Fisher-z with Bartlett n_eff"
MAX_AR_ORDER = 3
#: Below this many pairs no correlation is computed at all (Fisher z needs n_eff > 3).
MIN_PAIRS = 5
#: Most autocorrelation lags used in the Bartlett sum; also limited to n/4 per row.
MAX_ACF_LAG = 10
#: Spearman's Fisher-z variance inflation (Fieller, Hartley & Pearson 1957).
SPEARMAN_VAR_FACTOR = 1.06
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class LaggedCorrelations:
    """Per-row, per-lag results; arrays are (rows, lags), NaN where not computed."""

    lags: np.ndarray  # (L,) 0..max_lag
    n_pairs: np.ndarray  # (P, L) int: pairs the correlation rests on
    n_effective: np.ndarray  # (P, L) float: Bartlett-corrected sample size
    correlation: np.ndarray  # (P, L) Spearman rho
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    ar_order: np.ndarray  # (P,) AR order used to pre-whiten each row
    transform: str


def _as_2d(a: np.ndarray | list[float]) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    return arr[None, :] if arr.ndim == 1 else arr


def transform_series(a: np.ndarray, how: Transform = TRANSFORM) -> np.ndarray:
    """Apply the stationarising transform along the last axis (NaN-aware).

    `difference` shortens each row by one period; `detrend` fits a least-squares
    line through the finite points of each row and returns the residuals.
    """
    a = _as_2d(a)
    if how == "difference":
        return np.diff(a, axis=1)
    if how == "none":
        return a.copy()
    if how == "detrend":
        t = np.arange(a.shape[1], dtype=float)[None, :]
        ok = np.isfinite(a)
        n = ok.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            tm = np.where(ok, t, 0).sum(axis=1, keepdims=True) / n
            am = np.where(ok, a, 0).sum(axis=1, keepdims=True) / n
            tc = np.where(ok, t - tm, 0.0)
            slope = (tc * np.where(ok, a - am, 0.0)).sum(axis=1, keepdims=True) / (tc**2).sum(
                axis=1, keepdims=True
            )
        slope = np.nan_to_num(slope)
        return a - am - slope * (t - tm)
    raise ValueError(f"unknown transform {how!r}; use one of {sorted(TRANSFORM_LABELS)}")


def _demean(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a)
    n = ok.sum(axis=1, keepdims=True)
    mean = np.where(ok, a, 0.0).sum(axis=1, keepdims=True) / np.maximum(n, 1)
    return a - mean


def fit_ar(x: np.ndarray, max_order: int = MAX_AR_ORDER) -> tuple[np.ndarray, np.ndarray]:
    """Fit AR(p), p = 0..max_order, to each row by least squares; keep the AIC-best.

    All orders are compared on the same sample (periods with `max_order` finite
    predecessors) so their AICs are comparable. Rows with too little data for a
    stable fit (< 10 + 3·max_order usable periods) get p = 0: pre-whitening with
    a noisy filter would add error rather than remove autocorrelation.

    Returns `(phi, order)`: phi is (rows, max_order), zero beyond each row's order.
    """
    x = _demean(_as_2d(x))
    rows, t_len = x.shape
    phi_best = np.zeros((rows, max_order))
    order = np.zeros(rows, dtype=int)
    if max_order == 0 or t_len <= max_order + 1:
        return phi_best, order
    # stack[k] = x shifted by k periods, aligned on the common sample t >= max_order
    stack = np.stack([x[:, max_order - k : t_len - k] for k in range(max_order + 1)])
    valid = np.isfinite(stack).all(axis=0)  # (rows, T')
    n_fit = valid.sum(axis=1)
    z = np.where(valid[None], stack, 0.0)
    target = z[0]
    rss0 = (target**2).sum(axis=1)
    tiny = 1e-300
    best_aic = n_fit * np.log(np.maximum(rss0 / np.maximum(n_fit, 1), tiny))
    enough = n_fit >= 10 + 3 * max_order
    for p in range(1, max_order + 1):
        design = np.moveaxis(z[1 : p + 1], 0, 1)  # (rows, p, T')
        gram = np.einsum("rkt,rjt->rkj", design, design)
        rhs = np.einsum("rkt,rt->rk", design, target)
        # a tiny ridge keeps constant or all-gap rows solvable; it does not move real fits
        ridge = 1e-9 * (np.trace(gram, axis1=1, axis2=2)[:, None, None] / p + 1e-12)
        coef = np.linalg.solve(gram + ridge * np.eye(p)[None], rhs[..., None])[..., 0]
        resid = target - np.einsum("rk,rkt->rt", coef, design)
        rss = (resid**2).sum(axis=1)
        aic = n_fit * np.log(np.maximum(rss / np.maximum(n_fit, 1), tiny)) + 2 * p
        better = enough & (aic < best_aic - 1e-9)
        best_aic = np.where(better, aic, best_aic)
        order = np.where(better, p, order)
        phi_best[better] = 0.0
        phi_best[better, :p] = coef[better]
    return phi_best, order


def ar_filter(a: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """e_t = a_t − Σ_k phi_k a_{t−k} per row (after demeaning); NaN where a needed value is missing.

    Rows whose order is lower than phi's width keep their early periods: a zero
    coefficient never turns a period into NaN.
    """
    a = _demean(_as_2d(a))
    out = a.copy()
    bad = ~np.isfinite(a)
    for k in range(1, phi.shape[1] + 1):
        shifted = np.full_like(a, np.nan)
        shifted[:, k:] = a[:, :-k]
        coef = phi[:, k - 1 : k]
        used = coef != 0
        out -= coef * np.nan_to_num(shifted)
        bad |= used & ~np.isfinite(shifted)
    out[bad] = np.nan
    return out


def _centred_ranks(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Average ranks of the valid entries of each row, centred, with 0 elsewhere."""
    masked = np.where(valid, a, np.nan)
    ranks = np.zeros_like(masked)
    has_any = valid.any(axis=1)
    if has_any.any():
        ranks[has_any] = rankdata(masked[has_any], axis=1, nan_policy="omit")
    n = valid.sum(axis=1, keepdims=True)
    ranks = np.where(valid, ranks - (n + 1) / 2.0, 0.0)
    return ranks


def _acf(c: np.ndarray, n: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations 1..max_lag of centred rows (zeros mark gaps); 0 beyond n/4."""
    denom = (c**2).sum(axis=1)
    out = np.zeros((c.shape[0], max_lag))
    t_len = c.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(1, min(max_lag, t_len - 1) + 1):
            out[:, j - 1] = (c[:, j:] * c[:, :-j]).sum(axis=1) / denom
    usable = np.arange(1, max_lag + 1)[None, :] <= (n[:, None] // 4)
    return np.where(usable & np.isfinite(out), out, 0.0)


def effective_n(rank_x: np.ndarray, rank_y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Bartlett/Bretherton effective sample size from the two series' autocorrelations.

    Capped at n (a negative sum would otherwise inflate the evidence) and floored
    at 4 so Fisher's z stays defined; the floor only matters for already hopeless rows.
    """
    rx = _acf(rank_x, n, MAX_ACF_LAG)
    ry = _acf(rank_y, n, MAX_ACF_LAG)
    j = np.arange(1, MAX_ACF_LAG + 1)[None, :]
    weight = np.clip(1.0 - j / np.maximum(n[:, None], 1), 0.0, None)
    inflation = 1.0 + 2.0 * (weight * rx * ry).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = n / np.maximum(inflation, 1e-6)
    return np.clip(np.nan_to_num(n_eff, nan=0.0), np.minimum(n, 4), n).astype(float)


def fisher_inference(
    r: np.ndarray, n_eff: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided p-value and CI for Spearman's rho via Fisher's z (variance factor 1.06).

    Returns `(p_value, ci_low, ci_high)`; NaN wherever r is NaN or n_eff ≤ 3.
    """
    from scipy.stats import norm

    zcrit = Z_95 if level == 0.95 else float(norm.ppf(0.5 + level / 2))
    r = np.asarray(r, dtype=float)
    n_eff = np.asarray(n_eff, dtype=float)
    ok = np.isfinite(r) & (n_eff > 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))
        se = np.sqrt(SPEARMAN_VAR_FACTOR / (n_eff - 3))
        p = 2.0 * ndtr(-np.abs(z) / se)
        lo = np.tanh(z - zcrit * se)
        hi = np.tanh(z + zcrit * se)
    nan = np.nan
    return np.where(ok, p, nan), np.where(ok, lo, nan), np.where(ok, hi, nan)


def lagged_correlations(
    x: np.ndarray,
    y: np.ndarray,
    max_lag: int = 4,
    *,
    transform: Transform = TRANSFORM,
    max_ar_order: int = MAX_AR_ORDER,
    prewhiten: bool = True,
    min_pairs: int = MIN_PAIRS,
) -> LaggedCorrelations:
    """Correlate each row of x (internal, leading) with the same row of y at lags 0..max_lag.

    x and y are (rows, periods) arrays on the same period grid, NaN for missing
    periods (1-D arrays are one row). At lag k the pairs are (x_t, y_{t+k}):
    a negative rho at lag 2 means "when x rises, y is lower two periods later".
    Rows × lags with fewer than `min_pairs` usable pairs, or without variation,
    stay NaN: "not enough data" must never look like "no link" (0).
    """
    x = _as_2d(x)
    y = _as_2d(y)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if max_lag < 0:
        raise ValueError("max_lag must be >= 0")
    tx = transform_series(x, transform)
    ty = transform_series(y, transform)
    if prewhiten and max_ar_order > 0:
        phi, order = fit_ar(tx, max_ar_order)
    else:
        phi, order = np.zeros((tx.shape[0], max(max_ar_order, 1))), np.zeros(tx.shape[0], int)
    ex = ar_filter(tx, phi)
    ey = ar_filter(ty, phi)

    rows, t_len = ex.shape
    lags = np.arange(max_lag + 1)
    shape = (rows, lags.size)
    n_pairs = np.zeros(shape, dtype=int)
    n_eff = np.full(shape, np.nan)
    rho = np.full(shape, np.nan)
    for li, k in enumerate(lags):
        if k >= t_len:
            continue
        a = ex[:, : t_len - k]
        b = ey[:, k:]
        valid = np.isfinite(a) & np.isfinite(b)
        n = valid.sum(axis=1)
        ra = _centred_ranks(a, valid)
        rb = _centred_ranks(b, valid)
        sab = (ra * rb).sum(axis=1)
        saa = (ra**2).sum(axis=1)
        sbb = (rb**2).sum(axis=1)
        varies = (saa > 1e-12) & (sbb > 1e-12)
        ok = (n >= min_pairs) & varies
        with np.errstate(invalid="ignore", divide="ignore"):
            r = sab / np.sqrt(saa * sbb)
        n_pairs[:, li] = n
        rho[:, li] = np.where(ok, np.clip(r, -1.0, 1.0), np.nan)
        n_eff[:, li] = np.where(ok, effective_n(ra, rb, n), np.nan)
    p, lo, hi = fisher_inference(rho, n_eff)
    return LaggedCorrelations(lags, n_pairs, n_eff, rho, lo, hi, p, order, transform)
