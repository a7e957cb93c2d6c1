"""Teams: response times a team lead can trust — business hours, SLAs, backlog, drill-down.

Every number comes from a named panel (`dashboard/panels.py`), so `inward panel
teams.<name>` prints it for the same filters. Selecting a heatmap cell or a channel
bar narrows the ticket list at the bottom to the tickets behind it.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.cards import card, chart, chart_card, page_filters
from dashboard.app.components.tables import table
from dashboard.app.components.tiles import filter_note, judged_as_of, kpi_row
from dashboard.metrics import coverage
from dashboard.metrics import response_times as rt
from dashboard.panels import PANELS

filters = page_filters()
st.title("Teams")
st.caption(f"{filters.describe()} · business-hours figures use each team's calendar")

comparison = data.panel("teams.comparison", filters)  # one scan: tiles and table below
csat = data.call(rt.period_csat, filters, data.config().anonymity_min_group)
days = filters.days
kpi_row(rt.kpi_tiles(comparison, csat), days=days)
missing = data.call(coverage.missing_measures, filters)
no_reply = coverage.notes(missing, "first_response", "First response")
no_reopen = coverage.notes(missing, "reopen", "Reopened and one-touch")

mix = dict(data.panel("teams.service_mix", filters).iter_rows())
ages = data.panel("teams.backlog_age", filters)
with st.container(horizontal=True):
    for label, key, help_text in (
        ("Reopened", "reopen_rate", "Share of the period's tickets reopened at least once."),
        (
            "One-touch",
            "one_touch_rate",
            "Share of resolved tickets settled in one go: closed within an hour of the first "
            "response and never reopened. Exports carry no reply counts, so this is the "
            'closest observable stand-in for "solved with one reply".',
        ),
        (
            "Last-minute requests",
            "last_minute_share",
            "Share of planned requests (not incidents) filed as urgent or high priority: "
            "demand that arrives late rather than planned.",
        ),
        (
            "After hours",
            "after_hours_share",
            "Share created outside 08:00–18:00 UTC or at weekends.",
        ),
    ):
        value = mix.get(key)
        gaps = no_reopen if key in ("reopen_rate", "one_touch_rate") else []
        if value is None and key == "last_minute_share":
            gaps = ["n/a: no ticket in this selection is a planned request (type request)"]
        st.metric(
            label,
            "n/a" if value is None else f"{value:.1%}",
            border=True,
            help=" ".join([help_text, *(f"{g}." for g in gaps)]),
        )
    st.metric(
        "Open now",
        f"{int(ages['tickets'].sum()):,}",
        border=True,
        help="Tickets not resolved and not marked solved, closed or cancelled at the "
        "data's as-of (its newest timestamp); tickets without a status count. The date "
        "range does not apply: this is the backlog today, for the other filters.",
    )

for gap in [*no_reply, *no_reopen]:  # else a dash reads "no reply yet", 0 % "never reopened"
    st.caption(f":material/info: {gap}.")

trend = data.panel("overview.weekly_trend", filters)
if trend.is_empty():
    st.info(
        "No tickets were created in this range with these filters. Widen the date range or "
        "clear a filter.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

left, right = st.columns(2)
with left:
    chart_card(
        "**First response per week** (hours)",
        figures.duration_per_week,
        trend,
        "first_response",
        help="Calendar hours from creation to the first agent response: median and p90.",
        key="fr_trend",
        blank=trend["median_first_response_hours"].drop_nulls().is_empty(),
        empty="No ticket in this selection has a first response recorded.",
    )
with right:
    chart_card(
        "**Resolution SLA met per week**",
        figures.sla_per_week,
        trend,
        help="Share of the week's tickets with a due resolution target that met it.",
        key="sla_trend",
        blank=trend["sla_met_rate"].drop_nulls().is_empty(),
        empty="No SLA target applies to these tickets yet (none configured for their team "
        "and priority, or none due).",
    )

event = chart_card(
    "**Median first response by requester department × team** (hours) — click a cell to "
    "list its tickets below",
    figures.heatmap_cells,
    data.panel("teams.heatmap", filters),
    "service_team",
    "requester_department",
    "median_hours",
    "hours",
    key="heatmap",
    empty="No ticket in this selection has a requester department: the exports carry none, "
    "and no people file filled them in (load one on the Data page).",
    notes=[f":material/info: {gap}; click its cells to list the tickets." for gap in no_reply],
    on_select="rerun",
    selection_mode="points",
)
points = [p for p in (event.selection.points if event else []) if "x" in p]

left, right = st.columns(2)
with left:
    chart_card(
        "**Resolution time spread** (hours)",
        figures.spread,
        data.panel("teams.resolution_spread", filters),
        help="Per team, over resolved tickets: the dot is the median, the thick bar the "
        "middle half (p25–p75), the thin line p10–p90 (8 in 10 tickets).",
        key="spread",
        empty="None of these tickets has been resolved yet.",
    )
with right:
    chart_card(
        "**Backlog** (open tickets at the end of each day)",
        figures.backlog_area,
        data.panel("teams.backlog", filters),
        help="Opened minus closed, counting tickets opened before the range while they "
        "stayed open.",
        key="backlog",
        empty="No open tickets in this range.",
    )

left, right = st.columns(2)
with (
    left,
    card(
        "**Open now, by age**",
        help="The same open tickets as the Open now tile and the Backlog by age query, "
        f"open and aged {judged_as_of()}.",
    ),
):
    filter_note(filters, PANELS["teams.backlog_age"].applies, PANELS["teams.backlog_age"].why)
    chart(
        figures.age_bars,
        ages,
        key="ages",
        blank=ages["tickets"].sum() == 0,
        empty="Nothing is open: every ticket in this selection is resolved or closed.",
    )
with right:
    channels = data.panel("teams.channels", filters)
    channel_event = chart_card(
        "**First-contact channel** — click a bar to list its tickets",
        figures.channel_bars,
        channels,
        key="channels",
        empty="No tickets in this selection.",
        on_select="rerun",
        selection_mode="points",
    )
    channel_fig = data.figure(figures.channel_bars, channels)
    channel_points = [
        {**p, "channel": channel_fig.data[p["curve_number"]].name}
        for p in (channel_event.selection.points if channel_event else [])
        if "curve_number" in p and "x" in p
    ]

with st.container(border=True):
    st.markdown("**This period against the previous one and the same one last year**")
    table(
        comparison,
        "inward_period_comparison",
        columns=(
            "period",
            "tickets",
            "median_first_response_minutes",
            "median_first_response_business_minutes",
            "median_resolution_minutes",
            "median_resolution_business_minutes",
            "p90_resolution_minutes",
            "sla_first_response_met_rate",
            "sla_resolution_met_rate",
            "reopen_rate",
        ),
    )
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown(
        "**Slowest categories** (median resolution)",
        help="Categories with at least 5 resolved tickets, slowest first.",
    )
    table(data.panel("teams.slowest_categories", filters), "inward_slowest_categories")
with right, st.container(border=True):
    st.markdown(
        "**Demand per head count**",
        help="Tickets and distinct requesters per person in the department (people file, "
        "people active at any time in the range).",
    )
    table(
        data.panel("teams.per_head", filters),
        "inward_tickets_per_head",
        labels={"department": "Department"},
        empty="No ticket in this selection has a requester department.",
    )

with st.container(border=True):
    drill = filters
    if points:
        p = points[0]
        drill = replace(filters, departments=(str(p["y"]),), teams=(str(p["x"]),))
        st.markdown(f"**Tickets: {p['y']} → {p['x']}** (requesters pseudonymised)")
    elif channel_points:
        p = channel_points[0]
        channel = str(p["channel"])
        drill = replace(filters, teams=(str(p["x"]),), channels=(channel,))
        st.markdown(f"**Tickets: {p['x']} via {channel}** (requesters pseudonymised)")
    else:
        st.markdown("**Tickets** (newest first, requesters pseudonymised)")
    st.caption(
        "Click a heatmap cell or a channel bar above to list only its tickets; click "
        "outside the chart (or double-click) to clear the selection."
    )
    table(
        data.panel("teams.tickets", drill),
        "inward_tickets",
        height=360,
        empty="No tickets match this selection.",
    )
