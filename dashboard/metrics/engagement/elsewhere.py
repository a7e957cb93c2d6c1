"""One person across every team: flagged with one team while still filing with another,
the pairs of teams people went round, and one person's monthly history."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from dashboard.filters import Filters
from dashboard.metrics.engagement.terms import ENGAGEMENT_FILTERS, FLAGGED


def _across_teams_sql(teams: str, where: str = "TRUE") -> str:
    """Flagged (requester, team) rows with the teams the requester still files with;
    `teams` aggregates `o.service_team` (a readable list, or a list to unnest); `where`
    narrows the flagged rows (`q`)."""
    return f"""
        SELECT q.requester_id, q.requester_department, q.requester_type,
            q.service_team AS quiet_with, q.status, q.tickets, q.typical_gap_days,
            q.days_silent, {teams} AS still_files_with,
            min(o.days_silent) AS days_since_last_elsewhere,
            CAST(sum(o.tickets) AS BIGINT) AS tickets_elsewhere
        FROM requester_engagement q
        JOIN requester_engagement o ON o.requester_id = q.requester_id
            AND o.service_team IS DISTINCT FROM q.service_team
            AND o.status NOT IN {FLAGGED} AND o.last_ticket_at > q.last_ticket_at
        WHERE q.status IN {FLAGGED} AND {where}
        GROUP BY ALL"""


def _flagged_where(filters: Filters | None) -> tuple[str, dict[str, Any]]:
    """The engagement filters on the flagged row: the team is the one gone quiet with."""
    return (
        (filters or Filters())
        .only(ENGAGEMENT_FILTERS)
        .where(
            {
                "teams": "q.service_team",
                "departments": "q.requester_department",
                "requester_types": "q.requester_type",
            },
            time_column="",
        )
    )


def across_teams(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """People flagged (at risk / gone quiet) with one team who kept filing with another
    after their last ticket there: "stopped coming to IT, still files with HR".

    Still active elsewhere means still in the organisation and still asking for help,
    so the silence is about that one team. Columns: requester_id,
    requester_department, requester_type, quiet_with, status, tickets,
    typical_gap_days, days_silent, still_files_with (teams, most recent first),
    days_since_last_elsewhere, tickets_elsewhere. Most silent first. `filters`: the
    engagement filters (team = the team gone quiet with, department, requester type).
    """
    teams = "string_agg(o.service_team, ', ' ORDER BY o.last_ticket_at DESC)"
    where, params = _flagged_where(filters)
    return con.sql(
        f"SELECT * REPLACE (inward_id(requester_id) AS requester_id) FROM "
        f"({_across_teams_sql(teams, where)}) ORDER BY days_silent DESC, requester_id",
        params=params,
    ).pl()


def team_switches(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """How many people went quiet with one team while still filing with another, per
    (quiet_with, still_files_with) pair of teams: where requesters went round a team.
    `filters` as for `across_teams`."""
    where, params = _flagged_where(filters)
    return con.sql(
        f"""
        WITH a AS ({_across_teams_sql("list(o.service_team)", where)}),
        pairs AS (SELECT requester_id, quiet_with, unnest(still_files_with) AS still_files_with
                  FROM a)
        SELECT quiet_with, still_files_with, count(DISTINCT requester_id) AS people
        FROM pairs GROUP BY ALL ORDER BY people DESC, quiet_with, still_files_with""",
        params=params,
    ).pl()


def person_history(con: duckdb.DuckDBPyConnection, requester_id: str) -> pl.DataFrame:
    """One person's tickets per month and service team, across every tool (requester_id
    is the same person everywhere; give it as the viewer sees it, i.e. the pseudonym
    without a raw grant). Columns: service_team, month, tickets."""
    return con.sql(
        """WITH who AS (SELECT id FROM (SELECT DISTINCT requester_id AS id FROM tickets)
                        WHERE inward_id(id) = $id)
           SELECT service_team, CAST(date_trunc('month', utc(created_at)) AS DATE) AS month,
               count(*) AS tickets
           FROM tickets WHERE requester_id IN (SELECT id FROM who)
           GROUP BY ALL ORDER BY month, service_team""",
        params={"id": requester_id},
    ).pl()
