/*
title: Last-minute requests by department
description: >
  Which requesting departments raise a large share of urgent or high priority
  tickets. Persistent "everything is urgent" from one department is a planning
  conversation (lead times, request templates), not a service-desk problem.
  Departments with few tickets are left out.
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
params:
  ticket_type:
    type: choice
    options: [incident, request, question, problem, change, other]
    label: Ticket type (empty = all)
  min_tickets: {type: int, default: 20, min: 1, label: Minimum tickets per department}
chart: {type: bar, x: requester_department, y: urgent_high_share}
*/
SELECT
    coalesce(requester_department, '(unknown)') AS requester_department,
    count(*) AS tickets,
    count(*) FILTER (WHERE priority = 'urgent') AS urgent,
    count(*) FILTER (WHERE priority = 'high') AS high,
    round(count(*) FILTER (WHERE priority IN ('urgent', 'high')) / count(*), 3)
        AS urgent_high_share
FROM tickets
WHERE within_days(created_at, $date_from, $date_to)
  AND picked($teams, service_team) AND picked($departments, requester_department)
  AND picked($requester_types, requester_type) AND picked($priorities, priority)
  AND picked($categories, category) AND picked($channels, channel)
  AND ($ticket_type IS NULL OR ticket_type = $ticket_type)
GROUP BY ALL
HAVING count(*) >= $min_tickets
ORDER BY urgent_high_share DESC, tickets DESC
