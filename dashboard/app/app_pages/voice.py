"""Voice: what internal customers say — CSAT, NPS, CES, drivers and comment themes.

Anonymity is enforced inside `dashboard.metrics.surveys` (every number here comes
through its suppression); the page only shows what survives, and says so. Date
filters are widened to whole months (`surveys.answers.whole_months`, shared with the report);
priority, category and channel do not apply to survey answers, and the page says so.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.cards import page_filters
from dashboard.app.components.tables import table
from dashboard.app.components.tiles import filter_note
from dashboard.metrics.surveys.answers import answer_span, whole_months
from dashboard.panels import PANELS

filters = page_filters()

k = data.config().anonymity_min_group
scope = whole_months(filters)
st.title("Voice of the internal customer")
st.caption(
    f"Survey answers {scope.date_from or '…'} to {scope.date_to or '…'} (the range widened "
    f"to whole months). Groups with fewer than {k} respondents are never shown, nor "
    "anything that would let them be worked out from the totals."
)
about = PANELS["voice.summary"]
filter_note(filters, about.applies, about.why)

overall = data.panel("voice.summary", filters)
if overall.is_empty() or overall["suppressed"][0] is None:
    first, last = data.call(answer_span)
    held = (
        f"The warehouse's survey answers run from {first:%Y-%m-%d} to {last:%Y-%m-%d}: pick "
        "dates in that span in the sidebar (or the All preset), or clear a filter."
        if first and last
        else "The warehouse holds no survey answers yet: load survey exports on the Data page."
    )
    st.info(f"No survey answers match these filters. {held}", icon=":material/forum:")
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


asked = {m: bool(row[f"{m}_responses"]) for m in ("csat", "nps", "ces")}
with st.container(horizontal=True):
    if asked["csat"]:
        st.metric(
            "CSAT (1–5)",
            num(row["csat_mean"]),
            border=True,
            help=f"Mean satisfaction over {row['csat_responses']:,} answers, every survey's "
            "scale mapped onto 1–5 (5 = very satisfied).",
        )
        st.metric(
            "Satisfied (top-2 box)",
            pct(row["csat_top2_share"]),
            border=True,
            help="Share of CSAT answers in the top two points of their scale (4 or 5 of 5; 9 "
            f"or 10 of 0–10). 95% of the time the true share lies within "
            f"{pct(row['csat_top2_ci_low'])}–{pct(row['csat_top2_ci_high'])} (Wilson "
            "interval).",
        )
    if asked["nps"]:
        st.metric(
            "NPS",
            num(row["nps"], 0),
            border=True,
            help="Net Promoter Score: % promoters (9–10 of 10) minus % detractors (0–6), from "
            f"−100 to 100. 95% interval {num(row['nps_ci_low'], 0)} to "
            f"{num(row['nps_ci_high'], 0)} (bootstrap).",
        )
    if asked["ces"]:
        st.metric(
            "CES (1–7)",
            num(row["ces_mean"]),
            border=True,
            help="Customer effort score: how easy it was to get help, mapped onto 1–7 "
            "(7 = very easy).",
        )
    st.metric(
        "Answer rate",
        pct(row["response_rate"]),
        border=True,
        help="Survey answers per ticket resolved in the same months.",
    )
    st.metric(
        "Respondents",
        f"{row['respondents']:,}",
        border=True,
        help="Distinct people who answered (one person answering ten times counts once).",
    )
missing = [m.upper() for m, yes in asked.items() if not yes]
if missing:
    st.caption(f"No {' or '.join(missing)} question in these answers, so no such score.")

left, right = st.columns(2)
with left, st.container(border=True):
    trend = data.panel("voice.trend", filters)
    shown = next(
        (c for c in ("csat_mean", "nps", "ces_mean") if trend[c].drop_nulls().len() > 0), None
    )
    label = {"csat_mean": "CSAT", "nps": "NPS", "ces_mean": "CES"}.get(shown or "", "Score")
    st.markdown(f"**{label} per month** (months with too few respondents are gaps)")
    if shown is None:
        st.caption(f"No month has {k} or more respondents with a score to show.")
    else:
        if shown != "csat_mean":
            st.caption(f"These surveys ask no CSAT question, so {label} is shown instead.")
        st.plotly_chart(data.figure(figures.score_per_period, trend, shown), key="score_trend")
with right, st.container(border=True):
    st.markdown(
        "**What goes with low scores** (CSAT difference against the rest, 95% interval)",
        help="Answers linked to their ticket, split by what happened to the ticket. A bar "
        "left of zero means such tickets score lower; if its interval line crosses zero "
        "the difference may be chance. Tickets whose tool records no reopen count are in "
        "neither side of 'reopened' (unknown, not 'not reopened').",
    )
    drivers = data.panel("voice.drivers", filters)
    if drivers.is_empty():
        st.caption(
            f"Not enough answers linked to tickets (at least {k} respondents on each side) "
            "to compare."
        )
    else:
        top = drivers.head(8).with_columns(
            (pl.col("factor").str.replace_all("_", " ") + ": " + pl.col("level")).alias("what")
        )
        st.plotly_chart(data.figure(figures.driver_bars, top), key="drivers")
        st.markdown(f"_{top['label'][0]}_")

with st.container(border=True):
    st.markdown("**By service team, department or requester type**")
    by = st.segmented_control(
        "Group by",
        ["service_team", "department", "requester_type"],
        default="service_team",
        key="voice_by",
        required=True,
        format_func=lambda c: c.replace("_", " "),
    )
    groups = data.panel("voice.groups", filters, by=by)
    hidden = int(groups["suppressed"].sum())
    if hidden:
        st.caption(
            f"{hidden} group(s) hidden: fewer than {k} respondents, or hiding them "
            "protects another small group."
        )
    table(
        groups.with_columns(
            pl.when(pl.col("suppressed"))
            .then(pl.lit(f"fewer than {k} respondents"))
            .otherwise(pl.lit(""))
            .alias("note")
        ),
        f"inward_surveys_by_{by}",
        columns=(
            by,
            "respondents",
            "responses",
            "csat_mean",
            "csat_top2_share",
            "nps",
            "ces_mean",
            "response_rate",
            "suppressed",
            "note",
        ),
    )

st.subheader("Comments")
st.caption(
    "Low scores: the bottom two points of a CSAT scale, or NPS 0–6. High scores: the top "
    "two points, or NPS 9–10. Phrases are those that set one band apart from the other, "
    f"used by at least {k} people."
)
left, right = st.columns(2)
keywords = data.panel("voice.phrases", filters)
for col, band, title in ((left, "low", "Low scores"), (right, "high", "High scores")):
    with col, st.container(border=True):
        st.markdown(f"**{title}: frequent phrases**")
        terms = keywords.filter(pl.col("band") == band).head(10)
        if terms.is_empty():
            st.caption("Not enough comments from enough people.")
        else:
            st.plotly_chart(data.figure(figures.term_bars, terms), key=f"terms_{band}")
search = st.text_input(
    "Search comments", key="voice_search", bind="query-params", placeholder="e.g. password"
)
band = st.segmented_control("Band", ["low", "high"], default="low", key="voice_band", required=True)
table(
    data.panel("voice.comments", filters, band=band, search=search or None),
    f"inward_comments_{band}",
    empty="No comments in this band match.",
)
