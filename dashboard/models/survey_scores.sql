-- survey_scores: every survey answer on Inward's reporting scales, with its band.
-- grain: (source, response_id, metric) — one row per answer
--
-- Survey tools disagree on scales (CSAT 1–5, 1–7, 0–10; CES 1–5 or 1–7), so raw
-- scores never average across surveys. This is the one place they are mapped:
-- linearly onto CSAT 1–5, CES 1–7 and NPS 0–10 (identity for a real 0–10 NPS).
-- A missing scale takes the metric's usual one; a score outside its scale is not
-- scored (`score_normalised` null) rather than clipped.
--
-- Bands, on the question's own scale: CSAT "top-2 box" = the two highest points
-- (4–5 of 1–5, 9–10 of 0–10), "bottom-2" = the two lowest (never overlapping the
-- top two on a short scale); NPS promoters 9–10, detractors 0–6 (after mapping to
-- 0–10). `low_score` is what every page calls a low score: Voice's low-score
-- comments, Engagement's "got a low satisfaction score", analyst queries.
SELECT v.* EXCEPT (unit, nps10),
    v.band = 'low' AS low_score,
    v.band = 'high' AND v.metric = 'csat' AS top2
FROM (
    SELECT r.*,
        CASE WHEN r.valid THEN
            CASE r.metric
                WHEN 'csat' THEN 1 + 4 * r.unit
                WHEN 'ces' THEN 1 + 6 * r.unit
                WHEN 'nps' THEN r.nps10
            END
        END AS score_normalised,
        CASE
            WHEN NOT r.valid THEN NULL
            WHEN r.metric = 'csat' THEN
                CASE WHEN r.score >= r.scale_high - 1 THEN 'high'
                     WHEN r.score <= r.scale_low + 1 THEN 'low' ELSE 'middle' END
            WHEN r.metric = 'nps' THEN
                CASE WHEN r.nps10 >= 9 - 1e-9 THEN 'high'
                     WHEN r.nps10 <= 6 + 1e-9 THEN 'low' ELSE 'middle' END
        END AS band
    FROM (
        SELECT b.*,
            b.score IS NOT NULL AND b.scale_high > b.scale_low
                AND b.score >= b.scale_low AND b.score <= b.scale_high AS valid,
            (b.score - b.scale_low) / nullif(b.scale_high - b.scale_low, 0) AS unit,
            CASE WHEN b.scale_low = 0 AND b.scale_high = 10 THEN b.score
                 ELSE 10 * (b.score - b.scale_low) / nullif(b.scale_high - b.scale_low, 0)
            END AS nps10
        FROM (
            SELECT s.*,
                coalesce(s.scale_min, CASE s.metric WHEN 'nps' THEN 0 ELSE 1 END) AS scale_low,
                coalesce(s.scale_max, CASE s.metric WHEN 'nps' THEN 10 WHEN 'ces' THEN 7
                                                    ELSE 5 END) AS scale_high
            FROM survey_responses s
        ) AS b
    ) AS r
) AS v
