"""The commands that print what a page shows: `inward metrics`, `engagement`,
`alignment`, `surveys`, `flow` and `panel`."""

from __future__ import annotations

import argparse

from dashboard import as_of
from dashboard.cli.common import (
    Failure,
    UsageError,
    check_engine,
    err,
    open_existing,
    reader,
    require_lake_rows,
    require_rows,
    spark_lake,
)
from dashboard.cli.options import filters_from
from dashboard.config import load_config
from dashboard.filters import Filters
from dashboard.output import render


def cmd_metrics(args: argparse.Namespace) -> int:
    from dashboard.metrics.response_times import group_columns, summary

    check_engine(args)
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
        with spark_lake(args) as lake:
            require_lake_rows(lake)
            frame = summary(lake, filters, by)
            judged = (
                as_of.describe(as_of.as_of_frame(lake))
                if "source_as_of" in lake.tables
                else "judged as of the lake's export (no source_as_of table in it)"
            )
    else:
        db = open_existing(args.db, config)
        with reader(args, config, db) as con:
            require_rows(con, db)
            frame = summary(con, filters, by)
            judged = as_of.describe(as_of.as_of_frame(con))
    print(render(frame, args.format))
    err(f"inward metrics: SLAs and backlog {judged}")  # stderr: json stays pure
    return 0


def cmd_engagement(args: argparse.Namespace) -> int:
    """The `requester_engagement` rows: stored by the last ingest, or recomputed
    (without writing) when --as-of asks for another day."""
    from dashboard.metrics.engagement.stored import engagement_rows
    from dashboard.metrics.identity import find_requesters

    config = load_config(args.config)
    db = open_existing(args.db, config)
    with reader(args, config, db) as con:
        require_rows(con, db)
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
    db = open_existing(args.db, config)
    with reader(args, config, db) as con:
        require_rows(con, db)
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
    db = open_existing(args.db, config)
    with reader(args, config, db) as con:
        require_rows(con, db, "survey_responses", "survey responses")
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
        err(
            f"note: survey numbers cover whole months ({months.date_from or '…'} to "
            f"{months.date_to or '…'}), so that dates a day apart cannot single anyone out"
        )
    return 0


def cmd_flow(args: argparse.Namespace) -> int:
    """`inward flow SECTION`: the Flow page's panels (`inward panel flow.SECTION`), with
    a hint when the warehouse has no history to show."""
    from dashboard import panels
    from dashboard.metrics import flow

    config = load_config(args.config)
    db = open_existing(args.db, config)
    with reader(args, config, db) as con:
        require_rows(con, db)
        if args.section not in ("summary", "backlog") and not flow.has_history(con):
            raise Failure(
                f"the warehouse {db} has no ticket history: load an export that "
                "carries it (event log, audits, changelog; see README)"
            )
        try:
            frame = panels.get(f"flow.{args.section}").run(con, filters_from(args), config)
        except PermissionError as exc:
            raise Failure(str(exc)) from exc
    print(render(frame, args.format))
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
    filters = filters_from(args)
    db = open_existing(args.db, config)
    with reader(args, config, db) as con:
        require_rows(con, db)
        try:
            frame = panel.run(con, filters, config, **options)
        except TypeError as exc:
            raise UsageError(f"{args.name}: {exc}") from exc
        except PermissionError as exc:  # a panel the config keeps off (flow.agents)
            raise Failure(str(exc)) from exc
    note = panels.not_applying(panel, filters)
    if note:
        err(f"note: {note}")
    print(render(frame, args.format))
    return 0
