-- ticket_latest: one row per ticket_id, the newest version across sources.
--
-- Survey answers name their ticket by id only. When two tools exported the same id
-- (a Jira issue that also came in a plain CSV), a join on ticket_id would count the
-- answer twice; this view keeps the row updated last (then the later ingest), so
-- every survey-to-ticket link in Inward and in analyst SQL finds one ticket.
SELECT * EXCEPT (_version)
FROM (
    SELECT *,
        row_number() OVER (
            PARTITION BY ticket_id
            ORDER BY updated_at DESC NULLS LAST, ingest_id DESC NULLS LAST, source
        ) AS _version
    FROM ticket_times
) AS v
WHERE _version = 1
