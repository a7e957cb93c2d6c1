/*
title: Vendor and contractor share
description: >
  How much of each team's work comes from contractors and vendors rather than
  employees. Useful when negotiating who pays for support, and for spotting
  onboarding gaps (many "how do I get access" tickets from contractors).
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
chart: {type: bar, x: service_team, y: share, color: requester_type}
*/
WITH typed AS (
    SELECT
        coalesce(service_team, '(none)') AS service_team,
        coalesce(requester_type, 'unknown') AS requester_type
    FROM tickets
    WHERE within_days(created_at, $date_from, $date_to)
      AND picked($teams, service_team) AND picked($departments, requester_department)
      AND picked($requester_types, requester_type) AND picked($priorities, priority)
      AND picked($categories, category) AND picked($channels, channel)
)
SELECT
    service_team,
    requester_type,
    count(*) AS tickets,
    round(count(*) / sum(count(*)) OVER (PARTITION BY service_team), 3) AS share
FROM typed
GROUP BY service_team, requester_type
ORDER BY service_team,
    CASE requester_type
        WHEN 'employee' THEN 1 WHEN 'contractor' THEN 2 WHEN 'vendor' THEN 3 ELSE 4 END
