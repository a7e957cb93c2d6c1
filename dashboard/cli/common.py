"""What every command shares: its two failures, stderr, the warehouse it reads and the
viewer it reads as, and the Spark lake for `--engine spark`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dashboard import audit, scoped, warehouse
from dashboard.access import OPEN, OPERATOR, Scope
from dashboard.config import Config
from dashboard.models import Reader

if TYPE_CHECKING:  # pragma: no cover
    from dashboard.spark import SparkLake


class Failure(Exception):
    """The work could not be done (exit 1)."""


class UsageError(Exception):
    """Bad usage found after parsing (exit 2)."""


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_existing(db_arg: str | None, config: Config) -> Path:
    """The warehouse to read, migrated and with its derived data (and the config's
    `as_of`, see dashboard/as_of.py) complete for `config`."""
    from dashboard import derive

    db = warehouse.db_path(db_arg)
    if not db.is_file():
        raise Failure(f"no warehouse at {db}: run 'inward ingest FILES' or 'inward demo' first")
    warehouse.ensure_current(db)
    derive.ensure_derived(db, config)
    warn_about_config(db, config)
    return db


def warn_about_config(db: Path, config: Config) -> None:
    """Config that names things the warehouse does not have: stated, never silent."""
    from dashboard import derive

    with warehouse.reader(db) as con:
        for line in derive.team_setting_warnings(con, config):
            err(line)


def viewer_scope(args: argparse.Namespace, config: Config) -> Scope:
    """The operator's view, or with --as-user exactly that user's (exit 1 if none)."""
    if not getattr(args, "as_user", None):
        if getattr(args, "as_group", None):
            raise UsageError("--as-group needs --as-user")
        return OPERATOR
    scope = config.access.scope_for(args.as_user, args.as_group)
    db = warehouse.db_path(args.db)
    if scope is None:
        audit.record(db, "denied", args.as_user, command=args.command)
        raise Failure(
            f"{args.as_user} has no access: no [access] grant names this e-mail or its groups"
        )
    audit.record(db, "cli", args.as_user, scope, command=args.command)
    return scope


def analyst_scope(args: argparse.Namespace, config: Config) -> Scope:
    """Analyst SQL never runs as the operator (CONTRACT): without --as-user it sees what
    open mode shows everyone — all rows, pseudonymised, survey numbers anonymity-safe."""
    return viewer_scope(args, config) if args.as_user else OPEN


@contextmanager
def reader(
    args: argparse.Namespace, config: Config, db: Path
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only warehouse connection under the command's scope."""
    scope = viewer_scope(args, config)
    with scoped.reader(db, scope) as con:
        yield con


def require_rows(
    con: Reader, db: Path | str, table: str = "tickets", what: str = "tickets"
) -> None:
    """An empty warehouse (or lake) is exit 1 with a hint, not an empty table printed
    as success."""
    if con.sql(f"SELECT count(*) AS n FROM {table}").pl().item() == 0:
        raise Failure(
            f"the warehouse {db} has no {what} yet (or none this user may see): run "
            "'inward ingest' first"
        )


def require_lake_rows(lake: SparkLake) -> None:
    if lake.sql("SELECT count(*) AS n FROM tickets").pl().item() == 0:
        raise Failure(f"the lake {lake.lake} has no tickets: run 'inward export-lake' again")


def check_engine(args: argparse.Namespace) -> None:
    if args.engine == "spark" and not args.lake:
        raise UsageError("--engine spark reads a lake: add --lake DIR (see 'inward export-lake')")
    if args.engine != "spark" and (args.lake or args.spark_master or args.spark_conf):
        raise UsageError("--lake, --spark-master and --spark-conf go with --engine spark")


@contextmanager
def spark_lake(args: argparse.Namespace) -> Iterator[SparkLake]:
    """The lake registered in a Spark session, stopped afterwards; a missing extra,
    Java or lake table is exit 1 with the fix."""
    from dashboard import spark

    conf = {}
    for item in args.spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--spark-conf expects KEY=VALUE, got {item!r}")
        conf[key.strip()] = value.strip()
    try:
        lake = spark.open_lake(args.lake, args.spark_master, conf, progress=err)
    except (spark.SparkUnavailable, spark.LakeError) as exc:
        raise Failure(str(exc)) from exc
    try:
        yield lake
    finally:
        lake.stop()
