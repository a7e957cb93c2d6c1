"""Shared fixtures: a small demo warehouse built once per session through the real
ingest path (demo files → `ingest_paths`), and helpers to snapshot a warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dashboard import warehouse
from dashboard.config import Config
from dashboard.demo import DemoFiles, write_demo
from dashboard.ingest import ingest_paths

REAL_EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class DemoWarehouse:
    db: Path
    files: DemoFiles


@pytest.fixture(scope="session")
def demo_wh(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    """A ~4k-ticket demo warehouse (read-only use: copy it before writing)."""
    root = tmp_path_factory.mktemp("demo")
    files = write_demo(root / "exports", seed=11, tickets=4000, layout="generic")
    db = root / "inward.duckdb"
    results = ingest_paths(db, files.all(), Config())
    assert all(r.status == "loaded" for r in results), [r.message for r in results]
    return DemoWarehouse(db, files)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Path:
    """An empty, migrated warehouse file."""
    db = tmp_path / "w.duckdb"
    with warehouse.writer(db):
        pass
    return db


def snapshot(db: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every contract table."""
    out = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in (
            "tickets",
            "survey_responses",
            "external_outcomes",
            "people",
            "org",
            "rejected_rows",
            "requester_engagement",
        ):
            n, h = con.sql(
                f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {name} t"
            ).fetchall()[0]
            out[name] = (n, h)
    finally:
        con.close()
    return out


def ingests_rows(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql("SELECT * FROM ingests ORDER BY ingest_id").pl().to_dicts()
    finally:
        con.close()


def column(db: Path, sql: str) -> list:
    """The first column of a read-only query on the warehouse file, as a list."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.sql(sql).fetchall()]
    finally:
        con.close()
