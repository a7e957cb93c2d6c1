"""Which vendor values became which contract enum values, per ingest.

Adapters map statuses, priorities, channels and types through `value_maps`;
a value nobody anticipated becomes NULL (status, priority) or a fallback
(`other`, `unknown`). Both are silent in `tickets`, so each ingest records the
raw → canonical pairs it saw in `value_mappings`, and `mapping_report` lists
them with the unrecognised ones first — the place to look before trusting a
status breakdown, and the list to extend a `value_maps` from.

`load.ingest_file` calls `record_value_mappings` inside the file's transaction,
so the pairs of a refused file vanish with it.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.ingest.base import ENUMS, Adapter
from dashboard.ingest.canonical import COLUMNS, Canonical, clean, typed_expr
from dashboard.ingest.read import Staged
from dashboard.sql import quote_ident, quote_literal

REPORT_COLUMNS = {
    "ingest_id": pl.Int64,
    "source_file": pl.String,
    "format": pl.String,
    "column_name": pl.String,
    "raw_value": pl.String,
    "mapped_value": pl.String,
    "rows": pl.Int64,
    "recognised": pl.Boolean,
}


def record_value_mappings(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    canon: Canonical,
    adapter: Adapter,
    ingest_id: int,
) -> int:
    """Store this file's raw → canonical enum pairs; returns how many pairs were stored.

    The raw value is the trimmed export text of the column the adapter used, or
    of `<column>__raw` when a `prepare` hook derived the column and kept the
    original there (so a fallback does not hide the value it replaced). Rows are
    counted over every staged row, loaded or rejected: an unknown value is worth
    knowing about either way. `recognised` is false when the value is in neither
    the contract's enum nor the adapter's map.
    """
    enum_cols = [
        (n, t.split(":", 1)[1]) for n, t, _ in COLUMNS[adapter.kind] if t.startswith("enum:")
    ]
    pairs, parts = [], []
    for name, enum in enum_cols:
        src = canon.mapped.get(name)
        if src is None:
            continue
        raw_col = f"{src}__raw" if f"{src}__raw" in staged.columns else src
        i = len(pairs)
        # the staged text the canonical value was typed from (`v`), next to the raw
        # text shown (`r`; the same column unless `prepare` kept an original)
        pairs.append(
            f"{clean('s.' + quote_ident(raw_col))} AS r{i}, "
            f"{clean('s.' + quote_ident(src))} AS v{i}"
        )
        mapped = typed_expr(f"v{i}", f"enum:{enum}", adapter, "UTC", False)
        known = {v.lower() for v in ENUMS[enum]} | set(adapter.values(enum))
        known_sql = ", ".join(quote_literal(k) for k in sorted(known))
        # the mapping and `recognised` are judged once per distinct value, after grouping
        parts.append(f"""
            SELECT '{name}', r{i}, any_value({mapped}), sum(n), lower(r{i}) IN ({known_sql})
            FROM g WHERE set_id = {i} AND r{i} IS NOT NULL GROUP BY r{i}""")
    if not parts:
        return 0
    # One grouped pass over the staged rows for every enum column (GROUPING SETS),
    # the canonical value typed per distinct text afterwards (the expression
    # `canonical.build` uses): no join of the staged and canonical copies, which cost
    # 4x this at 500k rows.
    sets = ", ".join(f"(r{i}, v{i})" for i in range(len(pairs)))
    set_id = " + ".join(
        f"CASE WHEN grouping(r{i}) = 0 THEN {i} ELSE 0 END" for i in range(len(pairs))
    )
    con.execute(
        f"""
        INSERT INTO value_mappings
        WITH j AS (SELECT {", ".join(pairs)} FROM {staged.table} s),
        g AS (
            SELECT *, {set_id} AS set_id, count(*) AS n FROM j GROUP BY GROUPING SETS ({sets})
        )
        SELECT ?, * FROM ({" UNION ALL ".join(parts)})""",
        [ingest_id],
    )
    return con.sql(
        "SELECT count(*) FROM value_mappings WHERE ingest_id = ?", params=[ingest_id]
    ).fetchall()[0][0]


def mapping_report(
    con: duckdb.DuckDBPyConnection, ingest_id: int | None = None, only_unrecognised: bool = False
) -> pl.DataFrame:
    """Raw vendor values and what they became, unrecognised first, then by frequency.

    One row per (ingest, column, raw value) with the file and adapter that read
    it. Empty (with the same columns) when nothing was recorded yet.
    """
    where, params = [], []
    if ingest_id is not None:
        where.append("v.ingest_id = ?")
        params.append(ingest_id)
    if only_unrecognised:
        where.append("NOT v.recognised")
    frame = con.sql(
        f"""SELECT v.ingest_id, i.source_file, i.format, v.column_name, v.raw_value,
                v.mapped_value, v.rows, v.recognised
            FROM value_mappings v LEFT JOIN ingests i USING (ingest_id)
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY v.recognised, v.ingest_id, v.column_name, v.rows DESC, v.raw_value""",
        params=params,
    ).pl()
    return frame.cast(REPORT_COLUMNS)  # type: ignore[arg-type]
