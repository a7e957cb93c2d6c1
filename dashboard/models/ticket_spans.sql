-- ticket_spans: when each ticket was open, from creation to closing, and its as-of.
-- grain: (source, ticket_id)
--
-- The one definition of "open" behind the backlog chart, the open backlog and its
-- age (open_tickets), the CLI and analyst SQL. A ticket is closed at `resolved_at`;
-- when an export marks it solved, closed or cancelled without a resolution time,
-- it closed at its last update (else at creation). A ticket with no status at all
-- is open until resolved: a filter such as `status NOT IN (...)` would silently
-- drop it (NULL is never NOT IN anything), which is how two pages once disagreed.
--
-- `as_of` is the source's "now" (CONTRACT "As of the data": config as_of, else the
-- newest ticket timestamp of the source; table source_as_of, see dashboard/as_of.py),
-- so backlog ages never move with the wall clock.
SELECT t.source, t.ticket_id, t.service_team, t.requester_id, t.requester_department,
    t.requester_type, t.channel, t.category, t.priority, t.ticket_type, t.status,
    t.created_at,
    coalesce(
        t.resolved_at,
        CASE WHEN t.status IN ('solved', 'closed', 'cancelled')
             THEN coalesce(t.updated_at, t.created_at) END
    ) AS closed_at,
    a.as_of
FROM tickets t
LEFT JOIN source_as_of AS a ON a.source = t.source
