/*
title: Backlog by age
description: >
  Tickets still open (not solved, closed or cancelled) by how long they have
  been waiting, per service team. Age is measured up to the newest timestamp in
  the data rather than today, so an old export still gives a sensible picture.
params:
  team:
    type: choice
    options_sql: SELECT DISTINCT service_team FROM tickets WHERE service_team IS NOT NULL ORDER BY 1
    label: Service team (empty = all)
chart: {type: bar, x: age_bucket, y: tickets, color: service_team}
*/
WITH as_of AS (
    SELECT greatest(max(created_at), max(updated_at)) AS ts FROM tickets
),
open_tickets AS (
    SELECT
        coalesce(t.service_team, '(none)') AS service_team,
        date_diff('minute', t.created_at, a.ts) / 1440.0 AS age_days
    FROM tickets t, as_of a
    WHERE t.status NOT IN ('solved', 'closed', 'cancelled')
      AND t.resolved_at IS NULL
      AND ($team IS NULL OR t.service_team = $team)
),
bucketed AS (
    SELECT service_team, age_days,
        CASE
            WHEN age_days < 1 THEN 1
            WHEN age_days < 3 THEN 2
            WHEN age_days < 7 THEN 3
            WHEN age_days < 14 THEN 4
            WHEN age_days < 28 THEN 5
            ELSE 6
        END AS bucket_order
    FROM open_tickets
)
SELECT
    ['under 1 day', '1-3 days', '3-7 days', '1-2 weeks', '2-4 weeks', 'over 4 weeks'][bucket_order]
        AS age_bucket,
    service_team,
    count(*) AS tickets,
    round(max(age_days), 1) AS oldest_days,
    bucket_order
FROM bucketed
GROUP BY ALL
ORDER BY bucket_order, service_team
