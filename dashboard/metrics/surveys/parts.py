"""Month parts and filtered views: each month decides its own lattice, a view adds up the
shown parts (rule 6), and a view filtered outside its grouping shows a row only when
it cannot be differenced (rule 4), per metric (rule 5)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import polars as pl

from dashboard.metrics.surveys.anonymity import groupings, lattice_key, lattice_suppression
from dashboard.metrics.surveys.answers import DIMENSIONS, ordered, select_groups
from dashboard.metrics.surveys.scores import aggregate

# (count column, respondent-id list column, metric name or None for the whole row)
PIPELINES: tuple[tuple[str, str, str | None], ...] = (
    ("respondents", "respondent_ids", None),
    ("csat_respondents", "csat_ids", "csat"),
    ("nps_respondents", "nps_ids", "nps"),
    ("ces_respondents", "ces_ids", "ces"),
)


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
    tables = {c: aggregate(rows, c) for c in groupings(dims)}
    flags = {
        count_col: lattice_suppression(tables, dims, k, count_col=count_col, ids_col=ids_col)
        for count_col, ids_col, _ in PIPELINES
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


def published_parts(
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
    inner = [c for c in ordered(by) if c != "period_start"]
    hide_cols = [f"_hide_{c}" for c, _, _ in PIPELINES]
    selected = select_groups(rows, selection)
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


def protected_table(
    rows: pl.DataFrame, by: Sequence[str], selection: dict[str, frozenset[str]], k: int
) -> pl.DataFrame:
    """Aggregate the published parts of the selected answers by `by`, and mark per
    pipeline what is hidden (nothing of it published) and which rows are `partial`
    (some month-part left out). `by` may hold `period_start` (month or quarter).
    """
    by = ordered(by)
    tagged, kept = published_parts(rows, by, selection, k)
    agg = aggregate(kept, by)
    if by:
        left_out = tagged.filter(pl.col("_hide_respondents")).select(by).unique()
        out = (
            aggregate(tagged, by)
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
            else aggregate(tagged, by).with_columns(
                pl.lit(None, dtype=d).alias(c) for c, d in agg.schema.items()
            )
        )
        out = out.with_columns(pl.lit(bool(tagged["_hide_respondents"].any())).alias("partial"))
    return out.with_columns(
        pl.col("partial").fill_null(False),
        *((pl.col(c).fill_null(0) < k).alias(f"_hide_{c}") for c, _, _ in PIPELINES),
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
    by, dims = ordered(by), ordered(dims)
    tables, all_flags = _lattice_for(rows, dims, k)
    out = aggregate(select_groups(rows, selection), by)
    vals = out.select(by).rows() if by else [()] * out.height
    extra = [d for d in selection if d not in by]
    finer = tuple(ordered([*by, *extra]))
    for count_col, _, _ in PIPELINES:
        flags = all_flags[count_col]
        if not extra:
            hide = [flags[lattice_key(dims, by, v)] for v in vals]
        else:
            inside: set[tuple[object, ...]] = set()
            outside: set[tuple[object, ...]] = set()
            t = tables[finer]
            for v in t.select(list(finer)).rows():
                if not flags[lattice_key(dims, finer, v)]:
                    continue
                m = dict(zip(finer, v, strict=True))
                g = tuple(m[d] for d in by)
                ok = all(m[d] in allowed for d, allowed in selection.items())
                (inside if ok else outside).add(g)
            counts = out[count_col].to_list()
            # a hidden group may only show its visible children's sum (all out): taking
            # all of its hidden children would give back the group minus published cells
            hide = [
                (v in inside and (v in outside or flags[lattice_key(dims, by, v)])) or 0 < c < k
                for v, c in zip(vals, counts, strict=True)
            ]
        out = out.with_columns(pl.Series(f"_hide_{count_col}", hide, dtype=pl.Boolean))
    return out
