"""Alignment: which internal metrics track external outcomes — and which are noise.

Executives see the chain (team → business unit → outcome) in sentences; analysts
get the scorecard and a pair explorer. The page never hides the caveats: tests are
on period-to-period changes, corrected for autocorrelation and for the number of
comparisons, and a link is not a cause.
"""

from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import figures
from dashboard.app import data
from dashboard.app.components.charts import download_table
from dashboard.app.components.tiles import empty_state
from dashboard.metrics.alignment import (
    EXTERNAL_LABELS,
    INTERNAL_LABELS,
    alignment_table,
    external_series,
    goal_attainment,
    internal_series,
    plain_sentence,
)
from dashboard.metrics.alignment_stats import TRANSFORM, TRANSFORM_LABELS

if st.session_state.get("filters") is None:
    empty_state()
    st.stop()

config = data.config()
st.title("Alignment")
st.caption(
    "Uses the whole history of every team and business unit: the sidebar filters do not "
    "apply here, so that tests are not re-run on slices chosen after looking."
)
period = st.segmented_control(
    "Period", ["week", "month"], default="week", key="al_period", bind="query-params", required=True
)
max_lag = 4 if period == "week" else 3
table = data.call(alignment_table, config, period, max_lag)

goals = data.call(goal_attainment, config)
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

st.subheader("What holds")
significant = table.filter(pl.col("significant")).sort("q_value")
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
tested = table.filter(pl.col("p_value").is_not_null()).height
short = table.filter(pl.col("correlation").is_null()).height
st.caption(
    f"{significant.height} of {tested:,} tested links are significant "
    f"(q ≤ 0.05, at least {config.alignment_min_periods} {period}s); "
    f"{short:,} combinations had not enough data and were not tested."
)

with st.expander(
    "How to read this (correlation is not causation)", expanded=False, icon=":material/warning:"
):
    st.markdown(
        f"- Series are compared as **{TRANSFORM_LABELS[TRANSFORM]}**, after pre-whitening "
        "with an autoregressive model, so shared trends and seasonality-like drift do not "
        "create links.\n"
        "- p-values use an effective sample size that accounts for autocorrelation; q-values "
        "(Benjamini–Hochberg) correct for testing every team × unit × metric × lag at once, "
        "including the choice of the best lag.\n"
        "- A significant link says two series move together with a lead; it does not prove "
        "the internal metric causes the outcome. A common cause (a product launch, staffing) "
        "can drive both. Use links to decide what to investigate, not what to conclude.\n"
        "- With ~100 weeks, only fairly strong links can be detected in a table this large; "
        "absence of a link is not proof of no effect."
    )

st.subheader("Scorecard")
best = (
    table.filter(pl.col("correlation").is_not_null())
    .sort("q_value")
    .group_by("internal_metric", "external_metric")
    .first()
)
if best.is_empty():
    st.caption("Not enough data for any pair yet.")
else:
    # colour only where significant; grey (0) otherwise, with the value in the label
    best = best.with_columns(
        pl.when(pl.col("significant")).then(pl.col("correlation")).otherwise(0.0).alias("shown"),
        pl.col("internal_metric").replace(INTERNAL_LABELS).alias("internal"),
        pl.col("external_metric").replace(EXTERNAL_LABELS).alias("external"),
    )
    grid = best.pivot(on="external", index="internal", values="shown")
    text = best.with_columns(
        (
            pl.col("correlation").round(2).cast(pl.String)
            + " @ lag "
            + pl.col("lag_periods").cast(pl.String)
        ).alias("label")
    ).pivot(on="external", index="internal", values="label")
    cols = [c for c in grid.columns if c != "internal"]
    fig = go.Figure(
        go.Heatmap(
            z=grid.select(cols).to_numpy(),
            x=cols,
            y=grid["internal"].to_list(),
            text=text.select(cols).to_numpy(),
            texttemplate="%{text}",
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            colorbar={"title": "ρ"},
        )
    )
    st.plotly_chart(figures.tidy(fig, 360), key="scorecard")
    st.caption("Best lag per pair across teams and units; saturated only when significant.")

st.subheader("Explore a pair")
teams = sorted(table["service_team"].unique().to_list())
units = sorted(table["business_unit"].unique().to_list())
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
externals = sorted(table["external_metric"].unique().to_list())
external = c4.selectbox(
    "External outcome",
    externals,
    key="al_ext",
    format_func=lambda m: EXTERNAL_LABELS.get(m, m),
    bind="query-params",
)
lag = c5.number_input(
    "Lag", 0, max_lag, 2 if period == "week" else 1, key="al_lag", bind="query-params"
)

row = table.filter(
    (pl.col("service_team") == team)
    & (pl.col("business_unit") == unit)
    & (pl.col("internal_metric") == internal)
    & (pl.col("external_metric") == external)
    & (pl.col("lag_periods") == lag)
)
if not row.is_empty():
    st.info(plain_sentence(row.row(0, named=True)), icon=":material/insights:")
ins = data.call(internal_series, period, min_respondents=config.anonymity_min_group)
ext = data.call(external_series, period)
x = ins.filter((pl.col("service_team") == team) & (pl.col("business_unit") == unit)).select(
    "period_start", pl.col(internal).alias("internal")
)
y = ext.filter((pl.col("business_unit") == unit) & (pl.col("external_metric") == external)).select(
    "period_start", pl.col("value").alias("external")
)
pair = x.join(y, on="period_start", how="full", coalesce=True).sort("period_start")
if pair.height < 3:
    st.caption("Not enough periods for this pair.")
else:
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown(f"**Over time** (internal shifted {lag} {period}(s) later)")
        fig = make_subplots(specs=[[{"secondary_y": True}]])
        shifted = pair.with_columns(pl.col("internal").shift(lag))
        fig.add_trace(
            go.Scatter(
                x=shifted["period_start"], y=shifted["internal"], name=INTERNAL_LABELS[internal]
            ),
            secondary_y=False,
        )
        fig.add_trace(
            go.Scatter(
                x=pair["period_start"],
                y=pair["external"],
                name=EXTERNAL_LABELS.get(external, external),
            ),
            secondary_y=True,
        )
        st.plotly_chart(figures.tidy(fig), key="pair_trend")
    with right, st.container(border=True):
        st.markdown(f"**Changes against changes** ({TRANSFORM_LABELS[TRANSFORM].split(' (')[0]})")
        changes = shifted.with_columns(
            pl.col("internal").diff(), pl.col("external").diff()
        ).drop_nulls()
        if changes.height >= 3:
            fig = px.scatter(
                changes,
                x="internal",
                y="external",
                labels={
                    "internal": f"Δ {INTERNAL_LABELS[internal]}",
                    "external": f"Δ {EXTERNAL_LABELS.get(external, external)}",
                },
            )
            slope, intercept = np.polyfit(changes["internal"], changes["external"], 1)
            xs = np.array([changes["internal"].min(), changes["internal"].max()])
            fig.add_trace(
                go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name="least-squares fit")
            )
            st.plotly_chart(figures.tidy(fig), key="pair_scatter")

with st.expander("Full table"):
    download_table(table, f"inward_alignment_{period}")
