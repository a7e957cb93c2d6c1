"""The engagement model's vocabulary: the columns of `requester_engagement`, its
statuses, the sidebar filters its views honour and the instant they are judged at."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from dashboard.as_of import warehouse_as_of
from dashboard.filters import Filters

ENGAGEMENT_COLUMNS: tuple[str, ...] = (
    "requester_id",
    "service_team",
    "requester_department",
    "requester_type",
    "first_ticket_at",
    "last_ticket_at",
    "tickets",
    "typical_gap_days",
    "days_silent",
    "p_alive",
    "status",
    "reason",
)
STATUSES: tuple[str, ...] = ("new", "active", "occasional", "at_risk", "gone_quiet")


FLAGGED: tuple[str, ...] = ("gone_quiet", "at_risk")

# The sidebar filters the engagement views honour. Silence is judged at the as-of over
# each requester's whole history, so a date range does not apply; priority, category
# and channel describe single tickets, not the requester-team relationship.
ENGAGEMENT_FILTERS: tuple[str, ...] = ("teams", "departments", "requester_types")


def filter_where(filters: Filters | None, prefix: str = "f_") -> tuple[str, dict[str, Any]]:
    """SQL condition for the engagement filters (team, department, requester type)."""
    return (filters or Filters()).only(ENGAGEMENT_FILTERS).where(prefix=prefix)


def as_utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def as_of_or_newest(con: duckdb.DuckDBPyConnection, as_of: datetime | date | None) -> datetime:
    """`as_of` when given, else the warehouse's newest as-of (dashboard/as_of.py)."""
    if as_of is not None:
        return as_utc(as_of)
    newest = warehouse_as_of(con)
    return as_utc(newest) if newest is not None else datetime(1970, 1, 1, tzinfo=UTC)
