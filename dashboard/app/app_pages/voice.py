"""Voice: what internal customers say — CSAT, NPS, CES, drivers and comment themes.

Anonymity is enforced inside `dashboard.metrics.surveys` (every number here comes
through its suppression); the page only shows what survives, and says so. Date
filters are widened to whole months (`surveys.whole_months`, shared with the report).
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.charts import download_table
from dashboard.app.components.tiles import empty_state
from dashboard.metrics import surveys as sv

filters = st.session_state.get("filters")
if filters is None:
    empty_state()
    st.stop()

config = data.config()
k = config.anonymity_min_group
scope = sv.whole_months(filters)
st.title("Voice of the internal customer")
st.caption(
    f"Survey answers {scope.date_from or '…'} to {scope.date_to or '…'} (whole months). "
    f"Groups with fewer than {k} respondents are never shown, nor anything that would "
    "let them be worked out from the totals."
)

overall = data.call(sv.survey_summary, config, (), scope)
if overall.is_empty() or overall["suppressed"][0] is None:
    st.info("No survey answers match these filters.", icon=":material/forum:")
    st.stop()
row = overall.row(0, named=True)
if row["suppressed"]:
    st.warning(
        f"Fewer than {k} people answered for this selection: nothing can be shown.",
        icon=":material/visibility_off:",
    )
    st.stop()
if row["partial"]:
    st.caption(
        f"Some months had fewer than {k} respondents in a group: their answers are left "
        "out of that group's numbers (rows marked `partial`), never shown on their own."
    )


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def num(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


with st.container(horizontal=True):
    st.metric(
        "CSAT (1–5)",
        num(row["csat_mean"]),
        border=True,
        help=f"Mean over {row['csat_responses'] or 0:,} answers.",
    )
    st.metric(
        "Satisfied (top-2 box)",
        pct(row["csat_top2_share"]),
        border=True,
        help=f"95% Wilson CI {pct(row['csat_top2_ci_low'])}–{pct(row['csat_top2_ci_high'])}",
    )
    st.metric(
        "NPS",
        num(row["nps"], 0),
        border=True,
        help=f"Promoters − detractors; 95% bootstrap CI {num(row['nps_ci_low'], 0)} to "
        f"{num(row['nps_ci_high'], 0)}",
    )
    st.metric("CES (1–7)", num(row["ces_mean"]), border=True)
    st.metric(
        "Response rate",
        pct(row["response_rate"]),
        border=True,
        help="Survey answers per resolved ticket.",
    )
    st.metric("Respondents", f"{row['respondents']:,}", border=True)

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("**CSAT per month** (suppressed months are gaps)")
    trend = data.call(sv.trend, config, "month", scope)
    st.plotly_chart(figures.csat_per_period(trend), key="csat_trend")
with right, st.container(border=True):
    st.markdown("**What goes with low scores** (CSAT difference vs the rest, 95% CI)")
    drivers = data.call(sv.survey_drivers, config, scope)
    if drivers.is_empty():
        st.caption("Not enough linked answers to estimate drivers.")
    else:
        top = drivers.head(8).with_columns(
            (pl.col("factor").str.replace_all("_", " ") + ": " + pl.col("level")).alias("what")
        )
        fig = go.Figure(
            go.Bar(
                x=top["effect"],
                y=top["what"],
                orientation="h",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (top["ci_high"] - top["effect"]).to_list(),
                    "arrayminus": (top["effect"] - top["ci_low"]).to_list(),
                },
                marker_color=["#dc2626" if e < 0 else "#16a34a" for e in top["effect"]],
            )
        )
        fig.update_yaxes(autorange="reversed")
        st.plotly_chart(figures.tidy(fig, 300), key="drivers")
        st.markdown(f"_{top['label'][0]}_")

with st.container(border=True):
    st.markdown("**By service team and department**")
    by = st.segmented_control(
        "Group by",
        ["service_team", "department", "requester_type"],
        default="service_team",
        key="voice_by",
        required=True,
        format_func=lambda c: c.replace("_", " "),
    )
    groups = data.call(sv.survey_summary, config, (by,), scope)
    hidden = int(groups["suppressed"].sum())
    if hidden:
        st.caption(
            f"{hidden} group(s) hidden: fewer than {k} respondents, or hiding them "
            "protects another small group."
        )
    download_table(
        groups.with_columns(
            pl.when(pl.col("suppressed"))
            .then(pl.lit(f"fewer than {k} responses"))
            .otherwise(pl.lit(""))
            .alias("note")
        ),
        f"inward_surveys_by_{by}",
    )

st.subheader("Comments")
left, right = st.columns(2)
keywords = data.call(sv.comment_keywords, config, scope)
for col, band, title in ((left, "low", "Low scores (1–2)"), (right, "high", "High scores")):
    with col, st.container(border=True):
        st.markdown(f"**{title}: frequent phrases**")
        terms = keywords.filter(pl.col("band") == band).head(10)
        if terms.is_empty():
            st.caption("Not enough comments.")
        else:
            st.plotly_chart(
                figures.tidy(
                    px.bar(terms, x="comments", y="term", orientation="h", labels={"term": ""}), 260
                ),
                key=f"terms_{band}",
            )
search = st.text_input(
    "Search comments", key="voice_search", bind="query-params", placeholder="e.g. password"
)
band = st.segmented_control("Band", ["low", "high"], default="low", key="voice_band", required=True)
excerpts = data.call(sv.comment_excerpts, config, scope, band, search or None, 30)
download_table(excerpts, f"inward_comments_{band}")
