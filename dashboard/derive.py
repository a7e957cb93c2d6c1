"""Derived data, refreshed after every successful ingest (in the writer's lock).

The app only reads, so anything that depends on configuration (business hours,
SLA targets), on other tables (the people file) or on the whole history
(engagement) is computed here, once, by the process that holds the write lock.
"""

from __future__ import annotations

import duckdb

from dashboard import warehouse
from dashboard.config import Config
from dashboard.metrics.business_time import refresh_business_minutes, refresh_sla_targets
from dashboard.metrics.engagement import refresh_engagement
from dashboard.metrics.history import refresh_history


def fill_from_people(con: duckdb.DuckDBPyConnection) -> None:
    """Fill requester department/type the export did not carry from the people file.

    Many tools (Jira, Freshservice) export no department or requester type; HR's
    people file has both. Values the export did carry are never overwritten.
    """
    con.execute("""
        UPDATE tickets SET
            requester_department = coalesce(tickets.requester_department, p.department),
            requester_type = CASE WHEN coalesce(tickets.requester_type, 'unknown') = 'unknown'
                                  THEN coalesce(p.person_type, 'unknown')
                                  ELSE tickets.requester_type END
        FROM people p
        WHERE p.person_id = tickets.requester_id
          AND (tickets.requester_department IS NULL
               OR coalesce(tickets.requester_type, 'unknown') = 'unknown')""")
    con.execute("""
        UPDATE survey_responses SET respondent_department = p.department
        FROM people p
        WHERE p.person_id = survey_responses.respondent_id
          AND survey_responses.respondent_department IS NULL""")


def refresh(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Recompute every derived table from the canonical ones.

    Two transactions: first the per-ticket derivations (people fill, SLA targets,
    business minutes and SLA due times from the team calendars, time in status from
    ticket history), then the engagement model
    (which replaces its table atomically itself). A failure in either leaves the
    previous derived data in place, never a half-written table.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        fill_from_people(con)
        refresh_sla_targets(con, config, own_transaction=False)
        refresh_business_minutes(con, config, own_transaction=False)
        refresh_history(con, config)
        warehouse.bump_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh_engagement(con, config)
