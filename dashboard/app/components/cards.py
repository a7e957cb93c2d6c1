"""The bordered card every chart sits in, and the page preamble every page starts with.

One shape for "title, chart or an explained empty state": pages wrote the same
eight lines per chart (duplicates found them on four pages), and a copy that forgot
its empty branch drew a blank plot. `chart_card` always says why nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
import streamlit as st

from dashboard.app import data
from dashboard.app.components.tiles import empty_state
from dashboard.filters import Filters


def page_filters() -> Filters:
    """The sidebar's filters; on an empty warehouse, the welcome state, and the page stops."""
    filters = st.session_state.get("filters")
    if filters is None:
        empty_state()
        st.stop()
    return filters


@contextmanager
def card(title: str, help: str | None = None) -> Iterator[None]:
    """A bordered card with a bold markdown title (and its "?" help); the block fills it."""
    with st.container(border=True):
        st.markdown(title, help=help)
        yield


def chart(
    build: Callable[..., Any],
    frame: pl.DataFrame,
    *args: Any,
    key: str,
    empty: str = "Nothing to show for these filters.",
    blank: bool | None = None,
    notes: Sequence[str] = (),
    **options: Any,
) -> Any:
    """`build(frame, *args)` (a dashboard.figures function) drawn, then each note as a
    caption; or, when `blank` (default: the frame has no rows), the `empty` sentence.
    `options` go to `st.plotly_chart` (selection events); returns its event, or None."""
    if frame.is_empty() if blank is None else blank:
        st.caption(empty)
        return None
    event = st.plotly_chart(data.figure(build, frame, *args), key=key, **options)
    for note in notes:
        st.caption(note)
    return event


def chart_card(
    title: str,
    build: Callable[..., Any],
    frame: pl.DataFrame,
    *args: Any,
    help: str | None = None,
    **chart_args: Any,
) -> Any:
    """A `card` holding one `chart` (same arguments); returns the chart's event."""
    with card(title, help):
        return chart(build, frame, *args, **chart_args)
