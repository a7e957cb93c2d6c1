"""Load one file: stage → detect → canonicalise → shape → one transaction.

Guarantees (CONTRACT): every data row read is loaded or lands in
`rejected_rows` with a reason; `rows_read = rows_loaded + rows_rejected`; a file
whose sha256 was loaded before is recorded `unchanged` and changes nothing; a
refused file or a failure mid-load rolls back, leaving every table but
`ingests` (which records the refusal) exactly as it was.

Why one file of ~570 lines: it is the one transaction per file; every step that
must commit or roll back together is visible in one place.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dashboard import as_of, derive, warehouse
from dashboard.derive import identity
from dashboard.ingest import canonical, detect, shape
from dashboard.ingest.base import Adapter
from dashboard.ingest.mapping_report import record_value_mappings
from dashboard.ingest.read import (
    SUPPORTED,
    RefusedFile,
    Staged,
    apply_mapping,
    drop_extra_header_rows,
    glob_matches,
    stage,
)
from dashboard.ingest.survey_questions import current_overrides
from dashboard.memory import memory_cap
from dashboard.metrics.identity import ingest_note
from dashboard.progress import Phases, Say
from dashboard.sql import quote_ident, quote_literal

UPSERT = {
    "tickets": (
        "tickets",
        # a replaced ticket's business minutes are stale until the next refresh
        "ON CONFLICT (source, ticket_id) DO UPDATE SET {sets}, derived_key = NULL "
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
    options: str = ""  # JSON of `options_key`: kind, format, time zone, mappings asked for
    # who the file's requesters turned out to be (also in `message`); not an ingests column
    identity: str = field(default="", compare=False)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("identity")
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat()
        return d

    def summary(self) -> str:
        """One readable line for the CLI, also when a file name holds a newline."""
        name = Path(self.source_file).name
        if self.status == "loaded":
            return one_line(
                f"{name}: loaded {self.rows_loaded:,} of {self.rows_read:,} rows as "
                f"{self.kind} ({self.format}); {self.rows_rejected:,} rejected"
                + (f"; {self.identity}" if self.identity else "")
            )
        return one_line(f"{name}: {self.status}: {self.message}")


def one_line(text: str) -> str:
    """`text` with control and line-separator characters escaped (`\\n`, `\\r`, `\\x1b`):
    output that promises a line per file keeps that promise whatever the names hold."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        else ch
        for ch in text
    )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _record(con: duckdb.DuckDBPyConnection, r: IngestResult) -> None:
    con.execute(
        "INSERT INTO ingests (ingest_id, source_file, sha256, format, kind, rows_read, "
        "rows_loaded, rows_rejected, started_at, finished_at, status, message, options) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            r.options,
        ],
    )


def options_key(
    path: Path,
    kind: str | None,
    fmt: str,
    timezone: str,
    mapping: Mapping[str, Mapping[str, str]] | None,
) -> dict[str, Any]:
    """Everything besides the bytes that decides what a file loads as: with its sha256,
    the key that makes a re-ingest "unchanged"."""
    return {
        "kind": kind or "auto",
        "format": fmt,
        "timezone": timezone,
        "mapping": {p: dict(m) for p, m in (mapping or {}).items() if glob_matches(p, path)},
        "survey_questions": dict(current_overrides()),
    }


def _same_load(now: dict[str, Any], prior: str | None, kind: str, fmt: str) -> bool:
    """Whether `now` loads the file the way an earlier load (its options, and the kind and
    format it resolved to) did. Naming what auto-detection found counts as the same;
    loads recorded before options were kept are taken as the same, as they were then."""
    if prior is None:
        return True
    before = json.loads(prior)
    return (
        now["kind"] in (before.get("kind"), kind)
        and now["format"] in (before.get("format"), fmt)
        and {k: v for k, v in now.items() if k not in ("kind", "format")}
        == {k: v for k, v in before.items() if k not in ("kind", "format")}
    )


# Tables an ingest writes rows into (all with ingest_id), besides its own bookkeeping.
_BOOKKEEPING = ("ingests", "rejected_rows", "value_mappings")


def _drop_earlier_loads(con: duckdb.DuckDBPyConnection, ingest_ids: list[int]) -> None:
    """Remove the rows earlier loads of the same content wrote, so a reload with
    corrected options replaces them (a wrong --kind leaves nothing behind, a corrected
    --timezone is not refused by the later-update-wins rule)."""
    tables = con.sql(
        "SELECT c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.column_name = 'ingest_id' AND t.table_type = 'BASE TABLE' "
        "AND t.table_schema = 'main' ORDER BY 1"
    ).fetchall()
    for (table,) in tables:
        if table not in _BOOKKEEPING:
            con.execute(
                f"DELETE FROM {quote_ident(table)} WHERE list_contains($ids, ingest_id)",
                {"ids": ingest_ids},
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
    if kind == "events":
        return shape.events(con, canon, source)
    if kind == "people":
        return shape.simple(
            con, canon, "person_id", shape.PEOPLE_SELECT.format(name=shape.full_name(canon))
        )
    return shape.simple(con, canon, "department", "department, business_unit")


def _write(con: duckdb.DuckDBPyConnection, kind: str, select: str, ingest_id: int) -> None:
    """Upsert the shaped rows straight from `select`: no intermediate temp table,
    which at millions of rows cost as much as the insert itself.

    Into an empty table (a first load, the big one) a plain INSERT does the same
    as the upsert — shaping already left one row per key — at 60 % of the cost:
    ON CONFLICT probes the index for every row."""
    if kind == "events":
        _write_events(con, select, ingest_id)
        return
    table, conflict = UPSERT[kind]
    cols = [r[0] for r in con.sql(f"DESCRIBE {select}").fetchall()]
    sets = ", ".join(f"{c} = excluded.{c}" for c in [*cols, "ingest_id"] if c not in KEYS[kind])
    empty = not con.sql(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
    con.execute(
        f"INSERT INTO {table} ({', '.join(cols)}, ingest_id) "
        f"SELECT *, {ingest_id} FROM ({select}) " + ("" if empty else conflict.format(sets=sets))
    )


EVENT_COLUMNS = (
    'source, ticket_id, "at", status, service_team, assignee, kind, actor, vendor_status, '
    "event_key, seq"
)


def _write_events(
    con: duckdb.DuckDBPyConnection, select: str, ingest_id: int, only_tickets_of: int | None = None
) -> int:
    """Add events to ticket_events; an event already stored under the same key
    (source, ticket, event key) is replaced, so overlapping exports add nothing twice.

    `only_tickets_of`: history carried by a tickets file. The ticket rows this
    ingest won (newer than what was stored) get exactly the file's history, every
    older event of theirs replaced; events of tickets it did not win are left out,
    so a ticket's history always comes from the export its row came from."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE ev_new AS SELECT {EVENT_COLUMNS}, "
        f"{ingest_id} AS ingest_id FROM ({select})"
    )
    if only_tickets_of is not None:
        won = f"SELECT source, ticket_id FROM tickets WHERE ingest_id = {only_tickets_of}"
        con.execute(f"DELETE FROM ev_new WHERE (source, ticket_id) NOT IN ({won})")
        con.execute(f"DELETE FROM ticket_events WHERE (source, ticket_id) IN ({won})")
    else:
        con.execute("""DELETE FROM ticket_events t USING ev_new n
            WHERE t.source = n.source AND t.ticket_id = n.ticket_id
              AND t.event_key = n.event_key""")
    con.execute(f"INSERT INTO ticket_events ({EVENT_COLUMNS}, ingest_id) SELECT * FROM ev_new")
    n = con.sql("SELECT count(*) FROM ev_new").fetchall()[0][0]
    con.execute("DROP TABLE ev_new")
    return n


def _write_history(
    con: duckdb.DuckDBPyConnection, staged: Staged, adapter: Adapter, timezone: str, ingest_id: int
) -> str:
    """Load the history a tickets file carried (`staged.events`) through the same
    typed checks as an events file, for the tickets this ingest loaded; returns the
    sentence the ingest message gets about it."""
    assert staged.events is not None
    cols = [r[0] for r in con.sql(f"DESCRIBE {staged.events}").fetchall() if r[0] != "__row"]
    rows = con.sql(f"SELECT count(*) FROM {staged.events}").fetchall()[0][0]
    events_adapter = Adapter(
        name=adapter.name,
        kind="events",
        source=adapter.source,
        aliases={c: (c,) for c in cols} | {"event_at": ("at",), "vendor_status": ("status",)},
        value_maps=adapter.value_maps,
    )
    ev_staged = Staged(staged.events, cols, cols, rows)
    canon = canonical.build(con, ev_staged, events_adapter, "events", timezone, "canon_events")
    bad = con.sql("SELECT count(*) FROM canon_events WHERE __reason IS NOT NULL").fetchall()[0][0]
    kept = _write_events(
        con,
        shape.events(con, canon, adapter.source, "ev_shaped"),
        ingest_id,
        only_tickets_of=ingest_id,
    )
    note = f"history: {kept:,} events kept in ticket_events for the tickets loaded"
    if bad:
        note += f" ({bad:,} event rows without a readable time or ticket left out)"
    return note


def _write_keys(con: duckdb.DuckDBPyConnection, canon: canonical.Canonical, source: str) -> None:
    """Remember the vendor's record key of each loaded ticket (ServiceNow `sys_id`),
    so history exports that name records by that key (sys_audit `documentkey`)
    find their ticket."""
    if "external_key" not in canon.mapped:
        return
    con.execute(f"""INSERT OR REPLACE INTO ticket_keys
        SELECT DISTINCT ON (x_external_key) {quote_literal(source)}, x_external_key, ticket_id
        FROM shaped WHERE __final_reason IS NULL AND x_external_key IS NOT NULL""")


def _json_keys(headers: list[str]) -> list[str]:
    """Headers made unique case-insensitively, for the `raw` JSON of rejected rows."""
    seen: set[str] = set()
    out = []
    for h in headers:
        key, n = h, 1
        while key.lower() in seen:
            n += 1
            key = f"{h}_{n}"
        seen.add(key.lower())
        out.append(key)
    return out


def _reject(
    con: duckdb.DuckDBPyConnection, staged: Staged, ingest_id: int, source_file: str
) -> int:
    """Copy rejected rows (validation and parse failures) into rejected_rows."""
    raw = (
        "to_json({"
        + ", ".join(
            f"{quote_literal(h)}: s.{quote_ident(c)}"
            # keys must be unique (struct names are case-insensitive): a header
            # repeated in the file, in any case, gets a _2, _3 suffix
            for h, c in zip(_json_keys(staged.headers), staged.columns, strict=True)
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
    if staged.rejects:  # via Arrow: executemany takes minutes for a file of ragged rows
        con.register(
            "inward_parse_rejects",
            pa.table(
                {
                    "row_number": pa.array([r.row_number for r in staged.rejects], pa.int64()),
                    "reason": [r.reason for r in staged.rejects],
                    "raw": [r.raw for r in staged.rejects],
                }
            ),
        )
        try:
            con.execute(
                f"INSERT INTO rejected_rows SELECT {ingest_id}, ?, row_number, reason, raw "
                "FROM inward_parse_rejects",
                [source_file],
            )
        finally:
            con.unregister("inward_parse_rejects")
    n = con.sql("SELECT count(*) FROM shaped WHERE __final_reason IS NOT NULL").fetchall()[0][0]
    return n + len(staged.rejects)


@contextmanager
def _file_scope(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Memory cap for one file, and its temp tables and views dropped afterwards,
    so the memory is back before the next file and the derived refresh."""
    objects = (
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary"
    )
    before = set(con.sql(objects).fetchall())
    try:
        with memory_cap(con):
            yield
    finally:
        for kind, name in sorted(set(con.sql(objects).fetchall()) - before, reverse=True):
            con.execute(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str | None = None,
    fmt: str = "auto",
    timezone: str = "UTC",
    fail_after_write: bool = False,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
    folder: Path | None = None,
    say: Say | None = None,
) -> IngestResult:
    """Load one file in one transaction. `fail_after_write` exists for the crash test:
    it raises after the data is written but before commit. `mapping` is the config's
    `[mapping."<glob>"]` tables (see `read.apply_mapping`), applied before detection.
    `folder` is the folder `path` was found in: a file that resolves outside it (a
    symbolic link to `/etc/shadow` in an export folder) is refused unread. `say` gets
    the phase lines of a long load (see `dashboard.progress.Phases`)."""
    phases = Phases(say, Path(path).name)
    with _file_scope(con):
        return _ingest_file(
            con, path, kind, fmt, timezone, fail_after_write, mapping, folder, phases
        )


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str | None = None,
    fmt: str = "auto",
    timezone: str = "UTC",
    fail_after_write: bool = False,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
    folder: Path | None = None,
    phases: Phases | None = None,
) -> IngestResult:
    """`ingest_file` inside its memory scope."""
    phases = phases or Phases(None, "")
    path = Path(path)
    started = datetime.now(UTC)
    escapes = folder is not None and not path.resolve().is_relative_to(folder.resolve())
    source_file = str(path.absolute() if escapes else path.resolve())
    digest = sha256_of(path) if path.is_file() and not escapes else ""
    phases.done("checksum")
    result = IngestResult(
        0, source_file, digest, fmt, kind or "", 0, 0, 0, started, started, "refused", ""
    )
    options = options_key(path, kind, fmt, timezone, mapping)
    result.options = json.dumps(options, sort_keys=True)
    earlier: list[int] = []
    if digest:
        seen = con.sql(
            "SELECT ingest_id, format, kind, options FROM ingests "
            "WHERE sha256 = ? AND status = 'loaded' ORDER BY ingest_id",
            params=[digest],
        ).fetchall()
        for ingest_id, seen_fmt, seen_kind, seen_options in reversed(seen):
            if _same_load(options, seen_options, seen_kind, seen_fmt):
                result.format, result.kind = seen_fmt, seen_kind
                result.status = "unchanged"
                result.message = f"same content as ingest {ingest_id}; nothing changed"
                return _finish_outside(con, result)
        earlier = [row[0] for row in seen]
    try:
        if escapes:
            raise RefusedFile(
                f"{path.name} is a symbolic link to a file outside {folder}; not read "
                "(name the file itself to load it)"
            )
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
            if mapping:
                staged = apply_mapping(con, staged, path, mapping)
            adapter = detect.choose(
                staged.columns,
                kind,
                fmt,
                path.name,
                lambda a: a.accepts is None or a.accepts(con, staged),
            )
            result.format, result.kind = adapter.name, adapter.kind
            if adapter.header_rows > 1:
                staged = drop_extra_header_rows(con, staged, adapter.header_rows)
            if adapter.prepare is not None:
                staged = adapter.prepare(con, staged)
            phases.done(f"read as {adapter.name} {adapter.kind}", staged.rows)
            canon = canonical.build(con, staged, adapter, adapter.kind, timezone)
            phases.done("typed and checked", staged.rows)
            select = _shape(con, staged, canon, adapter.kind, adapter.source, path)
            result.ingest_id = _next_id(con)
            result.rows_read = staged.rows + len(staged.rejects)
            result.rows_rejected = _reject(con, staged, result.ingest_id, source_file)
            record_value_mappings(con, staged, canon, adapter, result.ingest_id)
            result.rows_loaded = result.rows_read - result.rows_rejected
            phases.done(f"shaped: {result.rows_rejected:,} of {result.rows_read:,} rows rejected")
            if adapter.kind in ("tickets", "surveys"):
                identity.register(con, shape.OBSERVED, result.ingest_id)
            if earlier:
                _drop_earlier_loads(con, earlier)
                staged.notes.append(
                    f"replaces ingest {', '.join(map(str, earlier))} (same content, "
                    "loaded with other options)"
                )
            _write(con, adapter.kind, select, result.ingest_id)
            if adapter.kind == "tickets" or earlier:  # which version of an id is newest
                warehouse.mark_superseded(con)
            if adapter.kind == "tickets":
                _write_keys(con, canon, adapter.source)
                as_of.record_newest(con, result.ingest_id)
            if staged.events is not None:
                staged.notes.append(
                    _write_history(con, staged, adapter, timezone, result.ingest_id)
                )
            if adapter.kind == "people":  # requesters already loaded may match now
                identity.resolve(con)
            phases.done("written", result.rows_loaded)
            result.identity = ingest_note(con, adapter.kind, result.ingest_id)
            derive.mark_pending(con)  # committed with the rows: a crash after it is caught up
            if fail_after_write:
                raise RuntimeError("injected failure after write (test)")
            result.status = "loaded"
            result.message = (
                f"detected {adapter.name} {adapter.kind}"
                + (f"; {result.identity}" if result.identity else "")
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
            phases.done("committed")
            return result
        except BaseException:
            warehouse.rollback(con)
            raise
    except RefusedFile as exc:  # one line: the CLI prints it as is
        result.message = " ".join(str(exc).split())
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
