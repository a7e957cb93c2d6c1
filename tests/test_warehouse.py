"""Warehouse schema: migrations are idempotent, and an older file is brought up to date
before read-only users (app, CLI) touch it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from dashboard import scoped, warehouse
from dashboard.access import OPEN
from dashboard.cli import main


def test_migrate_is_idempotent(fresh_db: Path) -> None:
    with warehouse.writer(fresh_db) as con:
        before = con.sql("SELECT * FROM inward_meta ORDER BY key").fetchall()
        warehouse.migrate(con)
        assert con.sql("SELECT * FROM inward_meta ORDER BY key").fetchall() == before
        assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION


def test_old_definitions_are_upgraded_before_reading(demo_wh, tmp_path, capsys) -> None:
    db = tmp_path / "old.duckdb"
    shutil.copy(demo_wh.db, db)
    con = duckdb.connect(str(db))
    con.execute("DROP VIEW ticket_times")
    con.execute("DROP MACRO utc")
    con.execute("UPDATE inward_meta SET value = 'older' WHERE key = 'definitions'")
    con.close()
    assert main(["metrics", "--db", str(db), "--by", "team", "--format", "json"]) == 0
    assert '"service_team"' in capsys.readouterr().out
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.sql("SELECT value FROM inward_meta WHERE key = 'definitions'").fetchall() == [
            (warehouse.definitions_hash(),)
        ]
    finally:
        con.close()


def test_schema_page_data_covers_every_contract_table(demo_wh) -> None:
    from dashboard.metrics.schema import TABLES, sample, schema_overview

    con = duckdb.connect(str(demo_wh.db), read_only=True)
    scoped.install(con, OPEN, demo_wh.db)
    try:
        overview = schema_overview(con)
        assert set(overview["table_name"]) == set(TABLES)
        tickets = sample(con, "tickets")
        assert tickets.height == 5 and all(r.startswith("R-") for r in tickets["requester_id"])
        raw = {r[0] for r in con.sql("SELECT requester_id FROM tickets").fetchall()}
        assert not raw & set(tickets["requester_id"])
    finally:
        con.close()


def at_version(version: int) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse as schema `version` left it (its first migrations only)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE inward_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for sql in warehouse.MIGRATIONS[:version]:
        con.execute(sql)
    con.execute("INSERT INTO inward_meta VALUES ('schema_version', ?)", [str(version)])
    return con


def test_a_version_2_warehouse_keeps_its_business_minutes_through_migration() -> None:
    """Schema 3 moved business minutes from a side table onto tickets: an upgraded
    file must show the old numbers until the next refresh recomputes them."""
    con = at_version(2)
    con.execute(
        "INSERT INTO tickets (ticket_id, source, created_at) "
        "VALUES ('1', 'generic', TIMESTAMPTZ '2024-03-05 08:00:00+00')"
    )
    con.execute("INSERT INTO ticket_business_minutes VALUES ('generic', '1', 42, 99, NULL, NULL)")
    warehouse.migrate(con)
    assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
    assert con.sql(
        "SELECT first_response_business_minutes, resolution_business_minutes, "
        "derived_key FROM tickets"
    ).fetchall() == [(42.0, 99.0, None)]
    assert con.sql("SELECT resolution_business_minutes FROM ticket_times").fetchall() == [(99.0,)]
    tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "ticket_business_minutes" not in tables


def test_a_version_8_warehouse_forgets_the_zeros_it_stored_for_jira() -> None:
    """Loads before schema 9 stored a Jira ticket's missing reopen count as 0 (read as
    "never reopened"); the migration makes it unknown and leaves other tools' counts."""
    con = at_version(8)
    con.execute(
        "INSERT INTO tickets (ticket_id, source, created_at, reopen_count) VALUES "
        "('LEG-1', 'jira', TIMESTAMPTZ '2024-03-05 08:00:00+00', 0), "
        "('INC1', 'servicenow', TIMESTAMPTZ '2024-03-05 08:00:00+00', 0), "
        "('INC2', 'servicenow', TIMESTAMPTZ '2024-03-05 09:00:00+00', 2)"
    )
    warehouse.migrate(con)
    assert warehouse.schema_version(con) == warehouse.SCHEMA_VERSION
    rows = con.sql("SELECT ticket_id, reopen_count FROM tickets ORDER BY 1").fetchall()
    assert rows == [("INC1", 0), ("INC2", 2), ("LEG-1", None)]
