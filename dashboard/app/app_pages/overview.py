"""Overview: the executive's ten-second read — KPIs with deltas, weekly trends, by team."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import figures, report
from dashboard.app import data
from dashboard.app.components.cards import card, chart_card, page_filters
from dashboard.app.components.tables import table
from dashboard.app.components.tiles import judged_as_of, kpi_row
from dashboard.metrics import coverage
from dashboard.metrics.response_times import csat_respondents, kpis

filters = page_filters()


def report_pdf() -> bytes:
    """The executive report for these filters, built only when the button is clicked
    (Chromium takes seconds) and cached per filters and warehouse version."""
    return data.call(report.generate, data.config(), filters, "pdf").data


def still_open(trend: pl.DataFrame) -> list[str]:
    """A warning when the latest weeks' times are still growing: a week's slowest
    tickets are the ones not yet resolved, so its median and p90 can only rise."""
    last = trend.tail(1).row(0, named=True)
    open_share = 1 - last["resolved"] / last["tickets"] if last["tickets"] else 0.0
    if open_share < 0.05:
        return []
    return [
        f":material/hourglass_top: {open_share:.0%} of the last week's tickets are still "
        "open. Recent weeks only count what is already resolved, and the slow tickets "
        "resolve last, so the end of this line will rise as they close: it is not (yet) "
        "an improvement."
    ]


with st.container(horizontal=True, vertical_alignment="bottom"):
    st.title("Overview", width="stretch")
    st.download_button(
        "Download report",
        report_pdf,
        report.filename(filters, "pdf"),
        report.MIME["pdf"],
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        help="The executive PDF for the current filters: the same file as "
        "`inward report --from … --to …` with these teams and departments.",
    )
days = filters.days
st.caption(
    f"{filters.describe()} · tickets counted by the day they were created · changes against "
    f"the previous {days} days · SLAs and backlog {judged_as_of()}"
)

tiles = data.call(kpis, filters, data.config().anonymity_min_group)
trend = data.panel("overview.weekly_trend", filters)
sparks = {
    label: trend[column].drop_nulls().to_list()
    for label, column in (
        ("Tickets", "tickets"),
        ("Median first response", "median_first_response_hours"),
        ("Median resolution", "median_resolution_hours"),
        ("SLA met (resolution)", "sla_met_rate"),
    )
}
CSAT = "CSAT (1–5)"
missing = {}
if any(t.label == CSAT and t.value is None for t in tiles):  # only an empty tile asks why
    answered, k = data.call(csat_respondents, filters), data.config().anonymity_min_group
    missing[CSAT] = (
        ("no surveys", "No survey answers are loaded for these filters and dates.")
        if answered == 0
        else (
            "too few answers",
            f"Fewer than {k} people answered for these filters and dates: hidden for "
            "anonymity, so no one's answer can be singled out.",
        )
    )
kpi_row(tiles, sparks, days, missing=missing)

if trend.is_empty():
    st.info(
        "No tickets were created in this range with these filters. Widen the date range "
        "(the presets in the sidebar) or clear a filter.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

left, right = st.columns(2)
with left:
    chart_card(
        "**Tickets per week**",
        figures.tickets_per_week,
        trend,
        help="Tickets created each week (Monday to Sunday, UTC).",
        key="tickets_per_week",
        empty="No tickets in this range.",
    )
with right:
    chart_card(
        "**Resolution time per week** (hours)",
        figures.duration_per_week,
        trend,
        "resolution",
        help="Calendar hours from creation to resolution of the week's tickets that are "
        "resolved: the median (half were faster) and the p90 (9 in 10 were faster).",
        key="resolution_per_week",
        blank=trend["median_resolution_hours"].drop_nulls().is_empty(),
        empty="None of these tickets has been resolved yet, so there is no time to show.",
        notes=still_open(trend),
    )

with card("**By service team**"):
    table(
        data.panel("overview.by_team", filters),
        "inward_by_team",
        columns=(
            "service_team",
            "tickets",
            "median_first_response_minutes",
            "median_resolution_minutes",
            "p90_resolution_minutes",
            "sla_resolution_met_rate",
            "reopen_rate",
        ),
    )
    # a dash in a column means the team's export lacks the field, not "none yet"
    missing = data.call(coverage.missing_measures, filters)
    for label, measure in (("Median first response", "first_response"), ("Reopened", "reopen")):
        for gap in coverage.notes(missing, measure, label):
            st.caption(f":material/info: {gap}.")
