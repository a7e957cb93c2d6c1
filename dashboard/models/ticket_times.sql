-- ticket_times: every ticket with its durations and SLA verdicts.
-- grain: (source, ticket_id)
--
-- The one definition for both engines: DuckDB stores it as the warehouse view
-- `ticket_times`, Spark registers it as a temporary view over the Parquet lake.
-- So it is written in the SQL both accept, with Spark's function names; DuckDB
-- gets those names as macros (dashboard/models/__init__.py SHIMS). Durations are
-- epoch differences (exact for instants, and 7x cheaper in DuckDB than date_diff
-- on TIMESTAMPTZ, which goes through ICU). `as_of` is the ticket's source's "now"
-- (table source_as_of, one row per source: dashboard/as_of.py): an open clock is a
-- miss once its due time has passed at the as-of, never at the wall clock.
WITH base AS (
    SELECT t.* EXCEPT (derived_key),
        (unix_micros(t.first_response_at) - unix_micros(t.created_at)) / 60e6
            AS first_response_minutes,
        (unix_micros(t.resolved_at) - unix_micros(t.created_at)) / 60e6 AS resolution_minutes,
        -- time waiting on the requester or a third party (pending, on_hold) taken out;
        -- NULL where the source has no history (waiting_minutes is NULL there)
        (unix_micros(t.resolved_at) - unix_micros(t.created_at)) / 60e6 - t.waiting_minutes
            AS resolution_excluding_waiting_minutes,
        t.resolution_business_minutes - t.waiting_business_minutes
            AS resolution_excluding_waiting_business_minutes,
        coalesce(t.status, '') IN ('solved', 'closed', 'cancelled') AS sla_finished,
        coalesce(st.first_response_minutes, sd.first_response_minutes)
            AS sla_first_response_target,
        coalesce(st.resolution_minutes, sd.resolution_minutes) AS sla_resolution_target,
        coalesce(st.business, sd.business) AS sla_business,
        ao.as_of
    FROM tickets t
    LEFT JOIN source_as_of ao ON ao.source = t.source
    LEFT JOIN sla_targets st
        ON st.service_team = t.service_team AND st.priority = t.priority
    LEFT JOIN sla_targets sd
        ON sd.service_team = '*' AND sd.priority = t.priority
)
SELECT * EXCEPT (sla_business, sla_finished),
    CASE
        WHEN sla_first_response_target IS NULL THEN NULL
        WHEN first_response_at IS NOT NULL THEN
            (CASE WHEN sla_business THEN first_response_business_minutes
                  ELSE first_response_minutes END) <= sla_first_response_target
        -- still unanswered and past its deadline at the as-of: a miss, not "unknown"
        WHEN NOT sla_finished AND first_response_due_at <= as_of THEN false
        ELSE NULL
    END AS sla_first_response_met,
    CASE
        WHEN sla_resolution_target IS NULL THEN NULL
        WHEN resolved_at IS NOT NULL THEN
            (CASE WHEN sla_business THEN resolution_business_minutes
                  ELSE resolution_minutes END) <= sla_resolution_target
        WHEN NOT sla_finished AND resolution_due_at <= as_of THEN false
        ELSE NULL
    END AS sla_resolution_met
FROM base
