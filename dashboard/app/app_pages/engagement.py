"""Engagement: internal customers are not captive — who stopped coming, and why we think so.

Every panel honours the team, department and requester-type filters; the date range
and the ticket-level filters do not apply, and the page says so (silence is judged
at the as-of over each requester's whole history).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.cards import card, chart, chart_card, page_filters
from dashboard.app.components.tables import column_config, download_csv, readable, table
from dashboard.app.components.tiles import filter_note, judged_as_of
from dashboard.formatting import status_label
from dashboard.metrics.engagement import elsewhere, stored
from dashboard.metrics.engagement.retention import COHORT_WINDOW_MONTHS
from dashboard.panels import PANELS

# came_back's experience codes, as a reader says them ("sla breached" read as jargon)
EXPERIENCES = {
    "sla_breached": "SLA missed",
    "reopened": "a reopen",
    "low_csat": "a low score",
    "any_bad": "any of these",
}

filters = page_filters()
config = data.config()
about = PANELS["engagement.quiet"]
st.title("Engagement")
st.caption(
    "Requesters who used a team regularly and then went quiet, departments turning "
    "reactive, and what bad experiences cost. Silence is judged against each requester's "
    "own rhythm, so naturally occasional requesters are not flagged. "
    f"Silence is {judged_as_of()}."
)
filter_note(filters, about.applies, about.why)

quiet = data.panel("engagement.quiet", filters)
this, prev = (
    int(quiet["went_quiet_this_quarter"].sum()),
    int(quiet["went_quiet_previous_quarter"].sum()),
)
with st.container(horizontal=True):
    st.metric(
        "Regulars who went quiet (last 91 days)",
        f"{this:,}",
        "±0" if this == prev else f"{this - prev:+,}",
        delta_color="off" if this == prev else "inverse",
        delta_arrow="off" if this == prev else "auto",
        border=True,
        help="Requesters with a regular rhythm who are now flagged at risk or gone quiet, and "
        "whose last ticket fell in the 91 days before their tool's as-of; the change "
        "compares with the 91 days before that.",
    )
    st.metric(
        "Regular requesters",
        f"{int(quiet['regular_requesters'].sum()):,}",
        border=True,
        help="Requesters with enough tickets to have a rhythm (not new, not occasional).",
    )
lost = data.panel("engagement.came_back", filters)
if not lost.filter(pl.col("experience") == "none").is_empty():
    with st.container(horizontal=True):
        for row in lost.filter(pl.col("experience") != "none").iter_rows(named=True):
            points = round(row["difference_vs_none"] * 100, 1)
            st.metric(
                f"Came back after: {EXPERIENCES.get(row['experience'], row['experience'])}",
                f"{row['p_return']:.0%}",
                "±0.0 pts vs no bad experience"
                if points == 0
                else f"{points:+.1f} pts vs no bad experience",
                delta_color="off" if points == 0 else "normal",
                border=True,
                help=f"Share of {row['tickets']:,} such tickets whose requester filed with the "
                f"same team again within 90 days (95% interval {row['ci_low']:.0%}–"
                f"{row['ci_high']:.0%}), against tickets without any bad experience. A "
                "ticket whose tool records no reopen count is not counted as reopened nor as "
                "without a bad experience (unknown).",
            )

with st.container(border=True):
    st.markdown("**Went quiet, by team**")
    table(quiet, "inward_quiet_by_team", empty="No requesters with a rhythm in this selection.")

st.subheader("Departments")
shift = data.panel("engagement.reactive", filters)
left, right = st.columns(2)
with (
    left,
    card(
        "**Reactive share** (incidents and urgent work against planned requests)",
        help="Per quarter: incidents and urgent tickets over incidents plus planned requests "
        "and questions. A department filing fewer requests while incidents keep coming has "
        "stopped asking for help before things break.",
    ),
):
    chart(
        figures.reactive_share,
        shift,
        key="reactive",
        empty="No ticket in this selection has a requester department.",
    )
    if not shift.is_empty():
        flagged = shift.filter(pl.col("flagged"))["requester_department"].unique().to_list()
        if flagged:
            st.warning(
                f"Turned reactive: {', '.join(sorted(flagged))}. Their share rose by more than "
                "chance explains — tested for every department at once, with the "
                "Benjamini–Hochberg correction so that testing many departments does not "
                "produce false alarms.",
                icon=":material/trending_up:",
            )
cohorts = data.panel("engagement.cohorts", filters)
with right:
    chart_card(
        "**Cohort retention** (share of each first-ticket month still filing)",
        figures.cohort_grid,
        cohorts,
        help="Requesters grouped by the month of their first ticket; each cell is the share "
        "of them who filed at least one ticket N months later.",
        key="cohorts",
        empty="No requesters in this selection.",
        notes=[]
        if cohorts.is_empty()
        else [
            f"First-ticket months {cohorts['cohort_month'].min():%b %Y} to "
            f"{cohorts['cohort_month'].max():%b %Y}: the {COHORT_WINDOW_MONTHS} months in a "
            f"row with the most new requesters, each followed for up to "
            f"{COHORT_WINDOW_MONTHS} months (a few stray early tickets would otherwise "
            "stretch the grid over decades)."
        ],
    )

with st.container(border=True):
    st.markdown(
        "**Department signals** (latest quarter; reactive shares over the first and the "
        "last half of the history)"
    )
    table(
        data.panel("engagement.departments", filters),
        "inward_department_signals",
        empty="No ticket in this selection has a requester department.",
    )

st.subheader("Across teams")
st.caption(
    "One person is one requester in every tool, so silence with one team can be told "
    "apart from leaving: these people went quiet with a team but kept filing with others "
    "afterwards — still here, still asking, just not there."
)
switched = data.panel("engagement.across_teams", filters)
if switched.is_empty():
    st.caption("Nobody in this selection who went quiet with one team still files with another.")
else:
    left, right = st.columns([2, 3])
    with left, st.container(border=True):
        st.markdown("**Went quiet with → still files with** (people)")
        table(data.panel("engagement.team_switches", filters), "inward_team_switches", height=300)
    with right, st.container(border=True):
        st.markdown("**People**")
        table(switched, "inward_across_teams", height=300)
    with st.container(border=True):
        people = list(dict.fromkeys(switched["requester_id"].to_list()))
        person = st.selectbox("One person's history", people, key="person")
        st.plotly_chart(
            data.figure(figures.person_history, data.call(elsewhere.person_history, person)),
            key="person_history",
        )
        # why the model flagged them with the team(s) of this selection; the reason names
        # the teams they still file with (the chart above shows every team's tickets)
        quiet_with = switched.filter(pl.col("requester_id") == person)["quiet_with"].to_list()
        mine = data.call(stored.engagement_rows, config).filter(
            (pl.col("requester_id") == person) & pl.col("service_team").is_in(quiet_with)
        )
        for row in mine.iter_rows(named=True):
            st.info(
                f"**{row['service_team']}** ({status_label(row['status'])}): {row['reason']}.",
                icon=":material/person_search:",
            )

st.subheader("At risk and gone quiet")
if not data.scope().raw:
    st.caption(
        "Requesters are shown as pseudonyms (R-…, the same person gets the same code on "
        "every page); only a `raw = true` grant under `[access]` shows ids."
    )
at_risk = data.panel("engagement.at_risk", filters)
if at_risk.is_empty():
    st.caption("Nobody in this selection is at risk or has gone quiet.")
else:
    st.caption("Select a row to read, in full, why the model flagged that requester.")
    picked = st.dataframe(
        readable(at_risk),
        hide_index=True,
        height=420,
        column_config=column_config(at_risk)
        | {"reason": st.column_config.TextColumn("Why", width=520)},
        column_order=(
            "status",
            "requester_id",
            "service_team",
            "requester_department",
            "reason",
            "tickets",
            "typical_gap_days",
            "days_silent",
            "p_alive",
            "last_ticket_at",
        ),
        on_select="rerun",
        selection_mode="single-row",
        key="at_risk",
        placeholder="–",
    )
    rows = picked.selection.rows if picked else []
    chosen = at_risk.row(rows[0] if rows else 0, named=True)
    st.info(
        f"**{chosen['requester_id']}** ({status_label(chosen['status'])}): {chosen['reason']}.",
        icon=":material/person_search:",
    )
    download_csv(at_risk, "inward_at_risk", key="dl_at_risk")
