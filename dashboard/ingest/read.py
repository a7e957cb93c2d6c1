"""Read any supported file into a staging table of text columns.

Everything is staged as VARCHAR so that one typed validation step (see
`canonical.py`) decides what is a good value and explains what is not; a reader
that guessed types would drop or coerce values silently.

`stage` picks the reader by suffix: `read_csv` (CSV/TSV/TXT, with our own encoding,
delimiter and header detection and exact row numbers for rejects), `read_xlsx`,
`read_json`, or Parquet here; each leaves the same `Staged` table (`staged`). Then
the `[mapping."<glob>"]` renames and extra header rows are applied here, the same for
every format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path

import duckdb

from dashboard.ingest.read_csv import stage_csv
from dashboard.ingest.read_json import stage_json
from dashboard.ingest.read_xlsx import stage_xlsx
from dashboard.ingest.staged import (
    RefusedFile,
    Staged,
    finish,
    normalise,
    rename_columns,
)
from dashboard.sql import quote_ident

# The reading interface the rest of ingest uses (the types come from `staged`).
__all__ = [
    "SUPPORTED",
    "RefusedFile",
    "Staged",
    "apply_mapping",
    "drop_extra_header_rows",
    "glob_matches",
    "normalise",
    "stage",
]

SUPPORTED = {".csv", ".tsv", ".txt", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm"}


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    try:
        described = con.sql("DESCRIBE SELECT * FROM read_parquet(?)", params=[str(path)]).fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise RefusedFile(f"{path.name} could not be read as Parquet: {first}") from exc
    headers = [r[0] for r in described]
    casts = ", ".join(f"CAST({quote_ident(n)} AS VARCHAR) AS {quote_ident(n)}" for n in headers)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
        f"CAST(file_row_number + 1 AS BIGINT) AS __row, {casts} "
        f"FROM read_parquet(?, file_row_number = true)",
        [str(path)],
    )
    return finish(con, table, headers, [])


def drop_extra_header_rows(
    con: duckdb.DuckDBPyConnection, staged: Staged, header_rows: int
) -> Staged:
    """Multi-row headers (SurveyMonkey 2, Qualtrics 3): row 1 names the columns, the
    other header rows are not data; renumber so `__row` stays the data row number."""
    extra = header_rows - 1
    if extra <= 0:
        return staged
    con.execute(f"DELETE FROM {staged.table} WHERE __row <= {extra}")
    con.execute(f"UPDATE {staged.table} SET __row = __row - {extra}")
    for r in staged.rejects:
        r.row_number -= extra
    staged.rows = max(staged.rows - extra, 0)
    return staged


def glob_matches(pattern: str, path: Path) -> bool:
    """Case-insensitive glob on the file name; a pattern with a `/` is matched
    against the end of the full path instead (`exports/helpdesk_*.csv`)."""
    pat = pattern.lower()
    if "/" not in pat:
        return fnmatchcase(path.name.lower(), pat)
    full = path.resolve().as_posix().lower()
    return fnmatchcase(full, pat) or fnmatchcase(full, "*/" + pat.lstrip("/"))


def apply_mapping(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    path: Path,
    mapping: Mapping[str, Mapping[str, str]],
) -> Staged:
    """Apply `[mapping."<glob>"]` tables from inward.toml: rename staged columns
    (file header → canonical name) before detection, so a house export whose
    headers no alias table knows loads like a generic one.

    Headers and targets are compared after `normalise` ("Opened On" = opened_on).
    Every pattern matching the file applies, in config order, later ones winning
    for the same header. A column that already carries a target's name is moved
    aside to `<name>_unmapped` so the mapped column feeds the canonical one. Two
    headers mapped to one name is a configuration mistake and refuses the file.
    The renames (and keys not found in the file) go into `staged.notes`, so the
    ingest message shows what the mapping did.
    """
    patterns = [p for p in mapping if glob_matches(p, path)]
    if not patterns:
        return staged
    wanted: dict[str, str] = {}
    for p in patterns:
        for header, target in mapping[p].items():
            wanted[normalise(header)] = normalise(target)
    header_of = dict(zip(staged.columns, staged.headers, strict=True))
    renames = {c: wanted[c] for c in staged.columns if c in wanted and wanted[c] != c}
    targets = Counter(renames.values())
    for target, n in targets.items():
        if n > 1:
            sources = [header_of[c] for c, t in renames.items() if t == target]
            raise RefusedFile(
                f"{path.name}: [mapping] ({', '.join(patterns)}) maps {' and '.join(sources)} "
                f"all to {target}; map one header per column"
            )
    taken = set(staged.columns) | set(targets)
    for c in staged.columns:
        if c in targets and c not in renames:
            new, k = f"{c}_unmapped", 2
            while new in taken:
                new, k = f"{c}_unmapped_{k}", k + 1
            taken.add(new)
            renames[c] = new
    rename_columns(con, staged.table, renames)
    staged.columns = [renames.get(c, c) for c in staged.columns]
    done = [f"{header_of[c]} → {t}" for c, t in renames.items() if t in targets]
    missing = [h for h in wanted if h not in header_of]
    note = f"mapping {', '.join(patterns)}: " + (", ".join(done) or "nothing renamed")
    if missing:
        note += f" (not in this file: {', '.join(missing)})"
    staged.notes.append(note)
    return staged


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, table: str = "stg", header_rows: int = 1
) -> Staged:
    """Stage `path` into temp table `table` with `__row` (1-based data row) + text columns.

    `header_rows` > 1 is for survey exports whose header spans several rows.
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        staged = stage_xlsx(con, path, table)
    elif suffix == ".parquet":
        staged = _stage_parquet(con, path, table)
    elif suffix in {".json", ".jsonl", ".ndjson"}:
        staged = stage_json(con, path, table)
    else:
        staged = stage_csv(con, path, table)
    return drop_extra_header_rows(con, staged, header_rows)
