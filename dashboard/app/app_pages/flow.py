"""Flow: where the time goes — time in status, waits, hand-offs, backlog over time.

Layout only: every number comes from `dashboard.metrics.flow` (the same functions
`inward flow` / `inward panel flow.*` print). Per-agent rows appear only when the
config says `show_agents = true`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.cards import chart_card, page_filters
from dashboard.app.components.tables import table
from dashboard.metrics import flow

filters = page_filters()

st.title("Flow")
st.caption(f"{filters.describe()} · where the time goes, from the tools' own ticket history")


def backlog_card(counted: str) -> None:
    """Open tickets per team at each day's end; `counted` says from what."""
    chart_card(
        f"**Backlog per team** (open tickets at each day's end, {counted})",
        figures.backlog_by_team,
        data.call(flow.backlog_by_team, filters),
        key="backlog",
        empty="No tickets in this selection.",
    )


if not data.call(flow.has_history):
    st.info(
        "No ticket history in the warehouse yet, so time in status, waits and hand-offs "
        "cannot be shown. Exports that carry history: the ServiceNow incident event log, "
        "`sys_audit` or `metric_instance`; Zendesk ticket audits or ticket metric events "
        "(API JSON); Jira issues as JSON with `changelog`; event logs such as BPI 2013; or a "
        "CSV of changes (ticket_id, at, status, team, assignee). See the README.",
        icon=":material/history:",
    )
    backlog_card("from created/resolved")
    st.stop()

(overall,) = data.call(flow.summary, filters, []).iter_rows(named=True)


def _hours(minutes: float | None) -> str:
    return "–" if minutes is None else f"{minutes / 60:,.1f} h"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


with st.container(horizontal=True):
    for label, value, help_text in (
        (
            "Tickets with history",
            f"{overall['tickets_with_history']:,} of {overall['tickets']:,}",
            "Tickets whose export recorded their changes (status, team, assignee).",
        ),
        (
            "Median resolution",
            _hours(overall["history_median_resolution_minutes"]),
            "Over the tickets with history.",
        ),
        (
            "Excluding waiting",
            _hours(overall["median_resolution_excluding_waiting_minutes"]),
            "Resolution minus time pending (on the requester) or on hold (a third party).",
        ),
        (
            "Time spent waiting",
            _share(overall["waiting_share"]),
            "Share of resolved tickets' resolution time in pending or on hold.",
        ),
        (
            "Reassigned",
            _share(overall["reassigned_rate"]),
            "Tickets handed to another team or agent at least once.",
        ),
        (
            "Team hops per ticket",
            "–"
            if overall["team_hops_per_ticket"] is None
            else f"{overall['team_hops_per_ticket']:.2f}",
            "Hand-offs between teams per ticket.",
        ),
    ):
        st.metric(label, value, border=True, help=help_text)

status = data.call(flow.status_time, filters)
with st.container(border=True):
    st.markdown("**Time in status by team** (share of each team's tracked time)")
    st.plotly_chart(data.figure(figures.status_share, status), key="status_share")
    table(
        status,
        "inward_time_in_status",
        columns=("service_team", "status", "tickets", "median_minutes", "p90_minutes", "share"),
    )

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Where tickets wait** (open statuses by the team holding them, in hours)")
    waits = data.call(flow.waits, filters)
    st.plotly_chart(data.figure(figures.waits, waits), key="waits")
    table(
        waits,
        "inward_waits",
        columns=("service_team", "status", "vendor_status", "tickets", "total_hours"),
    )
with right, st.container(border=True):
    st.markdown("**Slowest hand-offs** (median time the receiving team held the ticket)")
    handoffs = data.call(flow.handoffs, filters)
    if handoffs.is_empty():
        st.caption("No team sent at least three tickets to another in this selection.")
    # the number they are ranked by comes first, so "slowest first" reads at a glance
    table(
        handoffs,
        "inward_handoffs",
        columns=(
            "from_team",
            "to_team",
            "median_held_minutes",
            "handoffs",
            "median_pickup_minutes",
            "bounced_back_rate",
        ),
    )

backlog_card("as the history says")

replies = data.call(flow.next_replies, filters)
if not replies.is_empty():
    with st.container(border=True):
        st.markdown("**Replies** (first reply from creation; next reply after a requester answer)")
        table(replies, "inward_replies")

with st.container(border=True):
    st.markdown("**Per agent**")
    if data.config().show_agents:
        table(data.call(flow.agents, filters), "inward_agents")
    else:
        st.caption(
            "Per-agent tables are off: agents are people too. Set `show_agents = true` in "
            "inward.toml to show them."
        )
