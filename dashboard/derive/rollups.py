"""Response-time rollups: small aggregate tables the app can read instead of tickets.

`build` runs the rollup models (dashboard/models/rollup_*.sql) on either engine —
the DuckDB warehouse, or Spark over a lake when the tickets have outgrown one
machine — and `load` replaces the warehouse's copies in one transaction. So an
organisation with a billion tickets keeps them in a lake, lets a Spark cluster
compute the rollups (`inward rollups --engine spark --lake …`), and serves the
dashboard from one small DuckDB file (README, "Past one machine").
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard import models, warehouse
from dashboard.models import Reader

ROLLUPS = ("rollup_counts", "rollup_durations")


def build(con: Reader) -> dict[str, pl.DataFrame]:
    """Every rollup computed by `con`'s engine (a DuckDB connection or a SparkLake)."""
    return {name: con.sql(models.load(name)).pl() for name in ROLLUPS}


def load(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]) -> None:
    """Replace the rollup tables with `frames`, all or nothing, and mark the data changed."""
    with warehouse.transaction(con):
        for name, frame in frames.items():
            con.register("_inward_rollup", frame)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _inward_rollup")
            con.unregister("_inward_rollup")
        warehouse.bump_version(con)
