-- rollup_durations: how many tickets took each whole number of minutes, per
-- grain: (service_team, requester_department, week, measure, minute)
-- service team × requester department × UTC week (Monday) of creation and
-- measure (first_response, resolution and their business-hours versions).
-- Histograms add up over any coarser grouping, and the cumulative count gives
-- medians and percentiles exactly, at whole-minute precision, without the rows:
-- the rollup is small enough for one machine however large the lake is.
-- Shared model (DuckDB and Spark): see dashboard/models/__init__.py.
SELECT service_team, requester_department, week, measure, minute, count(*) AS tickets
FROM (
    SELECT service_team, requester_department,
        CAST(date_trunc('week', timestamp_micros(unix_micros(created_at))) AS DATE) AS week,
        m.measure,
        CAST(floor(CASE m.measure
            WHEN 'first_response' THEN first_response_minutes
            WHEN 'resolution' THEN resolution_minutes
            WHEN 'first_response_business' THEN first_response_business_minutes
            ELSE resolution_business_minutes
        END) AS BIGINT) AS minute
    FROM ticket_times
    CROSS JOIN (VALUES ('first_response'), ('resolution'), ('first_response_business'),
        ('resolution_business')) AS m(measure)
) d
WHERE minute IS NOT NULL
GROUP BY service_team, requester_department, week, measure, minute
