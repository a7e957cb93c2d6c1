"""The planted requester population that the engagement accuracy benchmark measures and
a regression test in tests/test_engagement.py fits: one generator, so the test checks the
very mixture the benchmark reports on.

Planted population (per seed), observed up to as_of:

* steady regulars - gamma-distributed gaps (shape 2, i.e. fairly noisy) around
  a personal mean of 3-40 days (log-normal, median 12), ticketing right up to
  as_of; a quarter of them have one long break (6x their gap: leave, project)
  in the first 80 % of their history, the case the median gap must be robust to;
* occasional requesters - noisier gaps (shape 1.5) around 60-180 days, also
  still active at as_of;
* quitters - the regulars' rhythm, then a bad last ticket (5-20 days to
  resolve, SLA breached 70 %, reopened 40 %) and silence since. The silence
  is 4-12 of their own mean gaps: long enough that someone reading the
  history would say "they stopped", which is what the model is asked to see.
  (A quitter who left two gaps ago is indistinguishable from a regular and
  would only measure luck.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

TEAMS = np.array(["IT Service Desk", "HR Services", "Finance Ops", "Facilities"])
DEPARTMENTS = np.array([f"Dept {i:02d}" for i in range(12)])
KINDS = np.array(["regular", "occasional", "quitter"])
AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Population:
    tickets: pl.DataFrame
    truth: pl.DataFrame  # requester_id, service_team, kind


def generate(
    n: int,
    seed: int,
    window_days: float = 730.0,
    shares: tuple[float, float, float] = (0.6, 0.2, 0.2),
    regular_gap_median: float = 12.0,
    occasional_gap: tuple[float, float] = (60.0, 180.0),
) -> Population:
    """Planted requesters and their tickets, fully vectorised (no loop per requester)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=np.asarray(shares))
    regular_like = kind != 1
    gap = np.where(
        regular_like,
        np.clip(rng.lognormal(np.log(regular_gap_median), 0.6, n), 3.0, 40.0),
        rng.uniform(*occasional_gap, n),
    )
    shape = np.where(regular_like, 2.0, 1.5)
    # End of each requester's activity: as_of, or the quit time for quitters.
    silence = np.minimum(
        np.where(kind == 2, rng.uniform(4.0, 12.0, n) * gap, 0.0), 0.7 * window_days
    )
    end = window_days - silence
    # Start early enough for a history of >= ~6 gaps before the end.
    latest_start = np.maximum(end - 6.0 * gap, 0.0)
    start = rng.uniform(0.0, 1.0, n) * np.minimum(latest_start, 0.6 * window_days)
    span = end - start
    mean_count = span / gap
    m = np.ceil(mean_count + 4.0 * np.sqrt(mean_count / shape) + 6.0).astype(np.int64)
    owner = np.repeat(np.arange(n), m)
    offsets = np.concatenate([[0], np.cumsum(m)[:-1]])
    gaps = rng.gamma(np.repeat(shape, m), np.repeat(gap / shape, m))
    first = offsets  # first "gap" is the start itself
    gaps[first] = 0.0
    # One long break for a quarter of the regulars (the robustness case).
    brk = (kind == 0) & (rng.random(n) < 0.25)
    # Within the first 80 % of the history: a break that is still going on at
    # as_of is not "in the history" and would look exactly like quitting.
    pos = offsets + 1 + (rng.random(n) * np.maximum(0.8 * mean_count - 2, 1)).astype(np.int64)
    pos = np.minimum(pos, offsets + m - 1)
    gaps[pos[brk]] *= 6.0
    csum = np.cumsum(gaps)
    times = start[owner] + csum - csum[offsets][owner]
    keep = times <= end[owner]
    owner, times = owner[keep], times[keep]
    # Last kept ticket per requester (owners are contiguous and times increasing).
    is_last = np.ones(owner.size, dtype=bool)
    is_last[:-1] = owner[1:] != owner[:-1]
    bad_last = is_last & (kind[owner] == 2)
    k = owner.size
    res_minutes = rng.lognormal(np.log(360.0), 1.0, k)
    res_minutes[bad_last] = rng.uniform(5.0, 20.0, int(bad_last.sum())) * 1440.0
    sla_met = rng.random(k) > 0.1
    sla_met[bad_last] = rng.random(int(bad_last.sum())) > 0.7
    reopens = (rng.random(k) < 0.05).astype(np.int64)
    reopens[bad_last] = (rng.random(int(bad_last.sum())) < 0.4).astype(np.int64)

    team_of = rng.integers(0, TEAMS.size, n)
    dept_of = rng.integers(0, DEPARTMENTS.size, n)
    origin_us = int((AS_OF.timestamp() - window_days * 86400.0) * 1e6)
    created_us = origin_us + (times * 86400e6).astype(np.int64)
    resolved_us = created_us + (res_minutes * 60e6).astype(np.int64)
    tickets = (
        pl.DataFrame(
            {
                "_owner": owner,
                "created_at": created_us,
                "resolved_at": resolved_us,
                "resolution_minutes": res_minutes,
                "reopen_count": reopens,
                "sla_resolution_met": sla_met,
                "_team": team_of[owner],
                "_dept": dept_of[owner],
            }
        )
        .with_columns(
            pl.format("r{}", pl.col("_owner")).alias("requester_id"),
            pl.col("_team")
            .replace_strict(dict(enumerate(TEAMS.tolist())), return_dtype=pl.String)
            .alias("service_team"),
            pl.col("_dept")
            .replace_strict(dict(enumerate(DEPARTMENTS.tolist())), return_dtype=pl.String)
            .alias("requester_department"),
            pl.lit("employee").alias("requester_type"),
            pl.col("created_at").cast(pl.Datetime("us", "UTC")),
            pl.col("resolved_at").cast(pl.Datetime("us", "UTC")),
            pl.lit("normal").alias("priority"),
            pl.lit("request").alias("ticket_type"),
            pl.lit("solved").alias("status"),
        )
        .drop("_owner", "_team", "_dept")
    )
    truth = pl.DataFrame(
        {
            "_i": np.arange(n),
            "service_team": TEAMS[team_of],
            "kind": KINDS[kind],
        }
    ).select(pl.format("r{}", pl.col("_i")).alias("requester_id"), "service_team", "kind")
    return Population(tickets, truth)
