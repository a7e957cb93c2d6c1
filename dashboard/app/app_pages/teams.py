"""Teams: response times a team lead can trust — business hours, SLAs, backlog, drill-down."""

from __future__ import annotations

from dataclasses import replace

import plotly.express as px
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.charts import download_table
from dashboard.app.components.tiles import empty_state, judged_as_of, kpi_row
from dashboard.metrics import response_times as rt

filters = st.session_state.get("filters")
if filters is None:
    empty_state()
    st.stop()

st.title("Teams")
st.caption(f"{filters.describe()} · business-hours figures use each team's calendar")

comparison = data.call(rt.period_comparison, filters)  # one scan: tiles and table below
kpi_row(
    rt.kpi_tiles(comparison, data.call(rt.period_csat, filters, data.config().anonymity_min_group))
)
mix = data.call(rt.service_mix, filters)
with st.container(horizontal=True):
    for label, key, help_text in (
        ("Reopened", "reopen_rate", "Share of tickets reopened at least once."),
        (
            "One-touch",
            "one_touch_rate",
            "Resolved tickets closed within an hour of the first response, never reopened.",
        ),
        (
            "Last-minute requests",
            "last_minute_share",
            "Share of planned requests (not incidents) filed as urgent or high.",
        ),
        ("After hours", "after_hours_share", "Created outside 08:00–18:00 UTC or at weekends."),
    ):
        value = mix[key]
        st.metric(label, "–" if value is None else f"{value:.1%}", border=True, help=help_text)

trend = data.call(rt.weekly_trend, filters)
if trend.is_empty():
    st.info("No tickets match these filters.", icon=":material/filter_alt_off:")
    st.stop()

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**First response per week** (hours)")
    st.plotly_chart(figures.duration_per_week(trend, "first_response"), key="fr_trend")
with right, st.container(border=True):
    st.markdown("**SLA met per week** (resolution)")
    st.plotly_chart(figures.sla_per_week(trend), key="sla_trend")

with st.container(border=True):
    st.markdown(
        "**Median first response by requester department × team** (hours) — "
        "select a cell to list its tickets"
    )
    heat = data.call(rt.heatmap, filters)
    grid = heat.pivot(on="service_team", index="requester_department", values="median_hours")
    teams = [c for c in grid.columns if c != "requester_department"]
    fig = px.imshow(
        grid.select(teams).to_numpy(),
        x=teams,
        y=grid["requester_department"].to_list(),
        color_continuous_scale="Blues",
        aspect="auto",
        text_auto=".1f",
        labels={"color": "hours"},
    )
    event = st.plotly_chart(
        figures.tidy(fig, 460), key="heatmap", on_select="rerun", selection_mode="points"
    )
    points = (event.selection.points if event and event.selection else []) or []

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Resolution time distribution** (hours, log scale)")
    dist = data.call(rt.durations, filters)
    fig = px.box(
        dist,
        x="service_team",
        y="resolution_hours",
        log_y=True,
        points=False,
        labels={"service_team": "", "resolution_hours": "hours"},
    )
    st.plotly_chart(figures.tidy(fig), key="distribution")
with right, st.container(border=True):
    st.markdown("**Backlog** (open tickets at the end of each day)")
    fig = px.area(
        data.call(rt.backlog, filters),
        x="day",
        y="open",
        labels={"day": "", "open": "open tickets"},
    )
    st.plotly_chart(figures.tidy(fig), key="backlog")

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Open tickets by age** now")
    st.caption(f"Open and aged {judged_as_of()}.")
    ages = data.call(rt.backlog_age, filters)
    st.plotly_chart(
        figures.tidy(px.bar(ages, x="age", y="tickets", labels={"age": ""}), 280), key="ages"
    )
with right, st.container(border=True):
    st.markdown("**First-contact channel**")
    channels = data.call(rt.channel_mix, filters)
    fig = px.bar(
        channels,
        x="service_team",
        y="share",
        color="channel",
        labels={"service_team": "", "share": ""},
    )
    fig.update_yaxes(tickformat=".0%")
    st.plotly_chart(figures.tidy(fig, 280), key="channels")

with st.container(border=True):
    st.markdown("**This period against the previous one and last year**")
    download_table(comparison, "inward_period_comparison")
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Slowest categories** (median resolution)")
    download_table(data.call(rt.slowest_categories, filters), "inward_slowest_categories")
with right, st.container(border=True):
    st.markdown("**Demand per head count** (people file)")
    download_table(data.call(rt.tickets_per_head, filters), "inward_tickets_per_head")

with st.container(border=True):
    drill = filters
    if points:
        p = points[0]
        drill = replace(filters, departments=(str(p["y"]),), teams=(str(p["x"]),))
        st.markdown(f"**Tickets: {p['y']} → {p['x']}** (requesters pseudonymised)")
    else:
        st.markdown("**Tickets** (newest first, requesters pseudonymised)")
    download_table(data.call(rt.ticket_list, drill), "inward_tickets", height=360)
