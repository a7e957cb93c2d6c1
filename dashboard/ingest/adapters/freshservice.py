"""Freshservice ticket CSV export (and the sister product Freshdesk's, as
`freshservice`-like). Layout in docs/vendor-formats.md §4.

`Initial Response Time` is a timestamp and is used as first_response_at; the
`… (in Hrs)` durations are often empty and are not needed. resolved_at is
`Resolved Time`, else `Closed Time`. There is no reopen counter in the export;
a ticket tagged `reopened` (the tag Freshservice workflow automations commonly
add) counts as reopened once, every other ticket as 0; an export without the Tags
column leaves the count NULL (unknown, not 0).
"""

from __future__ import annotations

import dataclasses

import duckdb

from dashboard.ingest.adapters._derive import add_derived, txt
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import Staged

STATUS = {
    "open": "open",
    "pending": "pending",
    "resolved": "solved",
    "closed": "closed",
    "on hold": "on_hold",
    "awaiting approval": "on_hold",
    "awaiting vendor": "on_hold",
    "waiting on third party": "on_hold",
    "waiting on customer": "pending",
    "awaiting customer": "pending",
    "in progress": "open",
    "new": "new",
}
PRIORITY = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}
CHANNEL = {
    "email": "email",
    "portal": "portal",
    "feedback widget": "portal",
    "feedback_widget": "portal",
    "phone": "phone",
    "chat": "chat",
    "slack": "chat",
    "ms teams": "chat",
    "microsoft teams": "chat",
    "yammer": "chat",
    "workplace": "chat",
    "walkup": "walk_in",
    "walk-up": "walk_in",
    "walk up": "walk_in",
    "aws cloudwatch": "api",
    "pagerduty": "api",
    "nagios": "api",
    "monitoring": "api",
    "outbound email": "email",
    "forum": "portal",
}
TICKET_TYPE = {
    "incident": "incident",
    "service request": "request",
    "request": "request",
    "problem": "problem",
    "change": "change",
    "question": "question",
}


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """resolved = Resolved Time, else Closed Time; reopen count from the `reopened` tag."""
    derived = {
        "inward_resolved_at": f"coalesce({txt(staged, 'resolved_time')}, "
        f"{txt(staged, 'closed_time')})",
    }
    if "tags" in staged.columns:  # without a Tags column nothing says whether it reopened
        derived["inward_reopen_count"] = (
            f"CASE WHEN regexp_matches(lower(coalesce({txt(staged, 'tags')}, '')), "
            "'(^|[,;\\s])re-?opened($|[,;\\s])') THEN 1 ELSE 0 END"
        )
    return add_derived(con, staged, derived)


ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("ticket_id",),
    "service_team": ("group",),
    "requester_email": ("requester_email", "email"),
    "requester_name": ("requester_name", "full_name"),
    "requester_department": ("department", "requester_department", "company"),
    "channel": ("source",),
    "category": ("category",),
    "priority": ("priority",),
    "ticket_type": ("type",),
    "status": ("status",),
    "created_at": ("created_time", "created_date"),
    "updated_at": ("last_updated_time", "last_update_time"),
    "first_response_at": ("initial_response_time", "first_responded_date"),
    "resolved_at": ("inward_resolved_at",),
    "reopen_count": ("inward_reopen_count",),
    "subject": ("subject",),
}
VALUE_MAPS = {
    "status": STATUS,
    "priority": PRIORITY,
    "channel": CHANNEL,
    "ticket_type": TICKET_TYPE,
}

FRESHSERVICE = Adapter(
    name="freshservice",
    kind="tickets",
    source="freshservice",
    aliases=ALIASES,
    signature=frozenset({"ticket_id", "requester_email", "due_by_time", "created_time"}),
    value_maps=VALUE_MAPS,
    prepare=prepare,
)
# Freshdesk's export: the same columns, the requester as `Full Name`.
FRESHDESK = dataclasses.replace(
    FRESHSERVICE, signature=frozenset({"ticket_id", "due_by_time", "created_time", "full_name"})
)

ADAPTERS = (FRESHSERVICE, FRESHDESK)
