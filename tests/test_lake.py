"""`inward export-lake`: every table present in the warehouse lands in the lake
unchanged (read back with DuckDB), tickets partitioned by their UTC creation month,
and a re-export replaces the lake rather than adding to it. No Spark needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.cli import main
from dashboard.lake import LAKE_TABLES, MANIFEST

# every table `export-lake` must carry when the warehouse has it
EXPECTED = {"tickets", "survey_responses", "external_outcomes", "people", "org", "sla_targets"}


@pytest.fixture(scope="module")
def lake(demo_wh, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lake") / "lake"
    assert main(["export-lake", str(root), "--db", str(demo_wh.db)]) == 0
    return root


def _checksum(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> tuple:
    cols = ", ".join(f'"{c}"' for c in columns)
    return con.sql(f"SELECT count(*), coalesce(sum(hash({cols})), 0) FROM {relation}").fetchall()[0]


def test_every_present_table_round_trips(demo_wh, lake) -> None:
    con = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        present = {
            r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()
        } & set(LAKE_TABLES)
        assert present >= EXPECTED
        written = {p.name for p in lake.iterdir() if p.is_dir() and not p.name.startswith(".")}
        assert written == present
        for table in present:
            types = {r[0]: r[1] for r in con.sql(f"DESCRIBE {table}").fetchall()}
            files = f"read_parquet('{lake / table}/**/*.parquet')"
            read = {r[0]: r[1] for r in con.sql(f"DESCRIBE SELECT * FROM {files}").fetchall()}
            assert {c: read[c] for c in types} == types, table
            assert _checksum(con, files, list(types)) == _checksum(con, table, list(types)), table
    finally:
        con.close()


def test_tickets_are_partitioned_by_utc_creation_month(demo_wh, lake) -> None:
    con = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        months = {
            r[0]
            for r in con.sql(
                "SELECT DISTINCT strftime(created_at AT TIME ZONE 'UTC', '%Y-%m') FROM tickets"
            ).fetchall()
        }
        wrong = con.sql(
            f"""SELECT count(*) FROM read_parquet('{lake}/tickets/*/*.parquet',
                    hive_partitioning = true)
                WHERE strftime(created_at AT TIME ZONE 'UTC', '%Y-%m') <> created_month"""
        ).fetchall()[0][0]
    finally:
        con.close()
    folders = {p.name.removeprefix("created_month=") for p in (lake / "tickets").iterdir()}
    assert folders == months and len(months) > 3
    assert wrong == 0


def test_re_export_replaces_the_lake(demo_wh, lake, tmp_path) -> None:
    stray = lake / "people" / "stale.parquet"
    stray.write_bytes(b"not parquet")
    assert main(["export-lake", str(lake), "--db", str(demo_wh.db)]) == 0
    assert not stray.exists()
    assert not [p for p in lake.iterdir() if p.name.startswith(".")]
    assert '"tickets"' in (lake / MANIFEST).read_text()


def test_empty_warehouse_is_refused(fresh_db, tmp_path, capsys) -> None:
    assert main(["export-lake", str(tmp_path / "lake"), "--db", str(fresh_db)]) == 1
    assert "no tickets" in capsys.readouterr().err
