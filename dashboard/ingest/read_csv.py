"""CSV/TSV into a staging table of text columns, with our own dialect detection.

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

The fast DuckDB path and the exact path must agree row for row (row numbers,
encodings, dialects); they stay side by side here so a change to one is seen
against the other.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dashboard.ingest.staged import (
    ParseReject,
    RefusedFile,
    Staged,
    normalise,
    unique_names,
)
from dashboard.sql import quote_ident, quote_literal

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


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
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
