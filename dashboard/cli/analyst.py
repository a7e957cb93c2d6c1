"""`inward query NAME` and `inward queries check`: analyst SQL from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard import warehouse
from dashboard.cli.common import (
    Failure,
    UsageError,
    analyst_scope,
    err,
    open_existing,
)
from dashboard.cli.options import filters_from
from dashboard.config import load_config
from dashboard.output import render


def cmd_query(args: argparse.Namespace) -> int:
    from dashboard.analyst.catalog import get_query
    from dashboard.analyst.params import parse_param_args
    from dashboard.analyst.run import run_query
    from dashboard.analyst.sandbox import QueryError, QueryUsageError, prestart_worker

    prestart_worker()  # its imports run while this process parses the query
    config = load_config(args.config)
    db = open_existing(args.db, config)
    try:
        spec = get_query(args.name)
        result = run_query(
            spec,
            parse_param_args(args.param),
            db,
            config.queries,
            scope=analyst_scope(args, config),
            min_group=config.anonymity_min_group,
            filters=filters_from(args),
        )
    except QueryUsageError as exc:
        raise UsageError(str(exc)) from exc
    except QueryError as exc:
        raise Failure(str(exc)) from exc
    print(render(result.frame, args.format))
    if result.truncated:
        err(f"note: only the first {result.frame.height:,} rows are shown ({result.cut_by})")
    return 0


def cmd_queries(args: argparse.Namespace) -> int:
    """`inward queries check`: every query file parses, binds its defaults and runs —
    on the given warehouse, else on a small demo warehouse built for the check, so
    CI exercises real data without any setup."""
    import tempfile

    from dashboard.analyst.catalog import discover
    from dashboard.analyst.check import check_all
    from dashboard.demo import write_demo
    from dashboard.ingest import ingest_paths

    config = load_config(args.config)
    with tempfile.TemporaryDirectory(prefix="inward-check-") as tmp:
        db = warehouse.db_path(args.db)
        if args.demo or not db.is_file():
            db = Path(tmp) / "demo.duckdb"
            files = write_demo(Path(tmp) / "demo", seed=7, tickets=3000)
            ingest_paths(db, files.all(), config)
        problems = check_all(db, None, config.queries, config.anonymity_min_group)
        specs, errors = discover()
    for problem in problems:
        err(str(problem))
    total = len(specs) + len(errors)  # files: a query that parsed and then failed is one
    if problems:
        failed = len({p.path for p in problems})
        raise Failure(f"{failed} of {total} queries failed" if total else "no queries to check")
    err(f"all {total} queries parse and run on {db}")
    return 0
