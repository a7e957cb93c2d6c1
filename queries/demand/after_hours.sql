/*
title: After-hours demand
description: >
  Share of each team's tickets created outside business hours (before the start
  hour, after the end hour, or on a weekend) in the chosen time zone. A team
  with a high share may need an on-call rota or self-service for common asks.
  The hours here are a quick lens; business-hour SLA clocks use the per-team
  calendars in inward.toml.
filters: [dates, teams, departments, requester_types, priorities, categories, channels]
params:
  tz: {type: text, default: UTC, label: "Time zone (IANA name, e.g. Europe/Berlin)"}
  start_hour: {type: int, default: 9, min: 0, max: 23, label: Business day starts (hour)}
  end_hour: {type: int, default: 17, min: 1, max: 24, label: Business day ends (hour)}
chart: {type: bar, x: service_team, y: after_hours_share}
*/
WITH local AS (
    SELECT
        coalesce(service_team, '(none)') AS service_team,
        timezone($tz, created_at) AS local_ts
    FROM tickets
    WHERE within_days(created_at, $date_from, $date_to)
      AND picked($teams, service_team) AND picked($departments, requester_department)
      AND picked($requester_types, requester_type) AND picked($priorities, priority)
      AND picked($categories, category) AND picked($channels, channel)
),
flagged AS (
    SELECT service_team,
        isodow(local_ts) >= 6 AS weekend,
        isodow(local_ts) < 6
            AND (hour(local_ts) < $start_hour OR hour(local_ts) >= $end_hour) AS weekday_evening
    FROM local
)
SELECT
    service_team,
    count(*) AS tickets,
    count(*) FILTER (WHERE weekend OR weekday_evening) AS after_hours_tickets,
    count(*) FILTER (WHERE weekend) AS weekend_tickets,
    round(count(*) FILTER (WHERE weekend OR weekday_evening) / count(*), 3) AS after_hours_share
FROM flagged
GROUP BY ALL
ORDER BY after_hours_share DESC, service_team
