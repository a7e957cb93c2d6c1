"""The engagement model's vocabulary: the columns of `requester_engagement`, its
statuses, the sidebar filters its views honour and the instant they are judged at."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import polars as pl

from dashboard.as_of import warehouse_as_of
from dashboard.filters import Filters

# The model's frame, as `requester_engagement` stores it: column → Polars type.
ENGAGEMENT_SCHEMA: dict[str, pl.DataType] = {
    "requester_id": pl.String(),
    "service_team": pl.String(),
    "requester_department": pl.String(),
    "requester_type": pl.String(),
    "first_ticket_at": pl.Datetime("us", "UTC"),
    "last_ticket_at": pl.Datetime("us", "UTC"),
    "tickets": pl.Int64(),
    "typical_gap_days": pl.Float64(),
    "days_silent": pl.Float64(),
    "p_alive": pl.Float64(),
    "status": pl.String(),
    "reason": pl.String(),
}
ENGAGEMENT_COLUMNS: tuple[str, ...] = tuple(ENGAGEMENT_SCHEMA)
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
