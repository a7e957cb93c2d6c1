"""Plotly figures and table blocks used by several pages (layout only, no SQL)."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def tidy(fig: go.Figure, height: int = 320) -> go.Figure:
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


def download_table(
    frame: pl.DataFrame, name: str, key: str | None = None, height: int | str = "auto"
) -> None:
    """A table with its CSV download right under it (every table can be exported)."""
    st.dataframe(frame, hide_index=True, height=height)
    st.download_button(
        "Download CSV",
        frame.write_csv(),
        f"{name}.csv",
        "text/csv",
        icon=":material/download:",
        key=key or f"dl_{name}",
    )
