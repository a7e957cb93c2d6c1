"""Small statistics shared by the metrics: multiple-testing control and binomial intervals.

One implementation each, so the engagement signals, the alignment table and the
survey summaries agree on what "significant" and "95 % interval" mean.
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054  # the exact two-sided 95 % normal quantile


def benjamini_hochberg(p: np.ndarray, *, dependent: bool = False) -> np.ndarray:
    """BH adjusted p-values (q-values) over every finite entry of `p`, any shape.

    q_(i) = min_{j ≥ i} min(1, m·c·p_(j)/j) with c = 1 (BH, valid for independent or
    positively dependent tests) or c = Σ 1/k (Benjamini–Yekutieli, any dependence,
    when `dependent`). NaN entries are not tests: they stay NaN and do not count in m.
    """
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    idx = np.flatnonzero(np.isfinite(flat))
    m = idx.size
    if m == 0:
        return np.full(p.shape, np.nan)
    order = idx[np.argsort(flat[idx], kind="mergesort")]
    ranked = flat[order]
    c = float(np.sum(1.0 / np.arange(1, m + 1))) if dependent else 1.0
    adj = ranked * m * c / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    qflat = np.full(flat.shape, np.nan)
    qflat[order] = np.minimum(adj, 1.0)
    return qflat.reshape(p.shape)


def wilson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (vectorised; scalars work too).

    Unlike p ± z·se it stays inside [0, 1] and behaves at 0 % and 100 % — exactly
    where small teams with "everyone happy" land. n = 0 gives NaN.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
