/*
title: Last-minute requests by department
description: >
  Which requesting departments raise a large share of urgent or high priority
  tickets. Persistent "everything is urgent" from one department is a planning
  conversation (lead times, request templates), not a service-desk problem.
  Departments with few tickets are left out.
params:
  since: {type: date, label: Created on or after (empty = all time)}
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
WHERE ($since IS NULL OR created_at >= $since)
  AND ($ticket_type IS NULL OR ticket_type = $ticket_type)
GROUP BY ALL
HAVING count(*) >= $min_tickets
ORDER BY urgent_high_share DESC, tickets DESC
