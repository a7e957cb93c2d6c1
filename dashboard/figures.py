"""Plotly figures shared by the app's pages and the static report (layout only, no SQL).

One builder per chart, fed the frames the metric functions return, so the chart an
executive sees in the PDF is the chart the Overview draws: the app passes it to
`st.plotly_chart`, the report exports it to SVG (`dashboard/report/charts.py`).
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def tidy(fig: go.Figure, height: int = 320) -> go.Figure:
    """Compact margins and a horizontal legend under the plot (never over the data)."""
    fig.update_layout(
        height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.2, "title": None}
    )
    return fig


def trend_lines(
    frame: pl.DataFrame,
    x: str,
    columns: dict[str, str],
    y_title: str,
    log_y: bool = False,
    target: float | None = None,
) -> go.Figure:
    """Several measures over time as lines; `columns` maps column → legend name."""
    long = (
        frame.select(x, *columns)
        .rename(columns)
        .unpivot(index=x, variable_name="measure", value_name="value")
    )
    fig = px.line(
        long, x=x, y="value", color="measure", log_y=log_y, labels={x: "", "value": y_title}
    )
    if target is not None:
        fig.add_hline(
            y=target,
            line_dash="dash",
            line_color="#dc2626",
            annotation_text="SLA target",
            annotation_position="top left",
        )
    return tidy(fig)


def tickets_per_week(trend: pl.DataFrame, height: int = 300) -> go.Figure:
    """Bars of tickets per week (`weekly_trend` frame)."""
    fig = px.bar(trend, x="week", y="tickets", labels={"week": "", "tickets": "tickets"})
    return tidy(fig, height)


def duration_per_week(trend: pl.DataFrame, measure: str) -> go.Figure:
    """Median and p90 hours of `measure` ("first_response" or "resolution") per week, log
    scale (`weekly_trend` frame)."""
    return trend_lines(
        trend,
        "week",
        {f"median_{measure}_hours": "median", f"p90_{measure}_hours": "p90"},
        "hours",
        log_y=True,
    )


def sla_per_week(trend: pl.DataFrame) -> go.Figure:
    """Share of tickets that met the resolution SLA, per week (`weekly_trend` frame)."""
    fig = px.line(trend, x="week", y="sla_met_rate", labels={"week": "", "sla_met_rate": ""})
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return tidy(fig)


def reactive_share(shift: pl.DataFrame, height: int = 340) -> go.Figure:
    """Reactive share per department and quarter (`reactive_shift` frame); departments
    that turned reactive are drawn thick."""
    flagged = set(shift.filter(pl.col("flagged"))["requester_department"].to_list())
    fig = px.line(
        shift,
        x="quarter_start",
        y="reactive_share",
        color="requester_department",
        labels={"quarter_start": "", "reactive_share": ""},
    )
    fig.update_yaxes(tickformat=".0%")
    for trace in fig.data:
        trace.line.width = 4 if trace.name in flagged else 1
    return tidy(fig, height)


def person_history(history: pl.DataFrame, height: int = 300) -> go.Figure:
    """One person's tickets per month, stacked by service team (`person_history` frame):
    where they stopped and where they kept filing."""
    fig = px.bar(
        history,
        x="month",
        y="tickets",
        color="service_team",
        labels={"month": "", "tickets": "tickets", "service_team": ""},
    )
    return tidy(fig, height)


def csat_per_period(trend: pl.DataFrame, height: int = 300) -> go.Figure:
    """Mean CSAT per period (`surveys.trend` frame; suppressed periods are gaps)."""
    fig = px.line(
        trend,
        x="period_start",
        y="csat_mean",
        markers=True,
        labels={"period_start": "", "csat_mean": "CSAT"},
    )
    return tidy(fig, height)


STATUS_ORDER = ("new", "open", "pending", "on_hold", "solved", "closed", "cancelled")


def status_share(status_time: pl.DataFrame, height: int = 320) -> go.Figure:
    """Share of each team's tracked time per status, stacked (`flow.status_time`)."""
    fig = px.bar(
        status_time,
        x="share",
        y="service_team",
        color="status",
        orientation="h",
        category_orders={"status": list(STATUS_ORDER)},
        labels={"share": "", "service_team": ""},
        hover_data=["median_minutes", "tickets"],
    )
    fig.update_xaxes(tickformat=".0%")
    return tidy(fig, height)


def waits(frame: pl.DataFrame, height: int = 360) -> go.Figure:
    """Total hours per holding team and tool status, waiting ones coloured (`flow.waits`)."""
    data = frame.with_columns(
        (pl.col("service_team") + " · " + pl.col("vendor_status").fill_null("")).alias("where"),
        pl.when(pl.col("waiting"))
        .then(pl.lit("waiting on requester / third party"))
        .otherwise(pl.lit("with the team"))
        .alias("who"),
    )
    fig = px.bar(
        data.reverse(),
        x="total_hours",
        y="where",
        color="who",
        orientation="h",
        labels={"total_hours": "hours", "where": "", "who": ""},
    )
    return tidy(fig, height)


def backlog_by_team(frame: pl.DataFrame, height: int = 320) -> go.Figure:
    """Open tickets at each day's end, one line per team (`flow.backlog_by_team`)."""
    fig = px.line(
        frame.with_columns(pl.col("service_team").fill_null("(no team)")),
        x="day",
        y="open",
        color="service_team",
        labels={"day": "", "open": "open tickets", "service_team": ""},
    )
    return tidy(fig, height)
