"""BG/NBD: published CDNOW numbers, brute-force integrals and a planted-truth recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.special import roots_legendre

from dashboard.metrics import bgnbd

# Read by path from the shared real exports (never copied into the project).
CDNOW = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "real-exports"
    / "cdnow"
    / "cdnow_customers_summary.csv"
)


@pytest.fixture(scope="module")
def cdnow_fit() -> bgnbd.BGNBDParams:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW summary export not found at {CDNOW} (shared real-exports missing)")
    df = pl.read_csv(CDNOW)
    return bgnbd.fit(df["frequency"].to_numpy(), df["recency"].to_numpy(), df["T"].to_numpy())


def test_cdnow_mle_matches_fader_hardie_lee(cdnow_fit: bgnbd.BGNBDParams) -> None:
    # Published MLE (FHL 2005; asserted by lifetimes' tests).
    assert cdnow_fit.r == pytest.approx(0.243, abs=0.005)
    assert cdnow_fit.alpha == pytest.approx(4.414, abs=0.005)
    assert cdnow_fit.a == pytest.approx(0.793, abs=0.005)
    assert cdnow_fit.b == pytest.approx(2.426, abs=0.005)


def test_cdnow_conditional_expectation(cdnow_fit: bgnbd.BGNBDParams) -> None:
    value = bgnbd.conditional_expected_transactions(39, 2, 30.43, 38.86, cdnow_fit)
    assert float(value) == pytest.approx(1.226, abs=1e-3)


def test_cdnow_expected_transactions(cdnow_fit: bgnbd.BGNBDParams) -> None:
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(bgnbd.expected_transactions(t, cdnow_fit), published, atol=1e-3)


def _brute_force(
    x: int, t_x: float, T: float, params: bgnbd.BGNBDParams, nodes: int = 1500
) -> tuple[float, float]:
    """Likelihood and P(alive) by integrating the individual-level model over lambda and p.

    The individual model (FHL 2005, sec. 3): alive all along, or dropped out right
    after the x-th repeat ticket. Integrated numerically against the Gamma and
    Beta priors with Gauss-Legendre nodes in quantile space (E[g] = int_0^1
    g(F^-1(u)) du), independent of the closed forms under test.
    """
    u, w = roots_legendre(nodes)
    u, w = (u + 1.0) / 2.0, w / 2.0
    lam = stats.gamma(params.r, scale=1.0 / params.alpha).ppf(u)[:, None]
    p = stats.beta(params.a, params.b).ppf(u)[None, :]
    weight = w[:, None] * w[None, :]
    alive = (1 - p) ** x * lam**x * np.exp(-lam * T)
    dead = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0 * alive
    la, ld = float((weight * alive).sum()), float((weight * dead).sum())
    return la + ld, la / (la + ld)


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 20.0), (1, 5.0, 20.0), (4, 18.0, 30.0), (3, 4.0, 40.0)]
)
def test_likelihood_and_p_alive_match_numerical_integration(x: int, t_x: float, T: float) -> None:
    params = bgnbd.BGNBDParams(r=1.3, alpha=6.0, a=1.5, b=3.0)
    lik, pa = _brute_force(x, t_x, T, params)
    ll = bgnbd.log_likelihood(params.as_tuple(), x, t_x, T)
    assert float(ll) == pytest.approx(np.log(lik), abs=1e-6)
    assert float(bgnbd.p_alive(x, t_x, T, params)) == pytest.approx(pa, abs=1e-6)


def test_p_alive_is_one_without_repeats_and_falls_with_silence() -> None:
    params = bgnbd.BGNBDParams(r=0.5, alpha=5.0, a=0.8, b=2.5)
    assert bgnbd.p_alive(0, 0.0, 50.0, params) == 1.0
    silences = bgnbd.p_alive(np.full(4, 6), 20.0, np.array([20.0, 30.0, 60.0, 120.0]), params)
    assert np.all(np.diff(silences) < 0)
    # Last ticket today: only the chance of dropping out right after it remains.
    assert silences[0] == pytest.approx(1.0 / (1.0 + params.a / (params.b + 5.0)))


def test_expected_transactions_matches_simulation() -> None:
    """E[X(t)] against the mean of simulated repeat counts (planted parameters)."""
    params = bgnbd.BGNBDParams(r=0.8, alpha=10.0, a=0.7, b=2.0)
    rng = np.random.default_rng(7)
    x, _, _ = bgnbd.simulate(400_000, 52.0, params, rng)
    assert x.mean() == pytest.approx(float(bgnbd.expected_transactions(52.0, params)), rel=0.02)


def test_fit_recovers_planted_parameters() -> None:
    truth = bgnbd.BGNBDParams(r=0.6, alpha=12.0, a=0.9, b=3.5)
    rng = np.random.default_rng(2024)
    n = 30_000
    x, t_x, T = bgnbd.simulate(n, rng.uniform(26.0, 78.0, n), truth, rng)
    est = bgnbd.fit(x, t_x, T)
    assert est.r == pytest.approx(truth.r, rel=0.15)
    assert est.alpha == pytest.approx(truth.alpha, rel=0.2)
    assert est.a == pytest.approx(truth.a, rel=0.35)
    assert est.b == pytest.approx(truth.b, rel=0.35)
    # The fitted model must also explain the data: predicted vs simulated P(alive) share.
    p_est = bgnbd.p_alive(x, t_x, T, est).mean()
    p_true = bgnbd.p_alive(x, t_x, T, truth).mean()
    assert p_est == pytest.approx(p_true, abs=0.03)


@pytest.mark.parametrize("log_params", [(0.1, 2.0, -0.5, 0.7), (-1, 4, 1, 2), (1.5, -2, -3, 3)])
def test_analytic_gradient_matches_finite_differences(log_params: tuple[float, ...]) -> None:
    """The fit's gradient (`objective_and_gradient`) against central differences of the
    plain likelihood (`negative_log_likelihood`), on a random weighted population with
    one-time requesters (x = 0) and a penalty."""
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.integers(0, 25, n).astype(float)
    T = rng.uniform(1, 700, n)
    t_x = np.where(x > 0, rng.uniform(0, 1, n) * T, 0.0)
    w = rng.integers(1, 6, n).astype(float)
    lp = np.asarray(log_params, dtype=float)
    value, grad = bgnbd.objective_and_gradient(lp, x, t_x, T, w, 0.05)
    assert value == pytest.approx(bgnbd.negative_log_likelihood(lp, x, t_x, T, w, 0.05))
    h = 1e-5
    numeric = [
        (
            bgnbd.negative_log_likelihood(lp + h * e, x, t_x, T, w, 0.05)
            - bgnbd.negative_log_likelihood(lp - h * e, x, t_x, T, w, 0.05)
        )
        / (2 * h)
        for e in np.eye(4)
    ]
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-7)
