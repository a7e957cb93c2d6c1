"""`inward` — the command line (CONTRACT: commands, options, exit codes).

Exit codes: 0 success; 1 the work could not be done (file refused, query failed,
empty warehouse); 2 bad usage. Errors are one readable line on stderr, never a
bare traceback.

Why one file of ~900 lines: it is the argparse tree and one small handler per
command, each a few lines over a function that lives elsewhere; the commands read
best side by side (same options, same exit codes), and no logic lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dashboard import as_of, audit, scoped, warehouse
from dashboard.access import OPEN, OPERATOR, Scope
from dashboard.config import Config, ConfigError, check_zone, load_config
from dashboard.filters import Filters
from dashboard.ingest.base import KINDS
from dashboard.models import Reader
from dashboard.output import FORMATS, render
from dashboard.pseudonyms import PseudonymKeyError

if TYPE_CHECKING:  # pragma: no cover
    from dashboard.spark import SparkLake

APP = Path(__file__).parent / "app" / "main.py"


class Failure(Exception):
    """The work could not be done (exit 1)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from exc


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="warehouse file (default: $INWARD_DB or data/inward.duckdb)")


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb: the warehouse (default); spark: Apache Spark over a lake (--lake)",
    )
    p.add_argument(
        "--lake", help="Parquet lake written by 'inward export-lake' (local, s3a://, hdfs://)"
    )
    p.add_argument(
        "--spark-master",
        help="Spark master URL, e.g. spark://host:7077 (default local[*], or spark-submit's)",
    )
    p.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="K=V",
        help="extra Spark setting, e.g. spark.executor.memory=8g (repeatable)",
    )


def _add_filters(p: argparse.ArgumentParser) -> None:
    """The sidebar's filters as options (one per filter, repeatable lists)."""
    p.add_argument("--from", dest="date_from", type=_date, help="first day")
    p.add_argument("--to", dest="date_to", type=_date, help="last day")
    for flag, dest, what in (
        ("--team", "team", "service team"),
        ("--department", "department", "requester department"),
        ("--requester-type", "requester_type", "requester type"),
        ("--priority", "priority", "priority"),
        ("--category", "category", "category"),
        ("--channel", "channel", "channel"),
    ):
        p.add_argument(flag, dest=dest, action="append", default=[], help=f"{what} (repeatable)")


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        date_from=args.date_from,
        date_to=args.date_to,
        teams=tuple(args.team),
        departments=tuple(args.department),
        requester_types=tuple(getattr(args, "requester_type", ())),
        priorities=tuple(getattr(args, "priority", ())),
        categories=tuple(getattr(args, "category", ())),
        channels=tuple(getattr(args, "channel", ())),
    )


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")


def _add_address(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens "
        "the app to the network, see README 'Privacy and access')",
    )


def _add_as_user(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as-user",
        metavar="EMAIL",
        help="show exactly what this user may see under [access] (default: the operator's "
        "view, ids as stored)",
    )
    p.add_argument(
        "--as-group",
        action="append",
        default=[],
        metavar="NAME",
        help="with --as-user: a group the user's sign-in token would carry (repeatable)",
    )


def parser() -> argparse.ArgumentParser:
    from dashboard.ingest.detect import formats

    ap = argparse.ArgumentParser(
        prog="inward",
        description="Inward: analytics for internal customer service (IT, HR, finance, "
        "facilities…). Load ticket and survey exports, then see response times, "
        "who stops coming, and which internal metrics move external outcomes.",
    )
    ap.add_argument("--config", help="config file (default: $INWARD_CONFIG or ./inward.toml)")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="write demo exports, ingest them and start the app")
    _add_db(p)
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--tickets", type=int, default=50_000, help="approximate ticket count")
    p.add_argument("--no-serve", action="store_true", help="only build the warehouse")
    p.add_argument("--port", type=int, default=8501)
    _add_address(p)
    p.add_argument("--out", default="data/demo", help="folder for the demo exports")

    p = sub.add_parser("ingest", help="load export files (or folders) into the warehouse")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _add_db(p)
    p.add_argument("--kind", choices=KINDS, help="what the files hold (default: detected)")
    p.add_argument(
        "--format",
        dest="fmt",
        choices=formats(),
        default="auto",
        help="export layout (default: auto-detect)",
    )
    p.add_argument("--timezone", help="zone for naive timestamps (default: config, else UTC)")
    p.add_argument("--json", action="store_true", help="print the ingests rows as JSON")

    p = sub.add_parser("serve", help="start the dashboard on the warehouse")
    _add_db(p)
    p.add_argument("--port", type=int, default=8501)
    _add_address(p)

    p = sub.add_parser("metrics", help="response-time summary per group")
    _add_db(p)
    p.add_argument("--by", help="team, department or team,department")
    p.add_argument("--from", dest="date_from", type=_date, help="first day (created_at)")
    p.add_argument("--to", dest="date_to", type=_date, help="last day (created_at)")
    p.add_argument("--team", action="append", default=[], help="service team (repeatable)")
    p.add_argument(
        "--department", action="append", default=[], help="requester department (repeatable)"
    )
    _add_engine(p)
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser(
        "export-lake", help="write the canonical tables as Parquet (for Spark and other engines)"
    )
    p.add_argument("dir", metavar="DIR", help="lake folder; one sub-folder per table")
    _add_db(p)

    p = sub.add_parser(
        "rollups", help="compute the response-time rollups (DuckDB or Spark) and load them"
    )
    _add_db(p)
    _add_engine(p)

    p = sub.add_parser("engagement", help="requesters who stop coming, and why")
    _add_db(p)
    p.add_argument(
        "--as-of",
        type=_date,
        help="judge silence as of this day (default: the last ticket in the warehouse)",
    )
    p.add_argument(
        "--status",
        action="append",
        default=[],
        choices=("new", "active", "occasional", "at_risk", "gone_quiet"),
        help="only these statuses (repeatable)",
    )
    p.add_argument(
        "--person",
        metavar="ID",
        help="one person across every team: their requester_id, or any e-mail, tool id "
        "or name a tool showed for them",
    )
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser("alignment", help="which internal metrics track external outcomes")
    _add_db(p)
    p.add_argument("--period", choices=("week", "month"), default="week")
    p.add_argument("--max-lag", type=int, default=4, help="periods internal may lead (0..N)")
    p.add_argument("--significant", action="store_true", help="only significant rows")
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser("surveys", help="survey summary per group, anonymity applied")
    _add_db(p)
    p.add_argument("--by", help="team, department, team,department or requester_type")
    p.add_argument("--from", dest="date_from", type=_date, help="first day (submitted_at)")
    p.add_argument("--to", dest="date_to", type=_date, help="last day (submitted_at)")
    p.add_argument("--team", action="append", default=[], help="service team (repeatable)")
    p.add_argument(
        "--department", action="append", default=[], help="respondent department (repeatable)"
    )
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser(
        "report",
        help="the executive report (PDF or standalone HTML), optionally e-mailed",
        description="Headline, KPIs with deltas, weekly trends, teams, who went quiet, voice "
        "and alignment for a period (default: the last full month of the data's as-of), "
        "with the same numbers as `inward metrics` for the same filters.",
    )
    _add_db(p)
    p.add_argument("--from", dest="date_from", type=_date, help="first day (created_at)")
    p.add_argument("--to", dest="date_to", type=_date, help="last day (created_at)")
    p.add_argument("--team", action="append", default=[], help="service team (repeatable)")
    p.add_argument(
        "--department", action="append", default=[], help="requester department (repeatable)"
    )
    p.add_argument("--out", required=True, metavar="FILE", help="report.pdf or report.html")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="PDF paper size")
    p.add_argument(
        "--no-charts", action="store_true", help="leave the charts out (no Chromium needed)"
    )
    p.add_argument(
        "--email", action="append", default=[], metavar="TO", help="also send it (repeatable)"
    )
    p.add_argument("--smtp", metavar="HOST[:PORT]", help="mail server for --email (port 25)")
    p.add_argument(
        "--sender", help="From address (default: $INWARD_SMTP_FROM, else inward@this host)"
    )
    _add_as_user(p)

    from dashboard.metrics.flow import SECTIONS

    p = sub.add_parser(
        "flow",
        help="where the time goes: time in status, waits, hand-offs, "
        "backlog over time (from ticket history)",
    )
    p.add_argument(
        "section",
        nargs="?",
        default="summary",
        choices=SECTIONS,
        help="what to print (default: summary; agents needs show_agents = true)",
    )
    _add_db(p)
    _add_filters(p)
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser("query", help="run an analyst query from queries/ in the sandbox")
    p.add_argument("name", metavar="NAME", help="query name, e.g. slowest_categories")
    p.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="parameter value (repeatable)"
    )
    _add_db(p)
    _add_filters(p)  # for queries whose header binds the global filters (filters:)
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser(
        "panel",
        help="print one panel of a page (what the app shows), or list them",
        description="Print the data behind one table or chart of the app, for the same "
        "filters as the sidebar. Without NAME, list every panel and the filters it takes.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="e.g. teams.backlog_age")
    _add_db(p)
    _add_filters(p)
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="K=V",
        help="a panel's own input, e.g. by=department for voice.groups (repeatable)",
    )
    _add_format(p)
    _add_as_user(p)

    p = sub.add_parser("queries", help="manage analyst queries")
    qs = p.add_subparsers(dest="queries_command", required=True, metavar="ACTION")
    c = qs.add_parser("check", help="parse, bind defaults and run every query")
    _add_db(c)
    c.add_argument(
        "--demo", action="store_true", help="run on a freshly generated small demo warehouse"
    )
    return ap


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard.demo import write_demo
    from dashboard.ingest import ingest_paths

    config = load_config(args.config)
    db = warehouse.db_path(args.db)
    t0 = time.perf_counter()
    files = write_demo(args.out, seed=args.seed, tickets=args.tickets)
    _err(f"demo exports written to {args.out}/ in {time.perf_counter() - t0:.1f} s")
    results = ingest_paths(db, files.all(), config, progress=lambda r: _err(r.summary()), say=_err)
    if any(r.status == "refused" for r in results):
        raise Failure("a demo file was refused; see the lines above")
    _err(f"warehouse ready: {db} ({time.perf_counter() - t0:.1f} s)")
    if args.no_serve:
        return 0
    return _serve(db, args.port, args.config, args.address)


def cmd_ingest(args: argparse.Namespace) -> int:
    from dashboard.ingest import expand, ingest_paths

    config = load_config(args.config)
    if args.timezone is not None:  # checked before any file is read
        check_zone("--timezone", args.timezone)
    db = warehouse.db_path(args.db)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise Failure(f"no such file or folder: {missing[0]}")
    if not expand(args.paths):
        raise Failure(f"no supported files in {', '.join(args.paths)}")
    report: Callable[[object], None] | None = (
        None if args.json else (lambda r: print(r.summary(), flush=True))
    )  # type: ignore[attr-defined]
    results = ingest_paths(
        db,
        args.paths,
        config,
        kind=args.kind,
        fmt=args.fmt,
        timezone=args.timezone,
        progress=report,
        say=_err,
    )
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=1))
    if db.is_file():
        _warn_about_config(db, config)
    return 1 if any(r.status == "refused" for r in results) else 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _serve(db: Path, port: int, config: str | None, address: str = "127.0.0.1") -> int:
    """Run the app; only on this machine unless `address` says otherwise (and then say
    what that means when nobody has to sign in)."""
    from dashboard import derive

    settings = load_config(config)  # fail fast on a bad config
    if address not in LOOPBACK and settings.access.mode == "open":
        _err(
            f'warning: listening on {address} with [access] mode = "open": anyone who can '
            "reach this port sees every page and can run every analyst query (ids "
            'pseudonymised). Set mode = "login" in inward.toml to require sign-in.'
        )
    if Path(db).is_file():
        warehouse.ensure_current(db)  # the app only reads: bring an old file up to date first
        derive.ensure_derived(db, settings)  # finish a pending refresh, apply the as_of
    env = dict(os.environ, INWARD_DB=str(Path(db).resolve()))
    if config:
        env["INWARD_CONFIG"] = str(Path(config).resolve())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        # a short message in the browser, never a traceback (details go to the console)
        "--client.showErrorDetails",
        "none",
    ]
    host = "localhost" if address in LOOPBACK else address
    _err(f"Inward is starting on http://{host}:{port} (Ctrl+C to stop)")
    if os.name == "posix":
        # Become the server: a SIGTERM from a process manager (or a test) then reaches
        # Streamlit itself, where a child process would outlive its parent and keep
        # the port and the warehouse's read handles.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(warehouse.db_path(args.db), args.port, args.config, args.address)


def _open_existing(db_arg: str | None, config: Config) -> Path:
    """The warehouse to read, migrated and with its derived data (and the config's
    `as_of`, see dashboard/as_of.py) complete for `config`."""
    from dashboard import derive

    db = warehouse.db_path(db_arg)
    if not db.is_file():
        raise Failure(f"no warehouse at {db}: run 'inward ingest FILES' or 'inward demo' first")
    warehouse.ensure_current(db)
    derive.ensure_derived(db, config)
    _warn_about_config(db, config)
    return db


def _warn_about_config(db: Path, config: Config) -> None:
    """Config that names things the warehouse does not have: stated, never silent."""
    from dashboard import derive

    with warehouse.reader(db) as con:
        for line in derive.team_setting_warnings(con, config):
            _err(line)


def cmd_metrics(args: argparse.Namespace) -> int:
    from dashboard.metrics.response_times import group_columns, summary

    _check_engine(args)
    config = load_config(args.config)
    try:
        by = group_columns(args.by)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    filters = Filters(
        date_from=args.date_from,
        date_to=args.date_to,
        teams=tuple(args.team),
        departments=tuple(args.department),
    )
    if args.engine == "spark":
        if args.as_user:
            raise UsageError("--as-user needs the DuckDB engine: a lake holds every row, unscoped")
        with _spark_lake(args) as lake:
            _require_lake_rows(lake)
            frame = summary(lake, filters, by)
            judged = (
                as_of.describe(as_of.as_of_frame(lake))
                if "source_as_of" in lake.tables
                else "judged as of the lake's export (no source_as_of table in it)"
            )
    else:
        db = _open_existing(args.db, config)
        with _reader(args, config, db) as con:
            _require_rows(con, db)
            frame = summary(con, filters, by)
            judged = as_of.describe(as_of.as_of_frame(con))
    print(render(frame, args.format))
    _err(f"inward metrics: SLAs and backlog {judged}")  # stderr: json stays pure
    return 0


def _check_engine(args: argparse.Namespace) -> None:
    if args.engine == "spark" and not args.lake:
        raise UsageError("--engine spark reads a lake: add --lake DIR (see 'inward export-lake')")
    if args.engine != "spark" and (args.lake or args.spark_master or args.spark_conf):
        raise UsageError("--lake, --spark-master and --spark-conf go with --engine spark")


@contextmanager
def _spark_lake(args: argparse.Namespace) -> Iterator[SparkLake]:
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
        lake = spark.open_lake(args.lake, args.spark_master, conf, progress=_err)
    except (spark.SparkUnavailable, spark.LakeError) as exc:
        raise Failure(str(exc)) from exc
    try:
        yield lake
    finally:
        lake.stop()


def cmd_export_lake(args: argparse.Namespace) -> int:
    from dashboard.lake import export_lake

    db = _open_existing(args.db, load_config(args.config))
    with warehouse.reader(db) as con:
        _require_rows(con, db)
    t0 = time.perf_counter()
    counts = export_lake(db, args.dir, progress=print)
    _err(f"lake written: {len(counts)} tables in {args.dir} ({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_rollups(args: argparse.Namespace) -> int:
    from dashboard.derive.rollups import build, load

    _check_engine(args)
    db = _open_existing(args.db, load_config(args.config))
    t0 = time.perf_counter()
    if args.engine == "spark":
        with _spark_lake(args) as lake:
            _require_lake_rows(lake)
            frames = build(lake)
    else:
        with warehouse.reader(db) as con:
            _require_rows(con, db)
            frames = build(con)
    with warehouse.writer(db) as con:
        load(con, frames)
    sizes = ", ".join(f"{name} {frame.height:,} rows" for name, frame in frames.items())
    _err(f"rollups from {args.engine} loaded into {db}: {sizes} ({time.perf_counter() - t0:.1f} s)")
    return 0


def _scope(args: argparse.Namespace, config: Config) -> Scope:
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


def _analyst_scope(args: argparse.Namespace, config: Config) -> Scope:
    """Analyst SQL never runs as the operator (CONTRACT): without --as-user it sees what
    open mode shows everyone — all rows, pseudonymised, survey numbers anonymity-safe."""
    return _scope(args, config) if args.as_user else OPEN


@contextmanager
def _reader(
    args: argparse.Namespace, config: Config, db: Path
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only warehouse connection under the command's scope."""
    scope = _scope(args, config)
    with scoped.reader(db, scope) as con:
        yield con


def _require_rows(
    con: Reader, db: Path | str, table: str = "tickets", what: str = "tickets"
) -> None:
    """An empty warehouse (or lake) is exit 1 with a hint, not an empty table printed
    as success."""
    if con.sql(f"SELECT count(*) AS n FROM {table}").pl().item() == 0:
        raise Failure(
            f"the warehouse {db} has no {what} yet (or none this user may see): run "
            "'inward ingest' first"
        )


def _require_lake_rows(lake: SparkLake) -> None:
    if lake.sql("SELECT count(*) AS n FROM tickets").pl().item() == 0:
        raise Failure(f"the lake {lake.lake} has no tickets: run 'inward export-lake' again")


def cmd_engagement(args: argparse.Namespace) -> int:
    """The `requester_engagement` rows: stored by the last ingest, or recomputed
    (without writing) when --as-of asks for another day."""
    from dashboard.metrics.engagement.stored import engagement_rows
    from dashboard.metrics.identity import find_requesters

    config = load_config(args.config)
    db = _open_existing(args.db, config)
    with _reader(args, config, db) as con:
        _require_rows(con, db)
        frame = engagement_rows(con, config, args.as_of)
        if args.person:
            ids = find_requesters(con, args.person)
            if not ids:
                raise Failure(f"no requester is known as {args.person!r}")
            if len(ids) > 1:
                raise Failure(
                    f"{args.person!r} names {len(ids)} requesters ({', '.join(ids[:5])}); "
                    "give one of their ids"
                )
            frame = frame.filter(frame["requester_id"] == ids[0])
    if args.status:
        frame = frame.filter(frame["status"].is_in(args.status))
    print(render(frame, args.format))
    return 0


def cmd_alignment(args: argparse.Namespace) -> int:
    from dashboard.metrics.alignment import alignment_table

    if args.max_lag < 0:
        raise UsageError("--max-lag must be 0 or more")
    config = load_config(args.config)
    db = _open_existing(args.db, config)
    with _reader(args, config, db) as con:
        _require_rows(con, db)
        frame = alignment_table(con, config, period=args.period, max_lag=args.max_lag)
    if args.significant:
        frame = frame.filter(frame["significant"])
    print(render(frame, args.format))
    return 0


def cmd_surveys(args: argparse.Namespace) -> int:
    from dashboard.metrics.surveys.answers import parse_by, whole_months
    from dashboard.metrics.surveys.summary import survey_summary

    config = load_config(args.config)
    try:
        by = parse_by(args.by)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    db = _open_existing(args.db, config)
    with _reader(args, config, db) as con:
        _require_rows(con, db, "survey_responses", "survey responses")
        asked = Filters(
            date_from=args.date_from,
            date_to=args.date_to,
            teams=tuple(args.team),
            departments=tuple(args.department),
        )
        frame = survey_summary(con, config, by, asked)
    print(render(frame, args.format))
    months = whole_months(asked)
    if (months.date_from, months.date_to) != (asked.date_from, asked.date_to):
        _err(
            f"note: survey numbers cover whole months ({months.date_from or '…'} to "
            f"{months.date_to or '…'}), so that dates a day apart cannot single anyone out"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from dashboard import report
    from dashboard.report import mail
    from dashboard.report.browser import BrowserError

    out = Path(args.out)
    fmt = report.FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UsageError(f"--out must end in .pdf or .html, got {args.out!r}")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise UsageError("--from is after --to")
    if args.email and not args.smtp:
        raise UsageError("--email needs --smtp HOST[:PORT]")
    if args.smtp:
        try:
            mail.parse_server(args.smtp)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if fmt == "pdf" and args.no_charts:
        raise UsageError("--no-charts makes an HTML report only (a PDF is printed by Chromium)")
    config = load_config(args.config)
    db = _open_existing(args.db, config)
    filters = Filters(
        date_from=args.date_from,
        date_to=args.date_to,
        teams=tuple(args.team),
        departments=tuple(args.department),
    )
    t0 = time.perf_counter()
    with _reader(args, config, db) as con:
        _require_rows(con, db)
        try:
            result = report.generate(
                con, config, filters, fmt, paper=args.paper, charts=not args.no_charts
            )
        except BrowserError as exc:
            raise Failure(str(exc)) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.data)
    _err(f"report for {result.period} written to {out} ({time.perf_counter() - t0:.1f} s)")
    _err(result.headline)
    if args.email:
        msg = mail.message(
            args.email,
            args.sender or mail.default_sender(),
            f"Inward report {result.period}: {result.headline}",
            f"{result.headline}\n\nThe report for {result.period} is attached.\n",
            result.data,
            out.name,
            result.mime,
        )
        try:
            mail.send(msg, args.smtp)
        except mail.MailError as exc:
            raise Failure(f"{exc} (the report was written to {out})") from exc
        _err(f"sent to {', '.join(args.email)} via {args.smtp}")
    return 0


def cmd_flow(args: argparse.Namespace) -> int:
    """`inward flow SECTION`: the Flow page's panels (`inward panel flow.SECTION`), with
    a hint when the warehouse has no history to show."""
    from dashboard import panels
    from dashboard.metrics import flow

    config = load_config(args.config)
    db = _open_existing(args.db, config)
    with _reader(args, config, db) as con:
        _require_rows(con, db)
        if args.section not in ("summary", "backlog") and not flow.has_history(con):
            raise Failure(
                f"the warehouse {db} has no ticket history: load an export that "
                "carries it (event log, audits, changelog; see README)"
            )
        try:
            frame = panels.get(f"flow.{args.section}").run(con, _filters(args), config)
        except PermissionError as exc:
            raise Failure(str(exc)) from exc
    print(render(frame, args.format))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from dashboard.analyst.catalog import get_query
    from dashboard.analyst.params import parse_param_args
    from dashboard.analyst.run import run_query
    from dashboard.analyst.sandbox import QueryError, QueryUsageError, prestart_worker

    prestart_worker()  # its imports run while this process parses the query
    config = load_config(args.config)
    db = _open_existing(args.db, config)
    try:
        spec = get_query(args.name)
        result = run_query(
            spec,
            parse_param_args(args.param),
            db,
            config.queries,
            scope=_analyst_scope(args, config),
            min_group=config.anonymity_min_group,
            filters=_filters(args),
        )
    except QueryUsageError as exc:
        raise UsageError(str(exc)) from exc
    except QueryError as exc:
        raise Failure(str(exc)) from exc
    print(render(result.frame, args.format))
    if result.truncated:
        _err(f"note: only the first {result.frame.height:,} rows are shown ({result.cut_by})")
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
        _err(str(problem))
    total = len(specs) + len(errors)  # files: a query that parsed and then failed is one
    if problems:
        failed = len({p.path for p in problems})
        raise Failure(f"{failed} of {total} queries failed" if total else "no queries to check")
    _err(f"all {total} queries parse and run on {db}")
    return 0


def cmd_panel(args: argparse.Namespace) -> int:
    """`inward panel [NAME]`: the frame behind one of the app's tables or charts."""
    import polars as pl

    from dashboard import panels
    from dashboard.filters import LABELS

    if not args.name:
        listing = pl.DataFrame(
            {
                "panel": list(panels.PANELS),
                "shows": [p.title for p in panels.PANELS.values()],
                "filters": [
                    ", ".join(LABELS[f].lower() for f in p.applies) or "none"
                    for p in panels.PANELS.values()
                ],
            }
        )
        print(render(listing, args.format))
        return 0
    try:
        panel = panels.get(args.name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from exc
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option expects K=V, got {item!r}")
        options[key.strip()] = value.strip()
    config = load_config(args.config)
    filters = _filters(args)
    db = _open_existing(args.db, config)
    with _reader(args, config, db) as con:
        _require_rows(con, db)
        try:
            frame = panel.run(con, filters, config, **options)
        except TypeError as exc:
            raise UsageError(f"{args.name}: {exc}") from exc
        except PermissionError as exc:  # a panel the config keeps off (flow.agents)
            raise Failure(str(exc)) from exc
    note = panels.not_applying(panel, filters)
    if note:
        _err(f"note: {note}")
    print(render(frame, args.format))
    return 0


class UsageError(Exception):
    """Bad usage found after parsing (exit 2)."""


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "ingest": cmd_ingest,
    "serve": cmd_serve,
    "metrics": cmd_metrics,
    "export-lake": cmd_export_lake,
    "rollups": cmd_rollups,
    "engagement": cmd_engagement,
    "alignment": cmd_alignment,
    "surveys": cmd_surveys,
    "report": cmd_report,
    "flow": cmd_flow,
    "query": cmd_query,
    "queries": cmd_queries,
    "panel": cmd_panel,
}


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        _err(f"inward {args.command}: {exc}")
        return 2
    except ConfigError as exc:  # a config that cannot be used is bad usage
        _err(f"inward {args.command}: {exc}")
        return 2
    except (Failure, warehouse.WarehouseBusy, PseudonymKeyError) as exc:
        _err(f"inward {args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `inward ... | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # last resort: one readable line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _err(f"inward {args.command}: unexpected error: {type(exc).__name__}: {first}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
