"""Table blocks used by several pages (layout only, no SQL). Figures live in
`dashboard/figures.py`, shared with the static report."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.output import csv_text


def download_table(
    frame: pl.DataFrame, name: str, key: str | None = None, height: int | str = "auto"
) -> None:
    """A table with its CSV download right under it (every table can be exported)."""
    st.dataframe(frame, hide_index=True, height=height)
    st.download_button(
        "Download CSV",
        csv_text(frame),
        f"{name}.csv",
        "text/csv",
        icon=":material/download:",
        key=key or f"dl_{name}",
    )
