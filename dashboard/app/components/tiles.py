"""KPI tiles and the empty state shared by pages."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import as_of
from dashboard.app import data
from dashboard.formatting import fmt, fmt_delta
from dashboard.metrics.response_times import Kpi

SLA_TILES = ("SLA met (resolution)", "SLA met (first response)")


def judged_as_of() -> str:
    """'judged as of 2019-07-31 17:00 UTC (servicenow), …': the as-of every SLA,
    backlog and silence on the page used (CONTRACT: the app shows it)."""
    return as_of.describe(data.call(as_of.as_of_frame))


def kpi_row(kpis: Sequence[Kpi], trends: dict[str, list[float]] | None = None) -> None:
    """One bordered tile per KPI with its delta against the previous equal period; SLA
    tiles also say which as-of open tickets were judged at."""
    for column, k in zip(st.columns(len(kpis)), kpis, strict=True):
        with column:
            color = {"higher": "normal", "lower": "inverse"}.get(k.better, "off")
            st.metric(
                k.label,
                fmt(k.value, k.unit),
                fmt_delta(k),
                delta_color=color,
                border=True,
                chart_data=(trends or {}).get(k.label),
                chart_type="line",
                help=(
                    "Change against the previous period of the same length."
                    if k.previous is not None
                    else "No earlier period in the data to compare with."
                )
                + (
                    f" Open tickets past their deadline count as missed, {judged_as_of()}."
                    if k.label in SLA_TILES
                    else ""
                ),
            )


def empty_state() -> None:
    """What a new user sees before loading anything: how to get data in."""
    st.title("Welcome to Inward")
    st.info("The warehouse has no tickets yet.", icon=":material/inbox:")
    st.markdown(
        "Load your exports from the command line:\n\n"
        "```bash\nuv run inward ingest path/to/exports/\n```\n\n"
        "or upload files on the **Data** page. To explore with realistic sample data, run "
        "`uv run inward demo`."
    )
