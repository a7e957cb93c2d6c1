"""The DuckDB warehouse: one file, its schema, migrations and derived tables.

Concurrency (measured, see docs/architecture.md): across processes a DuckDB file has
one writer *or* many readers. So the app only ever opens short-lived read-only
connections, and every write goes through `connect(..., read_only=False)`, which
retries for a while when a reader holds the lock and then fails with a readable
message instead of DuckDB's "Conflicting lock" text.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from dashboard import models
from dashboard.config import resolve_path

SCHEMA_VERSION = 9
DEFAULT_DB = Path("data") / "inward.duckdb"

# Each migration is applied once, in order, inside one transaction with the
# version bump; append new ones, never edit old ones.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS tickets (
        ticket_id VARCHAR NOT NULL, source VARCHAR NOT NULL, service_team VARCHAR,
        requester_id VARCHAR, requester_department VARCHAR, requester_type VARCHAR,
        channel VARCHAR, category VARCHAR, priority VARCHAR, ticket_type VARCHAR,
        status VARCHAR, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ,
        first_response_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, reopen_count INTEGER,
        subject VARCHAR, ingest_id BIGINT,
        PRIMARY KEY (source, ticket_id)
    );
    CREATE TABLE IF NOT EXISTS survey_responses (
        response_id VARCHAR NOT NULL, source VARCHAR NOT NULL, survey VARCHAR,
        submitted_at TIMESTAMPTZ, respondent_id VARCHAR, respondent_department VARCHAR,
        service_team VARCHAR, ticket_id VARCHAR, metric VARCHAR NOT NULL, score DOUBLE,
        scale_min DOUBLE, scale_max DOUBLE, comment VARCHAR, ingest_id BIGINT,
        PRIMARY KEY (source, response_id, metric)
    );
    CREATE TABLE IF NOT EXISTS external_outcomes (
        period_start DATE NOT NULL, business_unit VARCHAR NOT NULL, metric VARCHAR NOT NULL,
        value DOUBLE, source VARCHAR, ingest_id BIGINT,
        PRIMARY KEY (period_start, business_unit, metric)
    );
    CREATE TABLE IF NOT EXISTS people (
        person_id VARCHAR PRIMARY KEY, department VARCHAR, person_type VARCHAR,
        active_from DATE, active_to DATE, ingest_id BIGINT
    );
    CREATE TABLE IF NOT EXISTS org (
        department VARCHAR PRIMARY KEY, business_unit VARCHAR, ingest_id BIGINT
    );
    CREATE SEQUENCE IF NOT EXISTS ingest_seq START 1;
    CREATE TABLE IF NOT EXISTS ingests (
        ingest_id BIGINT PRIMARY KEY, source_file VARCHAR, sha256 VARCHAR, format VARCHAR,
        kind VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
        started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR, message VARCHAR
    );
    CREATE TABLE IF NOT EXISTS rejected_rows (
        ingest_id BIGINT, source_file VARCHAR, row_number BIGINT, reason VARCHAR, raw VARCHAR
    );
    -- derived 1:1 from tickets and rewritten whole by every refresh: no key (an index
    -- build was half the refresh time at 10M tickets)
    CREATE TABLE IF NOT EXISTS ticket_business_minutes (
        source VARCHAR, ticket_id VARCHAR, first_response_business_minutes DOUBLE,
        resolution_business_minutes DOUBLE, first_response_due_at TIMESTAMPTZ,
        resolution_due_at TIMESTAMPTZ
    );
    CREATE TABLE IF NOT EXISTS sla_targets (
        service_team VARCHAR, priority VARCHAR, first_response_minutes DOUBLE,
        resolution_minutes DOUBLE, business BOOLEAN, PRIMARY KEY (service_team, priority)
    );
    CREATE TABLE IF NOT EXISTS requester_engagement (
        requester_id VARCHAR, service_team VARCHAR, requester_department VARCHAR,
        requester_type VARCHAR, first_ticket_at TIMESTAMPTZ, last_ticket_at TIMESTAMPTZ,
        tickets BIGINT, typical_gap_days DOUBLE, days_silent DOUBLE, p_alive DOUBLE,
        status VARCHAR, reason VARCHAR
    );
    """,
    # 2: raw vendor values → canonical enums per ingest, for the mapping report
    """
    CREATE TABLE IF NOT EXISTS value_mappings (
        ingest_id BIGINT NOT NULL, column_name VARCHAR NOT NULL, raw_value VARCHAR NOT NULL,
        mapped_value VARCHAR, rows BIGINT NOT NULL, recognised BOOLEAN NOT NULL,
        PRIMARY KEY (ingest_id, column_name, raw_value)
    );
    """,
    # 3: business minutes and SLA due times live on the ticket row. As a side table
    # they cost every page query a hash join on (source, ticket_id): 6x the scan at
    # 2M tickets (measured). `derived_key` names the calendars/SLA config they were
    # computed with; NULL (a new or replaced row) or another key means "recompute".
    """
    ALTER TABLE tickets ADD COLUMN first_response_business_minutes DOUBLE;
    ALTER TABLE tickets ADD COLUMN resolution_business_minutes DOUBLE;
    ALTER TABLE tickets ADD COLUMN first_response_due_at TIMESTAMPTZ;
    ALTER TABLE tickets ADD COLUMN resolution_due_at TIMESTAMPTZ;
    ALTER TABLE tickets ADD COLUMN derived_key VARCHAR;
    -- keep the old numbers readable until the next refresh recomputes them (key NULL)
    UPDATE tickets SET first_response_business_minutes = b.first_response_business_minutes,
        resolution_business_minutes = b.resolution_business_minutes,
        first_response_due_at = b.first_response_due_at, resolution_due_at = b.resolution_due_at
    FROM ticket_business_minutes b
    WHERE b.source = tickets.source AND b.ticket_id = tickets.ticket_id;
    DROP TABLE ticket_business_minutes;
    """,
    # 4: ticket history (CONTRACT ticket_events / ticket_status_time) and what the
    # flow refresh derives from it. `ticket_status_spans` holds the runs of constant
    # status, team and assignee the per-status totals are summed from, so pages can
    # ask "where and with whom" without re-walking the events. The per-ticket flow
    # numbers live on `tickets` for the same reason as business minutes (no join in
    # ticket_times); `flow_refresh` remembers per source what they were computed from.
    """
    CREATE TABLE IF NOT EXISTS ticket_events (
        source VARCHAR NOT NULL, ticket_id VARCHAR NOT NULL, "at" TIMESTAMPTZ NOT NULL,
        status VARCHAR, service_team VARCHAR, assignee VARCHAR, kind VARCHAR NOT NULL,
        actor VARCHAR, vendor_status VARCHAR, event_key VARCHAR NOT NULL, seq BIGINT,
        ingest_id BIGINT
    );
    CREATE TABLE IF NOT EXISTS ticket_status_spans (
        source VARCHAR, ticket_id VARCHAR, span INTEGER, status_run INTEGER, status VARCHAR,
        vendor_status VARCHAR, service_team VARCHAR, assignee VARCHAR,
        started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, minutes DOUBLE, business_minutes DOUBLE,
        team_hop BOOLEAN, from_team VARCHAR
    );
    CREATE TABLE IF NOT EXISTS ticket_status_time (
        source VARCHAR, ticket_id VARCHAR, status VARCHAR, minutes DOUBLE,
        business_minutes DOUBLE, entries BIGINT
    );
    CREATE TABLE IF NOT EXISTS flow_refresh (source VARCHAR PRIMARY KEY, signature VARCHAR);
    CREATE TABLE IF NOT EXISTS ticket_keys (
        source VARCHAR NOT NULL, key VARCHAR NOT NULL, ticket_id VARCHAR NOT NULL,
        PRIMARY KEY (source, key)
    );
    ALTER TABLE tickets ADD COLUMN replies INTEGER;
    ALTER TABLE tickets ADD COLUMN waiting_minutes DOUBLE;
    ALTER TABLE tickets ADD COLUMN waiting_business_minutes DOUBLE;
    ALTER TABLE tickets ADD COLUMN reassignments INTEGER;
    ALTER TABLE tickets ADD COLUMN team_hops INTEGER;
    """,
    # 5: one requester per person across tools (CONTRACT "Who a requester is"). Each
    # identity a tool showed (its id, e-mail, name, employee number) is kept once per
    # source in requester_identities, with the person it was resolved to; tickets and
    # survey responses point at it through requester_key / respondent_key, so matching
    # can be redone whenever the people file changes. The people file gains the columns
    # matching uses; `*_source` says whether a department/type came from the export
    # itself or was filled from the people file (only the latter is ever refilled).
    """
    ALTER TABLE people ADD COLUMN email VARCHAR;
    ALTER TABLE people ADD COLUMN name VARCHAR;
    ALTER TABLE people ADD COLUMN employee_id VARCHAR;
    ALTER TABLE people ADD COLUMN aliases VARCHAR[];
    ALTER TABLE tickets ADD COLUMN requester_key BIGINT;
    ALTER TABLE tickets ADD COLUMN requester_department_source VARCHAR;
    ALTER TABLE tickets ADD COLUMN requester_type_source VARCHAR;
    UPDATE tickets SET requester_department_source = 'export'
        WHERE requester_department IS NOT NULL;
    UPDATE tickets SET requester_type_source = 'export'
        WHERE coalesce(requester_type, 'unknown') <> 'unknown';
    ALTER TABLE survey_responses ADD COLUMN respondent_key BIGINT;
    ALTER TABLE survey_responses ADD COLUMN respondent_department_source VARCHAR;
    UPDATE survey_responses SET respondent_department_source = 'export'
        WHERE respondent_department IS NOT NULL;
    CREATE TABLE IF NOT EXISTS requester_identities (
        source VARCHAR NOT NULL, requester_key BIGINT NOT NULL, tool_id VARCHAR,
        email VARCHAR, name VARCHAR, employee_id VARCHAR, requester_id VARCHAR,
        matched_by VARCHAR, candidates INTEGER, first_ingest_id BIGINT,
        PRIMARY KEY (source, requester_key)
    );
    """,
    # 6: the options a file was loaded with (kind, format, time zone, mappings) next to
    # its sha256, so the same content re-ingested with a corrected --timezone or --kind
    # is loaded again (replacing the first load) instead of skipped as "unchanged".
    """
    ALTER TABLE ingests ADD COLUMN options VARCHAR;
    """,
    # 7: `superseded`: another source stored a newer version of this ticket id (see
    # MARK_SUPERSEDED), so `ticket_latest` is a filter instead of a window over every
    # ticket; filled for the existing rows by `migrate`.
    """
    ALTER TABLE tickets ADD COLUMN superseded BOOLEAN;
    """,
    # 8: the as-of ("now") per source, see dashboard/as_of.py; filled from the
    # existing tickets right after this migration (SOURCE_AS_OF_VERSION).
    """
    CREATE TABLE IF NOT EXISTS source_as_of (
        source VARCHAR PRIMARY KEY, newest_at TIMESTAMPTZ, as_of TIMESTAMPTZ,
        configured BOOLEAN NOT NULL DEFAULT false
    );
    """,
    # 9: no Jira export (CSV or API JSON) carries a reopen count; loads before this
    # stored 0, which read as "never reopened" (Reopened 0.0 %); now unknown, as new
    # loads store it.
    """
    UPDATE tickets SET reopen_count = NULL WHERE source = 'jira';
    """,
)
SUPERSEDED_FROM = 7  # the migration that added `superseded`
SOURCE_AS_OF_VERSION = 8

# Which version of a ticket id is its newest across sources (the row updated last,
# then the later ingest, then the first source by name), stored as `superseded` on
# the others. Run inside every transaction that writes tickets, after the write, so
# `ticket_latest` is exact whenever a reader can see the rows. Only ids stored more
# than once, or marked before (a deleted version may free an older one), are ranked:
# a hash aggregate over the ids, not a sort of every ticket.
MARK_SUPERSEDED = """
UPDATE tickets SET superseded = v.rank > 1
FROM (
    SELECT source, ticket_id,
        row_number() OVER (
            PARTITION BY ticket_id
            ORDER BY updated_at DESC NULLS LAST, ingest_id DESC NULLS LAST, source
        ) AS rank
    FROM tickets
    WHERE ticket_id IN (
        SELECT ticket_id FROM tickets GROUP BY ticket_id
        HAVING count(*) > 1 OR bool_or(coalesce(superseded, false))
    )
) AS v
WHERE tickets.source = v.source AND tickets.ticket_id = v.ticket_id
    AND tickets.superseded IS DISTINCT FROM (v.rank > 1)
"""

# `utc(ts)`: the UTC wall-clock TIMESTAMP of a TIMESTAMPTZ. Same result as
# `ts AT TIME ZONE 'UTC'`, but plain integer arithmetic instead of ICU calendar
# code: ~10x faster for date bucketing on 10M tickets (measured). Stored in the
# warehouse, so metrics, analyst queries and read-only connections can all use it.
UTC_MACRO = "CREATE OR REPLACE MACRO utc(ts) AS make_timestamp(epoch_us(ts))"

# Filter helpers for analyst SQL whose header binds the sidebar (`filters:` in a query
# file, see queries/README.md): `picked($teams, service_team)` is true when nothing is
# picked (NULL) or the value is among the picked ones; `within_days(created_at,
# $date_from, $date_to)` bounds a timestamp by inclusive UTC days, either end open.
FILTER_MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO picked(choices, v) AS (choices IS NULL OR list_contains(choices, v))",
    "CREATE OR REPLACE MACRO within_days(ts, first_day, last_day) AS "
    "((first_day IS NULL OR utc(ts) >= CAST(first_day AS DATE)) "
    "AND (last_day IS NULL OR utc(ts) < CAST(last_day AS DATE) + 1))",
)

# Views are recreated on every migrate so their definition always matches the code.
# `ticket_times` is a model shared with the Spark engine (dashboard/models/).
TICKET_TIMES_VIEW = "CREATE OR REPLACE VIEW ticket_times AS\n" + models.load("ticket_times")
# Definitions every reader shares (pages, CLI, reports, analyst SQL), in dependency
# order: one meaning of "the latest version of a ticket", "open", "backlog age" and
# "a normalised / low survey score" (dashboard/models/<name>.sql says why each is so).
SHARED_VIEWS: tuple[str, ...] = tuple(
    f"CREATE OR REPLACE VIEW {name} AS\n" + models.load(name)
    for name in (
        "ticket_latest",
        "ticket_spans",
        "open_tickets",
        "survey_scores",
        "requester_aliases",
    )
)

# everything `migrate` (re)creates after the tables, in dependency order
DEFINITIONS: tuple[str, ...] = (
    UTC_MACRO,
    *FILTER_MACROS,
    *models.SHIMS,
    TICKET_TIMES_VIEW,
    *SHARED_VIEWS,
)


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse's write lock (or a reader blocks a writer)."""


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Warehouse path per CONTRACT: --db, else $INWARD_DB, else data/inward.duckdb."""
    return resolve_path(explicit, "INWARD_DB", DEFAULT_DB)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflict" in text or "could not set" in text)


def connect(
    path: str | os.PathLike[str],
    read_only: bool = False,
    wait_seconds: float = 30.0,
    config: dict[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to `wait_seconds` while another process holds the lock.

    Read-only connections are opened with external access disabled so that every
    app connection in a process shares one configuration (DuckDB refuses mixed
    configurations for the same file in one process). `config` adds settings; only
    processes of their own use it (the analyst-SQL worker; `export-lake`, whose COPY
    needs file access).
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {**({"enable_external_access": "false"} if read_only else {}), **(config or {})}
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            # a ConnectionException is this process's own writer (an app upload, an
            # analyst mart built while a test writes): wait for it like for a lock
            in_process = isinstance(exc, duckdb.ConnectionException)
            if not (_is_in_process_writer(exc) if in_process else _is_lock_error(exc)):
                raise
            if time.monotonic() >= deadline:
                who = "reading" if not read_only else "writing"
                holder = "a connection in this process" if in_process else "another process"
                raise WarehouseBusy(
                    f"the warehouse {path} is busy: {holder} is {who} it "
                    f"(waited {wait_seconds:.0f} s); try again in a moment"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _is_in_process_writer(exc: duckdb.ConnectionException) -> bool:
    """DuckDB's refusal to open a file read-only while this process has it open for
    writing (its message speaks of a "different configuration")."""
    return "different configuration" in str(exc)


@contextmanager
def writer(
    path: str | os.PathLike[str], wait_seconds: float = 60.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated read-write connection, closed on exit so readers can come back."""
    con = connect(path, read_only=False, wait_seconds=wait_seconds)
    try:
        migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def reader(
    path: str | os.PathLike[str], wait_seconds: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection (cheap: ~10 ms), closed on exit."""
    con = connect(path, read_only=True, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK for an error path, never raising over the error being handled.

    DuckDB aborts the transaction itself on some failures (a write that found the
    disk full does), and a ROLLBACK after that fails with "cannot rollback - no
    transaction is active", which would replace the real cause in the message.
    """
    with suppress(duckdb.Error):  # nothing left to roll back; the caller re-raises the cause
        con.execute("ROLLBACK")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT; on any error ROLLBACK and re-raise the original error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'inward_meta'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    rows = con.sql("SELECT value FROM inward_meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the schema up to SCHEMA_VERSION; idempotent and transactional."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"this warehouse has schema version {current}, newer than this Inward "
            f"({SCHEMA_VERSION}); upgrade Inward"
        )
    with transaction(con):
        con.execute(
            "CREATE TABLE IF NOT EXISTS inward_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            con.execute(MIGRATIONS[version - 1])
            if version == SOURCE_AS_OF_VERSION and current > 0:
                from dashboard import as_of  # an older warehouse: as-of from its tickets

                as_of.rebuild(con)
        if 0 < current < SUPERSEDED_FROM:
            mark_superseded(con)
        for statement in DEFINITIONS:
            con.execute(statement)
        con.execute(
            "INSERT OR REPLACE INTO inward_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
        con.execute(
            "INSERT OR REPLACE INTO inward_meta VALUES ('definitions', ?)", [definitions_hash()]
        )


def mark_superseded(con: duckdb.DuckDBPyConnection) -> None:
    """Bring `tickets.superseded` up to date (MARK_SUPERSEDED); call after writing tickets."""
    con.execute(MARK_SUPERSEDED)


def definitions_hash() -> str:
    """Fingerprint of everything `migrate` defines (tables, macro, views)."""
    text = "\n".join((*MIGRATIONS, MARK_SUPERSEDED, *DEFINITIONS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_current(path: str | os.PathLike[str]) -> None:
    """Migrate an existing warehouse written by an older Inward, before anyone reads it.

    Read-only users (the app, `inward metrics`) cannot migrate, and a view or macro
    they expect might be missing in an old file; so commands that read call this
    first. It only takes the write lock when the stored fingerprint differs.
    """
    with reader(path) as con:
        exists = con.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'inward_meta'"
        ).fetchall()[0][0]
        stored = (
            con.sql("SELECT value FROM inward_meta WHERE key = 'definitions'").fetchall()
            if exists
            else []
        )
    if not stored or stored[0][0] != definitions_hash():
        with writer(path):
            pass


def bump_version(con: duckdb.DuckDBPyConnection) -> None:
    """Record that data changed; caches key on this so pages never show stale numbers."""
    con.execute(
        "INSERT OR REPLACE INTO inward_meta VALUES ('data_version', "
        "CAST(coalesce((SELECT CAST(value AS BIGINT) FROM inward_meta "
        "WHERE key = 'data_version'), 0) + 1 AS VARCHAR))"
    )


def data_version(path: str | os.PathLike[str]) -> str:
    """A cheap cache key for the warehouse's contents: file mtime and size.

    Reading the file's stat avoids opening a connection (and taking a lock) on
    every Streamlit rerun; any committed write changes the file.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return "missing"
    wal = p.with_name(p.name + ".wal")
    wal_part = f"-{wal.stat().st_mtime_ns}" if wal.exists() else ""
    return f"{st.st_mtime_ns}-{st.st_size}{wal_part}"


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every contract table, for the Data page and tests."""
    names = (
        "tickets",
        "survey_responses",
        "external_outcomes",
        "people",
        "org",
        "ingests",
        "rejected_rows",
        "requester_engagement",
        "ticket_events",
        "ticket_status_time",
    )
    return {n: con.sql(f"SELECT count(*) FROM {n}").fetchall()[0][0] for n in names}
