/*
title: Comments behind low scores
description: >
  Free-text comments from low survey scores, for teams with at least
  `min_respondents` distinct respondents in the period (anonymity: small
  groups are never shown, and the threshold cannot go below 5). "Low" is the
  warehouse's definition (view `survey_scores`): the bottom two points of the
  question's own scale for CSAT, detractors (0–6) for NPS — what the Voice page
  and the Engagement page call a low score. Respondent ids and departments are
  not shown and dates are cut to the week.
params:
  metric: {type: choice, options: [csat, nps], default: csat}
  since: {type: date, label: Submitted on or after (empty = all time)}
  min_respondents: {type: int, default: 5, min: 5, label: Smallest team shown (respondents)}
chart: table
*/
WITH scoped AS (
    SELECT *
    FROM survey_scores
    WHERE metric = $metric
      AND ($since IS NULL OR submitted_at >= $since)
),
big_enough AS (
    SELECT service_team
    FROM scoped
    GROUP BY service_team
    HAVING count(DISTINCT respondent_id) >= $min_respondents
)
SELECT
    s.service_team,
    s.survey,
    CAST(date_trunc('week', utc(s.submitted_at)) AS DATE) AS week,
    s.score,
    s.scale_high AS scale_max,
    trim(s.comment) AS comment
FROM scoped s
JOIN big_enough b ON b.service_team IS NOT DISTINCT FROM s.service_team
WHERE s.comment IS NOT NULL AND trim(s.comment) <> ''
  AND s.low_score
ORDER BY week DESC, s.service_team, s.score
