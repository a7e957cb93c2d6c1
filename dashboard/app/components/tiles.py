"""KPI tiles, filter notes and the empty state shared by pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from dashboard import as_of
from dashboard.app import data
from dashboard.filters import Filters
from dashboard.formatting import delta_is_zero, fmt, fmt_delta
from dashboard.metrics.response_times import Kpi

SLA_TILES = ("SLA met (resolution)", "SLA met (first response)")

# What each headline number counts: the "?" of its tile.
KPI_HELP = {
    "Tickets": "Tickets created in the period (by creation date), whatever their status.",
    "Median first response": "Half of the period's tickets that got a first response got it "
    "within this many calendar hours of being created (round-the-clock time; the Teams "
    "page has business hours).",
    "Median resolution": "Half of the period's resolved tickets were resolved within this "
    "many calendar hours of being created; tickets still open are not counted.",
    "SLA met (resolution)": "Share of the period's tickets with a resolution target that "
    "met it: resolved in time, counted against the team's and priority's target from "
    "inward.toml (business hours where configured).",
    "CSAT (1–5)": "Mean satisfaction of the survey answers submitted in the period, every "
    "scale mapped to 1–5. Shown only when enough people answered (anonymity).",
}


def judged_as_of() -> str:
    """'judged as of 2019-07-31 17:00 UTC (servicenow), …': the as-of every SLA,
    backlog and silence on the page used (CONTRACT: the app shows it)."""
    return as_of.describe(data.call(as_of.as_of_frame))


def kpi_row(
    kpis: Sequence[Kpi],
    trends: dict[str, list[float]] | None = None,
    days: int | None = None,
    missing: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """One bordered tile per KPI with its delta against the previous equal period; the
    help says what is counted and what the delta compares. A KPI without a value shows
    `missing[label]` (a short value, and the sentence saying why) instead of a bare dash."""
    missing = missing or {}
    against = (
        f"Change: against the previous {days} days."
        if days
        else "Change: against the previous period of the same length."
    )
    for column, k in zip(st.columns(len(kpis)), kpis, strict=True):
        with column:
            zero = delta_is_zero(k)
            color = "off" if zero else {"higher": "normal", "lower": "inverse"}.get(k.better, "off")
            compare = against if k.previous is not None else "No earlier period to compare with."
            shown, why = (fmt(k.value, k.unit), "")
            if k.value is None and k.label in missing:
                shown, why = missing[k.label]
            st.metric(
                k.label,
                shown,
                fmt_delta(k),
                delta_color=color,
                delta_arrow="off" if zero else "auto",
                border=True,
                chart_data=(trends or {}).get(k.label),
                chart_type="line",
                help=f"{why} {KPI_HELP.get(k.label, '')} {compare}".strip()
                + (
                    f" Open tickets past their deadline count as missed, {judged_as_of()}."
                    if k.label in SLA_TILES
                    else ""
                ),
            )


def filter_note(filters: Filters, applies: Sequence[str], why: str) -> None:
    """Say plainly which of the set sidebar filters this part of a page ignores, and why."""
    note = filters.ignored_note(tuple(applies), why)
    if note:
        st.caption(f":material/filter_alt_off: {note}")


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
