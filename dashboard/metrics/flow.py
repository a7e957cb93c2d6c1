"""Where the time goes: time in status, waits, hand-offs, backlog over time, agents.

Pure reads over what `dashboard.derive.history.refresh_history` stored (`ticket_status_spans`,
`ticket_status_time`, the flow columns on `tickets`) and over `ticket_events`.
Every function takes a connection and a `Filters` and returns a Polars frame, so
the Flow page and `inward flow` print the same numbers.

Which team a row belongs to: per-ticket numbers (summary, time in status) go by
the ticket's team, like every other metric; numbers about *moments* (who held a
ticket while it waited, hand-offs, the backlog at a day's end, agents) go by the
team holding the ticket then, as its history says. Filters on department,
priority and the rest always apply to the ticket; the date range bounds the
tickets' `created_at` (periods by creation, CONTRACT) except for the backlog,
where it bounds the days shown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from dashboard.filters import COLUMN_OF, Filters
from dashboard.metrics.history import TERMINAL, WAITING, as_of_relation
from dashboard.ordering import natural_order

_WAITING = ", ".join(f"'{s}'" for s in WAITING)
_TERMINAL = ", ".join(f"'{s}'" for s in TERMINAL)

# Spans with their ticket's filterable columns; `service_team` is the team holding it.
_SPANS = """(
    SELECT s.*, t.service_team AS ticket_team, t.requester_department, t.requester_type,
        t.priority, t.category, t.channel, t.created_at
    FROM ticket_status_spans s JOIN tickets t USING (source, ticket_id))"""


def _where(filters: Filters, team_column: str = "service_team") -> tuple[str, dict[str, Any]]:
    return filters.where({"teams": team_column})


def _ticket_where(filters: Filters, alias: str = "t") -> tuple[str, dict[str, Any]]:
    """Filters on the columns of tickets joined as `alias`."""
    return filters.where({f: f"{alias}.{c}" for f, c in COLUMN_OF.items()}, f"{alias}.created_at")


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any source has ticket history (the page's empty state)."""
    return bool(con.sql("SELECT 1 FROM ticket_events LIMIT 1").fetchall())


def summary(
    con: duckdb.DuckDBPyConnection, filters: Filters, by: list[str] | None = None
) -> pl.DataFrame:
    """Per group (default: per team): tickets, how many have history, median
    resolution of the tickets with history with and without waiting, the share of
    resolution time spent waiting, reassignment and hop rates, replies per ticket
    (where recorded)."""
    by = ["service_team"] if by is None else by
    where, params = filters.where()
    group = ", ".join(by)
    frame = con.sql(
        f"""
        SELECT {group + ", " if by else ""}count(*) AS tickets,
            count(waiting_minutes) AS tickets_with_history,
            median(resolution_minutes) FILTER (WHERE waiting_minutes IS NOT NULL)
                AS history_median_resolution_minutes,
            median(resolution_excluding_waiting_minutes)
                AS median_resolution_excluding_waiting_minutes,
            median(waiting_minutes) FILTER (WHERE resolved_at IS NOT NULL)
                AS median_waiting_minutes,
            sum(waiting_minutes) FILTER (WHERE resolved_at IS NOT NULL)
                / nullif(sum(resolution_minutes) FILTER (
                    WHERE waiting_minutes IS NOT NULL AND resolution_minutes > 0), 0)
                AS waiting_share,
            avg(CAST(reassignments > 0 AS INTEGER)) AS reassigned_rate,
            avg(team_hops) AS team_hops_per_ticket,
            avg(replies) AS replies_per_ticket
        FROM ticket_times WHERE {where}
        {f"GROUP BY {group}" if by else ""}""",
        params=params,
    ).pl()
    return natural_order(frame, by)


def status_time(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Time in each status per ticket team: tickets that were in it, entries,
    median and p90 minutes per ticket, business-minute median, total hours and the
    status's share of the team's tracked time."""
    where, params = _ticket_where(filters)
    frame = con.sql(
        f"""
        WITH s AS (
            SELECT t.service_team, st.status, st.minutes, st.business_minutes, st.entries
            FROM ticket_status_time st JOIN tickets t USING (source, ticket_id)
            WHERE {where}
        )
        SELECT service_team, status, count(*) AS tickets, sum(entries) AS entries,
            quantile_cont(minutes, 0.5) AS median_minutes,
            quantile_cont(minutes, 0.9) AS p90_minutes,
            quantile_cont(business_minutes, 0.5) AS median_business_minutes,
            sum(minutes) / 60 AS total_hours,
            sum(minutes) / sum(sum(minutes)) OVER (PARTITION BY service_team) AS share,
            status IN ({_WAITING}) AS waiting
        FROM s GROUP BY service_team, status
        ORDER BY service_team, total_hours DESC""",
        params=params,
    ).pl()
    return natural_order(frame, ["service_team"])  # each team's statuses stay by hours


def waits(con: duckdb.DuckDBPyConnection, filters: Filters, top: int = 20) -> pl.DataFrame:
    """Where tickets sit longest before they are done: open statuses per holding team
    and the tool's own status name (Awaiting Vendor, Waiting for customer…), by
    total hours; `waiting` marks time on the requester or a third party."""
    where, params = _where(filters)
    params["top"] = top
    return con.sql(
        f"""
        SELECT service_team, status, vendor_status, status IN ({_WAITING}) AS waiting,
            count(DISTINCT (source, ticket_id)) AS tickets, count(*) AS spans,
            sum(minutes) / 60 AS total_hours, median(minutes) AS median_minutes,
            median(business_minutes) AS median_business_minutes
        FROM {_SPANS} WHERE {where} AND status NOT IN ({_TERMINAL})
        GROUP BY ALL ORDER BY total_hours DESC, service_team, vendor_status
        LIMIT $top""",
        params=params,
    ).pl()


def _stints(filters: Filters) -> tuple[str, dict[str, Any]]:
    """Stints: consecutive spans of one ticket with one team, numbered by hand-off."""
    where, params = filters.where({"teams": ""})
    return (
        f"""
        WITH s AS (
            SELECT *, sum(CAST(team_hop AS INTEGER)) OVER (
                PARTITION BY source, ticket_id ORDER BY span) AS stint
            FROM {_SPANS} WHERE {where}
        )
        SELECT source, ticket_id, stint, any_value(service_team) AS to_team,
            arg_min(from_team, span) AS from_team, bool_or(team_hop) AS handed_over,
            arg_min(minutes, span) AS pickup_minutes, sum(minutes) AS held_minutes,
            sum(business_minutes) AS held_business_minutes
        FROM s GROUP BY source, ticket_id, stint""",
        params,
    )


def handoffs(
    con: duckdb.DuckDBPyConnection, filters: Filters, top: int = 25, min_handoffs: int = 3
) -> pl.DataFrame:
    """Hand-offs between teams (from → to), slowest first: how often, how long the
    receiving team took to act (until the ticket's next recorded change) and how
    long it held the ticket, and how often it came straight back. Pairs with fewer
    than `min_handoffs` hand-offs are left out: one ticket's median is no pattern."""
    stints, params = _stints(filters)
    params |= {"top": top, "min_n": min_handoffs}
    team_cond = ""
    if filters.teams:
        params["teams"] = list(filters.teams)
        team_cond = "AND (list_contains($teams, from_team) OR list_contains($teams, to_team))"
    return con.sql(
        f"""
        WITH h AS (
            SELECT *, lead(to_team) OVER (PARTITION BY source, ticket_id ORDER BY stint)
                = from_team AS bounced_back
            FROM ({stints})
        )
        SELECT from_team, to_team, count(*) AS handoffs,
            count(DISTINCT (source, ticket_id)) AS tickets,
            median(pickup_minutes) AS median_pickup_minutes,
            median(held_minutes) AS median_held_minutes,
            median(held_business_minutes) AS median_held_business_minutes,
            avg(CAST(coalesce(bounced_back, false) AS INTEGER)) AS bounced_back_rate
        FROM h WHERE handed_over {team_cond}
        GROUP BY ALL HAVING count(*) >= $min_n
        ORDER BY median_held_minutes DESC, handoffs DESC LIMIT $top""",
        params=params,
    ).pl()


def backlog_by_team(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Open tickets at the end of each day per team (day, service_team, open).

    From history where a ticket has it: open while in a status other than
    solved/closed/cancelled, counted for the team holding it at the day's end (so a
    solved ticket that is reopened is out of the backlog in between); otherwise
    open from created_at to `ticket_spans.closed_at`, the warehouse's one
    definition of when a ticket without history closed, for the ticket's team.
    Tickets still open count up to their source's as-of day and not after it
    (nothing is known later).
    The range's dates bound the days shown; other filters apply to the tickets.
    """
    where, params = filters.without_dates().where()
    day = "CAST(utc({}) AS DATE)"
    frame = con.sql(
        f"""
        WITH a AS {as_of_relation()},
        intervals AS (
            SELECT s.source, s.service_team, s.started_at AS from_ts, s.ended_at AS to_ts
            FROM {_SPANS} s WHERE {where} AND s.status NOT IN ({_TERMINAL})
            UNION ALL
            SELECT t.source, t.service_team, t.created_at, t.closed_at
            FROM ticket_spans t
            WHERE {where} AND NOT EXISTS (SELECT 1 FROM ticket_status_spans h
                WHERE h.source = t.source AND h.ticket_id = t.ticket_id)
        ), ev AS (
            SELECT i.service_team, {day.format("i.from_ts")} AS day, 1 AS delta
            FROM intervals i
            UNION ALL
            SELECT i.service_team, CASE WHEN i.to_ts IS NULL OR i.to_ts >= a.as_of
                THEN {day.format("a.as_of")} + 1 ELSE {day.format("i.to_ts")} END, -1
            FROM intervals i JOIN a USING (source)
        ), daily AS (
            SELECT service_team, day, sum(delta) AS delta FROM ev GROUP BY ALL
        ), span AS (
            SELECT CAST(unnest(generate_series(min(day), max(day) - 1, INTERVAL 1 DAY)) AS DATE)
                AS day FROM daily
        ), teams AS (SELECT DISTINCT service_team FROM daily)
        SELECT s.day, tm.service_team, CAST(sum(coalesce(d.delta, 0)) OVER (
            PARTITION BY tm.service_team ORDER BY s.day) AS BIGINT) AS open
        FROM span s CROSS JOIN teams tm
        LEFT JOIN daily d ON d.day = s.day AND d.service_team IS NOT DISTINCT FROM tm.service_team
        ORDER BY s.day, tm.service_team""",
        params=params,
    ).pl()
    if filters.teams:
        frame = frame.filter(pl.col("service_team").is_in(list(filters.teams)))
    return _clip_days(frame, filters.date_from, filters.date_to)


def _clip_days(frame: pl.DataFrame, lo: date | None, hi: date | None) -> pl.DataFrame:
    if lo is not None:
        frame = frame.filter(pl.col("day") >= lo)
    if hi is not None:
        frame = frame.filter(pl.col("day") <= hi)
    return frame


def backlog(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Open tickets at the end of each day over all teams (day, open)."""
    return backlog_by_team(con, filters).group_by("day").agg(pl.col("open").sum()).sort("day")


def next_replies(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Per ticket team, where history records replies: replies, tickets replied to,
    median first and next reply minutes (Zendesk's definitions: first reply from
    creation; next reply from the first requester message after an agent reply to
    the agent reply that follows it)."""
    where, params = _ticket_where(filters)
    return con.sql(
        f"""
        WITH e AS (
            SELECT e.source, e.ticket_id, e."at" AS at_ts, e.seq,
                e.kind = 'reply' AND coalesce(e.actor, 'agent') = 'agent' AS agent_reply,
                e.actor = 'requester' AS requester_msg, t.service_team, t.created_at
            FROM ticket_events e JOIN tickets t USING (source, ticket_id)
            WHERE e.source IN (SELECT source FROM ticket_events WHERE kind = 'reply')
              AND {where}
              AND (e.kind = 'reply' OR e.actor = 'requester')
        ), o AS (
            SELECT *, lag(agent_reply) OVER w AS after_reply,
                min(at_ts) FILTER (WHERE agent_reply) OVER (w ROWS BETWEEN 1 FOLLOWING
                    AND UNBOUNDED FOLLOWING) AS next_reply_at,
                min(at_ts) FILTER (WHERE agent_reply) OVER (PARTITION BY source, ticket_id)
                    AS first_reply_at
            FROM e
            WINDOW w AS (PARTITION BY source, ticket_id ORDER BY at_ts, seq)
        )
        SELECT service_team, count(*) FILTER (WHERE agent_reply) AS replies,
            count(DISTINCT (source, ticket_id)) FILTER (WHERE agent_reply) AS tickets_replied,
            median((epoch_us(first_reply_at) - epoch_us(created_at)) / 60e6) FILTER (
                WHERE agent_reply AND at_ts = first_reply_at) AS median_first_reply_minutes,
            median((epoch_us(next_reply_at) - epoch_us(at_ts)) / 60e6) FILTER (
                WHERE requester_msg AND after_reply AND next_reply_at IS NOT NULL)
                AS median_next_reply_minutes
        FROM o GROUP BY ALL ORDER BY service_team""",
        params=params,
    ).pl()


def agents(con: duckdb.DuckDBPyConnection, filters: Filters, top: int = 50) -> pl.DataFrame:
    """Per assignee (people: show only when `show_agents = true`): tickets held,
    hours held in open and waiting statuses, median hours per ticket, how many of
    their tickets they passed on to someone else."""
    where, params = _where(filters)
    params["top"] = top
    return con.sql(
        f"""
        WITH s AS (
            SELECT *, lead(assignee) OVER (PARTITION BY source, ticket_id ORDER BY span)
                AS next_assignee
            FROM {_SPANS} WHERE {where}
        ), per AS (
            SELECT assignee, any_value(service_team) AS service_team, source, ticket_id,
                sum(minutes) FILTER (WHERE status NOT IN ({_TERMINAL})) AS held,
                sum(minutes) FILTER (WHERE status IN ({_WAITING})) AS waiting,
                bool_or(next_assignee IS NOT NULL AND next_assignee <> assignee) AS passed_on
            FROM s WHERE assignee IS NOT NULL GROUP BY assignee, source, ticket_id
        )
        SELECT assignee, mode(service_team) AS service_team, count(*) AS tickets,
            sum(held) / 60 AS hours_held, sum(waiting) / 60 AS hours_waiting,
            median(held) / 60 AS median_hours_per_ticket,
            avg(CAST(passed_on AS INTEGER)) AS passed_on_rate
        FROM per GROUP BY assignee ORDER BY tickets DESC, assignee LIMIT $top""",
        params=params,
    ).pl()


SECTIONS = ("summary", "status", "waits", "handoffs", "backlog", "replies", "agents")
