/*
title: Repeat requesters
description: >
  Requesters who opened many tickets in the recent window (ending at the last
  ticket in the data). Repeated contact often points at a broken device, a
  missing permission or a training gap that one proactive fix would remove.
  Requesters appear as they do on every page: a keyed pseudonym (R-...) that is
  the same in every run, or the id itself for users with a raw grant.
params:
  days: {type: int, default: 90, min: 1, max: 3660, label: Window (days before the last ticket)}
  min_tickets: {type: int, default: 5, min: 2, label: Minimum tickets in the window}
  top: {type: int, default: 50, min: 1, max: 1000}
chart: table
*/
WITH window_end AS (SELECT max(created_at) AS ts FROM tickets),
recent AS (
    SELECT t.*
    FROM tickets t, window_end w
    WHERE t.requester_id IS NOT NULL
      AND t.created_at > w.ts - to_days(CAST($days AS INTEGER))
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
