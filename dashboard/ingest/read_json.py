"""JSON (an array, an object holding one, or saved API pages) and JSON lines, staged as
one text column per top-level key, streamed so a large export stays within the cap."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa

from dashboard.ingest.staged import (
    RefusedFile,
    Staged,
    finish,
)
from dashboard.sql import quote_literal

# Record sizes tried in turn: DuckDB's JSON reader holds buffers sized by the largest
# record it allows, per thread, so allowing 128 MiB up front costs ~1 GiB of the ingest
# cap whatever the file holds; the larger size is only used when a record needs it.
JSON_RECORD_SIZES = (16 << 20, 128 << 20)


def _json_pointer(key: str) -> str:
    """RFC 6901 pointer to a top-level key (any characters, `~` and `/` escaped)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _json_source(size: int) -> str:
    return f"read_json_objects(?, format = 'auto', maximum_object_size = {size})"


def _json_shapes(
    con: duckdb.DuckDBPyConnection, path: Path
) -> tuple[str, list[tuple[list[str]]], list[tuple[str, list[str]]]]:
    """The reader for `path` (the smallest record size that fits), the first record's
    keys, and every distinct (JSON type, keys) of its records.

    Read on a cursor, which has its own transaction: a record too big for a size
    aborts only that probe, not the file's transaction."""
    with con.cursor() as cursor:
        for size in JSON_RECORD_SIZES:
            source = _json_source(size)
            try:
                first = cursor.sql(
                    f"SELECT json_keys(json) FROM {source} LIMIT 1", params=[str(path)]
                ).fetchall()
                shapes = cursor.sql(
                    f"SELECT DISTINCT json_type(json), json_keys(json) FROM {source}",
                    params=[str(path)],
                ).fetchall()
                return source, first, shapes
            except duckdb.Error as exc:
                if "maximum_object_size" in str(exc) and size != JSON_RECORD_SIZES[-1]:
                    continue
                first_line = str(exc).strip().splitlines()[0]
                raise RefusedFile(f"{path.name} could not be read as JSON: {first_line}") from exc
    raise AssertionError("unreachable: the last size returns or raises")


JSON_LINES = {".jsonl", ".ndjson"}
_JSON_BATCH_CHARS = 8 << 20  # text staged per insert from a JSON-lines file


def _json_text(value: object) -> str | None:
    """A JSON value as staged text: a string as is, null as NULL, anything else
    (number, boolean, object, list) as its compact JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stage_json_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    """JSONL/NDJSON: one staged row per non-blank line, one text column per top-level
    key of any line (first seen first), read a line at a time and inserted in batches
    of `_JSON_BATCH_CHARS`, so memory is bounded by the batch, not the file.

    DuckDB's readers are not bounded here: `read_json_auto` typed the whole file into
    nested structs and turned them back into text (a 320 MB JSONL of Zendesk audit
    pages ran out of the 1.5 GiB ingest cap), and even `read_json_objects` grows with
    the file (a 45 MB file needed over 128 MB). Not guessing types also keeps values
    as written (`"2025-05-01T00:06:39Z"` stays that text)."""
    keys: dict[str, str] = {}  # key → staged column c1, c2… (DuckDB names ignore case)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (__row BIGINT)")
    batch: list[dict[str, object]] = []
    numbers: list[int] = []
    chars = 0

    def flush() -> None:
        if not batch:
            return
        cols = list(keys.items())
        arrow = pa.table(
            [pa.array(numbers, pa.int64())]
            + [pa.array([_json_text(r.get(k)) for r in batch], pa.string()) for k, _ in cols],
            names=["__row", *(c for _, c in cols)],
        )
        con.register("inward_chunk", arrow)
        try:
            names = ", ".join(["__row", *(c for _, c in cols)])
            con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM inward_chunk")
        finally:
            con.unregister("inward_chunk")
        batch.clear()
        numbers.clear()

    row = 0
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            row += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RefusedFile(
                    f"{path.name} could not be read as JSON lines: record {row}: {exc}"
                ) from exc
            if not isinstance(record, dict):
                raise RefusedFile(
                    f"{path.name}: every line must be a JSON object; record {row} is "
                    f"{type(record).__name__}"
                )
            for k in record:
                if k not in keys:
                    keys[k] = f"c{len(keys) + 1}"
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {keys[k]} VARCHAR")
            batch.append(record)
            numbers.append(row)
            chars += len(line)
            if chars >= _JSON_BATCH_CHARS:
                flush()
                chars = 0
        flush()
    if not row:
        raise RefusedFile(f"{path.name} holds no JSON records")
    if not keys:
        raise RefusedFile(f"{path.name}: its JSON records have no fields")
    return finish(con, table, list(keys), [])


def stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    """JSON: one staged row per record (an element of a top-level array, or the one
    document), one text column per top-level key of any record; JSON lines go to
    `_stage_json_lines`.

    DuckDB hands over each record as raw JSON text and every value is taken from it
    as text in one pass (a string as is, a number or boolean as JSON, an object or
    list as JSON text, null as NULL) rather than `read_json_auto` typing the file
    into nested structs and printing them back (a TIMESTAMPTZ re-printed, not the
    file's text).
    """
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    if path.suffix.lower() in JSON_LINES:
        return _stage_json_lines(con, path, table)
    source, first, shapes = _json_shapes(con, path)
    params = [str(path)]
    if not first:
        raise RefusedFile(f"{path.name} holds no JSON records")
    if other := sorted({t for t, _ in shapes if t != "OBJECT"}):
        raise RefusedFile(
            f"{path.name}: every record must be a JSON object (one per line, or a list of "
            f"objects); found {', '.join(t.lower() for t in other)} values"
        )
    # the first record's keys in its order, then keys only later records have
    headers = list(dict.fromkeys([*first[0][0], *(k for _, ks in sorted(shapes) for k in ks)]))
    if not headers:
        raise RefusedFile(f"{path.name}: its JSON records have no fields")
    pointers = "[" + ", ".join(quote_literal(_json_pointer(k)) for k in headers) + "]"
    values = ", ".join(f"v[{i}] AS c{i}" for i in range(1, len(headers) + 1))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT CAST(NULL AS BIGINT) AS __row, "
        f"{values} FROM (SELECT json_extract_string(json, {pointers}) AS v FROM {source})",
        params,
    )
    # file order, numbered after a parallel scan as in `_read_duckdb`
    con.execute(f"UPDATE {table} SET __row = rowid - (SELECT min(rowid) FROM {table}) + 1")
    return finish(con, table, headers, [])
