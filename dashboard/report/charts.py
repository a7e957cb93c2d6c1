"""The report's charts: the app's own figure builders (`dashboard/figures.py`) over the
report's weekly trend, sized for paper, with the report period shaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import plotly.graph_objects as go

from dashboard import figures
from dashboard.report.content import Report

WIDTH, HEIGHT = 380, 210  # px, two to a row: half the text width (~182 mm on A4 and Letter)
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


@dataclass(frozen=True)
class Chart:
    title: str
    figure: go.Figure


def report_charts(report: Report) -> list[Chart]:
    """Tickets, first response, resolution and SLA met per week (none without tickets)."""
    trend = report.trend
    if trend.is_empty():
        return []
    charts = [
        Chart("Tickets per week", figures.tickets_per_week(trend)),
        Chart("Resolution SLA met per week", figures.sla_per_week(trend)),
        Chart(
            "First response (hours, median and p90)",
            figures.duration_per_week(trend, "first_response"),
        ),
        Chart("Resolution (hours, median and p90)", figures.duration_per_week(trend, "resolution")),
    ]
    f = report.filters
    assert f.date_from and f.date_to
    for chart in charts:
        chart.figure.add_vrect(
            x0=f.date_from - timedelta(days=3.5),  # weekly points sit on their Monday
            x1=f.date_to + timedelta(days=0.5),
            fillcolor="#2563eb",
            opacity=0.08,
            line_width=0,
            layer="below",
        )
        chart.figure.update_layout(
            width=WIDTH,
            height=HEIGHT,
            template="plotly_white",
            font={"family": FONT, "size": 11},
            # on paper the legend sits above the plot: it can never be cut or cover an axis
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            margin={"l": 10, "r": 10, "t": 24, "b": 10},
        )
    return charts
