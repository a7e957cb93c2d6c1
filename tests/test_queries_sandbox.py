"""The analyst-query sandbox: hostile SQL is refused or stopped, the warehouse never changes.

Each attack is checked at the layer that should stop it (DuckDB's parser via
the single-SELECT check, then read-only / no external access / locked config
inside DuckDB), and after every test the warehouse file and its contents are
compared with a fingerprint taken before.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dashboard.config import QuerySettings
from dashboard.queries import (
    QueryError,
    QuerySpec,
    QuerySpecError,
    _sandbox,
    parse_query_text,
    run_query,
)
from dashboard.warehouse import connect, migrate

HEADER = "/*\ntitle: attack\n*/\n"


def _build(path: Path) -> None:
    con = connect(path)
    try:
        migrate(con)
        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        con.executemany(
            "INSERT INTO tickets (ticket_id, source, service_team, requester_id, priority, "
            "status, created_at, resolved_at) VALUES (?, 'generic', ?, ?, ?, 'solved', ?, ?)",
            [[f"T{i}", "IT Service Desk" if i % 2 else "HR", f"u{i}", "normal",
              start + timedelta(hours=i), start + timedelta(hours=i + 3)] for i in range(5)],
        )
    finally:
        con.close()


def _fingerprint(path: Path) -> tuple[str, tuple]:
    """File bytes plus a content checksum of every table: both must stay identical."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    con = connect(path, read_only=True)
    try:
        tables = [r[0] for r in con.sql(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        sums = tuple(
            (t, *con.sql(f'SELECT count(*), bit_xor(hash(x)) FROM "{t}" x').fetchall()[0])
            for t in tables
        )
    finally:
        con.close()
    return digest, sums


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "w.duckdb"
    _build(path)
    return path


@pytest.fixture
def unchanged(warehouse: Path):
    """Yield the warehouse path and assert afterwards that nothing in it changed."""
    before = _fingerprint(warehouse)
    yield warehouse
    assert _fingerprint(warehouse) == before


def _raw_spec(sql: str) -> QuerySpec:
    """A spec that skipped file parsing, to prove run_query re-checks what it executes."""
    return QuerySpec(name="raw", path=Path("raw.sql"), title="raw", description="",
                     params=(), chart=parse_query_text(HEADER + "SELECT 1", "x.sql").chart,
                     section=None, sql=sql)


WRITES = [
    ("DROP TABLE tickets", "DROP"),
    ("DELETE FROM tickets", "DELETE"),
    ("COPY tickets TO '/tmp/inward-stolen.csv'", "COPY"),
    ("ATTACH '/tmp/inward-other.duckdb' AS other", "ATTACH"),
    ("INSTALL httpfs", "LOAD"),  # DuckDB reports INSTALL/LOAD as one statement type
    ("SET enable_external_access = true", "SET"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
]


@pytest.mark.parametrize(("sql", "kind"), WRITES)
def test_non_select_refused_when_parsing_the_file(sql: str, kind: str) -> None:
    with pytest.raises(QuerySpecError, match=r"x\.sql:4: .*only a read-only SELECT") as info:
        parse_query_text(HEADER + sql, "x.sql")
    assert str(info.value).endswith(f"not {kind}")


@pytest.mark.parametrize(("sql", "kind"), WRITES)
def test_non_select_refused_again_at_run_time(sql: str, kind: str, unchanged: Path) -> None:
    with pytest.raises(QueryError, match="only a read-only SELECT"):
        run_query(_raw_spec(sql), {}, unchanged)


@pytest.mark.parametrize("sql", [
    "DROP TABLE tickets",
    "COPY tickets TO '/tmp/inward-stolen.csv'",
    "ATTACH '/tmp/inward-other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET threads = 1",
    "RESET lock_configuration",
    "SELECT * FROM read_csv('/etc/passwd')",
])
def test_duckdb_itself_refuses_even_without_the_statement_check(sql: str, unchanged: Path
                                                                ) -> None:
    """Defence in depth: read-only + no external access + locked config stop these in DuckDB."""
    with _sandbox(unchanged) as con, pytest.raises(duckdb.Error):
        con.sql(sql)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM read_csv('/etc/passwd')", "refused, queries cannot read or write files"),
    ("SELECT * FROM read_text('/etc/passwd')", "refused, queries cannot read or write files"),
    ("SELECT * FROM glob('/etc/*')", "refused, queries cannot read or write files"),
    # With external access off DuckDB does not even try a file for a quoted name.
    ("FROM '/etc/passwd'", "Table with name /etc/passwd does not exist"),
])
def test_reading_files_is_refused(sql: str, expected: str, unchanged: Path) -> None:
    spec = parse_query_text(HEADER + sql, "x.sql")  # a SELECT, so it parses
    with pytest.raises(QueryError, match=expected) as info:
        run_query(spec, {}, unchanged)
    assert "\n" not in str(info.value)


def test_multi_statement_file_refused() -> None:
    with pytest.raises(QuerySpecError, match=r"x\.sql:5: .*only one statement.*line 5"):
        parse_query_text(HEADER + "SELECT 1;\nDROP TABLE tickets", "x.sql")


def test_injection_through_a_parameter_value_is_just_a_string(unchanged: Path) -> None:
    spec = parse_query_text(
        "/*\nparams:\n  team: {type: text}\n*/\n"
        "SELECT count(*) AS n FROM tickets WHERE service_team = $team", "x.sql")
    evil = "x'; DROP TABLE tickets; --"
    assert run_query(spec, {"team": evil}, unchanged).frame["n"].to_list() == [0]
    assert run_query(spec, {"team": "HR"}, unchanged).frame["n"].to_list() == [3]


def test_runaway_cartesian_product_is_stopped_by_the_time_limit(unchanged: Path) -> None:
    spec = parse_query_text(
        HEADER + "SELECT count(*) FROM range(100000000) a, range(100000000) b, tickets t\n"
                 "WHERE a.range + b.range < 0", "x.sql")
    limit = 0.5
    started = time.monotonic()
    with pytest.raises(QueryError, match=r"stopped at the time limit of 0\.5 s"):
        run_query(spec, {}, unchanged, QuerySettings(time_limit_seconds=limit))
    assert time.monotonic() - started < limit + 1.0
    # The process is fine afterwards: the next query runs normally.
    ok = parse_query_text(HEADER + "SELECT count(*) AS n FROM tickets", "y.sql")
    assert run_query(ok, {}, unchanged).frame["n"].to_list() == [5]


def test_row_cap_sets_truncated_exactly(unchanged: Path) -> None:
    spec = parse_query_text(HEADER + "SELECT ticket_id FROM tickets ORDER BY ticket_id DESC",
                            "x.sql")
    capped = run_query(spec, {}, unchanged, QuerySettings(row_cap=3))
    assert capped.truncated and capped.frame["ticket_id"].to_list() == ["T4", "T3", "T2"]
    exact = run_query(spec, {}, unchanged, QuerySettings(row_cap=5))
    assert not exact.truncated and exact.frame.height == 5
    assert exact.elapsed_s >= 0


def test_sql_errors_are_one_readable_line(unchanged: Path) -> None:
    spec = parse_query_text(HEADER + "SELECT nope FROM tickets", "x.sql")
    with pytest.raises(QueryError) as info:
        run_query(spec, {}, unchanged)
    msg = str(info.value)
    assert "\n" not in msg and 'column "nope"' in msg and msg.startswith("x:")


def test_runs_next_to_an_open_app_connection(unchanged: Path) -> None:
    """The app's read-only connections use the same config, so both work in one process."""
    app = connect(unchanged, read_only=True)
    try:
        spec = parse_query_text(HEADER + "SELECT count(*) AS n FROM tickets", "x.sql")
        assert run_query(spec, {}, unchanged).frame["n"].to_list() == [5]
        assert app.sql("SELECT count(*) FROM tickets").fetchall() == [(5,)]
    finally:
        app.close()


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    spec = parse_query_text(HEADER + "SELECT 1", "x.sql")
    with pytest.raises(QueryError, match="does not exist; run `inward demo`"):
        run_query(spec, {}, tmp_path / "nope.duckdb")


def test_writer_open_in_same_process_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _build(path)
    writer = connect(path)
    try:
        spec = parse_query_text(HEADER + "SELECT 1", "x.sql")
        with pytest.raises(QueryError, match=r"cannot open .* read-only in this process"):
            run_query(spec, {}, path)
    finally:
        writer.close()


def test_concurrent_runs_share_the_instance_safely(unchanged: Path) -> None:
    """Streamlit runs sessions in threads: parallel sandboxes must not trip over the lock."""
    from concurrent.futures import ThreadPoolExecutor

    spec = parse_query_text(HEADER + "SELECT count(*) AS n FROM tickets", "x.sql")
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda _: run_query(spec, {}, unchanged).frame["n"][0], range(12)))
    assert counts == [5] * 12
