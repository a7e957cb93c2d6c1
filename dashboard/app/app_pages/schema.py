"""Schema: every table and view analysts can query, with columns, types and a sample."""

from __future__ import annotations

import streamlit as st

from dashboard.app import data
from dashboard.app.components.tables import table
from dashboard.metrics.schema import TABLES, sample, schema_overview

st.title("Schema")
st.caption(
    "What you can use in `queries/*.sql` (read-only). Times are UTC; the `utc(ts)` "
    "macro gives a UTC wall-clock timestamp for date bucketing; `picked($teams, "
    "service_team)` and `within_days(created_at, $date_from, $date_to)` apply the "
    "sidebar's filters in a query that takes them (see queries/README.md). Samples come "
    "from the teams and departments picked in the sidebar."
)
if not data.db_path().is_file():
    st.info("No warehouse yet: load data first (`uv run inward demo`).")
    st.stop()
overview = data.call(schema_overview)
filters = st.session_state.get("filters")
for name, about in TABLES.items():
    cols = overview.filter(overview["table_name"] == name)
    if cols.is_empty():
        continue
    with st.expander(f"**{name}** — {about}"):
        table(cols.drop("table_name"), f"schema_{name}", download=False)
        st.caption("Sample")
        rows = data.call(sample, name, 5, filters)
        if rows.is_empty():
            st.caption("No rows (for these filters).")
        else:
            st.dataframe(rows, hide_index=True, placeholder="–")
