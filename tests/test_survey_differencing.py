"""Survey anonymity against an attacker who differences views (issue 17).

The red team's attack: `inward surveys --by team --from 2026-10-24` and `--from
2026-10-25` differ by one respondent, both rows shown, so 22 × 4.227 − 21 × 4.190
is one person's score. Here the attacker is general: it collects every number the
product publishes for many date ranges (day-level, across month boundaries),
groupings and filters, treats each as a sum over atomic cells (day × team ×
department × requester type), and checks with linear algebra whether any group
of fewer than k respondents can be rebuilt from them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import combinations

import numpy as np
import polars as pl
import pytest

from dashboard import scoped, warehouse
from dashboard.access import OPERATOR
from dashboard.cli import main
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.surveys.answers import load_rows, whole_months
from dashboard.metrics.surveys.summary import survey_summary, trend

K = 5
CFG = Config(anonymity_min_group=K)
DIMS = ("service_team", "department", "requester_type")


@pytest.fixture(scope="module")
def con(demo_wh):
    c = warehouse.connect(demo_wh.db, read_only=True)  # same config as the CLI's readers
    scoped.install(c, OPERATOR, demo_wh.db)
    yield c
    c.close()


@pytest.fixture(scope="module")
def answers(con) -> pl.DataFrame:
    """One row per CSAT answer with the dimensions the survey module resolves."""
    rows = load_rows(con, Filters())
    return rows.filter(pl.col("s_csat").is_not_null()).with_columns(
        pl.col("submitted_at").dt.convert_time_zone("UTC").dt.date().alias("day")
    )


def test_one_day_apart_never_isolates_a_respondent(demo_wh, answers, capsys) -> None:
    """The exact attack of the issue, through the CLI: for days where one team's
    respondents change between `--from d` and `--from d+1`, both runs must not
    show that team with a difference of fewer than k respondents."""
    per_day = answers.group_by("day", "service_team").agg(pl.col("respondent").n_unique())
    days = sorted(set(per_day["day"].to_list()))
    tried = 0
    for d in days[len(days) // 3 :: max(1, len(days) // 12)]:
        out = {}
        for start in (d, d + timedelta(days=1)):
            assert (
                main(
                    [
                        "surveys",
                        "--db",
                        str(demo_wh.db),
                        "--by",
                        "team",
                        "--from",
                        start.isoformat(),
                        "--format",
                        "json",
                    ]
                )
                == 0
            )
            out[start] = {r["service_team"]: r for r in json.loads(capsys.readouterr().out)}
        a, b = out[d], out[d + timedelta(days=1)]
        for team in set(a) & set(b):
            if a[team]["suppressed"] or b[team]["suppressed"]:
                continue
            gap = a[team]["respondents"] - b[team]["respondents"]
            assert gap == 0 or gap >= K, (d, team, gap)
            tried += 1
    assert tried >= 10


def _cells(answers: pl.DataFrame) -> tuple[list[tuple], dict[tuple, int]]:
    cells = sorted(set(answers.select("day", *DIMS).rows()))
    return cells, {c: i for i, c in enumerate(cells)}


def _views(answers: pl.DataFrame) -> list[tuple[tuple[str, ...], Filters]]:
    """Date ranges with day-level ends on and around month boundaries, every grouping
    the CLI offers, and team filters (one team, all but one)."""
    first, last = answers["day"].min(), answers["day"].max()
    mid = first + (last - first) / 2
    month = mid.replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    starts = [
        month,
        month + timedelta(days=9),
        month + timedelta(days=10),
        nxt,
        nxt + timedelta(days=1),
    ]
    ends = [nxt + timedelta(days=40), (nxt + timedelta(days=62)).replace(day=1) - timedelta(1)]
    teams = sorted(set(answers["service_team"].to_list()))
    filters = [{}, {"teams": (teams[0],)}, {"teams": tuple(teams[1:])}]
    groupings = [
        (),
        ("service_team",),
        ("department",),
        ("requester_type",),
        ("service_team", "department"),
    ]
    return [
        (by, Filters(date_from=s, date_to=e, **f))
        for s in starts
        for e in ends
        for f in filters
        for by in groupings
    ]


def test_no_small_group_is_a_linear_combination_of_published_numbers(con, answers) -> None:
    cells, index = _cells(answers)
    cell_dims = {c: dict(zip(("day", *DIMS), c, strict=True)) for c in cells}
    per_cell = {tuple(r[:-1]): r[-1] for r in answers.group_by("day", *DIMS).len().rows()}
    weight = np.array([per_cell[c] for c in cells], dtype=float)  # CSAT answers per cell
    rows = []
    for by, f in _views(answers):
        sel = f.survey_selection()
        months = whole_months(f)
        # what a number covers (the module's rule 6, checked against its own count): the
        # whole months of the range, and in them only the parts the same view shows
        # month by month — the monthly trend rows are published numbers too
        monthly = trend(con, CFG, "month", f, by=by).filter(pl.col("csat_mean").is_not_null())
        parts = {(r["period_start"], *(r[k] for k in by)) for r in monthly.iter_rows(named=True)}
        published = [
            (r, parts)
            for r in survey_summary(con, CFG, by, f)
            .filter(pl.col("csat_mean").is_not_null())
            .iter_rows(named=True)
        ]
        published += [
            (r, {(r["period_start"], *(r[k] for k in by))}) for r in monthly.iter_rows(named=True)
        ]
        for r, shown in published:
            v = np.zeros(len(cells))
            for c, d in cell_dims.items():
                if (
                    months.date_from <= d["day"] <= months.date_to
                    and all(d[k] in vals for k, vals in sel.items())
                    and all(d[k] == r[k] for k in by)
                    and (d["day"].replace(day=1), *(d[k] for k in by)) in shown
                ):
                    v[index[c]] = 1
            assert v @ weight == r["csat_responses"], (by, f, r)
            rows.append(v)
    assert len(rows) > 100
    a = np.array(rows)
    u, s, _ = np.linalg.svd(a.T, full_matrices=False)
    basis = u[:, s > 1e-8 * s.max()]  # column space of aᵀ = row space of a

    def disclosed(mask: np.ndarray) -> bool:
        t = mask.astype(float)
        return bool(np.linalg.norm(t - basis @ (basis.T @ t)) < 1e-6)

    # small groups an attacker would like: any (period, grouping node) under k
    months = np.array([c[0].replace(day=1) for c in cells])
    days = np.array([c[0] for c in cells])
    resp = answers.select("day", *DIMS, "respondent")
    targets = 0
    for period, stamp in (("day", days), ("month", months)):
        for size in range(0, 3):
            for dims in combinations(DIMS, size):
                keys = [
                    (stamp[i], *(cells[i][1 + DIMS.index(d)] for d in dims))
                    for i in range(len(cells))
                ]
                for key in set(keys):
                    mask = np.array([k == key for k in keys])
                    members = resp.filter(
                        (pl.col("day").dt.month_start() if period == "month" else pl.col("day"))
                        == key[0],
                        *(pl.col(d) == v for d, v in zip(dims, key[1:], strict=True)),
                    )
                    n = members["respondent"].n_unique()
                    if 0 < n < K:
                        targets += 1
                        assert not disclosed(mask), (period, dims, key, n)
    assert targets >= 20
