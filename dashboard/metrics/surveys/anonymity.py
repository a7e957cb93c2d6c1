"""The anonymity primitive: which groups of every grouping of team, department and
requester type are hidden, decided jointly on the lattice and audited for exact linear
disclosure (rules 1-3 of the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import polars as pl

from dashboard.metrics.surveys.answers import GROUP_ORDER, ordered

# The exact audit is an eigendecomposition over finest cells × finest cells, repeated
# per round of extra hides; above this many finest cells it is skipped and rules (a)–(c) alone
# apply (a few hundred cells take well under a second).
AUDIT_MAX_CELLS = 2000
_ALL = "\x00all"  # key value of a dimension that a lattice node is summed over


def lattice_key(
    dims: Sequence[str], cols: Sequence[str], values: Sequence[object]
) -> tuple[str, ...]:
    """A group's position in the lattice: its value per dimension, `_ALL` where summed over."""
    m = dict(zip(cols, values, strict=True))
    return tuple(_ALL if d not in m else ("" if m[d] is None else str(m[d])) for d in dims)


def groupings(dims: Sequence[str]) -> list[tuple[str, ...]]:
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
            keys.append(lattice_key(dims, cols, v))
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
    dims = ordered(dims if dims is not None else [c for c in GROUP_ORDER if c in frame.columns])
    use_ids = bool(ids_col) and ids_col in frame.columns
    tables: dict[tuple[str, ...], pl.DataFrame] = {}
    for cols in groupings(dims):
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
            lattice_key(dims, dims, v): bool(h)
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
        [flags[lattice_key(dims, dims, v)] for v in frame.select(dims).rows()]
        if dims
        else [flags[()]] * frame.height,
        dtype=pl.Boolean,
    )
    out = frame.with_columns(mask)
    nulled = [c for c in out.columns if c not in dims and c != "suppressed"]
    return out.with_columns(
        [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in nulled]
    )
