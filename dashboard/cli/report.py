"""`inward report`: the executive report as PDF or HTML, optionally e-mailed."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dashboard.cli.common import (
    Failure,
    UsageError,
    err,
    open_existing,
    reader,
    require_rows,
)
from dashboard.config import load_config
from dashboard.filters import Filters


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
    db = open_existing(args.db, config)
    filters = Filters(
        date_from=args.date_from,
        date_to=args.date_to,
        teams=tuple(args.team),
        departments=tuple(args.department),
    )
    t0 = time.perf_counter()
    with reader(args, config, db) as con:
        require_rows(con, db)
        try:
            result = report.generate(
                con, config, filters, fmt, paper=args.paper, charts=not args.no_charts
            )
        except BrowserError as exc:
            raise Failure(str(exc)) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.data)
    err(f"report for {result.period} written to {out} ({time.perf_counter() - t0:.1f} s)")
    err(result.headline)
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
        err(f"sent to {', '.join(args.email)} via {args.smtp}")
    return 0
