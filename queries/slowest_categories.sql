/*
title: Slowest categories
description: >
  Categories with the longest median resolution time (calendar hours), with the
  90th percentile and volume so a slow but rare category is not over-read.
  Only resolved tickets count towards the times.
params:
  team:
    type: choice
    options_sql: SELECT DISTINCT service_team FROM tickets WHERE service_team IS NOT NULL ORDER BY 1
    label: Service team (empty = all)
  since: {type: date, label: Created on or after (empty = all time)}
  min_tickets: {type: int, default: 5, min: 1, label: Minimum resolved tickets per category}
  top: {type: int, default: 10, min: 1, max: 100, label: Categories to show}
chart: {type: bar, x: category, y: median_hours}
*/
SELECT
    coalesce(category, '(none)') AS category,
    count(*) AS resolved_tickets,
    round(median(resolution_minutes) / 60, 1) AS median_hours,
    round(quantile_cont(resolution_minutes, 0.9) / 60, 1) AS p90_hours,
    round(median(resolution_business_minutes) / 60, 1) AS median_business_hours
FROM ticket_times
WHERE resolution_minutes IS NOT NULL
  AND ($team IS NULL OR service_team = $team)
  AND ($since IS NULL OR created_at >= $since)
GROUP BY ALL
HAVING count(*) >= $min_tickets
ORDER BY median_hours DESC, category
LIMIT $top
