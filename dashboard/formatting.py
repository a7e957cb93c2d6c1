"""How numbers read, wherever they are shown: KPI tiles in the app and in the report.

Shared so an executive comparing the PDF with the Overview sees the same "9.4 h"
and "+2.1 pts", not two roundings of one number.
"""

from __future__ import annotations

from dashboard.metrics.response_times import Kpi


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
    """A KPI's change against the previous period (None when there is nothing to compare)."""
    d = k.delta
    if d is None:
        return None
    if k.unit == "%":
        return f"{d * 100:+.1f} pts"
    if k.unit == "h":
        return f"{d:+,.1f} h"
    return f"{d:+,.0f}" if float(d).is_integer() else f"{d:+,.2f}"
