-- open_tickets: the open backlog at each source's as-of, with every ticket's age.
-- grain: (source, ticket_id) — one row per open ticket
--
-- Open = created by the as-of and not closed by then (ticket_spans says what closed
-- means; tickets without a status count). `age_days` runs from creation to the
-- as-of; `age_bucket` (ordered by `age_order`) is the banding every page, the CLI
-- and the backlog_by_age query use.
SELECT s.*,
    (unix_micros(s.as_of) - unix_micros(s.created_at)) / 86400e6 AS age_days,
    CASE
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 1 * 86400e6 THEN 1
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 3 * 86400e6 THEN 2
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 7 * 86400e6 THEN 3
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 14 * 86400e6 THEN 4
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 28 * 86400e6 THEN 5
        ELSE 6
    END AS age_order,
    CASE
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 1 * 86400e6 THEN 'under 1 day'
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 3 * 86400e6 THEN '1–3 days'
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 7 * 86400e6 THEN '3–7 days'
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 14 * 86400e6 THEN '1–2 weeks'
        WHEN unix_micros(s.as_of) - unix_micros(s.created_at) < 28 * 86400e6 THEN '2–4 weeks'
        ELSE 'over 4 weeks'
    END AS age_bucket
FROM ticket_spans s
WHERE s.created_at <= s.as_of AND (s.closed_at IS NULL OR s.closed_at > s.as_of)
