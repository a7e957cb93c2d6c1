"""BG/NBD ("beta-geometric / negative binomial") model of repeat tickets.

Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
Science 24(2):275-284. While "alive" a requester raises tickets as a Poisson
process with rate lambda ~ Gamma(r, alpha); after every repeat ticket they "die"
(stop coming back) with probability p ~ Beta(a, b).

Why our own ~100 lines instead of `lifetimes`: that library is in maintenance
mode and its successors pull in PyMC; the closed forms are short and we need a
vectorised, dependency-light version that scores a million requesters in well
under a second. Formulas follow the paper, Hardie's note 021 for P(alive), and
the conventions of `lifetimes.BetaGeoFitter` (P(alive) = 1 when x == 0, fit on
log-parameters).

Inputs per requester (any time unit, used consistently):
    x   - repeat transactions (tickets after the first),
    t_x - recency: time from first to last ticket,
    T   - age: time from first ticket to the end of the observation window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

FloatArray = NDArray[np.float64]
LOG_BOUND = 10.0  # |log parameter| limit of the MLE search, see fit()


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted population parameters (see module docstring for their meaning)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


def _arrays(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    return np.broadcast_arrays(xa, ta, Ta)  # type: ignore[return-value]


def log_likelihood(
    params: tuple[float, float, float, float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-requester log-likelihood (FHL 2005, eq. 6), computed in log space.

    The two-term sum ``A3 + [x > 0] A4`` is combined with log-sum-exp because for
    heavy requesters both terms underflow to 0 in linear space.
    """
    r, alpha, a, b = params
    xa, ta, Ta = _arrays(x, t_x, T)
    a1 = gammaln(r + xa) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + xa) - betaln(a, b)
    a3 = -(r + xa) * np.log(alpha + Ta)
    has_repeat = xa > 0
    # b + x - 1 is 0 when x == 0 and b < 1; that term is masked out anyway.
    # errstate: the optimiser may probe parameters that underflow to 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            has_repeat,
            np.log(a)
            - np.log(np.where(has_repeat, b + xa - 1.0, 1.0))
            - (r + xa) * np.log(alpha + ta),
            -np.inf,
        )
        return a1 + a2 + np.logaddexp(a3, a4)


def negative_log_likelihood(
    log_params: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> float:
    """Mean negative log-likelihood at ``exp(log_params)``; the optimiser's objective.

    Log-parameters keep r, alpha, a, b positive without bounds; the mean (not the
    sum) keeps the gradient scale independent of the sample size. `weights`
    counts identical (x, t_x, T) rows once; `penalizer` is lifetimes' optional L2
    term, useful when a small population makes a or b run off to infinity.
    """
    lp = np.asarray(log_params, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        params = np.exp(lp)
        ll = log_likelihood((params[0], params[1], params[2], params[3]), x, t_x, T)
    if weights is None:
        total = float(np.mean(ll))
    else:
        w = np.asarray(weights, dtype=np.float64)
        total = float(np.sum(w * ll) / np.sum(w))
    if not np.isfinite(total):
        return 1e300  # keep the line search away from degenerate corners
    return -total + penalizer * float(np.sum(params**2))


def objective_and_gradient(
    log_params: ArrayLike,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    weights: FloatArray,
    penalizer: float = 0.0,
) -> tuple[float, FloatArray]:
    """`negative_log_likelihood` and its gradient in the log-parameters, in one pass.

    Why: with a numerical gradient L-BFGS-B evaluates the likelihood five times per
    step (four parameters), and the likelihood over every distinct requester
    history was most of an ingest's engagement refresh. The derivatives follow
    from eq. 6 term by term (digamma for the gamma/beta functions); the
    log-sum-exp pair A3, A4 gets the softmax weights of its two terms."""
    p = np.exp(np.asarray(log_params, dtype=np.float64))
    r, alpha, a, b = (float(v) for v in p)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        has_repeat = x > 0
        log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)
        b_x1 = np.where(has_repeat, b + x - 1.0, 1.0)
        a3 = -(r + x) * log_at
        a4 = np.where(has_repeat, np.log(a) - np.log(b_x1) - (r + x) * log_atx, -np.inf)
        mix = np.logaddexp(a3, a4)
        ll = (
            gammaln(r + x) - gammaln(r) + r * np.log(alpha)
            + betaln(a, b + x) - betaln(a, b) + mix
        )  # fmt: skip
        w3, w4 = np.exp(a3 - mix), np.exp(a4 - mix)
        psi_abx, psi_ab = digamma(a + b + x), digamma(a + b)
        d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_at - w4 * log_atx
        d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
        d_a = psi_ab - psi_abx + w4 / a
        d_b = digamma(b + x) - digamma(b) + psi_ab - psi_abx - w4 / b_x1
        total_w = float(np.sum(weights))
        total = float(np.sum(weights * ll) / total_w)
        grad = np.array([float(np.sum(weights * d) / total_w) for d in (d_r, d_alpha, d_a, d_b)])
    if not np.isfinite(total) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros(4)  # as negative_log_likelihood: keep the search away
    # d/dlog(p) = p * d/dp; the L2 term p^2 has derivative 2 p^2 in log(p)
    return -total + penalizer * float(np.sum(p**2)), -grad * p + 2.0 * penalizer * p**2


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    initial: tuple[float, float, float, float] | None = None,
) -> BGNBDParams:
    """Maximum-likelihood estimate of (r, alpha, a, b).

    Identical (x, t_x, T) rows are collapsed to weights first: with ticket data
    measured in whole days many requesters share a triple, and the likelihood is
    the expensive part. Nelder-Mead is tried after L-BFGS-B when the latter does
    not converge, because the surface is flat along a/b for weak populations.
    """
    xa, ta, Ta = _arrays(x, t_x, T)
    xa, ta, Ta = xa.ravel(), ta.ravel(), Ta.ravel()
    if xa.size == 0:
        raise ValueError("cannot fit BG/NBD on an empty population")
    if weights is None:
        stacked = np.column_stack([xa, ta, Ta])
        uniq, counts = np.unique(stacked, axis=0, return_counts=True)
        xa, ta, Ta = uniq[:, 0], uniq[:, 1], uniq[:, 2]
        w = counts.astype(np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
    # A scale-aware start: alpha ~ mean age / mean rate keeps the first steps sane
    # whatever the time unit (days or weeks).
    if initial is None:
        scale = max(float(np.average(Ta, weights=w)), 1e-6)
        initial = (1.0, scale / 10.0, 1.0, 1.0)
    start = np.log(np.asarray(initial, dtype=np.float64))
    args = (xa, ta, Ta, w, penalizer)
    # Bounds on the log-parameters (e^-10 .. e^10): populations with almost no
    # dropout push a and b towards infinity together, and past ~1e15 betaln's
    # cancellation makes the likelihood numerically *better* than the truth,
    # so an unbounded optimiser runs off to a=1e139. e^10 ~ 22,000 already
    # means "dropout probability essentially fixed at a / (a + b)".
    bounds = [(-LOG_BOUND, LOG_BOUND)] * 4
    start = np.clip(start, -LOG_BOUND + 1, LOG_BOUND - 1)
    res = minimize(
        objective_and_gradient, start, args=args, method="L-BFGS-B", jac=True, bounds=bounds
    )
    if not res.success:
        res2 = minimize(
            negative_log_likelihood,
            res.x,
            args=args,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-10},
        )
        if res2.fun <= res.fun:
            res = res2
    r, alpha, a, b = (float(v) for v in np.exp(res.x))
    return BGNBDParams(r, alpha, a, b)


def p_alive(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, params: BGNBDParams) -> FloatArray:
    """P(still alive at T | x, t_x, T) (Hardie, note 021).

    P = 1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)),
    evaluated as expit(-log odds) so it neither overflows for long silences nor
    divides by zero when x == 0 (where the model says "alive": it never lets a
    requester die before a repeat ticket, a known BG/NBD property).
    """
    r, alpha, a, b = params.as_tuple()
    xa, ta, Ta = _arrays(x, t_x, T)
    has_repeat = xa > 0
    log_div = (
        np.log(a)
        - np.log(np.where(has_repeat, b + xa - 1.0, 1.0))
        + (r + xa) * (np.log(alpha + Ta) - np.log(alpha + ta))
    )
    return np.where(has_repeat, expit(-log_div), 1.0)


def expected_transactions(t: ArrayLike, params: BGNBDParams) -> FloatArray:
    """E[X(t)]: expected repeat transactions of a new requester in (0, t] (FHL eq. 7)."""
    r, alpha, a, b = params.as_tuple()
    ta = np.asarray(t, dtype=np.float64)
    hyp = hyp2f1(r, b, a + b - 1.0, ta / (alpha + ta))
    return (a + b - 1.0) / (a - 1.0) * (1.0 - hyp * (alpha / (alpha + ta)) ** r)


def conditional_expected_transactions(
    t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, params: BGNBDParams
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected tickets in the next t time units (FHL eq. 10).

    When the Gauss hypergeometric function overflows we use Euler's
    transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z), as lifetimes does.
    """
    r, alpha, a, b = params.as_tuple()
    xa, ta, Ta = _arrays(x, t_x, T)
    tt = np.asarray(t, dtype=np.float64)
    ha, hb, hc = r + xa, b + xa, a + b + xa - 1.0
    z = tt / (alpha + Ta + tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_hyp = np.log(hyp2f1(ha, hb, hc, z))
        ln_alt = np.log(hyp2f1(hc - ha, hc - hb, hc, z)) + (hc - ha - hb) * np.log1p(-z)
    ln_hyp = np.where(np.isfinite(ln_hyp), ln_hyp, ln_alt)
    first = (a + b + xa - 1.0) / (a - 1.0)
    second = 1.0 - np.exp(ln_hyp + (r + xa) * np.log((alpha + Ta) / (alpha + tt + Ta)))
    return first * second * p_alive(xa, ta, Ta, params)


def simulate(
    n: int, T: ArrayLike, params: BGNBDParams, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (x, t_x, T) for `n` requesters from the BG/NBD generative process.

    Vectorised without simulating event times one by one: the number of repeat
    tickets before dropout is J ~ Geometric(p) (dropout after the J-th repeat
    ticket), the repeat tickets a never-dying requester would raise in (0, T] are
    N ~ Poisson(lambda T), so x = min(J, N); given N Poisson events in (0, T] the
    x-th of them is the x-th order statistic of N uniforms, T * Beta(x, N - x + 1).
    Used by tests (planted truth) and benchmarks.
    """
    Ta = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    J = rng.geometric(np.clip(p, 1e-12, 1.0))
    N = rng.poisson(lam * Ta)
    x = np.minimum(J, N)
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = Ta[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)
    return x.astype(np.float64), t_x, Ta
