"""The filter set shared by the CLI, the metrics and every page — tickets and surveys alike.

One frozen value type, so a page's filters can key a cache, travel in a URL and
become SQL with bound parameters (never string formatting) in one place. Survey
metrics read the same value: teams, departments and requester types map onto the
survey dimensions (`SURVEY_COLUMN_OF`); priorities, categories and channels are
properties of a ticket that an unlinked survey answer does not have, so they do
not apply to surveys, and pages say so (`not_applying`).
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
# filter field -> survey dimension it restricts (the respondent's department and type)
SURVEY_COLUMN_OF = {
    "teams": "service_team",
    "departments": "department",
    "requester_types": "requester_type",
}
# filter field -> what a reader calls it (sidebar labels, "does not apply" notes)
LABELS = {
    "dates": "Date range",
    "teams": "Service team",
    "departments": "Requester department",
    "requester_types": "Requester type",
    "priorities": "Priority",
    "categories": "Category",
    "channels": "Channel",
}


@dataclass(frozen=True)
class Filters:
    """Which tickets (or survey answers) a view covers. Empty tuples mean 'all'; dates
    bound `created_at` for tickets, `submitted_at` for surveys (inclusive days, UTC)."""

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
        a filter, as does an empty `time_column`); `prefix` names the parameters, so
        several filter sets can be bound in one statement.

        The SQL is in the subset DuckDB and Spark share (the Spark engine runs the
        same metrics): day bounds are bound as UTC instants, so neither engine's
        session time zone can shift a day."""
        names = {**COLUMN_OF, **(columns or {})}
        parts: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if self.date_from is not None and time_column:
            parts.append(f"{time_column} >= ${prefix}from")
            params[f"{prefix}from"] = _utc_midnight(self.date_from)
        if self.date_to is not None and time_column:
            parts.append(f"{time_column} < ${prefix}to")
            params[f"{prefix}to"] = _utc_midnight(self.date_to + timedelta(days=1))
        for f in COLUMN_OF:
            values = getattr(self, f)
            column = names.get(f)
            if values and column:
                parts.append(f"array_contains(${prefix}{f}, {column})")
                params[f"{prefix}{f}"] = list(values)
        return " AND ".join(parts), params

    def survey_where(
        self, department_column: str = "respondent_department", prefix: str = "s_"
    ) -> tuple[str, dict[str, Any]]:
        """`where` for `survey_responses` (or views over it): dates on `submitted_at`,
        team, the respondent's department; ticket-only filters dropped."""
        return self.where(
            {
                "departments": department_column,
                "requester_types": "",
                "priorities": "",
                "categories": "",
                "channels": "",
            },
            "submitted_at",
            prefix,
        )

    def survey_selection(self) -> dict[str, frozenset[str]]:
        """Survey dimension -> allowed values, only for dimensions that are filtered."""
        return {
            dim: frozenset(getattr(self, f))
            for f, dim in SURVEY_COLUMN_OF.items()
            if getattr(self, f)
        }

    def active(self) -> tuple[str, ...]:
        """The filter fields that are set ('dates' for either bound), in sidebar order."""
        out = ["dates"] if self.date_from or self.date_to else []
        return (*out, *(f for f in COLUMN_OF if getattr(self, f)))

    def not_applying(self, applies: tuple[str, ...]) -> tuple[str, ...]:
        """Labels of the filters that are set but that a view does not use (`applies`
        lists the fields it honours, 'dates' included), for an honest caption."""
        return tuple(LABELS[f] for f in self.active() if f not in applies)

    def ignored_note(self, applies: tuple[str, ...], why: str) -> str | None:
        """'Priority, Channel do not apply here: <why>.' for the set filters a view
        ignores (None when it honours every one that is set)."""
        ignored = self.not_applying(applies)
        if not ignored:
            return None
        verb = "does" if len(ignored) == 1 else "do"
        return f"{', '.join(ignored)} {verb} not apply here: {why}."

    def only(self, applies: tuple[str, ...]) -> Filters:
        """These filters with every field outside `applies` cleared (a cache key that
        does not change when an ignored filter does)."""
        cleared: dict[str, Any] = {f: () for f in COLUMN_OF if f not in applies}
        if "dates" not in applies:
            cleared |= {"date_from": None, "date_to": None}
        return replace(self, **cleared)

    @property
    def days(self) -> int | None:
        """Length of the date range in days (None when open-ended)."""
        if self.date_from is None or self.date_to is None:
            return None
        return (self.date_to - self.date_from).days + 1

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


# the fields survey views honour (dates are submission dates)
SURVEY_FILTERS: tuple[str, ...] = ("dates", *SURVEY_COLUMN_OF)
ALL_FILTERS: tuple[str, ...] = ("dates", *COLUMN_OF)


def _utc_midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)
