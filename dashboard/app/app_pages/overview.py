"""Overview: the executive's ten-second read — KPIs with deltas, weekly trends, by team."""

from __future__ import annotations

import streamlit as st

from dashboard import figures, report
from dashboard.app import data
from dashboard.app.components.tiles import empty_state, judged_as_of, kpi_row
from dashboard.metrics.response_times import kpis, summary, weekly_trend
from dashboard.output import csv_text

filters = st.session_state.get("filters")
if filters is None:
    empty_state()
    st.stop()


def report_pdf() -> bytes:
    """The executive report for these filters, built only when the button is clicked
    (Chromium takes seconds) and cached per filters and warehouse version."""
    return data.call(report.generate, data.config(), filters, "pdf").data


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
st.caption(
    f"{filters.describe()} · deltas against the previous period of the same length · "
    f"SLAs and backlog {judged_as_of()}"
)

tiles = data.call(kpis, filters, data.config().anonymity_min_group)
trend = data.call(weekly_trend, filters)
sparks = {
    label: trend[column].drop_nulls().to_list()
    for label, column in (
        ("Tickets", "tickets"),
        ("Median first response", "median_first_response_hours"),
        ("Median resolution", "median_resolution_hours"),
        ("SLA met (resolution)", "sla_met_rate"),
    )
}
kpi_row(tiles, sparks)

if trend.is_empty():
    st.info(
        "No tickets match these filters. Widen the date range or clear a filter.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Tickets per week**")
    st.plotly_chart(figures.tickets_per_week(trend), key="tickets_per_week")
with right, st.container(border=True):
    st.markdown("**Resolution time per week** (hours, median and p90)")
    st.plotly_chart(figures.duration_per_week(trend, "resolution"), key="resolution_per_week")

with st.container(border=True):
    st.markdown("**By service team**")
    teams = data.call(summary, filters, ["service_team"])
    table = teams.select(
        "service_team",
        "tickets",
        (teams["median_first_response_minutes"] / 60).round(1).alias("median first response (h)"),
        (teams["median_resolution_minutes"] / 60).round(1).alias("median resolution (h)"),
        (teams["p90_resolution_minutes"] / 60).round(1).alias("p90 resolution (h)"),
        (teams["sla_resolution_met_rate"] * 100).round(1).alias("SLA met (%)"),
        (teams["reopen_rate"] * 100).round(1).alias("reopened (%)"),
    )
    st.dataframe(table, hide_index=True)
    st.download_button(
        "Download CSV",
        csv_text(table),
        "inward_by_team.csv",
        "text/csv",
        icon=":material/download:",
    )
