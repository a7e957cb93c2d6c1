"""Global sidebar filters, bound to the URL so a view can be shared.

Every widget uses `bind="query-params"` (Streamlit ≥ 1.55): the URL carries only
values that differ from the defaults, invalid URL values are ignored, and bound
parameters survive page changes.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard.filters import Filters
from dashboard.metrics.date_range import DefaultRange

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


def sidebar_filters(options: dict[str, list[str]], span: DefaultRange) -> Filters:
    """Draw the filters in the sidebar and return the current `Filters`.

    The default range comes from `metrics.date_range` (a meaningful quarter even
    when sources end years apart); when it had to step away from the newest data,
    its notes say why, under the picker."""
    default = (span.date_from, span.date_to)
    with st.sidebar:
        st.subheader("Filters")
        picked = st.date_input(
            "Created between",
            value=default,
            min_value=span.first,
            max_value=span.last,
            key="dates",
            bind="query-params",
            help="Tickets are counted in the period they were created. KPI deltas compare "
            "with the previous period of the same length. The default is the latest "
            f"quarter holding a meaningful share of the tickets ({span.tickets:,} of "
            f"{span.total:,}).",
        )
        date_from, date_to = _range(picked, default)
        if span.notes and (date_from, date_to) == default:
            with st.expander(span.notes[0], icon=":material/info:"):
                for note in span.notes[1:]:
                    st.caption(note)
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


def _range(picked: object, default: tuple[date, date]) -> tuple[date, date]:
    """A half-picked range (first click only) means that single day."""
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    if isinstance(picked, date):
        return picked, picked
    return default
