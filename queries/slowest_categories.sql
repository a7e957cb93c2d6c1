/*
title: Slowest categories
description: >
  Categories with the longest median resolution time (calendar hours), with the
  90th percentile and volume so a slow but rare category is not over-read.
  Only resolved tickets count towards the times.
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
params:
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
  AND within_days(created_at, $date_from, $date_to)
  AND picked($teams, service_team) AND picked($departments, requester_department)
  AND picked($requester_types, requester_type) AND picked($priorities, priority)
  AND picked($categories, category) AND picked($channels, channel)
GROUP BY ALL
HAVING count(*) >= $min_tickets
ORDER BY median_hours DESC, category
LIMIT $top
