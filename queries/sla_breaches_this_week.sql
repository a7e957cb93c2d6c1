/*
title: SLA breaches this week
description: >
  Tickets created in the most recent week of the data (Monday to Sunday, UTC: the
  week of each source's as-of, not of today) that missed their first-response
  or resolution target. Targets and business/calendar time come from the SLA
  configuration; tickets without a target or not yet answered/resolved are not
  counted as breaches.
filters: [teams, departments, requester_types, priorities, categories, channels]
chart: table
*/
SELECT
    t.source,
    t.ticket_id,
    t.service_team,
    t.priority,
    t.category,
    t.created_at,
    t.status,
    CASE
        WHEN t.sla_first_response_met = false AND t.sla_resolution_met = false THEN 'both'
        WHEN t.sla_first_response_met = false THEN 'first response'
        ELSE 'resolution'
    END AS breached,
    round(t.first_response_minutes / 60, 1) AS first_response_hours,
    round(t.sla_first_response_target / 60, 1) AS first_response_target_hours,
    round(t.resolution_minutes / 60, 1) AS resolution_hours,
    round(t.sla_resolution_target / 60, 1) AS resolution_target_hours
FROM ticket_times t
WHERE utc(t.created_at) >= date_trunc('week', utc(t.as_of))
  AND (t.sla_first_response_met = false OR t.sla_resolution_met = false)
  AND picked($teams, t.service_team) AND picked($departments, t.requester_department)
  AND picked($requester_types, t.requester_type) AND picked($priorities, t.priority)
  AND picked($categories, t.category) AND picked($channels, t.channel)
ORDER BY
    CASE t.priority WHEN 'urgent' THEN 1 WHEN 'high' THEN 2 WHEN 'normal' THEN 3 ELSE 4 END,
    t.created_at
