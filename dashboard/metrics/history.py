"""The vocabulary of ticket history, shared by its reader and its writer.

`dashboard.derive.history` stores runs of constant status (`ticket_status_spans`),
time per status and the tickets' waiting columns; `dashboard.metrics.flow` reads them.
Both call the same statuses waiting or terminal and judge an open run at the same
as-of, so these names live once, here.
"""

from __future__ import annotations

WAITING = ("pending", "on_hold")
TERMINAL = ("solved", "closed", "cancelled")


def as_of_relation() -> str:
    """SQL relation (source, as_of): the moment each source's data describes.

    The source's as-of as the shared `ticket_spans` view states it (its newest
    ticket timestamp, CONTRACT "as of the data"), or its newest recorded event when
    that is later (a history export can be taken after the tickets export) — never
    the wall clock.
    """
    return """(
        SELECT source, max(t) AS as_of FROM (
            SELECT source, max(as_of) AS t FROM ticket_spans GROUP BY 1
            UNION ALL
            SELECT source, max("at") FROM ticket_events GROUP BY 1)
        GROUP BY source)"""
