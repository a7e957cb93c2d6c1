"""The stored `requester_engagement` rows (or a fresh computation for another as-of),
the model's inputs from the warehouse, and the flagged rows a page lists. The table is
written by `dashboard.derive.engagement` from the same inputs and model."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl

from dashboard import pseudonyms
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.engagement.model import compute_engagement
from dashboard.metrics.engagement.terms import (
    ENGAGEMENT_FILTERS,
    FLAGGED,
    as_utc,
)

# "got a low satisfaction score": the warehouse's one definition (view survey_scores:
# the bottom two points of the question's own CSAT scale)
LOW_CSAT_SQL = """
SELECT DISTINCT ticket_id, TRUE AS low_csat
FROM survey_scores
WHERE metric = 'csat' AND ticket_id IS NOT NULL AND low_score
"""


_BATCH_ROWS = 500_000


def model_inputs(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tickets (with a low-CSAT flag from linked survey answers) and people."""
    reader = con.sql(f"""
        SELECT t.requester_id, t.service_team, t.requester_department, t.requester_type,
               t.created_at, t.resolved_at, t.resolution_minutes, t.reopen_count,
               t.sla_resolution_met, t.status, t.as_of, coalesce(c.low_csat, FALSE) AS low_csat
        FROM ticket_times t
        LEFT JOIN ({LOW_CSAT_SQL}) c USING (ticket_id)
        WHERE t.requester_id IS NOT NULL
    """).to_arrow_reader(batch_size=_BATCH_ROWS)
    # Batch by batch, text becomes categorical (4 bytes a value instead of a string
    # per ticket): at 5M tickets the frame is a third of the size, and the full
    # string copy never exists at once.
    batches = [
        pl.from_arrow(batch).with_columns(pl.col(pl.String).cast(pl.Categorical))  # type: ignore[union-attr]
        for batch in reader
    ]
    tickets = pl.concat(batches) if batches else pl.DataFrame()
    people = con.sql(
        "SELECT person_id, department, person_type, active_from, active_to FROM people"
    ).pl()
    return tickets, people


def engagement_rows(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime | date | None = None
) -> pl.DataFrame:
    """The stored `requester_engagement` rows, or a fresh computation for another as-of
    day (read-only: nothing is written). Sorted for reading: flagged first. Requester
    ids come out as the connection's scope allows (`inward_id`)."""
    if as_of is None:
        frame = con.sql(
            "SELECT * REPLACE (inward_id(requester_id) AS requester_id) FROM requester_engagement"
        ).pl()
    else:
        tickets, people = model_inputs(con)
        frame = compute_engagement(tickets, people, as_utc(as_of), config.engagement)
        frame = pseudonyms.ids(con, frame, ["requester_id"])
    order = {s: i for i, s in enumerate(("gone_quiet", "at_risk", "new", "active", "occasional"))}
    return frame.sort(
        pl.col("status").replace_strict(order, default=9),
        "service_team",
        pl.col("days_silent"),
        "requester_id",
        descending=[False, False, True, False],
    )


def at_risk_rows(
    con: duckdb.DuckDBPyConnection, config: Config, filters: Filters | None = None
) -> pl.DataFrame:
    """Requesters flagged at risk or gone quiet, worst first, for the filtered teams,
    departments and requester types. Requester ids as the viewer may see them (from
    `engagement_rows`: the same pseudonym as every other view without a raw grant)."""
    rows = engagement_rows(con, config).filter(pl.col("status").is_in(FLAGGED))
    f = (filters or Filters()).only(ENGAGEMENT_FILTERS)
    for field in ENGAGEMENT_FILTERS:
        values = getattr(f, field)
        if values:
            column = {"teams": "service_team", "departments": "requester_department"}.get(
                field, "requester_type"
            )
            rows = rows.filter(pl.col(column).is_in(list(values)))
    return rows.select(
        "status",
        "requester_id",
        "service_team",
        "requester_department",
        "requester_type",
        "tickets",
        "typical_gap_days",
        "days_silent",
        "p_alive",
        "last_ticket_at",
        "reason",
    )
