"""Inward's Streamlit entry point: page setup, global filters, navigation.

Run through `inward serve` / `inward demo`, which set $INWARD_DB. Global filters
live here (not in pages) so they keep their state across pages.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.app import data
from dashboard.app.components import query_view, signin
from dashboard.app.components.filters import sidebar_filters
from dashboard.metrics.date_range import default_range
from dashboard.metrics.response_times import filter_options
from dashboard.warehouse import WarehouseBusy

PAGES = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="Inward", page_icon=":material/support_agent:", layout="wide")
signin.gate()  # deny by default: nothing below runs without a scope

query_pages = query_view.pages()  # broken files are flagged first in the Queries section
pages = {
    "Inward": [
        st.Page(
            PAGES / "overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
            default=True,
        ),
        st.Page(PAGES / "teams.py", title="Teams", icon=":material/groups:", url_path="teams"),
        st.Page(PAGES / "flow.py", title="Flow", icon=":material/timeline:", url_path="flow"),
        st.Page(
            PAGES / "engagement.py",
            title="Engagement",
            icon=":material/person_off:",
            url_path="engagement",
        ),
        st.Page(PAGES / "voice.py", title="Voice", icon=":material/forum:", url_path="voice"),
        st.Page(
            PAGES / "alignment.py", title="Alignment", icon=":material/link:", url_path="alignment"
        ),
    ],
    **query_pages,
    "Manage": [
        st.Page(PAGES / "data_page.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page(PAGES / "schema.py", title="Schema", icon=":material/schema:", url_path="schema"),
    ],
}
# expanded: Data and Schema stay visible however many query pages there are
nav = st.navigation(pages, expanded=True)
signin.audit_page(nav.url_path or "overview")

# the page's cache misses share one reader, closed when the run ends (data.py)
with data.one_reader_per_run():
    try:
        if data.has_data():
            span = data.call(default_range)
            st.session_state["filters"] = sidebar_filters(data.call(filter_options), span)
        else:
            st.session_state["filters"] = None
    except WarehouseBusy:
        st.info(
            "The warehouse is being updated by another process; this page will be back in "
            "a moment. Rerun (R) to try again.",
            icon=":material/hourglass_top:",
        )
        st.stop()

    nav.run()
