"""Load one file: stage → detect → canonicalise → shape → one transaction.

Guarantees (CONTRACT): every data row read is loaded or lands in
`rejected_rows` with a reason; `rows_read = rows_loaded + rows_rejected`; a file
whose sha256 was loaded before is recorded `unchanged` and changes nothing; a
refused file or a failure mid-load rolls back, leaving every table but
`ingests` (which records the refusal) exactly as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from dashboard.ingest import canonical, detect, shape
from dashboard.ingest.read import (
    SUPPORTED,
    RefusedFile,
    Staged,
    drop_extra_header_rows,
    quote_ident,
    stage,
    unique_names,
)

UPSERT = {
    "tickets": (
        "tickets",
        "ON CONFLICT (source, ticket_id) DO UPDATE SET {sets} "
        "WHERE tickets.updated_at IS NULL OR excluded.updated_at IS NULL "
        "OR excluded.updated_at >= tickets.updated_at",
    ),
    "surveys": (
        "survey_responses",
        "ON CONFLICT (source, response_id, metric) DO UPDATE SET {sets}",
    ),
    "outcomes": (
        "external_outcomes",
        "ON CONFLICT (period_start, business_unit, metric) DO UPDATE SET {sets}",
    ),
    "people": ("people", "ON CONFLICT (person_id) DO UPDATE SET {sets}"),
    "org": ("org", "ON CONFLICT (department) DO UPDATE SET {sets}"),
}
KEYS = {
    "tickets": {"source", "ticket_id"},
    "surveys": {"source", "response_id", "metric"},
    "outcomes": {"period_start", "business_unit", "metric"},
    "people": {"person_id"},
    "org": {"department"},
}


@dataclass
class IngestResult:
    """One `ingests` row."""

    ingest_id: int
    source_file: str
    sha256: str
    format: str
    kind: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime
    status: str
    message: str

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat()
        return d

    def summary(self) -> str:
        """One readable line for the CLI."""
        name = Path(self.source_file).name
        if self.status == "loaded":
            return (
                f"{name}: loaded {self.rows_loaded:,} of {self.rows_read:,} rows as "
                f"{self.kind} ({self.format}); {self.rows_rejected:,} rejected"
            )
        return f"{name}: {self.status}: {self.message}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _record(con: duckdb.DuckDBPyConnection, r: IngestResult) -> None:
    con.execute(
        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            r.ingest_id,
            r.source_file,
            r.sha256,
            r.format,
            r.kind,
            r.rows_read,
            r.rows_loaded,
            r.rows_rejected,
            r.started_at,
            r.finished_at,
            r.status,
            r.message,
        ],
    )


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.sql("SELECT nextval('ingest_seq')").fetchall()[0][0]


def _shape(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    canon: canonical.Canonical,
    kind: str,
    source: str,
    path: Path,
) -> str:
    if kind == "tickets":
        return shape.tickets(con, canon, source)
    if kind == "surveys":
        return shape.surveys(con, canon, source, path.stem)
    if kind == "outcomes":
        return shape.outcomes(con, canon, path.name, staged.columns)
    if kind == "people":
        return shape.simple(
            con, canon, "person_id", "person_id, department, person_type, active_from, active_to"
        )
    return shape.simple(con, canon, "department", "department, business_unit")


def _write(con: duckdb.DuckDBPyConnection, kind: str, select: str, ingest_id: int) -> None:
    table, conflict = UPSERT[kind]
    con.execute(f"CREATE OR REPLACE TEMP TABLE ready AS {select}")
    cols = [r[0] for r in con.sql("DESCRIBE ready").fetchall()]
    sets = ", ".join(f"{c} = excluded.{c}" for c in [*cols, "ingest_id"] if c not in KEYS[kind])
    con.execute(
        f"INSERT INTO {table} ({', '.join(cols)}, ingest_id) "
        f"SELECT *, {ingest_id} FROM ready " + conflict.format(sets=sets)
    )


def _reject(
    con: duckdb.DuckDBPyConnection, staged: Staged, ingest_id: int, source_file: str
) -> int:
    """Copy rejected rows (validation and parse failures) into rejected_rows."""
    raw = (
        "to_json({"
        + ", ".join(
            f"{canonical._lit(h)}: s.{quote_ident(c)}"
            # keys must be unique: a header repeated in the file gets a _2, _3 suffix
            for h, c in zip(unique_names(staged.headers), staged.columns, strict=True)
        )
        + "})"
    )
    con.execute(
        f"""INSERT INTO rejected_rows
        SELECT {ingest_id}, ?, sh.__row, sh.__final_reason, CAST({raw} AS VARCHAR)
        FROM shaped sh JOIN {staged.table} s USING (__row)
        WHERE sh.__final_reason IS NOT NULL""",
        [source_file],
    )
    if staged.rejects:
        con.executemany(
            "INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?)",
            [[ingest_id, source_file, r.row_number, r.reason, r.raw] for r in staged.rejects],
        )
    n = con.sql("SELECT count(*) FROM shaped WHERE __final_reason IS NOT NULL").fetchall()[0][0]
    return n + len(staged.rejects)


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str | None = None,
    fmt: str = "auto",
    timezone: str = "UTC",
    fail_after_write: bool = False,
) -> IngestResult:
    """Load one file in one transaction. `fail_after_write` exists for the crash test:
    it raises after the data is written but before commit."""
    path = Path(path)
    started = datetime.now(UTC)
    source_file = str(path.resolve())
    digest = sha256_of(path) if path.is_file() else ""
    result = IngestResult(
        0, source_file, digest, fmt, kind or "", 0, 0, 0, started, started, "refused", ""
    )
    if digest:
        seen = con.sql(
            "SELECT ingest_id, format, kind FROM ingests "
            "WHERE sha256 = ? AND status = 'loaded' ORDER BY ingest_id LIMIT 1",
            params=[digest],
        ).fetchall()
        if seen:
            result.format, result.kind = seen[0][1], seen[0][2]
            result.status = "unchanged"
            result.message = f"same content as ingest {seen[0][0]}; nothing changed"
            return _finish_outside(con, result)
    try:
        if not path.is_file():
            raise RefusedFile(f"{path} does not exist or is not a file")
        if path.suffix.lower() not in SUPPORTED:
            raise RefusedFile(
                f"{path.name}: unsupported file type {path.suffix!r} "
                f"(supported: {', '.join(sorted(SUPPORTED))})"
            )
        con.execute("BEGIN TRANSACTION")
        try:
            staged = stage(con, path)
            adapter = detect.choose(staged.columns, kind, fmt, path.name)
            result.format, result.kind = adapter.name, adapter.kind
            if adapter.header_rows > 1:
                staged = drop_extra_header_rows(con, staged, adapter.header_rows)
            if adapter.prepare is not None:
                staged = adapter.prepare(con, staged)
            canon = canonical.build(con, staged, adapter, adapter.kind, timezone)
            select = _shape(con, staged, canon, adapter.kind, adapter.source, path)
            result.ingest_id = _next_id(con)
            result.rows_read = staged.rows + len(staged.rejects)
            result.rows_rejected = _reject(con, staged, result.ingest_id, source_file)
            result.rows_loaded = result.rows_read - result.rows_rejected
            _write(con, adapter.kind, select, result.ingest_id)
            if fail_after_write:
                raise RuntimeError("injected failure after write (test)")
            result.status = "loaded"
            result.message = (
                f"detected {adapter.name} {adapter.kind}"
                + "".join(f"; {n}" for n in staged.notes)
                + (
                    f"; {result.rows_rejected} rows rejected, see rejected_rows"
                    if result.rows_rejected
                    else ""
                )
            )
            result.finished_at = datetime.now(UTC)
            _record(con, result)
            con.execute("COMMIT")
            return result
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except RefusedFile as exc:
        result.message = str(exc)
    except Exception as exc:  # a crash mid-file is recorded, never half-applied
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        result.message = f"{path.name}: failed and rolled back: {first}"
    result.rows_read = result.rows_loaded = result.rows_rejected = 0
    result.status = "refused"
    return _finish_outside(con, result)


def _finish_outside(con: duckdb.DuckDBPyConnection, result: IngestResult) -> IngestResult:
    """Record an `unchanged` or `refused` ingest in its own small transaction."""
    result.ingest_id = _next_id(con)
    result.finished_at = datetime.now(UTC)
    _record(con, result)
    return result
