"""Engagement: internal customers are not captive — who stopped coming, and why we think so."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.charts import download_table
from dashboard.app.components.tiles import empty_state, judged_as_of
from dashboard.metrics import engagement as eng

filters = st.session_state.get("filters")
if filters is None:
    empty_state()
    st.stop()

config = data.config()
st.title("Engagement")
st.caption(
    "Requesters who used a team regularly and then went quiet, departments turning "
    "reactive, and what bad experiences cost. The model judges silence against each "
    "requester's own rhythm, so naturally occasional requesters are not flagged. "
    f"Silence is {judged_as_of()}."
)

quiet = data.call(eng.quiet_by_quarter)
this, prev = (
    int(quiet["went_quiet_this_quarter"].sum()),
    int(quiet["went_quiet_previous_quarter"].sum()),
)
with st.container(horizontal=True):
    st.metric(
        "Regulars who went quiet this quarter",
        f"{this:,}",
        f"{this - prev:+,}",
        delta_color="inverse",
        border=True,
        help="Regular requesters now flagged at risk or gone quiet whose last ticket fell "
        "in the 91 days before their tool's as-of, against the 91 days before that.",
    )
    st.metric("Regular requesters", f"{int(quiet['regular_requesters'].sum()):,}", border=True)
lost = data.call(eng.lost_after_bad_experience)
none = lost.filter(pl.col("experience") == "none")
if not none.is_empty():
    with st.container(horizontal=True):
        for row in lost.filter(pl.col("experience") != "none").iter_rows(named=True):
            st.metric(
                f"Came back after: {row['experience'].replace('_', ' ')}",
                f"{row['p_return']:.0%}",
                f"{row['difference_vs_none'] * 100:+.1f} pts vs no bad experience",
                delta_color="normal",
                border=True,
                help=f"Share of {row['tickets']:,} such tickets whose requester filed "
                f"again within 90 days (95% CI {row['ci_low']:.0%}–"
                f"{row['ci_high']:.0%}).",
            )

with st.container(border=True):
    st.markdown("**Went quiet, by team**")
    download_table(quiet, "inward_quiet_by_team")

st.subheader("Departments")
shift = data.call(eng.reactive_shift)
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**Reactive share** (incidents and urgent work vs planned requests)")
    flagged = shift.filter(pl.col("flagged"))["requester_department"].unique().to_list()
    st.plotly_chart(figures.reactive_share(shift), key="reactive")
    if flagged:
        st.warning(
            f"Turned reactive (significant rise, BH-corrected): {', '.join(flagged)}",
            icon=":material/trending_up:",
        )
with right, st.container(border=True):
    st.markdown("**Cohort retention** (share of each first-ticket month still filing)")
    cohorts = data.call(eng.cohort_retention)
    grid = cohorts.pivot(
        on="months_since", index="cohort_month", values="share_active", sort_columns=True
    )
    cols = [c for c in grid.columns if c != "cohort_month"]
    fig = px.imshow(
        grid.select(cols).to_numpy(),
        x=cols,
        y=grid["cohort_month"].cast(pl.String).to_list(),
        color_continuous_scale="Blues",
        zmin=0,
        zmax=1,
        aspect="auto",
        labels={"x": "months since first ticket", "color": "active"},
    )
    st.plotly_chart(figures.tidy(fig, 340), key="cohorts")

activity = data.call(eng.department_activity, "quarter")
latest = activity.filter(pl.col("period_start") == activity["period_start"].max())
fatigue = data.call(eng.survey_fatigue)
table = (
    latest.group_by("requester_department")
    .agg(pl.col("tickets").sum(), pl.col("active_requesters").sum(), pl.col("headcount").max())
    .join(
        shift.group_by("requester_department").agg(
            pl.col("first_half_share").first(),
            pl.col("last_half_share").first(),
            pl.col("flagged").first().alias("turned_reactive"),
        ),
        on="requester_department",
        how="left",
    )
    .join(
        fatigue.group_by("department").agg(
            pl.col("relative_slope").first().alias("survey_response_trend")
        ),
        left_on="requester_department",
        right_on="department",
        how="left",
    )
    .sort("tickets", descending=True)
)
with st.container(border=True):
    st.markdown(
        "**Department signals** (latest quarter; shares over the first and last half "
        "of the history)"
    )
    download_table(table, "inward_department_signals")

st.subheader("Across teams")
st.caption(
    "One person is one requester in every tool, so silence with one team can be told "
    "apart from leaving: these people went quiet with a team but kept filing with others "
    "afterwards — still here, still asking, just not there."
)
switched = data.call(eng.across_teams)
if filters.teams:
    switched = switched.filter(pl.col("quiet_with").is_in(filters.teams))
if filters.departments:
    switched = switched.filter(pl.col("requester_department").is_in(filters.departments))
if switched.is_empty():
    st.caption("Nobody who went quiet with one team still files with another.")
else:
    pairs = data.call(eng.team_switches)
    left, right = st.columns([2, 3])
    with left, st.container(border=True):
        st.markdown("**Went quiet with → still files with** (people)")
        download_table(pairs, "inward_team_switches", height=300)
    with right, st.container(border=True):
        st.markdown("**People**")
        download_table(switched, "inward_across_teams", height=300)
    with st.container(border=True):
        people = list(dict.fromkeys(switched["requester_id"].to_list()))
        person = st.selectbox("One person's history", people, key="person")
        history = data.call(eng.person_history, person)
        st.plotly_chart(figures.person_history(history), key="person_history")
        mine = data.call(eng.engagement_rows, config).filter(pl.col("requester_id") == person)
        st.dataframe(
            mine.select(
                "service_team", "status", "tickets", "last_ticket_at", "days_silent", "reason"
            ),
            hide_index=True,
        )

st.subheader("At risk and gone quiet")
rows = data.call(eng.engagement_rows, config)
rows = rows.filter(pl.col("status").is_in(["at_risk", "gone_quiet"]))
if filters.teams:
    rows = rows.filter(pl.col("service_team").is_in(filters.teams))
if filters.departments:
    rows = rows.filter(pl.col("requester_department").is_in(filters.departments))
if not data.scope().raw:
    st.caption(
        "Requesters are shown as pseudonyms (R-…, the same person gets the same code on "
        "every page); only a `raw = true` grant under `[access]` shows ids."
    )
download_table(
    rows.select(
        "status",
        "requester_id",
        "service_team",
        "requester_department",
        "tickets",
        "typical_gap_days",
        "days_silent",
        "p_alive",
        "reason",
    ),
    "inward_at_risk",
    height=420,
)
