"""The executive report (`inward report`, the Overview's "Download report").

`generate` is the one entry point: connection + config + filters → the file's
bytes, so the CLI, the app and a scheduled job produce the same document. The
connection is whatever the caller opened — a plain reader, or a scoped one that
restricts what a user may see — and every number is read through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboard.config import Config
from dashboard.filters import Filters

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}
MIME = {"pdf": "application/pdf", "html": "text/html"}


@dataclass(frozen=True)
class Output:
    data: bytes
    fmt: str  # "pdf" or "html"
    headline: str
    period: str  # e.g. "1 Sep 2026 – 30 Sep 2026"
    filename: str  # suggested file name

    @property
    def mime(self) -> str:
        return MIME[self.fmt]


def filename(filters: Filters, fmt: str) -> str:
    """The file name a report for these (dated) filters is saved under."""
    return f"inward-report-{filters.date_from}-to-{filters.date_to}.{fmt}"


def generate(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    fmt: str = "pdf",
    paper: str = "a4",
    charts: bool = True,
) -> Output:
    """The report for `filters` (default period: the last full month of the data's as-of)
    as PDF or standalone HTML. A PDF always needs Chromium; HTML only for its charts."""
    from dashboard.report import content, document
    from dashboard.report.browser import Chromium
    from dashboard.report.charts import report_charts

    if fmt not in MIME:
        raise ValueError(f"unknown report format {fmt!r} (use pdf or html)")
    if paper not in document.PAPERS:
        raise ValueError(f"unknown paper {paper!r} (use {' or '.join(document.PAPERS)})")
    browser = Chromium() if charts or fmt == "pdf" else None  # starts while DuckDB works
    try:
        report = content.build(con, config, filters)
        svgs: list[tuple[str, str]] = []
        if browser is not None and charts:
            shown = report_charts(report)
            drawn = browser.svgs([c.figure for c in shown])
            svgs = [(c.title, svg) for c, svg in zip(shown, drawn, strict=True)]
        page = document.html(report, svgs, paper)
        data = browser.pdf(page, paper) if browser is not None and fmt == "pdf" else page.encode()
    finally:
        if browser is not None:
            browser.close()
    return Output(
        data=data,
        fmt=fmt,
        headline=report.headline,
        period=report.period_label,
        filename=filename(report.filters, fmt),
    )
