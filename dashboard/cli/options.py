"""The argparse tree: every command, its options and their help (CONTRACT: README
"Command line", checked by tests/test_docs.py).

One declaration, the options of every command side by side, so the same option reads
the same everywhere; the handlers live in the command modules."""

from __future__ import annotations

import argparse
from datetime import date

from dashboard.filters import Filters
from dashboard.ingest.base import KINDS
from dashboard.output import FORMATS


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


def _add_period_teams_departments(p: argparse.ArgumentParser, when: str, who: str) -> None:
    """The four filters of commands that take no other sidebar filter (metrics, surveys,
    report): a date range on `when` and repeatable teams and `who`'s departments."""
    p.add_argument("--from", dest="date_from", type=_date, help=f"first day ({when})")
    p.add_argument("--to", dest="date_to", type=_date, help=f"last day ({when})")
    p.add_argument("--team", action="append", default=[], help="service team (repeatable)")
    p.add_argument(
        "--department", action="append", default=[], help=f"{who} department (repeatable)"
    )


def filters_from(args: argparse.Namespace) -> Filters:
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
    _add_period_teams_departments(p, "created_at", "requester")
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
    _add_period_teams_departments(p, "submitted_at", "respondent")
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
    _add_period_teams_departments(p, "created_at", "requester")
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
