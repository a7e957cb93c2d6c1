"""How numbers read, wherever they are shown: KPI tiles in the app and in the report.

Shared so an executive comparing the PDF with the Overview sees the same "9.4 h"
and "+2.1 pts", not two roundings of one number.
"""

from __future__ import annotations

from dashboard.metrics.response_times import Kpi

# Stored state codes (ticket statuses, engagement statuses) as a reader says them: the
# one mapping every table, chart legend and sentence uses, so no page shows `on_hold`.
STATUS_LABELS = {
    "new": "New",
    "open": "Open",
    "pending": "Pending",
    "on_hold": "On hold",
    "solved": "Solved",
    "closed": "Closed",
    "cancelled": "Cancelled",
    "active": "Active",
    "occasional": "Occasional",
    "at_risk": "At risk",
    "gone_quiet": "Gone quiet",
}


def status_label(code: str | None) -> str | None:
    """A state code in words ("on_hold" -> "On hold"); an unknown code with its
    underscores as spaces, capitalised."""
    if code is None:
        return None
    return STATUS_LABELS.get(code) or code.replace("_", " ").capitalize()


def fmt(value: float | None, unit: str) -> str:
    """A KPI value: percentages whole, hours to a tenth (days past 48 h), counts grouped."""
    if value is None:
        return "–"
    if unit == "%":
        return f"{value:.0%}"
    if unit == "h":
        return f"{value:,.1f} h" if value < 48 else f"{value / 24:,.1f} d"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def fmt_delta(k: Kpi) -> str | None:
    """A KPI's change against the previous period (None when there is nothing to compare).

    A change that rounds to zero reads "±0" (not "-0.0 h", which a tile would colour
    as an improvement)."""
    d = k.delta
    if d is None:
        return None
    if k.unit == "%":
        points = round(d * 100, 1)
        return "±0.0 pts" if points == 0 else f"{points:+.1f} pts"
    if k.unit == "h":
        hours = round(d, 1)
        return "±0.0 h" if hours == 0 else f"{hours:+,.1f} h"
    if float(d).is_integer():
        return "±0" if d == 0 else f"{d:+,.0f}"
    rounded = round(d, 2)
    return "±0.00" if rounded == 0 else f"{rounded:+,.2f}"


def delta_is_zero(k: Kpi) -> bool:
    """Whether the change shows as zero (tiles then colour it neither good nor bad)."""
    text = fmt_delta(k)
    return text is not None and text.startswith("±")
