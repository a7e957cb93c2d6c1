"""Global sidebar filters, bound to the URL so a view can be shared.

Every widget uses `bind="query-params"` (Streamlit ≥ 1.55): the URL carries only
values that differ from the defaults, invalid URL values are ignored, and bound
parameters survive page changes.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.filters import Filters

DEFAULT_DAYS = 91  # a quarter: long enough for stable medians, short enough to be "now"

LABELS = {
    "teams": "Service team",
    "departments": "Requester department",
    "requester_types": "Requester type",
    "priorities": "Priority",
    "categories": "Category",
    "channels": "Channel",
}
URL_KEYS = {
    "teams": "team",
    "departments": "department",
    "requester_types": "requester_type",
    "priorities": "priority",
    "categories": "category",
    "channels": "channel",
}


def default_range(first: date, last: date) -> tuple[date, date]:
    """The last quarter of data, starting on a Monday so weekly charts begin with a full
    week (or all of the data when there is less)."""
    start = last - timedelta(days=DEFAULT_DAYS - 1)
    start += timedelta(days=(7 - start.weekday()) % 7)
    return max(first, start), last


def sidebar_filters(options: dict[str, list[str]], first: date, last: date) -> Filters:
    """Draw the filters in the sidebar and return the current `Filters`."""
    with st.sidebar:
        st.subheader("Filters")
        picked = st.date_input(
            "Created between",
            value=default_range(first, last),
            min_value=first,
            max_value=last,
            key="dates",
            bind="query-params",
            help="Tickets are counted in the period they were created. KPI deltas compare "
            "with the previous period of the same length.",
        )
        date_from, date_to = _range(picked, first, last)
        chosen: dict[str, tuple[str, ...]] = {}
        for field, label in LABELS.items():
            values = options.get(field, [])
            chosen[field] = tuple(
                st.multiselect(
                    label,
                    values,
                    key=URL_KEYS[field],
                    bind="query-params",
                    placeholder="All",
                )
            )
        filters = Filters(date_from=date_from, date_to=date_to, **chosen)
        st.caption(f"Showing: {filters.describe()}")
    return filters


def _range(picked: object, first: date, last: date) -> tuple[date, date]:
    """A half-picked range (first click only) means that single day."""
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    if isinstance(picked, date):
        return picked, picked
    return default_range(first, last)
