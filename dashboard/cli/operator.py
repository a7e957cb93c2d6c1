"""`inward export-lake`, `inward rollups`: operator commands that write beside the
warehouse (a Parquet lake) or into it (the rollup tables)."""

from __future__ import annotations

import argparse
import time

from dashboard import warehouse
from dashboard.cli.common import (
    check_engine,
    err,
    open_existing,
    require_lake_rows,
    require_rows,
    spark_lake,
)
from dashboard.config import load_config


def cmd_export_lake(args: argparse.Namespace) -> int:
    from dashboard.lake import export_lake

    db = open_existing(args.db, load_config(args.config))
    with warehouse.reader(db) as con:
        require_rows(con, db)
    t0 = time.perf_counter()
    counts = export_lake(db, args.dir, progress=print)
    err(f"lake written: {len(counts)} tables in {args.dir} ({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_rollups(args: argparse.Namespace) -> int:
    from dashboard.derive.rollups import build, load

    check_engine(args)
    db = open_existing(args.db, load_config(args.config))
    t0 = time.perf_counter()
    if args.engine == "spark":
        with spark_lake(args) as lake:
            require_lake_rows(lake)
            frames = build(lake)
    else:
        with warehouse.reader(db) as con:
            require_rows(con, db)
            frames = build(con)
    with warehouse.writer(db) as con:
        load(con, frames)
    sizes = ", ".join(f"{name} {frame.height:,} rows" for name, frame in frames.items())
    err(f"rollups from {args.engine} loaded into {db}: {sizes} ({time.perf_counter() - t0:.1f} s)")
    return 0
