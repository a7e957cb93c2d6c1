/*
title: Comments behind low scores
description: >
  Free-text comments given with a low score (the warehouse's one definition,
  view `survey_scores`: the bottom two points of the question's own scale for
  CSAT, detractors 0-6 for NPS), newest month first. Only comments from month x team x
  department groups that are large enough to be shown are here (the same
  anonymity rule as the Voice page, applied before any SQL runs): e-mail
  addresses and phone numbers are masked, dates are cut to the month, and nobody's
  id is attached. Takes the sidebar's teams and departments (the respondent's).
filters: [teams, departments]
params:
  since: {type: date, label: From the month of (empty = all time)}
chart: table
*/
SELECT service_team, department, survey, submitted_month, comment
FROM survey_comments
WHERE band = 'low'
  AND picked($teams, service_team) AND picked($departments, department)
  AND ($since IS NULL OR submitted_month >= date_trunc('month', CAST($since AS DATE)))
ORDER BY submitted_month DESC, service_team, department, comment
