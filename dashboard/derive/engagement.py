"""The stored engagement model: `requester_engagement`, replaced whole after each ingest.

The model is the metrics layer's (`compute_engagement` over `model_inputs`, the
same pair `engagement_rows` uses for another as-of), so a stored row and one
computed afresh cannot disagree; this module only writes the result.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from dashboard import warehouse
from dashboard.config import Config
from dashboard.metrics.engagement.model import compute_engagement
from dashboard.metrics.engagement.stored import model_inputs
from dashboard.metrics.engagement.terms import ENGAGEMENT_COLUMNS, as_utc


def refresh_engagement(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime | date | None = None
) -> int:
    """Recompute `requester_engagement` from `ticket_times` and `people`; returns its row count.

    The table is replaced inside one transaction so a reader never sees it half
    written (or empty) and a failure leaves the previous model in place.
    """
    tickets, people = model_inputs(con)
    result = compute_engagement(
        tickets, people, as_utc(as_of) if as_of else None, config.engagement
    )
    with warehouse.transaction(con):
        con.execute("DELETE FROM requester_engagement")
        if result.height:
            con.register("_inward_engagement", result.to_arrow())
            try:
                con.execute(
                    f"INSERT INTO requester_engagement ({', '.join(ENGAGEMENT_COLUMNS)}) "
                    f"SELECT {', '.join(ENGAGEMENT_COLUMNS)} FROM _inward_engagement"
                )
            finally:
                con.unregister("_inward_engagement")
    return result.height
