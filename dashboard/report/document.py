"""The report as one self-contained HTML document (inline CSS and SVG, nothing fetched),
printed to PDF by Chromium (`browser.py`) from that same document.

Reading order is an executive's: headline, KPI tiles, weekly trends, teams, who
went quiet and who turned reactive, voice, alignment, then what the numbers are
as of and which filters made them. Values are formatted by `dashboard.formatting`
and the helpers below, the same roundings the app shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from dashboard.filters import Filters
from dashboard.formatting import fmt, fmt_delta
from dashboard.metrics.response_times import Kpi
from dashboard.report.content import Report

CSS = Path(__file__).with_name("report.css")
PAPERS = {"a4": "A4", "letter": "letter"}


def hours(minutes: float | None) -> str:
    """Minutes as hours to one decimal (the teams table's unit)."""
    return "–" if minutes is None else f"{minutes / 60:,.1f}"


def percent(rate: float | None) -> str:
    """A 0..1 rate as a percentage to one decimal."""
    return "–" if rate is None else f"{rate * 100:.1f}"


def _points(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    return f"{(now - before) * 100:+.1f}"


def _change(now: float | None, before: float | None) -> str:
    if now is None or not before:
        return "–"
    return f"{now / before - 1:+.0%}"


def _table(head: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], table_id: str) -> str:
    """`head` is (title, numeric); numeric columns are right-aligned."""
    th = "".join(f"<th{' class=n' if n else ''}>{escape(t)}</th>" for t, n in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if n else ''}>{escape(str(v))}</td>"
            for v, (_, n) in zip(row, head, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _tile(k: Kpi) -> str:
    delta = fmt_delta(k)
    tone = "neutral"
    if k.delta and k.better in ("higher", "lower"):
        tone = "good" if (k.delta > 0) == (k.better == "higher") else "bad"
    text = f"{delta} vs previous" if delta else "no earlier period"
    return (
        f'<div class="tile"><div class="label">{escape(k.label)}</div>'
        f'<div class="value">{escape(fmt(k.value, k.unit))}</div>'
        f'<div class="delta {tone}">{escape(text)}</div></div>'
    )


def _teams(report: Report) -> str:
    t = report.teams
    if t.is_empty():
        return '<p class="note">No tickets match these filters in this period.</p>'
    head = [
        ("Service team", False),
        ("Tickets", True),
        ("vs prev.", True),
        ("Median first resp. (h)", True),
        ("Median resol. (h)", True),
        ("p90 resol. (h)", True),
        ("SLA met resol. (%)", True),
        ("vs prev. (pts)", True),
        ("SLA met first resp. (%)", True),
        ("Re­opened (%)", True),
    ]
    rows = [
        (
            r["service_team"] or "(none)",
            f"{r['tickets']:,}",
            _change(r["tickets"], r["previous_tickets"]),
            hours(r["median_first_response_minutes"]),
            hours(r["median_resolution_minutes"]),
            hours(r["p90_resolution_minutes"]),
            percent(r["sla_resolution_met_rate"]),
            _points(r["sla_resolution_met_rate"], r["previous_sla_resolution_met_rate"]),
            percent(r["sla_first_response_met_rate"]),
            percent(r["reopen_rate"]),
        )
        for r in t.iter_rows(named=True)
    ]
    return _table(head, rows, "teams")


def _engagement(report: Report) -> str:
    parts = []
    q = report.quiet
    if q.is_empty():
        parts.append('<p class="note">No engagement model yet (it is refreshed by ingest).</p>')
    else:
        this, prev = (
            int(q["went_quiet_this_quarter"].sum()),
            int(q["went_quiet_previous_quarter"].sum()),
        )
        parts.append(
            f"<p><b>{this:,}</b> regular requesters went quiet in the last 91 days of data "
            f"({this - prev:+,} against the 91 days before), out of "
            f"{int(q['regular_requesters'].sum()):,} regulars.</p>"
        )
        parts.append(
            _table(
                [
                    ("Service team", False),
                    ("Went quiet, last 91 days", True),
                    ("91 days before", True),
                    ("Regular requesters", True),
                ],
                (
                    (
                        r["service_team"] or "(none)",
                        f"{r['went_quiet_this_quarter']:,}",
                        f"{r['went_quiet_previous_quarter']:,}",
                        f"{r['regular_requesters']:,}",
                    )
                    for r in q.iter_rows(named=True)
                ),
                "quiet",
            )
        )
    if report.reactive.is_empty():
        parts.append(
            '<p class="note">No department turned significantly more reactive '
            "(incidents and urgent work against planned requests).</p>"
        )
    else:
        items = "".join(
            f"<li><b>{escape(r['requester_department'])}</b>: reactive share rose from "
            f"{percent(r['first_half_share'])} % to {percent(r['last_half_share'])} % "
            f"({_q(r['q_value'])})</li>"
            for r in report.reactive.iter_rows(named=True)
        )
        parts.append(f"<h3>Departments that turned reactive</h3><ul>{items}</ul>")
    return "".join(parts)


def _q(q: float) -> str:
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def _num(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _voice(report: Report) -> str:
    k = report.anonymity_min_group
    scope = report.survey_scope
    intro = (
        f'<p class="note">Survey answers {scope.date_from} to {scope.date_to} (whole months). '
        f"Groups with fewer than {k} respondents are never shown, nor anything that would "
        "let them be worked out.</p>"
    )
    v = report.voice
    if v is None:
        return intro + (
            f"<p>Fewer than {k} people answered for this selection (or nobody did): "
            "nothing can be shown.</p>"
        )
    tiles = "".join(
        f'<div class="tile"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div></div>'
        for label, value in (
            ("CSAT (1–5)", _num(v["csat_mean"])),
            ("Satisfied (top-2)", fmt(v["csat_top2_share"], "%")),
            ("NPS", _num(v["nps"], 0)),
            ("CES (1–7)", _num(v["ces_mean"])),
            ("Respondents", f"{v['respondents']:,}"),
        )
    )
    rows = (
        (
            r["service_team"],
            f"{r['respondents']:,}",
            _num(r["csat_mean"]),
            "–" if r["csat_top2_share"] is None else f"{r['csat_top2_share']:.0%}",
            _num(r["nps"], 0),
            _num(r["ces_mean"]),
        )
        for r in report.voice_teams.iter_rows(named=True)
    )
    table = _table(
        [
            ("Service team", False),
            ("Respondents", True),
            ("CSAT", True),
            ("Top-2", True),
            ("NPS", True),
            ("CES", True),
        ],
        rows,
        "voice-teams",
    )
    hidden = (
        f'<p class="note">{report.voice_hidden} team(s) hidden: fewer than {k} respondents, '
        "or hiding them protects another small group.</p>"
        if report.voice_hidden
        else ""
    )
    return intro + f'<div class="tiles">{tiles}</div>' + table + hidden


def _alignment(report: Report) -> str:
    note = (
        f'<p class="note">{len(report.alignment)} shown of the links that hold among '
        f"{report.alignment_tested:,} tested (whole history, weekly changes, corrected for "
        "autocorrelation and multiple comparisons; a link is not a cause).</p>"
    )
    if not report.alignment:
        return (
            "<p>No internal metric shows a link to an external outcome that survives the "
            "corrections. Treat apparent links in raw charts as noise for now.</p>" + note
        )
    items = "".join(f"<li>{escape(s)}</li>" for s in report.alignment)
    return f"<ul>{items}</ul>" + note


def cli_equivalent(f: Filters) -> str:
    """The `inward metrics` command that prints this report's team numbers."""
    args = [f"--from {f.date_from}", f"--to {f.date_to}"]
    args += [f"--team '{t}'" for t in f.teams] + [f"--department '{d}'" for d in f.departments]
    return "inward metrics --by team " + " ".join(args)


def html(report: Report, svgs: Sequence[tuple[str, str]] = (), paper: str = "a4") -> str:
    """The whole report; `svgs` are (title, svg document) pairs for the trends section."""
    footer = f"Inward · {report.period_label}".replace('"', "'")
    css = (
        CSS.read_text(encoding="utf-8")
        .replace("var(--paper, A4)", PAPERS[paper])
        .replace("FOOTER_TEXT", footer)
    )
    f = report.filters
    prev = f.previous()
    assert prev is not None  # the report period is always bounded
    charts = "".join(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{svg}</figure>'
        for title, svg in svgs
    )
    tf = report.trend_filters
    assert tf.date_to is not None
    partial = (
        f" The last week is partial: the period ends on a {tf.date_to:%A}."
        if tf.date_to.weekday() != 6
        else ""
    )
    trends = (
        f'<p class="note">Weeks {tf.date_from} to {tf.date_to}; the report period is shaded.'
        f"{partial}</p>" + f'<div class="charts">{charts}</div>'
        if charts
        else '<p class="note">Charts were left out.</p>'
    )
    as_of = f"{report.as_of:%Y-%m-%d %H:%M} UTC" if report.as_of else "–"
    title = f"Service report · {report.period_label}"
    meta = f"{f.describe()} · compared with {prev.date_from} to {prev.date_to} · data as of {as_of}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{css}</style></head>
<body>
<header><div class="brand">INWARD · INTERNAL SERVICE REPORT</div>
<h1>{escape(report.period_label)}</h1>
<div class="meta">{escape(meta)}</div></header>
<section id="headline"><p class="headline">{escape(report.headline)}</p>
<div class="tiles">{"".join(_tile(k) for k in report.kpis)}</div></section>
<section id="trends"><h2>Weekly trends</h2>{trends}</section>
<section id="teams-section"><h2>Service teams</h2>{_teams(report)}</section>
<section id="engagement"><h2>Who went quiet, who turned reactive</h2>{_engagement(report)}</section>
<section id="voice"><h2>Voice of the internal customer</h2>{_voice(report)}</section>
<section id="alignment"><h2>Alignment with business outcomes</h2>{_alignment(report)}</section>
<footer><dl>
<dt>Period</dt><dd>{f.date_from} to {f.date_to} (tickets by creation day, UTC)</dd>
<dt>Filters</dt><dd>{escape(f.without_dates().describe())}</dd>
<dt>Data as of</dt><dd>{escape(report.as_of_note)}</dd>
<dt>Generated</dt><dd>{report.generated_at:%Y-%m-%d %H:%M} UTC by Inward</dd>
<dt>Same numbers</dt><dd><code>{escape(cli_equivalent(f))}</code></dd>
</dl></footer>
</body></html>
"""
