/*
title: First-contact channel mix
description: >
  Through which channel tickets arrive (the channel that opened the ticket),
  per service team. A team answering mostly phone and walk-in is harder to
  measure and to staff than one fed by the portal.
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
chart: {type: bar, x: service_team, y: share, color: channel}
*/
SELECT
    coalesce(service_team, '(none)') AS service_team,
    coalesce(channel, 'other') AS channel,
    count(*) AS tickets,
    round(count(*) / sum(count(*)) OVER (PARTITION BY coalesce(service_team, '(none)')), 3)
        AS share
FROM tickets
WHERE within_days(created_at, $date_from, $date_to)
  AND picked($teams, service_team) AND picked($departments, requester_department)
  AND picked($requester_types, requester_type) AND picked($priorities, priority)
  AND picked($categories, category) AND picked($channels, channel)
GROUP BY 1, 2
ORDER BY service_team, tickets DESC, channel
