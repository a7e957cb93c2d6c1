"""The analyst mart: analyst SQL runs on a database that never holds what its viewer
may not see.

Why a separate database and not a filter on the warehouse connection
--------------------------------------------------------------------
Analyst SQL is untrusted text. On a connection to the warehouse file, temp views
shadow `tickets`, but `"inward".main.tickets`, `query_table('tickets')`,
`query('SELECT …')`, `duckdb_views()` (view text), `information_schema`, or a
table function nobody thought of yet all reach past them; an allow-list over
DuckDB's parse tree would have to know every one of those, in every DuckDB
release, forever. A mart turns "the SQL must not name X" into "X is not there":
a DuckDB file built from the viewer's scoped connection (`dashboard.scoped`),
holding

- every warehouse table with only the in-scope rows, person ids replaced by
  their keyed pseudonyms (unless the scope has `raw`), `rejected_rows.raw` empty
  without `raw`;
- the warehouse's views (e.g. `ticket_times`) and macros (`utc`), recreated from
  the warehouse's own definitions so analysts' SQL reads the same names;
- survey data *only* as published numbers without `raw`: `survey_cells` (every
  month × every grouping of team, department and requester type, with the same
  suppression as `inward surveys`) and `survey_comments` (comments of groups that
  are shown, cut to the month, contacts masked). `survey_responses` itself — one
  row per person's answer — exists only for `raw` scopes.

Whatever the SQL says, it can only find those rows: the mart has no other
catalog, no key (pseudonyms are finished strings, and the HMAC key stays in the
warehouse's key file), and the sandbox opens it read-only with external access
off, so the warehouse file is not reachable either (`read_blob` of any file but
the mart's own is refused, and the mart's own bytes are the mart).

Marts are cached as files beside the warehouse (`.<warehouse>.marts/`, mode 0700),
named by a digest of the scope's rows, the warehouse version, the definitions, the
anonymity threshold and the key; a new ingest or config means a new mart on the
next query, old ones are removed. Building costs one scan of each table (plus
the survey lattice); every query after that opens the mart in ~10 ms.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import duckdb

from dashboard import pseudonyms, scoped, warehouse
from dashboard.access import Scope
from dashboard.config import Config

MART_VERSION = "1"  # bump when what a mart contains changes
KEEP_MARTS = 6  # per warehouse: enough for a few scopes in use at once
ID_COLUMNS = ("requester_id", "respondent_id", "person_id")
# person-level by nature: only raw scopes get them (and the views over them)
RAW_ONLY = ("survey_responses", "requester_identities")
_BATCH = 250_000

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def mart_dir(db: str | os.PathLike[str]) -> Path:
    p = Path(db).resolve()
    return p.with_name(f".{p.name}.marts")


def mart_path(db: str | os.PathLike[str], scope: Scope, min_group: int) -> Path:
    """Where the mart of (warehouse version, scope, config) lives; it may not exist yet."""
    key_id = "raw" if scope.raw else pseudonyms.pseudonym(pseudonyms.load_key(db), "mart-key")
    parts = (
        MART_VERSION,
        scope.key,
        warehouse.data_version(db),
        warehouse.definitions_hash(),
        str(min_group),
        str(key_id),
    )
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
    return mart_dir(db) / f"{Path(db).stem}-{digest}.duckdb"


def ensure(db: str | os.PathLike[str], scope: Scope, min_group: int) -> Path:
    """The viewer's mart, built first if this warehouse version has none yet;
    `min_group` is the anonymity threshold its survey numbers are published with."""
    path = mart_path(db, scope, min_group)
    if path.is_file():
        return path
    with _locks_guard:
        lock = _locks.setdefault(path, threading.Lock())
    with lock:
        if not path.is_file():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                _build(Path(db), scope, Config(anonymity_min_group=min_group), tmp)
                os.chmod(tmp, 0o600)
                os.replace(tmp, path)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    leftover.unlink(missing_ok=True)
            _prune(path)
    return path


def _prune(keep: Path) -> None:
    """Drop the oldest marts of this warehouse beyond KEEP_MARTS (open ones stay
    readable: the file is only unlinked)."""
    stem = keep.name.rsplit("-", 1)[0]
    marts = sorted(
        (p for p in keep.parent.glob(f"{stem}-*.duckdb") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in marts[KEEP_MARTS - 1 :]:
        old.unlink(missing_ok=True)


def _id_map(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Pseudonym of every distinct person id, once: HMAC costs microseconds per value,
    so hashing ids rather than rows keeps a 10M-ticket mart build in seconds."""
    sources = [
        f'SELECT "{c}" AS id FROM "{t}"'
        for t in tables
        for c in con.sql(f'SELECT * FROM "{t}" LIMIT 0').columns
        if c in ID_COLUMNS
    ]
    union = " UNION ".join(sources) if sources else "SELECT NULL::VARCHAR AS id"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _inward_id_map AS "
        f"SELECT id, inward_id(id) AS pseudonym FROM ({union}) WHERE id IS NOT NULL"
    )


def _copy_sql(con: duckdb.DuckDBPyConnection, table: str, raw: bool) -> str:
    cols = con.sql(f'SELECT * FROM "{table}" LIMIT 0').columns
    ids = [c for c in cols if c in ID_COLUMNS]
    if raw or not ids:
        return f'SELECT * FROM "{table}"'
    replace = ", ".join(f'm{i}.pseudonym AS "{c}"' for i, c in enumerate(ids))
    joins = " ".join(
        f'LEFT JOIN _inward_id_map m{i} ON m{i}.id = t."{c}"' for i, c in enumerate(ids)
    )
    return f'SELECT t.* REPLACE ({replace}) FROM "{table}" t {joins}'


def _definitions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """CREATE statements of the warehouse's own macros and views, macros first."""
    macros = con.sql(
        "SELECT function_name, parameters, macro_definition FROM duckdb_functions() "
        "WHERE function_type = 'macro' AND database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal ORDER BY function_name"
    ).fetchall()
    views = con.sql(
        "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal AND NOT temporary ORDER BY view_name"
    ).fetchall()
    out = [f"CREATE MACRO {name}({', '.join(params)}) AS {body}" for name, params, body in macros]
    return out + [v[0] for v in views]


def _create_all(
    mart: duckdb.DuckDBPyConnection, definitions: list[str], withheld: tuple[str, ...]
) -> None:
    """Create macros and views in dependency order (a view may read another view);
    a view over a withheld table (e.g. `survey_scores` over `survey_responses`) is
    left out, anything else that cannot be created is an error."""
    pending = definitions
    while pending:
        failed: list[tuple[str, duckdb.Error]] = []
        for sql in pending:
            try:
                mart.execute(sql)
            except duckdb.CatalogException as exc:
                failed.append((sql, exc))
        if len(failed) == len(pending):
            real = [(sql, e) for sql, e in failed if not any(t in str(e) for t in withheld)]
            if real:
                raise real[0][1]
            return
        pending = [sql for sql, _ in failed]


def _build(db: Path, scope: Scope, config: Config, out: Path) -> None:
    from dashboard.metrics.surveys.comments import published_comments
    from dashboard.metrics.surveys.summary import published_cells

    mart = duckdb.connect(str(out))
    try:
        mart.execute("SET enable_progress_bar = false")
        # as long as the sandbox waits for a busy file, not a page's 30 s
        with scoped.reader(db, scope, wait_seconds=5.0) as con:
            tables = [t for t in scoped.base_tables(con) if t != "inward_meta"]
            if not scope.raw:
                tables = [t for t in tables if t not in RAW_ONLY]
                _id_map(con, tables)
            for table in tables:
                rel = con.sql(_copy_sql(con, table, scope.raw))
                mart.from_arrow(rel.to_arrow_reader(_BATCH)).create(table)
            derived = {
                "survey_cells": published_cells(con, config),
                "survey_comments": published_comments(con, config),
            }
            definitions = _definitions(con)
        for name, frame in derived.items():
            mart.from_arrow(frame.to_arrow()).create(name)
        _create_all(mart, definitions, withheld=() if scope.raw else RAW_ONLY)
        mart.execute("CHECKPOINT")
    finally:
        mart.close()
