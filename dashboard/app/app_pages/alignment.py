"""Alignment: which internal metrics track external outcomes — and which are noise.

Executives see the chain (team → business unit → outcome) in sentences; analysts
get the scorecard and a pair explorer. The page never hides the caveats: tests are
on period-to-period changes, corrected for autocorrelation and for the number of
comparisons, and a link is not a cause. The team and department filters choose rows
of the one table tested on everything, so a narrower view never changes a q-value.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.cards import chart_card, page_filters
from dashboard.app.components.tables import table
from dashboard.app.components.tiles import filter_note
from dashboard.metrics.alignment import (
    CONTRACT_COLUMNS,
    EXTERNAL_LABELS,
    INTERNAL_LABELS,
    INTERNAL_UNITS,
    pair_fit,
    plain_sentence,
)
from dashboard.metrics.alignment_stats import TRANSFORM, TRANSFORM_LABELS
from dashboard.panels import PANELS

filters = page_filters()
config = data.config()
about = PANELS["alignment.table"]
st.title("Alignment")
st.caption(
    "Do internal service metrics move what external customers feel? Every team × business "
    "unit × metric × outcome × lead is tested on the whole history; the team and "
    "department filters pick which of those results you see (departments by their "
    "business unit)."
)
filter_note(filters, about.applies, about.why)
period = st.segmented_control(
    "Period", ["week", "month"], default="week", key="al_period", bind="query-params", required=True
)
max_lag = 4 if period == "week" else 3
table_ = data.panel("alignment.table", filters, period=period, max_lag=max_lag)

goals = data.panel("alignment.goals", filters)
if not goals.is_empty():
    st.subheader("Corporate goals")
    with st.container(horizontal=True):
        for g in goals.iter_rows(named=True):
            value = g["current_value"]
            mark = {True: "✅ on target", False: "⚠️ off target"}.get(g["attained"], "no data")
            st.metric(
                g["label"] or g["metric"],
                "–" if value is None else f"{value:,.2f}",
                f"target {g['direction']} than {g['target']:,.2f} · {mark}",
                delta_color="off",
                border=True,
                help=g["note"] or None,
            )

if table_.is_empty():
    st.info(
        "Nothing to test for this selection: alignment needs external outcomes "
        "(customer CSAT, NPS, churn, revenue per business unit) loaded next to the tickets, "
        "for the business units of the chosen departments.",
        icon=":material/info:",
    )
    st.stop()

st.subheader("What holds")
significant = table_.filter(pl.col("significant")).sort("q_value")
if significant.is_empty():
    st.info(
        "No internal metric shows a link to an external outcome that survives the "
        "corrections below. That is a finding too: treat apparent links in raw charts as "
        "noise until more periods accumulate.",
        icon=":material/info:",
    )
else:
    for row in significant.head(10).iter_rows(named=True):
        st.markdown(f"- {plain_sentence(row)}")
tested = table_.filter(pl.col("p_value").is_not_null()).height
short = table_.filter(pl.col("correlation").is_null()).height
st.caption(
    f"{significant.height} of {tested:,} tested links shown are significant "
    f"(q ≤ 0.05, at least {config.alignment_min_periods} {period}s); "
    f"{short:,} combinations had not enough data and were not tested."
)

with st.expander(
    "How to read this (correlation is not causation)", expanded=False, icon=":material/warning:"
):
    st.markdown(
        f"- **ρ (rho)** is a rank correlation from −1 to 1: positive means the two move "
        "the same way, negative opposite ways, 0 no relation. It is computed on "
        f"**{TRANSFORM_LABELS[TRANSFORM]}**, after removing each series' own momentum "
        "(pre-whitening), so two series that merely both trend upward do not look linked.\n"
        "- **p** is the chance of seeing a link at least this strong if there were none, for "
        "one test; it accounts for how much each series depends on its own past.\n"
        "- **q** is p corrected for testing every team × unit × metric × outcome × lead at "
        "once (the Benjamini–Hochberg method): among links with q ≤ 0.05, at most about 5 % "
        "are expected to be flukes. Picking the best lead is paid for too.\n"
        "- **Lead** (lag): how many periods the internal metric runs ahead of the outcome.\n"
        "- A significant link says two series move together with a lead; it does not prove "
        "the internal metric causes the outcome. A common cause (a product launch, staffing) "
        "can drive both. Use links to decide what to investigate, not what to conclude.\n"
        "- With ~100 weeks, only fairly strong links can be detected in a table this large; "
        "absence of a link is not proof of no effect."
    )

st.subheader("Scorecard")
best = (
    table_.filter(pl.col("correlation").is_not_null())
    .sort("q_value")
    .group_by("internal_metric", "external_metric")
    .first()
)
if best.is_empty():
    st.caption("Not enough data for any pair yet.")
else:
    best = best.with_columns(
        pl.when(pl.col("significant")).then(pl.col("correlation")).otherwise(0.0).alias("shown"),
        pl.col("internal_metric").replace(INTERNAL_LABELS).alias("internal"),
        pl.col("external_metric").replace(EXTERNAL_LABELS).alias("external"),
        (
            "ρ "
            + pl.col("correlation").round(2).cast(pl.String)
            + ", lead "
            + pl.col("lag_periods").cast(pl.String)
        ).alias("label"),
    )
    grid = best.pivot(on="external", index="internal", values="shown", sort_columns=True)
    text = best.pivot(on="external", index="internal", values="label", sort_columns=True)
    cols = [c for c in grid.columns if c != "internal"]
    st.plotly_chart(
        data.figure(
            figures.scorecard,
            grid.select(cols).to_numpy(),
            text.select(cols).to_numpy(),
            cols,
            grid["internal"].to_list(),
        ),
        key="scorecard",
    )
    st.caption(
        "The strongest result per pair across the teams and units shown; coloured only where "
        "significant, grey otherwise (the value is written in every cell)."
    )

st.subheader("Explore a pair")
teams = sorted(table_["service_team"].unique().to_list())
units = sorted(table_["business_unit"].unique().to_list())
c1, c2, c3, c4, c5 = st.columns(5)
team = c1.selectbox("Service team", teams, key="al_team", bind="query-params")
unit = c2.selectbox("Business unit", units, key="al_unit", bind="query-params")
internal = c3.selectbox(
    "Internal metric",
    list(INTERNAL_LABELS),
    key="al_int",
    format_func=INTERNAL_LABELS.get,
    bind="query-params",
)
externals = sorted(table_["external_metric"].unique().to_list())
external = c4.selectbox(
    "External outcome",
    externals,
    key="al_ext",
    format_func=lambda m: EXTERNAL_LABELS.get(m, m),
    bind="query-params",
)
lag = c5.number_input(
    "Lead (periods)",
    0,
    max_lag,
    2 if period == "week" else 1,
    key="al_lag",
    bind="query-params",
    help="How many periods the internal metric runs ahead of the outcome.",
)

row = table_.filter(
    (pl.col("service_team") == team)
    & (pl.col("business_unit") == unit)
    & (pl.col("internal_metric") == internal)
    & (pl.col("external_metric") == external)
    & (pl.col("lag_periods") == lag)
)
if not row.is_empty():
    st.info(plain_sentence(row.row(0, named=True)), icon=":material/insights:")
pair = data.panel(
    "alignment.pair",
    filters,
    team=team,
    unit=unit,
    internal=internal,
    external=external,
    lag=int(lag),
    period=period,
)
# axis titles with units; outcomes are loaded without one, so they read "as reported"
internal_label = f"{INTERNAL_LABELS[internal]} ({INTERNAL_UNITS[internal]})"
external_label = f"{EXTERNAL_LABELS.get(external, external)} (as reported)"
if pair.drop_nulls(["internal", "external"]).height < 3:
    st.caption("Not enough periods where both series have a value for this pair.")
else:
    left, right = st.columns(2)
    with left:
        chart_card(
            f"**Over time** (internal shifted {lag} {period}(s) later)",
            figures.pair_trend,
            pair,
            internal_label,
            external_label,
            key="pair_trend",
        )
    with right:
        chart_card(
            f"**Changes against changes** ({TRANSFORM_LABELS[TRANSFORM].split(' (')[0]})",
            figures.pair_scatter,
            pair,
            pair_fit(pair),
            internal_label,
            external_label,
            help="Each dot is one period: how much the internal metric changed (shifted by "
            "the lead) against how much the outcome changed. The test uses these changes.",
            key="pair_scatter",
        )

with st.expander("Full table"):
    table(
        table_,
        f"inward_alignment_{period}",
        columns=(*CONTRACT_COLUMNS, "note"),
    )
