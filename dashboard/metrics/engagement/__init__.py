"""Repeat avoidance: which internal requesters have stopped coming back, and why it matters.

Internal customers are not captive in the way a ticket queue suggests: after a
bad experience they work around the service desk (ask a colleague, buy a tool,
live with the problem). The warehouse only sees that as silence. This package
turns silence into a signal per (requester, service team):

* a **cadence** signal - silent for more than k x their own typical (median)
  inter-ticket gap, which respects each requester's rhythm (someone who needs
  HR twice a year is not "quiet" after two months), and
* a **BG/NBD** signal - P(alive) from a beta-geometric/NBD model fitted to the
  whole population (`dashboard.metrics.bgnbd`), which weighs how much history
  backs that rhythm.

and adds department-level views (activity per head, reactive shift, return
rate after bad experiences, survey fatigue, cohort retention) that read the
warehouse directly.

Everything per requester is vectorised in Polars: one sort, one group-by and a
handful of column expressions, so a million requesters take seconds, not a
Python loop each.

The package, by what each file holds:

* `terms` - the model's vocabulary: columns, statuses, the filters its views honour;
* `model` - `compute_engagement`, the status of one (requester, team) row;
* `segments` - tickets to one row per (requester, team), in numpy;
* `reasons` - the one readable sentence per row;
* `stored` - the stored `requester_engagement` rows and who is flagged (the table is
  written by `dashboard.derive.engagement`);
* `departments` - activity per head, reactive shift, survey fatigue per department;
* `retention` - who comes back after a bad experience, cohorts, quiet per quarter;
* `elsewhere` - one person's silence with one team while filing with another.
"""
