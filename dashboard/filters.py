"""The filter set shared by the CLI, the metrics and every page.

One frozen value type, so a page's filters can key a cache, travel in a URL and
become SQL with bound parameters (never string formatting) in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# filter field -> ticket_times column it restricts
COLUMN_OF = {
    "teams": "service_team",
    "departments": "requester_department",
    "requester_types": "requester_type",
    "priorities": "priority",
    "categories": "category",
    "channels": "channel",
}


@dataclass(frozen=True)
class Filters:
    """Which tickets a view covers. Empty tuples mean 'all'; dates bound `created_at`
    (inclusive days, in UTC)."""

    date_from: date | None = None
    date_to: date | None = None
    teams: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    requester_types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def where(
        self,
        columns: dict[str, str] | None = None,
        time_column: str = "created_at",
        prefix: str = "f_",
    ) -> tuple[str, dict[str, Any]]:
        """SQL condition and named parameters; `columns` renames filter columns for
        tables other than ticket_times (e.g. surveys' respondent_department; "" drops
        a filter); `prefix` names the parameters, so several filter sets can be bound
        in one statement.

        The SQL is in the subset DuckDB and Spark share (the Spark engine runs the
        same metrics): day bounds are bound as UTC instants, so neither engine's
        session time zone can shift a day."""
        names = {**COLUMN_OF, **(columns or {})}
        parts: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if self.date_from is not None:
            parts.append(f"{time_column} >= ${prefix}from")
            params[f"{prefix}from"] = _utc_midnight(self.date_from)
        if self.date_to is not None:
            parts.append(f"{time_column} < ${prefix}to")
            params[f"{prefix}to"] = _utc_midnight(self.date_to + timedelta(days=1))
        for f in COLUMN_OF:
            values = getattr(self, f)
            column = names.get(f)
            if values and column:
                parts.append(f"array_contains(${prefix}{f}, {column})")
                params[f"{prefix}{f}"] = list(values)
        return " AND ".join(parts), params

    def previous(self) -> Filters | None:
        """The same filters over the previous period of equal length (None if unbounded)."""
        if self.date_from is None or self.date_to is None:
            return None
        days = (self.date_to - self.date_from).days + 1
        return replace(
            self,
            date_from=self.date_from - timedelta(days=days),
            date_to=self.date_from - timedelta(days=1),
        )

    def year_before(self) -> Filters | None:
        """The same filters one year earlier (None if unbounded)."""
        if self.date_from is None or self.date_to is None:
            return None
        return replace(
            self, date_from=_minus_year(self.date_from), date_to=_minus_year(self.date_to)
        )

    def without_dates(self) -> Filters:
        return replace(self, date_from=None, date_to=None)

    def describe(self) -> str:
        """Readable one-liner for captions and exported files."""
        bits = []
        if self.date_from or self.date_to:
            bits.append(f"{self.date_from or '…'} to {self.date_to or '…'}")
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple) and v:
                bits.append(f"{f.name.replace('_', ' ')}: {', '.join(v)}")
        return "; ".join(bits) or "all tickets"


def _utc_midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)
