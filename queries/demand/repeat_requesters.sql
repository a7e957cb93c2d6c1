/*
title: Repeat requesters
description: >
  Requesters who opened many tickets in the recent window (ending at each
  source's as-of: its newest ticket update, or `as_of` in inward.toml). Repeated contact often points at a broken device, a
  missing permission or a training gap that one proactive fix would remove.
  Requesters appear as they do on every page: a keyed pseudonym (R-...) that is
  the same in every run, or the id itself for users with a raw grant.
filters: [teams, departments, requester_types, priorities, categories, channels]
params:
  days: {type: int, default: 90, min: 1, max: 3660, label: Window (days before the as-of)}
  min_tickets: {type: int, default: 5, min: 2, label: Minimum tickets in the window}
  top: {type: int, default: 50, min: 1, max: 1000}
chart: table
*/
WITH recent AS (
    SELECT t.requester_id, t.requester_department, t.requester_type, t.category,
        t.service_team, t.created_at
    FROM ticket_times t
    WHERE t.requester_id IS NOT NULL
      AND picked($teams, t.service_team) AND picked($departments, t.requester_department)
      AND picked($requester_types, t.requester_type) AND picked($priorities, t.priority)
      AND picked($categories, t.category) AND picked($channels, t.channel)
      AND t.created_at > t.as_of - to_days(CAST($days AS INTEGER))
)
SELECT
    requester_id AS requester,
    any_value(requester_department) AS requester_department,
    any_value(requester_type) AS requester_type,
    count(*) AS tickets,
    count(DISTINCT category) AS categories,
    mode(category) AS top_category,
    string_agg(DISTINCT service_team, ', ' ORDER BY service_team) AS service_teams,
    max(created_at) AS last_ticket_at
FROM recent
GROUP BY requester_id
HAVING count(*) >= $min_tickets
ORDER BY tickets DESC, requester
LIMIT $top
