"""Schema: every table and view analysts can query, with columns, types and a sample."""

from __future__ import annotations

import streamlit as st

from dashboard.app import data
from dashboard.metrics.schema import TABLES, sample, schema_overview

st.title("Schema")
st.caption(
    "What you can use in `queries/*.sql` (read-only). Times are UTC; the `utc(ts)` "
    "macro gives a UTC wall-clock timestamp for date bucketing."
)
if not data.db_path().is_file():
    st.info("No warehouse yet: load data first (`uv run inward demo`).")
    st.stop()
overview = data.call(schema_overview)
for table, about in TABLES.items():
    cols = overview.filter(overview["table_name"] == table)
    if cols.is_empty():
        continue
    with st.expander(f"**{table}** — {about}"):
        st.dataframe(cols.drop("table_name"), hide_index=True)
        st.caption("Sample")
        st.dataframe(data.call(sample, table), hide_index=True)
