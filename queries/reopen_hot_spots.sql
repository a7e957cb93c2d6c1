/*
title: Reopen hot spots
description: >
  Team and category pairs where resolved tickets most often come back
  (reopen_count > 0). A high rate usually means fixes that do not hold or
  tickets closed before the requester agreed. Small groups are left out so
  one unlucky ticket does not top the list, and so are tickets whose tool
  records no reopen count (unknown, not "never reopened").
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
params:
  min_tickets: {type: int, default: 10, min: 1, label: Minimum resolved tickets per group}
  top: {type: int, default: 20, min: 1, max: 200}
chart: {type: bar, x: category, y: reopen_rate, color: service_team}
*/
SELECT
    coalesce(service_team, '(none)') AS service_team,
    coalesce(category, '(none)') AS category,
    count(*) AS resolved_tickets,
    count(*) FILTER (WHERE reopen_count > 0) AS reopened_tickets,
    round(count(*) FILTER (WHERE reopen_count > 0) / count(*), 3) AS reopen_rate,
    sum(reopen_count) AS reopens
FROM tickets
WHERE resolved_at IS NOT NULL AND reopen_count IS NOT NULL
  AND within_days(created_at, $date_from, $date_to)
  AND picked($teams, service_team) AND picked($departments, requester_department)
  AND picked($requester_types, requester_type) AND picked($priorities, priority)
  AND picked($categories, category) AND picked($channels, channel)
GROUP BY ALL
HAVING count(*) >= $min_tickets
ORDER BY reopen_rate DESC, resolved_tickets DESC, service_team, category
LIMIT $top
