"""Voice of the internal customer: survey scores, anonymity, drivers and comment themes.

Why this module is shaped the way it is
---------------------------------------
Internal customers are colleagues. A "Finance · contractors" row with three
respondents is not a statistic, it is three named people, and the service team
reading it sits two floors away. So anonymity is not a display option here; it is
the first thing every output goes through, and it has to survive *differencing*:
a total minus the visible groups, or the unfiltered view minus a filtered one,
must not give back a hidden group.

Scales. Survey tools disagree on scales (CSAT 1–5, 1–7, 0–10; CES 1–5 or 1–7).
Averaging raw scores across scales is meaningless, so scores are mapped linearly
onto one reporting scale per metric before averaging: CSAT onto 1–5 (the common
case, where it is the identity), CES onto 1–7 (CES 2.0), NPS onto 0–10 (identity
for real NPS). "Top-2 box" is taken on the *raw* scale: the top two points of
whatever scale the question used (4–5 on 1–5, 6–7 on 1–7, 9–10 on 0–10).

Respondents. Thresholds count distinct `respondent_id`s, because one person
answering ten surveys is still one person. A response without respondent id
(an anonymous survey) counts as its own respondent: the survey tool already
made it anonymous, and counting all of them as one would suppress whole teams.

The suppression rule (`anonymity.lattice_suppression`, `parts.protected_table`)
------------------------------------------------------------------------------------
Every grouping of (service_team, department, requester_type) — 8 tables from the
grand total to the full cross — is a table somebody can print, and the tables
add up into each other. So hiding is decided once, jointly, on that lattice,
computed on the date-filtered responses whatever the view asks for; every view
then reads its flags, so no two views disagree about what is hidden.

1. Primary: a group with 0 < respondents < k (`anonymity_min_group`) is hidden.
2. Complementary: for every group and every dimension it splits by, the hidden
   children are none, or ≥ 2 whose union has ≥ k respondents; and a hidden
   group keeps at least one hidden child along each dimension (else adding up
   its visible children rebuilds it). Repaired by hiding the next-smallest
   visible child, to a fixpoint. "Total minus visible groups" thus only ever
   yields a blend of several groups with k+ people.
3. Audit: one-step rules miss multi-table combinations (contractor total +
   vendor total − Engineering's and Sales' non-employees = one person in
   Facilities). Every published number is a sum over the finest cells, so a
   small group is exactly disclosed iff its cell vector lies in the row space of
   the visible groups' vectors; while one does, the smallest visible group in a
   disclosing combination is hidden too, and rule 2 re-run.
4. Filters: a view filtered on a dimension outside its grouping (per-team rows
   for "all but Legal") shows a row only if it takes none of that group's
   hidden children, or all of them while the group itself is visible. Such a
   row is then a linear combination of published lattice groups, so filters
   add nothing an attacker could not already compute, and rule 3 covers them.
5. Each metric (CSAT, NPS, CES) runs through 1–4 again on its own respondent
   counts: a team with 12 respondents of whom 3 answered NPS shows CSAT but not
   NPS, and NPS totals cannot be differenced either.

6. Time: every number covers whole calendar months (UTC), whatever dates are
   asked for, and each month is decided on its own lattice (rules 1–5 on that
   month's answers). A view over several months — a date range, a quarter of a
   trend — adds up its per-month parts that are shown and leaves the hidden ones
   out (`partial` = true on such a row; its response rate is then null). Why:
   with day-level ranges, `--from 10-24` minus `--from 10-25` was one person's
   score; with month ranges, Jan–Oct minus Jan–Sep is October. Now every
   published number is a sum of per-month published numbers, months are disjoint
   sets of answers, so a small group of month m could be rebuilt only from month
   m's own published numbers — which rules 1–5 prevent. Leaving hidden parts out
   (rather than hiding the whole row) keeps a half-empty first or last month from
   hiding every all-time number. Driver levels follow the same rule
   (`drivers._published_months`); comments are shown only from shown (month, team,
   department) parts.

Out of scope (documented, not solved): non-linear inference (bounds from score
ranges, e.g. a hidden mean forced to 5.0 because every visible total is already
maximal), and the driver levels' differencing across team filters (a level is
not a lattice group; it needs k respondents on both sides and in every month).

The package, by what each file holds
------------------------------------
* `answers` - the survey answers a view reads (one row per response and metric), its
  groupings and its whole-month bounds;
* `scores` - the statistics of a group: counts, means, top-2 share, NPS and intervals;
* `anonymity` - the suppression lattice and its exact linear audit (rules 1-3);
* `parts` - month parts and filtered views of the lattice (rules 4-6);
* `summary` - `inward surveys`, trends and every publishable cell;
* `drivers` - what goes with low CSAT;
* `comments` - comment excerpts and the words that set low scores apart.
"""
