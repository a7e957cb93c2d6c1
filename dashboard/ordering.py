"""How names order wherever a list of them is shown: sidebar options, tables, chart axes.

SQL's `ORDER BY service_team` sorts bytes: "Group 10" before "Group 2", "it desk"
after "Legal". A reader expects "Group 2" before "Group 10" and case not to matter,
so every list sorted by name goes through `natural_key` (here, once) instead.
Lists ranked by a number (slowest hand-offs, biggest backlog) keep their rank.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import polars as pl

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str | None) -> tuple:
    """Sort key: case-insensitive, runs of digits compared as numbers, None last."""
    if name is None:
        return (1, ())
    parts = _DIGITS.split(name.casefold())
    return (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p), name)


def natural_sorted(names: Iterable[str | None]) -> list[str | None]:
    """The distinct names in natural order."""
    return sorted(set(names), key=natural_key)


def natural_order(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The frame sorted by these name columns in natural order; rows tied on all of
    them keep their order (so a secondary SQL order, such as hours descending, stays)."""
    columns = [c for c in columns if c in frame.columns]
    if frame.is_empty() or not columns:
        return frame
    ranks = []
    for c in columns:
        values = natural_sorted(frame[c].cast(pl.String).to_list())
        ranks.append(
            pl.col(c)
            .cast(pl.String)
            .replace_strict(
                [v for v in values if v is not None],
                list(range(len(values) - (None in values))),
                default=len(values),
                return_dtype=pl.Int64,
            )
            .fill_null(len(values))
        )
    return frame.sort(ranks, maintain_order=True)
