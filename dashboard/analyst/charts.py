"""A Plotly figure for a query's chart spec (plotly is imported lazily: the CLI never draws)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from dashboard.analyst.spec import ChartError, ChartSpec

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    import plotly.graph_objects as go


def build_chart(chart: ChartSpec, frame: pl.DataFrame) -> go.Figure | None:
    """A Plotly figure for the chart spec, or None when there is nothing to draw.

    None means "show the table": chart type `table`, or no rows. Column names
    are checked first (even for an empty result) so a spec that does not match
    the SQL is reported as such, not as a Plotly traceback.
    """
    cols = list(frame.columns)
    needed = [("x", chart.x), *(("y", y) for y in chart.y), ("color", chart.color)]
    for role, col in needed:
        if col is not None and col not in cols:
            raise ChartError(
                f"chart: {role} column {col!r} is not in the result "
                f"(columns: {', '.join(cols) or 'none'})"
            )
    if chart.type == "table" or frame.height == 0:
        return None
    import plotly.express as px

    y: str | list[str] = chart.y[0] if len(chart.y) == 1 else list(chart.y)
    kwargs: dict[str, Any] = {"x": chart.x, "y": y, "title": chart.title}
    if chart.color:
        kwargs["color"] = chart.color
    # Plotly needs plain columns; object-like values (lists, decimals) become floats/strings.
    data = frame.with_columns(
        [pl.col(c).cast(pl.Float64) for c, d in frame.schema.items() if isinstance(d, pl.Decimal)]
    )
    if chart.type == "line":
        fig = px.line(data, markers=True, **kwargs)
    elif chart.type == "bar":
        fig = px.bar(data, **kwargs)
    elif chart.type == "area":
        fig = px.area(data, **kwargs)
    else:
        fig = px.scatter(data, **kwargs)
    if chart.type == "bar" and chart.x is not None and data.schema[chart.x] == pl.String:
        # Keep the SQL's ORDER BY (Plotly would otherwise order by first trace).
        order = list(dict.fromkeys(data[chart.x].to_list()))
        fig.update_xaxes(categoryorder="array", categoryarray=order)
    return fig
