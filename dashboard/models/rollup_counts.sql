-- rollup_counts: per service team × requester department × UTC week (Monday) of
-- grain: (service_team, requester_department, week)
-- creation, the counts every rate in the metrics summary is a ratio of. Counts
-- add up over any coarser grouping, so teams, departments and month or quarter
-- ranges made of whole weeks are sums of these rows.
-- Shared model (DuckDB and Spark): see dashboard/models/__init__.py.
SELECT service_team, requester_department,
    CAST(date_trunc('week', timestamp_micros(unix_micros(created_at))) AS DATE) AS week,
    count(*) AS tickets,
    count(first_response_minutes) AS first_responses,
    count(resolution_minutes) AS resolutions,
    CAST(sum(CAST(sla_first_response_met AS INTEGER)) AS BIGINT) AS sla_first_response_met,
    count(sla_first_response_met) AS sla_first_response_judged,
    CAST(sum(CAST(sla_resolution_met AS INTEGER)) AS BIGINT) AS sla_resolution_met,
    count(sla_resolution_met) AS sla_resolution_judged,
    CAST(sum(CAST(reopen_count > 0 AS INTEGER)) AS BIGINT) AS reopened,
    count(reopen_count) AS reopen_known
FROM ticket_times
GROUP BY service_team, requester_department, week
