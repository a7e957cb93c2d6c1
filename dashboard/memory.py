"""DuckDB's memory limit, lowered for a writer's block (a file's load, the derived refresh).

Both the loader and the derived refresh run big set-wise statements on the write
connection; one cap, defined once below either, keeps their peak RSS bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

# DuckDB memory for one file's temp tables (staged, canonical copies): past it
# they spill to the warehouse's temp directory instead of growing RSS. 1.5 GiB
# keeps a 5M-row export under 2 GB peak RSS (1.9 GB measured) while spilling
# little; 1 GiB spilled enough to cost ~25 % more time at 5M.
INGEST_MEMORY_LIMIT = 3 << 29
_UNITS = {
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}


def _setting_bytes(text: str) -> float:
    """'18.6 GiB' → bytes (DuckDB's display of memory_limit)."""
    number, _, unit = text.strip().partition(" ")
    try:
        return float(number) * _UNITS.get(unit.strip().lower() or "b", 1)
    except ValueError:
        return float("inf")


@contextmanager
def memory_cap(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> Iterator[None]:
    """Lower DuckDB's memory limit to `limit` bytes for a block, then restore it.

    Uncapped, DuckDB keeps every temp copy of a file in RAM (1.8 GB peak RSS for a
    1M-row export, several times that at 5M); capped, operators and temp tables
    spill to the database's temp directory instead. A lower limit set by the
    caller is kept, never raised.
    """
    limit = limit or INGEST_MEMORY_LIMIT
    before = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    if _setting_bytes(before) > limit:
        con.execute(f"SET memory_limit = '{limit}B'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")
