"""Voice of the internal customer: survey scores, anonymity, drivers and comment themes.

Why this module is shaped the way it is
---------------------------------------
Internal customers are colleagues. A "Finance · contractors" row with three
respondents is not a statistic, it is three named people, and the service team
reading it sits two floors away. So anonymity is not a display option here; it is
the first thing every output goes through, and it has to survive *differencing*:
a total minus the visible groups, or the unfiltered view minus a filtered one,
must not give back a hidden group.

Scales. Survey tools disagree on scales (CSAT 1–5, 1–7, 0–10; CES 1–5 or 1–7).
Averaging raw scores across scales is meaningless, so scores are mapped linearly
onto one reporting scale per metric before averaging: CSAT onto 1–5 (the common
case, where it is the identity), CES onto 1–7 (CES 2.0), NPS onto 0–10 (identity
for real NPS). "Top-2 box" is taken on the *raw* scale: the top two points of
whatever scale the question used (4–5 on 1–5, 6–7 on 1–7, 9–10 on 0–10).

Respondents. Thresholds count distinct `respondent_id`s, because one person
answering ten surveys is still one person. A response without respondent id
(an anonymous survey) counts as its own respondent: the survey tool already
made it anonymous, and counting all of them as one would suppress whole teams.

The suppression rule (see `lattice_suppression`, `suppress`, `_protected_table`)
--------------------------------------------------------------------------------
Every grouping of (service_team, department, requester_type) — 8 tables from the
grand total to the full cross — is a table somebody can print, and the tables
add up into each other. So hiding is decided once, jointly, on that lattice,
computed on the date-filtered responses whatever the view asks for; every view
then reads its flags, so no two views disagree about what is hidden.

1. Primary: a group with 0 < respondents < k (`anonymity_min_group`) is hidden.
2. Complementary: for every group and every dimension it splits by, the hidden
   children are none, or ≥ 2 whose union has ≥ k respondents; and a hidden
   group keeps at least one hidden child along each dimension (else adding up
   its visible children rebuilds it). Repaired by hiding the next-smallest
   visible child, to a fixpoint. "Total minus visible groups" thus only ever
   yields a blend of several groups with k+ people.
3. Audit: one-step rules miss multi-table combinations (contractor total +
   vendor total − Engineering's and Sales' non-employees = one person in
   Facilities). Every published number is a sum over the finest cells, so a
   small group is exactly disclosed iff its cell vector lies in the row space of
   the visible groups' vectors; while one does, the smallest visible group in a
   disclosing combination is hidden too, and rule 2 re-run.
4. Filters: a view filtered on a dimension outside its grouping (per-team rows
   for "all but Legal") shows a row only if it takes none of that group's
   hidden children, or all of them while the group itself is visible. Such a
   row is then a linear combination of published lattice groups, so filters
   add nothing an attacker could not already compute, and rule 3 covers them.
5. Each metric (CSAT, NPS, CES) runs through 1–4 again on its own respondent
   counts: a team with 12 respondents of whom 3 answered NPS shows CSAT but not
   NPS, and NPS totals cannot be differenced either.

6. Time: every number covers whole calendar months (UTC), whatever dates are
   asked for, and each month is decided on its own lattice (rules 1–5 on that
   month's answers). A view over several months — a date range, a quarter of a
   trend — adds up its per-month parts that are shown and leaves the hidden ones
   out (`partial` = true on such a row; its response rate is then null). Why:
   with day-level ranges, `--from 10-24` minus `--from 10-25` was one person's
   score; with month ranges, Jan–Oct minus Jan–Sep is October. Now every
   published number is a sum of per-month published numbers, months are disjoint
   sets of answers, so a small group of month m could be rebuilt only from month
   m's own published numbers — which rules 1–5 prevent. Leaving hidden parts out
   (rather than hiding the whole row) keeps a half-empty first or last month from
   hiding every all-time number. Driver levels follow the same rule
   (`_published_months`); comments are shown only from shown (month, team,
   department) parts.

Out of scope (documented, not solved): non-linear inference (bounds from score
ranges, e.g. a hidden mean forced to 5.0 because every visible total is already
maximal), and the driver levels' differencing across team filters (a level is
not a lattice group; it needs k respondents on both sides and in every month).
"""

from __future__ import annotations

import calendar
import hashlib
import math
import re
import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import combinations, pairwise
from typing import Literal

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from dashboard.config import Config
from dashboard.filters import SURVEY_FILTERS, Filters
from dashboard.metrics.stats import Z95, wilson_interval

DIMENSIONS: tuple[str, ...] = ("service_team", "department", "requester_type")
# Canonical order of every column that can group a survey table (period first for trends).
_GROUP_ORDER: tuple[str, ...] = ("period_start", *DIMENSIONS)
BY_ALIASES: dict[str, str] = {
    "team": "service_team",
    "service_team": "service_team",
    "department": "department",
    "requester_department": "department",
    "requester_type": "requester_type",
    "type": "requester_type",
}
# Survey periods are unions of whole months (rule 6): no weeks.
PERIODS: dict[str, str] = {"month": "month", "quarter": "quarter"}

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240607

# (count column, respondent-id list column, metric name or None for the whole row)
_PIPELINES: tuple[tuple[str, str, str | None], ...] = (
    ("respondents", "respondent_ids", None),
    ("csat_respondents", "csat_ids", "csat"),
    ("nps_respondents", "nps_ids", "nps"),
    ("ces_respondents", "ces_ids", "ces"),
)
# Output columns nulled when a metric is hidden (the row stays).
_METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "csat": (
        "csat_responses",
        "csat_mean",
        "csat_top2_share",
        "csat_top2_ci_low",
        "csat_top2_ci_high",
    ),
    "nps": ("nps_responses", "nps", "nps_ci_low", "nps_ci_high"),
    "ces": ("ces_responses", "ces_mean"),
}
SUMMARY_COLUMNS: tuple[str, ...] = (
    "responses",
    "respondents",
    "csat_mean",
    "csat_top2_share",
    "nps",
    "ces_mean",
    "suppressed",
    "csat_responses",
    "csat_top2_ci_low",
    "csat_top2_ci_high",
    "nps_responses",
    "nps_ci_low",
    "nps_ci_high",
    "ces_responses",
    "resolved_tickets",
    "response_rate",
    "partial",
)


def whole_months(filters: Filters) -> Filters:
    """The survey slice of a page's filters, dates widened to whole months.

    Every survey number covers whole months whatever dates are asked for (rule 6:
    comparing windows a day apart would otherwise isolate a few answers); pages,
    the report and the CLI use this to say which months they show. Ticket-only
    filters (priority, category, channel) are cleared, so they neither key caches
    nor look applied."""
    lo, hi = filters.date_from, filters.date_to
    return replace(
        filters.only(SURVEY_FILTERS),
        date_from=lo.replace(day=1) if lo else None,
        date_to=hi.replace(day=calendar.monthrange(hi.year, hi.month)[1]) if hi else None,
    )


def parse_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """CLI/app helper: 'team,department' -> ('service_team', 'department').

    Raises ValueError naming the unknown group so the CLI can exit 2 with a clear line.
    """
    if text is None or text == "":
        return ()
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    out: list[str] = []
    for p in parts:
        if p not in BY_ALIASES:
            raise ValueError(
                f"unknown survey grouping {p!r} (use team, department, requester_type)"
            )
        if BY_ALIASES[p] not in out:
            out.append(BY_ALIASES[p])
    return tuple(c for c in DIMENSIONS if c in out)


# --------------------------------------------------------------------------- loading


def _bounds(filters: Filters) -> tuple[datetime, datetime]:
    """The instants a view covers: always whole calendar months (UTC), see rule 6."""
    months = whole_months(filters)
    lo = (
        datetime.combine(months.date_from, time(0), UTC)
        if months.date_from
        else datetime(1900, 1, 1, tzinfo=UTC)
    )
    hi = (
        datetime.combine(months.date_to + timedelta(days=1), time(0), UTC)
        if months.date_to
        else datetime(2999, 1, 1, tzinfo=UTC)
    )
    return lo, hi


def _load_rows(
    con: duckdb.DuckDBPyConnection, filters: Filters, period: str | None = None
) -> pl.DataFrame:
    """One row per (response, metric), date-filtered only, with normalised scores
    (the warehouse view `survey_scores` is their one definition; `ticket_latest`
    links an answer to one version of its ticket).

    Dimension filters are deliberately *not* applied here: suppression needs the
    canonical table over all values of a filtered dimension (rule 3).
    """
    lo, hi = _bounds(filters)
    period_sql = (
        (f"CAST(date_trunc('{PERIODS[period]}', utc(s.submitted_at)) AS DATE)")
        if period
        else "NULL::DATE"
    )
    q = f"""
    SELECT
        s.source || '|' || s.response_id AS response_key,
        coalesce(s.respondent_id, 'anon|' || s.source || '|' || s.response_id) AS respondent,
        s.submitted_at, s.survey, s.ticket_id, {period_sql} AS period_start,
        CAST(date_trunc('month', utc(s.submitted_at)) AS DATE) AS month,
        coalesce(nullif(s.service_team, ''), t.service_team, 'unknown') AS service_team,
        coalesce(nullif(s.respondent_department, ''), p.department,
                 nullif(t.requester_department, ''), 'unknown') AS department,
        lower(coalesce(p.person_type, nullif(nullif(t.requester_type, ''), 'unknown'),
                       pt.person_type, 'unknown')) AS requester_type,
        s.metric, s.score, s.scale_low AS scale_min, s.scale_high AS scale_max, s.comment,
        CASE WHEN s.metric = 'csat' THEN s.score_normalised END AS s_csat,
        CASE WHEN s.metric = 'csat' AND s.valid THEN s.top2 END AS top2,
        CASE WHEN s.metric = 'nps' THEN s.score_normalised END AS s_nps,
        CASE WHEN s.metric = 'ces' THEN s.score_normalised END AS s_ces,
        s.band
    FROM survey_scores s
    LEFT JOIN people p ON p.person_id = s.respondent_id
    LEFT JOIN ticket_latest t ON t.ticket_id = s.ticket_id
    LEFT JOIN people pt ON pt.person_id = t.requester_id
    WHERE s.submitted_at >= $lo AND s.submitted_at < $hi
    -- a month's rows in one order, so its lattice is memoised; csat first per response
    ORDER BY response_key, metric <> 'csat', metric
    """
    return con.sql(q, params={"lo": lo, "hi": hi}).pl()


def _select(rows: pl.DataFrame, selection: dict[str, frozenset[str]]) -> pl.DataFrame:
    for dim, values in selection.items():
        rows = rows.filter(pl.col(dim).is_in(sorted(values)))
    return rows


# --------------------------------------------------------------------------- statistics


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


def _aggregate(rows: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
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


def _with_scores(df: pl.DataFrame, key_cols: Sequence[str]) -> pl.DataFrame:
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


# --------------------------------------------------------------------------- suppression

# The exact audit is an eigendecomposition over finest cells × finest cells, repeated
# per round of extra hides; above this many finest cells it is skipped and rules (a)–(c) alone
# apply (a few hundred cells take well under a second).
AUDIT_MAX_CELLS = 2000
_ALL = "\x00all"  # key value of a dimension that a lattice node is summed over


def _key(dims: Sequence[str], cols: Sequence[str], values: Sequence[object]) -> tuple[str, ...]:
    """A group's position in the lattice: its value per dimension, `_ALL` where summed over."""
    m = dict(zip(cols, values, strict=True))
    return tuple(_ALL if d not in m else ("" if m[d] is None else str(m[d])) for d in dims)


def _subsets(dims: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(c) for size in range(len(dims) + 1) for c in combinations(dims, size)]


def lattice_suppression(
    tables: Mapping[tuple[str, ...], pl.DataFrame],
    dims: Sequence[str],
    min_group: int,
    *,
    count_col: str = "respondents",
    ids_col: str | None = "respondent_ids",
    forced: Mapping[tuple[str, ...], bool] | None = None,
) -> dict[tuple[str, ...], bool]:
    """Hidden flag of every group of every grouping of `dims`, decided jointly.

    Why jointly: each grouping is a table someone can print, and a parent group
    (team) is the sum of its children along any further dimension (team ×
    department cells). Deciding each table on its own lets one table hide a
    group as a complement while another shows all of its children, which gives
    the group back (found by the linear-algebra attack in the tests). So, for
    every parent and every dimension it can be split by:

    (a) primary: a group with 0 < respondents < k is hidden;
    (b) siblings: the hidden children are none, or ≥ 2 whose union has ≥ k
        respondents (distinct ids when `ids_col` is given, else summed counts);
    (c) a hidden parent has at least one hidden child along every dimension,
        else the parent could be rebuilt by adding up its visible children;

    repairing (b)/(c) by hiding the next-smallest visible child (ties by key,
    so the result is deterministic), until nothing changes. `tables` maps every
    subset of `dims` (canonical order) to its aggregated frame.
    """
    dims = list(dims)
    keys: list[tuple[str, ...]] = []
    counts: list[int] = []
    ids: list[list[str] | None] = []
    for cols, t in tables.items():
        vals = t.select(list(cols)).rows() if cols else [()] * t.height
        idl = t[ids_col].to_list() if ids_col and ids_col in t.columns else [None] * t.height
        for v, c, i in zip(vals, t[count_col].fill_null(0).to_list(), idl, strict=True):
            keys.append(_key(dims, cols, v))
            counts.append(int(c))
            ids.append(i)
    pos = {k: i for i, k in enumerate(keys)}
    hidden = [
        0 < c < min_group or bool(forced and forced.get(k))
        for k, c in zip(keys, counts, strict=True)
    ]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, key in enumerate(keys):
        for j, v in enumerate(key):
            if v == _ALL:
                continue
            parent = pos.get((*key[:j], _ALL, *key[j + 1 :]))
            if parent is not None and counts[i] > 0:
                groups.setdefault((parent, j), []).append(i)
    order = sorted(groups, key=lambda g: (sum(v != _ALL for v in keys[g[0]]), keys[g[0]], g[1]))

    def blend(members: list[int]) -> int:
        if all(ids[i] is not None for i in members):
            return len(set().union(*(ids[i] or () for i in members)))
        return sum(counts[i] for i in members)

    def unsafe(parent: int, hid: list[int]) -> bool:
        if not hid:
            return hidden[parent] and counts[parent] > 0
        return len(hid) < 2 or blend(hid) < min_group

    def repair() -> None:
        changed = True
        while changed:
            changed = False
            for g in order:
                kids = groups[g]
                hid = [i for i in kids if hidden[i]]
                while unsafe(g[0], hid):
                    cand = [i for i in kids if not hidden[i]]
                    if not cand:
                        break
                    j = min(cand, key=lambda i: (counts[i], keys[i]))
                    hidden[j] = True
                    hid.append(j)
                    changed = True

    repair()
    small = [i for i, c in enumerate(counts) if 0 < c < min_group]
    finest = sum(_ALL not in key for key in keys)
    if small and finest <= AUDIT_MAX_CELLS:
        cover = _cover_matrix(keys)
        while more := _audit(cover, hidden, counts, keys, small):
            for j in more:
                hidden[j] = True
            repair()
    return dict(zip(keys, hidden, strict=True))


def _cover_matrix(keys: Sequence[tuple[str, ...]]) -> np.ndarray:
    """Node × finest-cell 0/1 matrix: which finest cells each lattice node adds up."""
    finest = [k for k in keys if _ALL not in k]
    if not finest:
        return np.zeros((len(keys), 0))
    cover = np.ones((len(keys), len(finest)), dtype=bool)
    for d in range(len(keys[0])):
        codes: dict[str, int] = {}
        cell = np.array([codes.setdefault(k[d], len(codes)) for k in finest])
        node = np.array([-1 if k[d] == _ALL else codes.get(k[d], -2) for k in keys])
        cover &= (node[:, None] == -1) | (node[:, None] == cell[None, :])
    return cover.astype(float)


def _audit(
    cover: np.ndarray,
    hidden: list[bool],
    counts: list[int],
    keys: Sequence[tuple[str, ...]],
    small: list[int],
) -> set[int]:
    """Exact linear-disclosure audit; the visible nodes to hide next (empty: safe).

    Every published number is a sum over finest cells, so a small group is
    disclosed exactly when its cover vector lies in the row space of the visible
    nodes' cover vectors (the attacker can add and subtract published numbers
    with any weights). Rules (a)–(c) stop one-step differencing; this catches the
    multi-table combinations they miss (e.g. C + V − E − S = one cell in a
    department × requester-type table). For each disclosed small group the
    smallest visible node in its minimum-norm disclosing combination is chosen
    (one eigendecomposition per round serves every group; a group whose combination already
    uses a chosen node waits for the next round).
    """
    vis = [i for i, h in enumerate(hidden) if not h and counts[i] > 0]
    if not vis:
        return set()
    v = cover[vis]
    # row space of v from the eigenvectors of the small Gram matrix vᵀv (cells × cells),
    # much cheaper than an SVD of v when there are more groups than cells
    lam, q = np.linalg.eigh(v.T @ v)
    keep = lam > max(lam.max(initial=0.0), 1.0) * 1e-10
    q_r, lam_r = q[:, keep], lam[keep]
    targets = sorted(small, key=lambda i: keys[i])
    t = cover[targets]
    coef = t @ q_r
    resid = np.linalg.norm(t - coef @ q_r.T, axis=1)
    disclosed = np.flatnonzero(resid <= 1e-6 * np.maximum(1.0, np.linalg.norm(t, axis=1)))
    if disclosed.size == 0:
        return set()
    # minimum-norm weights x with vᵀx = t: x = v (vᵀv)⁺ t
    weights = v @ (q_r @ (coef[disclosed] / lam_r).T)
    chosen: set[int] = set()
    for col in range(disclosed.size):
        part = [vis[j] for j in np.flatnonzero(np.abs(weights[:, col]) > 1e-7)]
        if part and not chosen.intersection(part):
            chosen.add(min(part, key=lambda j: (counts[j], keys[j])))
    return chosen


def suppress(
    frame: pl.DataFrame,
    min_group: int,
    *,
    dims: Sequence[str] | None = None,
    count_col: str = "respondents",
    ids_col: str | None = "respondent_ids",
) -> pl.DataFrame:
    """The anonymity primitive: which rows of a finest-level table may be shown.

    `frame` has one row per combination of `dims` (default: the group columns it
    has) and a respondent count; every coarser grouping is derived from it
    (distinct ids when `ids_col` holds lists of respondent ids, else summed
    counts) and `lattice_suppression` decides all of them together. Adds or
    updates `suppressed` (an existing `suppressed` column counts as already
    hidden) and nulls every non-group column of hidden rows: the row stays, so a
    reader sees that the group exists, but no number of it.
    """
    dims = _ordered(dims if dims is not None else [c for c in _GROUP_ORDER if c in frame.columns])
    use_ids = bool(ids_col) and ids_col in frame.columns
    tables: dict[tuple[str, ...], pl.DataFrame] = {}
    for cols in _subsets(dims):
        if list(cols) == dims:
            tables[cols] = frame
            continue
        if use_ids:
            assert ids_col is not None
            agg = [pl.col(ids_col).explode().drop_nulls().unique().alias(ids_col)]
        else:
            agg = [pl.col(count_col).sum()]
        t = frame.group_by(list(cols)).agg(agg) if cols else frame.select(agg)
        if use_ids:
            t = t.with_columns(pl.col(ids_col).list.len().alias(count_col))
        tables[cols] = t
    forced = None
    if "suppressed" in frame.columns:
        forced = {
            _key(dims, dims, v): bool(h)
            for *v, h in frame.select([*dims, pl.col("suppressed").fill_null(False)]).rows()
        }
    flags = lattice_suppression(
        tables,
        dims,
        min_group,
        count_col=count_col,
        ids_col=ids_col if use_ids else None,
        forced=forced,
    )
    mask = pl.Series(
        "suppressed",
        [flags[_key(dims, dims, v)] for v in frame.select(dims).rows()]
        if dims
        else [flags[()]] * frame.height,
        dtype=pl.Boolean,
    )
    out = frame.with_columns(mask)
    nulled = [c for c in out.columns if c not in dims and c != "suppressed"]
    return out.with_columns(
        [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in nulled]
    )


def _ordered(cols: Iterable[str]) -> list[str]:
    s = set(cols)
    return [c for c in _GROUP_ORDER if c in s]


_LATTICE_CACHE: OrderedDict[tuple[object, ...], tuple[dict, dict]] = OrderedDict()
_LATTICE_CACHE_SIZE = 512  # one entry per (month, dims, k): a few years of months
_LATTICE_LOCK = threading.Lock()  # Streamlit serves sessions from several threads


def _lattice_for(
    rows: pl.DataFrame, dims: Sequence[str], k: int
) -> tuple[dict[tuple[str, ...], pl.DataFrame], dict[str, dict[tuple[str, ...], bool]]]:
    """Aggregated lattice tables and the hidden flags of every pipeline, memoised.

    A page shows many views of one date range (by team, by department, filtered
    ...), and they all share this lattice; keying on a digest of exactly the
    columns it depends on makes reuse safe when the data changes.
    """
    cols = ["response_key", "respondent", "metric", "s_csat", "s_nps", "s_ces", *dims]
    digest = hashlib.blake2b(
        rows.select(cols).hash_rows(seed=7).to_numpy().tobytes(), digest_size=16
    ).hexdigest()
    key = (tuple(dims), k, rows.height, digest)
    with _LATTICE_LOCK:
        hit = _LATTICE_CACHE.get(key)
        if hit is not None:
            _LATTICE_CACHE.move_to_end(key)
            return hit
    tables = {c: _aggregate(rows, c) for c in _subsets(dims)}
    flags = {
        count_col: lattice_suppression(tables, dims, k, count_col=count_col, ids_col=ids_col)
        for count_col, ids_col, _ in _PIPELINES
    }
    with _LATTICE_LOCK:
        _LATTICE_CACHE[key] = (tables, flags)
        while len(_LATTICE_CACHE) > _LATTICE_CACHE_SIZE:
            _LATTICE_CACHE.popitem(last=False)
    return tables, flags


# per pipeline: the answer columns that carry its numbers (nulled where its part is hidden)
_METRIC_INPUTS: dict[str, tuple[str, ...]] = {
    "csat_respondents": ("s_csat", "top2"),
    "nps_respondents": ("s_nps",),
    "ces_respondents": ("s_ces",),
}


def _published_parts(
    rows: pl.DataFrame, by: Sequence[str], selection: dict[str, frozenset[str]], k: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The selected answers, and those of them whose month-part may be published.

    A view row of `by` over several months is the sum of its per-month parts; each
    month decides its own parts (`_protected_block`, rules 1–5), and a hidden part
    is left out of the row (rule 6). Metric columns of answers whose metric is
    hidden in their part are nulled, so each metric adds up only shown parts.
    Returns (the selected answers with their parts' `_hide_<count>` flags, the
    kept answers).
    """
    inner = [c for c in _ordered(by) if c != "period_start"]
    hide_cols = [f"_hide_{c}" for c, _, _ in _PIPELINES]
    selected = _select(rows, selection)
    parts = [
        _protected_block(block, inner, selection, k)
        .select(*inner, *hide_cols)
        .with_columns(pl.lit(block["month"][0]).alias("month"))
        for block in rows.partition_by("month", maintain_order=True)
    ]
    if not parts:
        return selected.with_columns(pl.lit(True).alias(c) for c in hide_cols), selected
    flags = pl.concat(parts, how="diagonal")
    tagged = selected.join(flags, on=["month", *inner], how="left", nulls_equal=True)
    tagged = tagged.with_columns(pl.col(hide_cols).fill_null(True))  # undecided: hidden
    kept = tagged.filter(~pl.col("_hide_respondents")).with_columns(
        pl.when(pl.col(f"_hide_{count}")).then(None).otherwise(pl.col(col)).alias(col)
        for count, cols in _METRIC_INPUTS.items()
        for col in cols
    )
    return tagged, kept.drop(hide_cols)


def _protected_table(
    rows: pl.DataFrame, by: Sequence[str], selection: dict[str, frozenset[str]], k: int
) -> pl.DataFrame:
    """Aggregate the published parts of the selected answers by `by`, and mark per
    pipeline what is hidden (nothing of it published) and which rows are `partial`
    (some month-part left out). `by` may hold `period_start` (month or quarter).
    """
    by = _ordered(by)
    tagged, kept = _published_parts(rows, by, selection, k)
    agg = _aggregate(kept, by)
    if by:
        left_out = tagged.filter(pl.col("_hide_respondents")).select(by).unique()
        out = (
            _aggregate(tagged, by)
            .select(by)
            .join(agg, on=by, how="left", nulls_equal=True)
            .join(
                left_out.with_columns(pl.lit(True).alias("partial")),
                on=by,
                how="left",
                nulls_equal=True,
            )
        )
    else:
        out = (
            agg
            if agg.height
            else _aggregate(tagged, by).with_columns(
                pl.lit(None, dtype=d).alias(c) for c, d in agg.schema.items()
            )
        )
        out = out.with_columns(pl.lit(bool(tagged["_hide_respondents"].any())).alias("partial"))
    return out.with_columns(
        pl.col("partial").fill_null(False),
        *((pl.col(c).fill_null(0) < k).alias(f"_hide_{c}") for c, _, _ in _PIPELINES),
    )


def _protected_block(
    rows: pl.DataFrame,
    by: Sequence[str],
    selection: dict[str, frozenset[str]],
    k: int,
    dims: Sequence[str] = DIMENSIONS,
) -> pl.DataFrame:
    """Within one month: aggregate the selected rows by `by` and decide, per
    pipeline, what is hidden.

    The lattice over *all* `dims` is computed on the month's rows whatever
    `by` and the dimension filters are, so every view agrees on which groups are
    hidden. A view row is the group's lattice flag when no filter touches a
    dimension outside `by`; otherwise it is the union of the selected children
    in the finer table by ∪ filtered dims, shown only when it takes none of the
    hidden children, or all of them while the group itself is visible (and it
    has ≥ k respondents itself). Returns the
    aggregated frame with boolean `_hide_<count column>` columns; nothing nulled.
    """
    by, dims = _ordered(by), _ordered(dims)
    tables, all_flags = _lattice_for(rows, dims, k)
    out = _aggregate(_select(rows, selection), by)
    vals = out.select(by).rows() if by else [()] * out.height
    extra = [d for d in selection if d not in by]
    finer = tuple(_ordered([*by, *extra]))
    for count_col, _, _ in _PIPELINES:
        flags = all_flags[count_col]
        if not extra:
            hide = [flags[_key(dims, by, v)] for v in vals]
        else:
            inside: set[tuple[object, ...]] = set()
            outside: set[tuple[object, ...]] = set()
            t = tables[finer]
            for v in t.select(list(finer)).rows():
                if not flags[_key(dims, finer, v)]:
                    continue
                m = dict(zip(finer, v, strict=True))
                g = tuple(m[d] for d in by)
                ok = all(m[d] in allowed for d, allowed in selection.items())
                (inside if ok else outside).add(g)
            counts = out[count_col].to_list()
            # a hidden group may only show its visible children's sum (all out): taking
            # all of its hidden children would give back the group minus published cells
            hide = [
                (v in inside and (v in outside or flags[_key(dims, by, v)])) or 0 < c < k
                for v, c in zip(vals, counts, strict=True)
            ]
        out = out.with_columns(pl.Series(f"_hide_{count_col}", hide, dtype=pl.Boolean))
    return out


def _finish(out: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Null hidden numbers (row-wide and per metric) and put columns in contract order."""
    by = list(by)
    out = _with_scores(out, by)
    for _, _, metric in _PIPELINES[1:]:
        assert metric is not None
        hide = pl.col(f"_hide_{metric}_respondents")
        out = out.with_columns(
            [
                pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
                for c in _METRIC_COLUMNS[metric]
            ]
        )
    out = out.with_columns(pl.col("_hide_respondents").alias("suppressed"))
    row_cols = [c for c in SUMMARY_COLUMNS if c in out.columns and c != "suppressed"]
    out = out.with_columns(
        [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in row_cols]
    )
    cols = [*by, *[c for c in SUMMARY_COLUMNS if c in out.columns]]
    return out.select(cols).sort(by) if by else out.select(cols)


# --------------------------------------------------------------------------- public API


def _resolved_tickets(
    con: duckdb.DuckDBPyConnection, filters: Filters, by: Sequence[str], period: str | None = None
) -> pl.DataFrame:
    """Resolved tickets per group (denominator of the response rate), same dimensions."""
    lo, hi = _bounds(filters)
    period_sql = (
        (f"CAST(date_trunc('{PERIODS[period]}', utc(t.resolved_at)) AS DATE)")
        if period
        else "NULL::DATE"
    )
    q = f"""
    SELECT {period_sql} AS period_start,
        coalesce(t.service_team, 'unknown') AS service_team,
        coalesce(nullif(t.requester_department, ''), p.department, 'unknown') AS department,
        lower(coalesce(p.person_type, nullif(nullif(t.requester_type, ''), 'unknown'),
                       'unknown')) AS requester_type
    FROM ticket_latest t LEFT JOIN people p ON p.person_id = t.requester_id
    WHERE t.resolved_at >= $lo AND t.resolved_at < $hi
    """
    t = _select(con.sql(q, params={"lo": lo, "hi": hi}).pl(), filters.survey_selection())
    if not by:
        return pl.DataFrame({"resolved_tickets": [t.height]})
    return t.group_by(list(by)).agg(pl.len().alias("resolved_tickets"))


def _summary_frame(
    rows: pl.DataFrame, tickets: pl.DataFrame, by: Sequence[str], filters: Filters, k: int
) -> pl.DataFrame:
    out = _protected_table(rows, by, filters.survey_selection(), k)
    if by:
        out = out.join(tickets, on=list(by), how="left")
    else:
        out = out.with_columns(pl.lit(tickets["resolved_tickets"][0]).alias("resolved_tickets"))
    # a partial row's responses leave months out that its resolved tickets include
    out = out.with_columns(
        pl.when((pl.col("resolved_tickets") > 0) & ~pl.col("partial"))
        .then(pl.col("responses") / pl.col("resolved_tickets"))
        .alias("response_rate")
    )
    return _finish(out, by)


def survey_summary(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    by: tuple[str, ...] = (),
    filters: Filters | None = None,
) -> pl.DataFrame:
    """The `inward surveys` table: one row per group, anonymity applied.

    Columns: group columns (canonical order service_team, department,
    requester_type), then responses, respondents, csat_mean (1–5 scale),
    csat_top2_share, nps (−100..100), ces_mean (1–7 scale), suppressed, and extras:
    per-metric response counts, Wilson CI of the top-2 share, bootstrap CI of
    NPS, resolved_tickets and response_rate (responses per resolved ticket).
    """
    filters = filters or Filters()
    by = parse_by(by)
    rows = _load_rows(con, filters)
    tickets = _resolved_tickets(con, filters, by)
    return _summary_frame(rows, tickets, by, filters, config.anonymity_min_group)


def trend(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    period: str = "month",
    filters: Filters | None = None,
    by: tuple[str, ...] = (),
) -> pl.DataFrame:
    """CSAT/NPS/CES per month or quarter (by submission date), with suppression.

    A period is a union of months, shown only where each of its months is (rule 6),
    so a trend row is made of the same parts as every other view. No weeks: a
    week straddles months, and its parts could be differenced against them.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown survey period {period!r} (use month or quarter)")
    filters = filters or Filters()
    by_all = ("period_start", *parse_by(by))
    rows = _load_rows(con, filters, period)
    tickets = _resolved_tickets(con, filters, by_all, period)
    return _summary_frame(rows, tickets, by_all, filters, config.anonymity_min_group)


# --------------------------------------------------------------------------- drivers

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
    'yes' level) is compared with all other linked responses; effect is the
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
    rows = _load_rows(con, filters)
    overall = _summary_frame(rows, pl.DataFrame({"resolved_tickets": [0]}), (), filters, k)
    if overall.is_empty() or overall["suppressed"][0] or overall["csat_mean"][0] is None:
        return empty
    sel = _select(rows, filters.survey_selection()).filter(
        pl.col("s_csat").is_not_null() & pl.col("ticket_id").is_not_null()
    )
    tickets = con.sql("""
        SELECT ticket_id, coalesce(reopen_count, 0) > 0 AS reopened,
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


# --------------------------------------------------------------------------- comments

_STOPWORD_TEXT = """
a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't for from get got had has have having he her here him his how i
i'm if in into is it it's its just me more my no not of on once only or other our out over
own same she should so some than that the their them then there these they this those to too
under until up very was we were what when where which while who why will with would you your
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d ()/-]{6,}\d")


def tokenize(text: str) -> list[str]:
    """Lower-case letter runs (any alphabet, apostrophes kept inside words), length ≥ 2."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1]


def terms(text: str) -> set[str]:
    """Unigrams and adjacent bigrams without stopwords: 'password reset' survives,
    'the password' does not (a bigram is never bridged over a removed word)."""
    toks = tokenize(text)
    out = {t for t in toks if t not in STOPWORDS}
    for x, y in pairwise(toks):
        if x not in STOPWORDS and y not in STOPWORDS:
            out.add(f"{x} {y}")
    return out


def _comment_rows(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters) -> pl.DataFrame:
    """One row per commented response in the selection, with its band, only from
    (month, team, department) parts that are shown under these filters."""
    rows = _load_rows(con, filters)
    _, sel = _published_parts(
        rows, ("service_team", "department"), filters.survey_selection(), config.anonymity_min_group
    )
    code = {"low": -1, "middle": 0, "high": 1}
    per = sel.with_columns(
        pl.when(pl.col("s_csat").is_not_null())
        .then(pl.col("band").replace_strict(code, default=None, return_dtype=pl.Int8))
        .alias("_csat_band"),
        pl.when(pl.col("s_nps").is_not_null())
        .then(pl.col("band").replace_strict(code, default=None, return_dtype=pl.Int8))
        .alias("_nps_band"),
    )
    per = per.group_by("response_key").agg(
        pl.col("respondent").first(),
        pl.col("service_team").first(),
        pl.col("department").first(),
        pl.col("survey").first(),
        pl.col("submitted_at").first(),
        pl.col("comment").filter(pl.col("comment").str.strip_chars() != "").first(),
        pl.col("_csat_band").drop_nulls().first(),
        pl.col("_nps_band").drop_nulls().first(),
    )
    band = pl.coalesce("_csat_band", "_nps_band")
    return per.filter(pl.col("comment").is_not_null()).with_columns(
        pl.when(band == -1).then(pl.lit("low")).when(band == 1).then(pl.lit("high")).alias("band")
    )


def comment_excerpts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters | None = None,
    band: Literal["low", "high"] = "low",
    search: str | None = None,
    limit: int = 20,
) -> pl.DataFrame:
    """Recent comments of one score band, newest first, for reading in context.

    Only groups (service team × department) that are shown under these filters
    contribute; no respondent or response id is returned, the date is cut to the
    month, and e-mail addresses and phone numbers are masked in the text.
    """
    if band not in ("low", "high"):
        raise ValueError("band must be 'low' or 'high'")
    filters = filters or Filters()
    c = _comment_rows(con, config, filters).filter(pl.col("band") == band)
    if search:
        c = c.filter(
            pl.col("comment").str.to_lowercase().str.contains(search.lower(), literal=True)
        )
    return _excerpts(c.sort("submitted_at", descending=True).head(limit))


def _excerpts(c: pl.DataFrame) -> pl.DataFrame:
    """What may be shown of comment rows: no ids, the month only, contacts masked."""
    texts = [_PHONE.sub("[phone]", _EMAIL.sub("[email]", t)) for t in c["comment"].to_list()]
    return c.select(
        "service_team",
        "department",
        "survey",
        pl.col("submitted_at")
        .dt.convert_time_zone("UTC")
        .dt.date()
        .dt.month_start()
        .alias("submitted_month"),
        "band",
    ).with_columns(pl.Series("comment", texts, dtype=pl.String))


# --------------------------------------------------------------------------- published


def published_cells(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Every number the survey views can publish, month by month: one row per month
    and group of every grouping of team, department and requester type (a NULL
    dimension = all of it), suppression applied exactly as `inward surveys` does.

    Analysts without a raw grant get survey data only as this table (and
    `published_comments`): by rule 6 any range or filter they could ask for is a
    sum of these parts, so their SQL can add up nothing the product would hide.
    """
    frames = []
    for size in range(len(DIMENSIONS) + 1):
        for by in combinations(DIMENSIONS, size):
            t = trend(con, config, "month", Filters(), by=by)
            frames.append(
                t.rename({"period_start": "month"}).with_columns(
                    pl.lit(None, dtype=pl.String).alias(d) for d in DIMENSIONS if d not in by
                )
            )
    cols = ["month", *DIMENSIONS, *(c for c in SUMMARY_COLUMNS if c != "partial")]
    return pl.concat([f.select(cols) for f in frames]).sort("month", *DIMENSIONS, nulls_last=False)


def published_comments(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Every comment the Voice page could show: from shown (month, team, department)
    parts, without ids, cut to the month, contacts masked; band low / high / null."""
    # sorted by content, not by time: the order must not hint at who answered when
    return _excerpts(_comment_rows(con, config, Filters())).sort(
        "submitted_month", "service_team", "department", "band", "comment", nulls_last=True
    )


def comment_keywords(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters | None = None,
    top: int = 20,
    min_comments: int = 3,
) -> pl.DataFrame:
    """Words and two-word phrases that set low-score comments apart from high ones.

    Weighted log-odds ratio with a Dirichlet prior (Monroe, Colaresi & Quinn
    2008), prior = 0.1 × the pooled counts: unlike raw frequency it does not
    crown "ticket" in both bands, and unlike plain log-odds it does not crown a
    word said once. Counts are per comment (document frequency); a word that
    occurs inside one listed phrase in ≥ 80 % of its comments is left to the
    phrase ("password reset", not also "password" and "reset"). A term is only
    listed when at least anonymity_min_group distinct respondents used it, since
    a rare phrasing can identify its author.
    """
    filters = filters or Filters()
    k = config.anonymity_min_group
    schema = {
        "band": pl.String,
        "term": pl.String,
        "ngram": pl.Int64,
        "comments": pl.Int64,
        "other_band_comments": pl.Int64,
        "respondents": pl.Int64,
        "log_odds": pl.Float64,
        "z": pl.Float64,
    }
    c = _comment_rows(con, config, filters).filter(pl.col("band").is_not_null())
    counts: dict[str, Counter[str]] = {"low": Counter(), "high": Counter()}
    who: dict[tuple[str, str], set[str]] = {}
    for b, text, person in c.select("band", "comment", "respondent").iter_rows():
        for t in terms(text):
            counts[b][t] += 1
            who.setdefault((b, t), set()).add(person)
    n_low, n_high = sum(counts["low"].values()), sum(counts["high"].values())
    if n_low == 0 or n_high == 0:
        return pl.DataFrame(schema=schema)
    vocab = sorted(set(counts["low"]) | set(counts["high"]))
    y_lo = np.array([counts["low"][t] for t in vocab], dtype=float)
    y_hi = np.array([counts["high"][t] for t in vocab], dtype=float)
    alpha = 0.1 * (y_lo + y_hi)
    a0 = float(alpha.sum())
    delta = np.log((y_lo + alpha) / (n_low + a0 - y_lo - alpha)) - np.log(
        (y_hi + alpha) / (n_high + a0 - y_hi - alpha)
    )
    z = delta / np.sqrt(1 / (y_lo + alpha) + 1 / (y_hi + alpha))
    pos = {t: i for i, t in enumerate(vocab)}
    # a word that almost always comes inside one phrase is said by the phrase
    covered: dict[str, set[str]] = {"low": set(), "high": set()}
    for b, own in (("low", y_lo), ("high", y_hi)):
        for t in vocab:
            if " " in t:
                for w in t.split(" "):
                    if own[pos[t]] >= 0.8 * own[pos[w]]:
                        covered[b].add(w)
    out: list[dict[str, object]] = []
    for b, sign, own, other in (("low", 1.0, y_lo, y_hi), ("high", -1.0, y_hi, y_lo)):
        listed = 0
        for i in np.argsort(-sign * z, kind="stable"):
            if sign * z[i] <= 0 or listed >= top:
                break
            t = vocab[i]
            people = len(who.get((b, t), ()))
            if own[i] < min_comments or people < k or t in covered[b]:
                continue
            out.append(
                {
                    "band": b,
                    "term": t,
                    "ngram": 1 + t.count(" "),
                    "comments": int(own[i]),
                    "other_band_comments": int(other[i]),
                    "respondents": people,
                    "log_odds": float(sign * delta[i]),
                    "z": float(sign * z[i]),
                }
            )
            listed += 1
    return pl.DataFrame(out, schema=schema)
