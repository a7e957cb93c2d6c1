"""Read any supported file into a staging table of text columns.

Everything is staged as VARCHAR so that one typed validation step (see
`canonical.py`) decides what is a good value and explains what is not; a reader
that guessed types would drop or coerce values silently.

CSV parsing is DuckDB's (fast, parallel), but the dialect is ours: the encoding
(UTF-8, UTF-8 with BOM, UTF-16 with or without BOM, else cp1252), the delimiter
and the header are decided from a sample parsed with Python's `csv` module and
then passed to DuckDB explicitly. DuckDB's own sniffer, with `store_rejects` on,
can be talked into a different column count by a single ragged row; the header
record decides the column count here, never the data.

Rows that do not fit the header (too many or too few fields, broken quoting) are
captured with `store_rejects`. DuckDB numbers its surviving rows without the
rejected ones, so when any exist the file is read again on an exact path
(`csv` module streamed to Arrow in chunks) that numbers every record itself:
`rejected_rows.row_number` is then the true data row for parse rejects and for
later validation rejects alike. The exact path only runs for files that have
parse rejects, so clean files keep DuckDB's speed.

Why one file of ~700 lines: the fast DuckDB path and the exact path must agree
row for row (row numbers, encodings, dialects); they stay side by side so a
change to one is seen against the other.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from dashboard.sql import quote_ident, quote_literal

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
    # What an adapter's `prepare` decided (e.g. which survey question became csat),
    # appended to the ingest message so the choice is visible, not silent.
    notes: list[str] = field(default_factory=list)
    # Ticket history a ticket adapter's `prepare` kept aside (event logs, issue JSON
    # with a changelog): a temp table with the `events` kind's columns, loaded into
    # ticket_events for the tickets this file loads (see load._write_history).
    events: str | None = None
    # The CSV delimiter (None for other formats): `;` is what Excel writes where the
    # decimal mark is a comma, a prior for reading the file's numbers.
    delimiter: str | None = None


def normalise(name: str) -> str:
    """Column name → snake_case ascii-ish key used by alias tables."""
    name = name.replace("\ufeff", "").strip().lower()
    name = re.sub(r"[^0-9a-z\u00c0-\u024f]+", "_", name)
    return name.strip("_") or "column"


def unique_names(names: list[str]) -> list[str]:
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


def _finish(
    con: duckdb.DuckDBPyConnection,
    table: str,
    headers: list[str],
    rejects: list[ParseReject],
    encoding: str = "utf-8",
) -> Staged:
    columns = unique_names([normalise(h) for h in headers])
    current = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()][1:]
    _rename(con, table, {o: n for o, n in zip(current, columns, strict=True) if o != n})
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return Staged(table, headers, columns, rows, rejects, encoding)


def _rename(con: duckdb.DuckDBPyConnection, table: str, renames: dict[str, str]) -> None:
    """Rename columns of a staged table in two steps: DuckDB names are
    case-insensitive, so renaming `Id` to `id` next to an `ID`, or swapping two
    names, would otherwise collide half-way."""
    for i, old in enumerate(renames):
        con.execute(f"ALTER TABLE {table} RENAME COLUMN {quote_ident(old)} TO __inward_tmp_{i}")
    for i, new in enumerate(renames.values()):
        con.execute(f"ALTER TABLE {table} RENAME COLUMN __inward_tmp_{i} TO {quote_ident(new)}")


# Byte values that never occur in text exports (everything below 0x20 except
# tab, newline, vertical tab, form feed, carriage return and DOS end-of-file).
_CONTROL_BYTES = bytes(b for b in range(1, 32) if b not in (9, 10, 11, 12, 13, 26))
_SNIFF_CHARS = 1 << 20  # how much text decides the delimiter and header
_SNIFF_RECORDS = 2000
_PREAMBLE_RECORDS = 20  # title lines tolerated above the header
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK_ROWS = 65_536  # rows per Arrow batch on the exact path (bounded memory)


def _binary_message(path: Path, head: bytes) -> str:
    what = "binary data"
    if head.startswith(b"PK\x03\x04"):
        what = "an Excel workbook or zip archive (rename it to .xlsx if it is a workbook)"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an old Excel .xls workbook (save it as .xlsx or CSV)"
    elif head.startswith(b"%PDF"):
        what = "a PDF document"
    return f"{path.name} is not a text CSV file: it looks like {what}"


def _sniff_encoding(path: Path) -> str:
    """'utf-8', 'utf-16' (BOM), 'utf-16-le'/'utf-16-be' (no BOM) or 'cp1252'.

    UTF-8 (with or without BOM) is checked strictly over the whole file: a file
    that is valid UTF-8 to the last byte is read as such, anything else as cp1252
    (what Excel writes on Western Windows), which decodes every byte so no row is
    lost to an encoding error. Binary content (NUL or control bytes that are not
    UTF-16) is refused here with a readable reason, rather than reaching DuckDB's
    sniffer and failing with an error about a temporary file.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head:
            # Mostly-ASCII UTF-16 without BOM: every other byte is NUL.
            zeros_even, zeros_odd = head[0::2].count(0), head[1::2].count(0)
            if zeros_odd > len(head) // 4 and zeros_even * 10 < zeros_odd:
                return "utf-16-le"
            if zeros_even > len(head) // 4 and zeros_odd * 10 < zeros_even:
                return "utf-16-be"
            raise RefusedFile(_binary_message(path, head))
        controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
        if controls > max(8, len(head) // 200):
            raise RefusedFile(_binary_message(path, head))
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


def _transcode_per_line(path: Path, tmpdir: Path) -> tuple[Path, str | None]:
    """Rewrite a file that is not UTF-8 as a whole, deciding per line: UTF-8 where the
    line is valid UTF-8, else cp1252. Files appended to by several tools mix both, and
    reading it all as cp1252 turns every UTF-8 line's `é` into `Ã©` without a word.
    Returns the new file and, when both kinds of line were found, the note to show."""
    out = tmpdir / (path.stem + ".utf8" + path.suffix)
    legacy = utf8_accented = 0
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        tail = b""
        while True:
            block = src.read(1 << 20)
            data = tail + block
            # a chunk cut at a line break never splits a character
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1 if block else len(data)
            data, tail = data[:cut], data[cut:]
            try:
                dst.write(data.decode("utf-8"))
                utf8_accented += not data.isascii()
            except UnicodeDecodeError:
                for line in data.splitlines(keepends=True):
                    try:
                        dst.write(line.decode("utf-8"))
                        utf8_accented += not line.isascii()
                    except UnicodeDecodeError:
                        dst.write(line.decode("cp1252", errors="replace"))
                        legacy += 1
            if not block:
                break
    note = None
    if legacy and utf8_accented:
        note = (
            f"mixed encodings: {legacy:,} lines were not UTF-8 and were read as cp1252 "
            "(Windows), the others as UTF-8"
        )
    return out, note


@dataclass
class Dialect:
    """How a CSV is laid out, decided from its first megabyte."""

    delimiter: str
    headers: list[str]  # the header record, as in the file
    preamble: int = 0  # non-blank records (title lines) above the header


def _csv_records(fh: io.TextIOBase, delimiter: str) -> Iterator[list[str]]:
    """Non-blank records of RFC 4180 CSV (quote `"`, doubled to escape).

    `strict=False` so broken quoting never raises: the record comes back with
    whatever fields it has and the field-count check decides. Blank lines are not
    records, as in DuckDB's reader, so both paths number rows the same way.
    """
    csv.field_size_limit(2**31 - 1)  # a huge field is a value to judge, not a crash
    for rec in csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=False):
        if rec:
            yield rec


def sniff_dialect(path: Path, name: str | None = None) -> Dialect:
    """Delimiter and header of a UTF-8 CSV (`name`: the file's name, for messages).

    Every candidate delimiter parses the sample; the winner is the one whose header
    record has as many fields as most records (the modal width), then the most
    consistent, then the widest. A ragged row can only lower a candidate's
    consistency, it never sets the column count: that is the header's width. A
    one-field first record above wider records is taken as a title line
    ("Report: tickets") and skipped, up to a handful of them.
    """
    name = name or path.name
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        text = fh.read(_SNIFF_CHARS)
        if len(text) == _SNIFF_CHARS:  # cut mid-record: drop the partial last line
            cut = max(text.rfind("\n"), text.rfind("\r"))
            text = text[:cut] if cut > 0 else text
    order = _DELIMITERS if path.suffix.lower() == ".csv" else ("\t", *_DELIMITERS[:2], "|")
    best: tuple[tuple[bool, float, int, int], Dialect] | None = None
    for rank, delim in enumerate(order):
        recs: list[list[str]] = []
        for rec in _csv_records(io.StringIO(text, newline=""), delim):
            recs.append(rec)
            if len(recs) >= _SNIFF_RECORDS:
                break
        if not recs:
            continue
        widths = Counter(len(r) for r in recs)
        top = max(widths.values())
        width = next(len(r) for r in recs if widths[len(r)] == top)  # first modal width
        if width < 2 and len(recs[0]) < 2:
            continue
        preamble = 0
        if len(recs[0]) == 1 and width > 1:
            preamble = next(
                (i for i, r in enumerate(recs[:_PREAMBLE_RECORDS]) if len(r) == width), 0
            )
        header = list(recs[preamble])
        # "a,b,c," over rows "1,2,3": a trailing delimiter on the header line only
        # must not make every data row one column short.
        while len(header) > max(width, 1) and not header[-1].strip():
            header.pop()
        score = (len(header) == width, top / len(recs), len(header), -rank)
        if best is None or score > best[0]:
            best = (score, Dialect(delim, header, preamble))
    if best is None:
        if not text.strip():
            raise RefusedFile(f"{name} has no header row (only blank lines)")
        first = next(_csv_records(io.StringIO(text, newline=""), order[0]), [""])
        return Dialect(order[0], first)
    return best[1]


def _read_duckdb(
    con: duckdb.DuckDBPyConnection, src: Path, dialect: Dialect, columns: list[str], table: str
) -> bool:
    """The fast path: DuckDB reads with our dialect and column list. Returns False
    when some record did not fit (the caller then takes the exact path).

    A DuckDB error is not retried on the exact path: it aborts the file's
    transaction, so the caller refuses the file with DuckDB's first line."""
    struct = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    try:
        # `__row` from rowid after a parallel scan, not `row_number() OVER ()`, which
        # runs the scan on one thread (7.2 s vs 5.1 s at 5M rows). Both rely on the
        # same thing, DuckDB's insertion-order preservation (on by default);
        # checked on 5M rows with spilling, inside a transaction: rowid order is
        # file order. Rows written in an open transaction number from a large
        # transaction-local base, hence the `min(rowid)`.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
            f"CAST(NULL AS BIGINT) AS __row, * FROM read_csv(?, "
            f"delim = {quote_literal(dialect.delimiter)}, quote = '\"', escape = '\"', "
            f"header = true, auto_detect = false, columns = {struct}, "
            "store_rejects = true, rejects_table = 'inward_rejects', "
            "rejects_scan = 'inward_reject_scans')",
            [str(src)],
        )
        bad = con.sql("SELECT count(*) FROM inward_rejects").fetchall()[0][0]
        if bad == 0:
            con.execute(f"UPDATE {table} SET __row = rowid - (SELECT min(rowid) FROM {table}) + 1")
    finally:
        with contextlib.suppress(duckdb.Error):  # the transaction may be aborted already
            con.execute("DROP TABLE IF EXISTS inward_rejects")
            con.execute("DROP TABLE IF EXISTS inward_reject_scans")
    return bad == 0


def _unparse(rec: list[str], delimiter: str) -> str:
    """A record back as one line of CSV text, for `rejected_rows.raw`."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(rec)
    return out.getvalue()


def _read_exact(
    con: duckdb.DuckDBPyConnection, src: Path, dialect: Dialect, columns: list[str], table: str
) -> list[ParseReject]:
    """The exact path: every record numbered by us, ragged ones returned as rejects.

    Streams the file through the `csv` module in Arrow batches of `_CHUNK_ROWS`
    so memory stays flat however large the file. Extra fields that are all
    empty (a trailing delimiter) are dropped rather than rejecting the row, as
    DuckDB does.
    """
    n = len(columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} "
        f"(__row BIGINT, {', '.join(f'{quote_ident(c)} VARCHAR' for c in columns)})"
    )
    names = ["__row", *(f"c{i}" for i in range(n))]
    insert = (
        f"INSERT INTO {table} SELECT __row, "
        + ", ".join(f"nullif(c{i}, '')" for i in range(n))
        + " FROM inward_chunk"
    )
    rejects: list[ParseReject] = []
    batch: list[list[str]] = []
    numbers: list[int] = []

    def flush() -> None:
        if not batch:
            return
        cols = list(zip(*batch, strict=True))
        arrow = pa.table(
            [pa.array(numbers, pa.int64()), *(pa.array(c, pa.string()) for c in cols)],
            names=names,
        )
        con.register("inward_chunk", arrow)
        try:
            con.execute(insert)
        finally:
            con.unregister("inward_chunk")
        batch.clear()
        numbers.clear()

    row = 0
    try:
        with src.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            records = _csv_records(fh, dialect.delimiter)
            for _ in range(dialect.preamble + 1):
                next(records, None)
            for rec in records:
                row += 1
                if len(rec) != n:
                    if len(rec) > n and not any(f.strip() for f in rec[n:]):
                        rec = rec[:n]
                    else:
                        what = "too many" if len(rec) > n else "missing"
                        rejects.append(
                            ParseReject(
                                row,
                                f"row: {what} columns (expected {n}, found {len(rec)})",
                                _unparse(rec, dialect.delimiter),
                            )
                        )
                        continue
                batch.append(rec)
                numbers.append(row)
                if len(batch) >= _CHUNK_ROWS:
                    flush()
            flush()
    except csv.Error as exc:
        raise RefusedFile(f"could not be read as CSV near data row {row}: {exc}") from exc
    return rejects


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    encoding = _sniff_encoding(path)
    with tempfile.TemporaryDirectory(prefix="inward-") as tmp:
        note = None
        if encoding == "utf-8":
            src = path
        elif encoding == "cp1252":
            src, note = _transcode_per_line(path, Path(tmp))
        else:
            src = _transcode(path, encoding, Path(tmp))
        dialect = sniff_dialect(src, path.name)
        headers = [h.replace("\ufeff", "") for h in dialect.headers]
        columns = unique_names([normalise(h) for h in headers])
        rejects: list[ParseReject] = []
        # Title lines above the header are rare; DuckDB would take them for the header.
        try:
            fits = not dialect.preamble and _read_duckdb(con, src, dialect, columns, table)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise RefusedFile(f"{path.name} could not be read as CSV: {first}") from exc
        if not fits:
            try:
                rejects = _read_exact(con, src, dialect, columns, table)
            except RefusedFile as exc:
                raise RefusedFile(f"{path.name} {exc}") from exc
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return Staged(
        table,
        headers,
        columns,
        rows,
        rejects,
        encoding,
        notes=[note] if note else [],
        delimiter=dialect.delimiter,
    )


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


# A workbook is a zip of XML: 6.5 MB on disk can unpack to 1.9 GB that the reader
# holds in memory. Real exports this large are CSV's job (streamed, not held).
MAX_XLSX_UNPACKED = 512 << 20
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet that Excel itself allows, header included


def _names(names: list[str], most: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _choose_sheet(path: Path) -> tuple[str, list[str]]:
    """The sheet to load, and notes naming every other sheet that holds data.

    Rule: the first visible sheet with a header of two or more columns and data rows
    (else the first such sheet without rows, else the first visible one). Hidden sheets
    (often an older copy, or lookups) are loaded only when no visible sheet has data.
    A workbook is one file, so one sheet is loaded: the others are named, never dropped
    without a word.
    """
    import fastexcel

    reader = fastexcel.read_excel(path)
    if len(reader.sheet_names) == 1:  # nothing to choose: do not parse the sheet twice
        return reader.sheet_names[0], []
    visible: list[str] = []
    shaped: list[tuple[bool, bool, int, str]] = []  # (hidden, no rows, position, name)
    for position, name in enumerate(reader.sheet_names):
        sheet = reader.load_sheet(name, n_rows=1)
        hidden = sheet.visible != "visible"
        if not hidden:
            visible.append(name)
        if sheet.width >= 2:
            shaped.append((hidden, sheet.height == 0, position, name))
    # min() ranks by the rule, then by workbook order
    chosen = min(shaped)[3] if shaped else (visible or reader.sheet_names)[0]
    notes = []
    if len(reader.sheet_names) > 1:
        notes.append(f"sheet {chosen!r} loaded (of {len(reader.sheet_names)})")
    rest = [n for _, empty, _, n in shaped if n != chosen and not empty]
    if others := [n for n in rest if n in visible]:
        notes.append(
            f"other sheets with data not loaded: {_names(others)} (save each as its own "
            "file to load it)"
        )
    if hidden := [n for n in rest if n not in visible]:
        notes.append(f"hidden sheets not loaded: {_names(hidden)}")
    return chosen, notes


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise RefusedFile(f"{path.name} could not be read as an Excel workbook: {exc}") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise RefusedFile(
            f"{path.name} unpacks to {unpacked / (1 << 20):,.0f} MB of XML, over the "
            f"{MAX_XLSX_UNPACKED >> 20} MB an Excel file may hold here; export it as CSV"
        )
    try:
        sheet, notes = _choose_sheet(path)
        frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
    except Exception as exc:  # fastexcel raises many types for broken workbooks
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RefusedFile(f"{path.name} could not be read as an Excel workbook: {first}") from exc
    if frame.height >= EXCEL_MAX_ROWS:
        raise RefusedFile(
            f"{path.name}: sheet {sheet!r} has {frame.height:,} rows, more than Excel allows "
            f"({EXCEL_MAX_ROWS:,}); this is not an Excel export, export it as CSV"
        )
    staged = _stage_frame(con, frame, table)
    staged.notes.extend(notes)
    return staged


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
    return _finish(con, table, list(keys), [])


def _stage_json(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
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
    _rename(con, staged.table, renames)
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
        staged = _stage_xlsx(con, path, table)
    elif suffix == ".parquet":
        staged = _stage_parquet(con, path, table)
    elif suffix in {".json", ".jsonl", ".ndjson"}:
        staged = _stage_json(con, path, table)
    else:
        staged = _stage_csv(con, path, table)
    return drop_extra_header_rows(con, staged, header_rows)
