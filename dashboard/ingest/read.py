"""Read any supported file into a staging table of text columns.

Everything is staged as VARCHAR so that one typed validation step (see
`canonical.py`) decides what is a good value and explains what is not; a reader
that guessed types would drop or coerce values silently.

CSV parsing is DuckDB's (fast, parallel). Rows DuckDB cannot fit to the header
(too many or too few fields) are captured with `store_rejects` and come back as
`ParseReject`s, so they reach `rejected_rows` instead of vanishing.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

SUPPORTED = {".csv", ".tsv", ".txt", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm"}


class RefusedFile(ValueError):
    """The whole file cannot be loaded; the message says why and what to do."""


@dataclass
class ParseReject:
    row_number: int
    reason: str
    raw: str


@dataclass
class Staged:
    """A staged file: table name, original and normalised headers, row count."""

    table: str
    headers: list[str]  # as in the file
    columns: list[str]  # normalised, same order, unique
    rows: int
    rejects: list[ParseReject] = field(default_factory=list)
    encoding: str = "utf-8"


def normalise(name: str) -> str:
    """Column name → snake_case ascii-ish key used by alias tables."""
    name = name.replace("\ufeff", "").strip().lower()
    name = re.sub(r"[^0-9a-z\u00c0-\u024f]+", "_", name)
    return name.strip("_") or "column"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 1
            out.append(n)
    return out


def _sniff_encoding(path: Path) -> str:
    """utf-16 (BOM), utf-8 (strict, incremental over the whole file) or cp1252."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _transcode(path: Path, encoding: str, tmpdir: Path) -> Path:
    """Rewrite a non-UTF-8 file as UTF-8 so DuckDB's reader can take it (streamed)."""
    out = tmpdir / (path.stem + ".utf8" + path.suffix)
    with (
        path.open("r", encoding=encoding, errors="replace", newline="") as src,
        out.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return out


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _finish(
    con: duckdb.DuckDBPyConnection,
    table: str,
    headers: list[str],
    rejects: list[ParseReject],
    encoding: str = "utf-8",
) -> Staged:
    columns = _unique([normalise(h) for h in headers])
    current = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    for old, new in zip(current, columns, strict=True):
        if old != new:
            con.execute(
                f"ALTER TABLE {table} RENAME COLUMN {quote_ident(old)} TO {quote_ident(new)}"
            )
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return Staged(table, headers, columns, rows, rejects, encoding)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    encoding = _sniff_encoding(path)
    with tempfile.TemporaryDirectory(prefix="inward-") as tmp:
        src = path
        if encoding == "cp1252":
            src = _transcode(path, encoding, Path(tmp))
        opts = [
            "all_varchar = true",
            "header = true",
            "store_rejects = true",
            "rejects_table = 'inward_rejects'",
            "rejects_scan = 'inward_reject_scans'",
        ]
        if encoding == "utf-16":
            opts.append("encoding = 'utf-16'")
        if path.suffix.lower() == ".tsv":
            opts.append("delim = '\t'")
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
                f"CAST(row_number() OVER () AS BIGINT) AS __row, * "
                f"FROM read_csv(?, {', '.join(opts)})",
                [str(src)],
            )
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise RefusedFile(f"{path.name} could not be read as CSV: {first}") from exc
        headers = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
        rejects = _parse_rejects(con)
    if len(headers) == 1 and headers[0].startswith("column"):
        raise RefusedFile(f"{path.name} has no header row DuckDB could recognise")
    return _finish(con, table, headers, rejects, encoding)


def _parse_rejects(con: duckdb.DuckDBPyConnection) -> list[ParseReject]:
    """Rows the CSV reader could not fit, one per line, with DuckDB's reason."""
    rows = con.sql(
        "SELECT line, any_value(error_type), any_value(csv_line), any_value(error_message) "
        "FROM inward_rejects GROUP BY line ORDER BY line"
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS inward_rejects")
    con.execute("DROP TABLE IF EXISTS inward_reject_scans")
    return [
        ParseReject(int(line) - 1, f"row: {etype.lower()} ({msg})", str(raw or ""))
        for line, etype, raw, msg in rows
    ]


def _stage_frame(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, table: str) -> Staged:
    headers = [str(c) for c in frame.columns]
    text = (
        frame.select(
            pl.col(c).cast(pl.String)
            if frame.schema[c] != pl.Null
            else pl.lit(None, pl.String).alias(c)
            for c in frame.columns
        )
        .with_row_index("__row", offset=1)
        .with_columns(pl.col("__row").cast(pl.Int64))
    )
    arrow = text.to_arrow()
    con.register("inward_frame", arrow)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM inward_frame")
    finally:
        con.unregister("inward_frame")
    return _finish(con, table, headers, [])


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    try:
        frame = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
    except Exception as exc:  # fastexcel raises many types for broken workbooks
        raise RefusedFile(f"{path.name} could not be read as an Excel workbook: {exc}") from exc
    return _stage_frame(con, frame, table)


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE inward_json AS SELECT * FROM read_json_auto(?, "
            "format = 'auto', union_by_name = true, maximum_object_size = 134217728)",
            [str(path)],
        )
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise RefusedFile(f"{path.name} could not be read as JSON: {first}") from exc
    described = con.sql("DESCRIBE inward_json").fetchall()
    headers = [r[0] for r in described]
    casts = ", ".join(
        f"CASE WHEN {quote_ident(n)} IS NULL THEN NULL ELSE "
        + (
            f"CAST({quote_ident(n)} AS VARCHAR)"
            if t == "VARCHAR"
            or ("(" not in t and "[" not in t and not t.startswith(("STRUCT", "MAP")))
            else f"CAST(to_json({quote_ident(n)}) AS VARCHAR)"
        )
        + f" END AS {quote_ident(n)}"
        for n, t, *_ in described
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
        f"CAST(row_number() OVER () AS BIGINT) AS __row, {casts} FROM inward_json"
    )
    con.execute("DROP TABLE inward_json")
    return _finish(con, table, headers, [])


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
    return _finish(con, table, headers, [])


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


def stage(
    con: duckdb.DuckDBPyConnection, path: Path, table: str = "stg", header_rows: int = 1
) -> Staged:
    """Stage `path` into temp table `table` with `__row` (1-based data row) + text columns.

    `header_rows` > 1 is for survey exports whose header spans several rows.
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        staged = _stage_xlsx(con, path, table)
    elif suffix == ".parquet":
        staged = _stage_parquet(con, path, table)
    elif suffix in {".json", ".jsonl", ".ndjson"}:
        staged = _stage_json(con, path, table)
    else:
        staged = _stage_csv(con, path, table)
    return drop_extra_header_rows(con, staged, header_rows)
