-- Time in status from ticket history: one row per run of constant status, vendor
-- status, team and assignee, from a ticket's first event to the end of its clock.
--
-- Inputs (temp objects the refresh creates): flow_todo(source) — the sources to
-- recompute; flow_as_of(source, as_of) — "now" per source.
--
-- Rules
-- * Events are ordered by time, then the order they had in their export (seq),
--   then their key. Status, vendor status, team and assignee are carried forward
--   (an event that does not name one keeps the previous value); a ticket whose
--   first events carry no status is `new` until one does. Events at the same
--   instant are one moment, in the state after the last of them.
-- * Each event starts an interval that lasts until the next event. The clock ends
--   at the ticket's resolved_at when it has one; else, when its history ends in a
--   run of solved/closed/cancelled events, at the first of them; else (still open)
--   at the source's as-of — and never after the as-of (a configured as-of in the
--   past sees the ticket open then). Intervals are clipped to the end, and events at or
--   after it contribute nothing — so per ticket the minutes over its statuses add
--   up to first event → end (zero when the end is not after the first event).
-- * A run starts a `team_hop` when its team differs from the last team the ticket
--   had (from_team); runs are numbered per ticket (`span`), and `status_run`
--   numbers the runs of constant status, so entries = distinct status runs.
WITH ev AS (
    SELECT e.source, e.ticket_id, e."at" AS at_ts, e.seq, e.event_key,
        coalesce(last_value(e.status IGNORE NULLS) OVER w, 'new') AS status,
        last_value(e.vendor_status IGNORE NULLS) OVER w AS vendor_status,
        last_value(e.service_team IGNORE NULLS) OVER w AS service_team,
        last_value(e.assignee IGNORE NULLS) OVER w AS assignee,
        lead(e."at") OVER o AS next_at,
        row_number() OVER o AS n
    FROM ticket_events e
    WHERE e.source IN (SELECT source FROM flow_todo)
    WINDOW o AS (PARTITION BY e.source, e.ticket_id ORDER BY e."at", e.seq, e.event_key),
        w AS (o ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    -- changes recorded at one instant (an audit's child events, a log row's fields)
    -- are one moment: the state after the last of them
    QUALIFY e."at" IS DISTINCT FROM lead(e."at") OVER o
), tail AS (
    SELECT *,
        -- true from the first event of the final run of terminal statuses onwards
        bool_and(status IN ('solved', 'closed', 'cancelled')) OVER (
            PARTITION BY source, ticket_id ORDER BY n
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS in_final_terminal_run
    FROM ev
), ends AS (
    SELECT ev.source, ev.ticket_id,
        least(coalesce(any_value(tk.resolved_at),
                       min(ev.at_ts) FILTER (WHERE in_final_terminal_run), any_value(a.as_of)),
              any_value(a.as_of)) AS end_at
    FROM tail ev
    JOIN flow_as_of a USING (source)
    LEFT JOIN tickets tk ON tk.source = ev.source AND tk.ticket_id = ev.ticket_id
    GROUP BY ev.source, ev.ticket_id
), clipped AS (
    SELECT ev.*, least(coalesce(ev.next_at, x.end_at), x.end_at) AS until_ts,
        (status, vendor_status, service_team, assignee) IS DISTINCT FROM lag(
            (status, vendor_status, service_team, assignee)) OVER p AS new_run,
        status IS DISTINCT FROM lag(status) OVER p AS new_status
    FROM ev JOIN ends x USING (source, ticket_id)
    WHERE ev.at_ts < x.end_at
    WINDOW p AS (PARTITION BY ev.source, ev.ticket_id ORDER BY ev.n)
), runs AS (
    SELECT *,
        CAST(sum(CAST(new_run AS INTEGER)) OVER p AS INTEGER) AS span,
        CAST(sum(CAST(new_status AS INTEGER)) OVER p AS INTEGER) AS status_run
    FROM clipped
    WINDOW p AS (PARTITION BY source, ticket_id ORDER BY n)
), spans AS (
    SELECT source, ticket_id, span, any_value(status_run) AS status_run,
        any_value(status) AS status, any_value(vendor_status) AS vendor_status,
        any_value(service_team) AS service_team, any_value(assignee) AS assignee,
        min(at_ts) AS started_at, max(until_ts) AS ended_at
    FROM runs GROUP BY source, ticket_id, span
)
SELECT *,
    (epoch_us(ended_at) - epoch_us(started_at)) / 60e6 AS minutes,
    service_team IS NOT NULL AND from_team IS NOT NULL
        AND service_team <> from_team AS team_hop
FROM (
    SELECT *, last_value(service_team IGNORE NULLS) OVER (
        PARTITION BY source, ticket_id ORDER BY span
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS from_team
    FROM spans
)
