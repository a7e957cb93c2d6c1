"""Global sidebar filters, bound to the URL so a view can be shared.

Every widget uses `bind="query-params"` (Streamlit ≥ 1.55): the URL carries only
values that differ from the defaults, invalid URL values are ignored, and bound
parameters survive page changes.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.filters import COLUMN_OF, LABELS, Filters
from dashboard.metrics.date_range import DefaultRange

# Quick ranges, each ending on the newest day of data (None: all of it).
PRESETS: dict[str, int | None] = {"4 weeks": 28, "Quarter": 91, "Year": 364, "All": None}
URL_KEYS = {
    "teams": "team",
    "departments": "department",
    "requester_types": "requester_type",
    "priorities": "priority",
    "categories": "category",
    "channels": "channel",
}


def preset_range(first: date, last: date, days: int | None) -> tuple[date, date]:
    """The last `days` of data, starting on a Monday so weekly charts begin with a full
    week (or all of the data when there is less, or `days` is None)."""
    if days is None:
        return first, last
    start = last - timedelta(days=days - 1)
    start += timedelta(days=(7 - start.weekday()) % 7)
    return max(first, start), last


def _apply_preset(days: int | None, first: date, last: date) -> None:
    """Button callback: set the bound date widget before it is drawn (a bound key can
    only be changed through session state, never through st.query_params)."""
    st.session_state["dates"] = preset_range(first, last, days)


def sidebar_filters(options: dict[str, list[str]], span: DefaultRange) -> Filters:
    """Draw the filters in the sidebar and return the current `Filters`.

    The default range comes from `metrics.date_range` (a meaningful quarter even
    when sources end years apart); when it had to step away from the newest data,
    its notes say why, under the picker. The presets end on the newest day of data."""
    default = (span.date_from, span.date_to)
    first, last = span.first, span.last
    with st.sidebar:
        st.subheader("Filters")
        with st.container(horizontal=True, gap="small"):
            for label, days in PRESETS.items():
                st.button(
                    label,
                    key=f"preset_{label}",
                    type="tertiary",
                    on_click=_apply_preset,
                    args=(days, first, last),
                    help=f"The {label.lower()} of data up to {last:%d %b %Y}"
                    if days
                    else "Every ticket in the warehouse",
                )
        # a preset sets the value through session state; passing a default as well would
        # make Streamlit warn on screen
        initial = {} if "dates" in st.session_state else {"value": default}
        picked = st.date_input(
            "Created between",
            **initial,
            min_value=first,
            max_value=last,
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
        for field in COLUMN_OF:
            label = LABELS[field]
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
