/*
title: Backlog by age
description: >
  Tickets open now, by how long they have been waiting, per service team. "Open"
  and the age bands are the warehouse's own definitions (view `open_tickets`: not
  resolved and not marked solved, closed or cancelled — tickets without any status
  count), the same backlog the Teams page and `inward panel teams.backlog_age`
  show. Age runs to each source's as-of (`as_of` in inward.toml, else its newest
  ticket update), not to today, so an old export still gives a sensible picture.
filters: [teams, departments, requester_types, priorities, categories, channels]
chart: {type: bar, x: age_bucket, y: tickets, color: service_team}
*/
SELECT
    age_bucket,
    coalesce(service_team, '(none)') AS service_team,
    count(*) AS tickets,
    round(max(age_days), 1) AS oldest_days,
    age_order AS bucket_order
FROM open_tickets
WHERE picked($teams, service_team) AND picked($departments, requester_department)
  AND picked($requester_types, requester_type) AND picked($priorities, priority)
  AND picked($categories, category) AND picked($channels, channel)
GROUP BY ALL
ORDER BY bucket_order, service_team
