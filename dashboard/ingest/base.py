"""The adapter interface: how one export layout maps onto a canonical table.

An adapter is data, not code, wherever possible: which headers feed which
canonical column (`aliases`, first match wins), how vendor values map to the
contract's enums (`value_maps`), which headers identify the vendor
(`signature`), plus an optional `prepare` hook for layouts that need reshaping
(event logs that collapse to one ticket, surveys whose questions are columns).
A vendor is then one small module in `adapters/` that declares an `ADAPTER`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb

from dashboard.ingest.read import Staged

# `events`: history-only files (ticket audits, metric events, sys_audit) whose rows are
# changes to tickets loaded from another export of the same tool.
KINDS = ("tickets", "surveys", "outcomes", "people", "org", "events")

# Canonical value sets of the contract; adapters map onto these.
ENUMS: dict[str, tuple[str, ...]] = {
    "status": ("new", "open", "pending", "on_hold", "solved", "closed", "cancelled"),
    "priority": ("low", "normal", "high", "urgent"),
    "ticket_type": ("incident", "request", "question", "problem", "change", "other"),
    "channel": ("email", "portal", "chat", "phone", "walk_in", "api", "other"),
    "requester_type": ("employee", "contractor", "vendor", "unknown"),
    "person_type": ("employee", "contractor", "vendor"),
    "metric": ("csat", "nps", "ces", "other"),
    "event_kind": ("status", "assignment", "reply", "other"),
    "actor": ("agent", "requester", "system"),
}

# Common spellings across tools, lower-cased; vendor adapters add their own.
COMMON_VALUES: dict[str, dict[str, str]] = {
    "status": {
        "new": "new",
        "open": "open",
        "in progress": "open",
        "assigned": "open",
        "active": "open",
        "work in progress": "open",
        "to do": "new",
        "pending": "pending",
        "waiting": "pending",
        "waiting for customer": "pending",
        "awaiting info": "pending",
        "on hold": "on_hold",
        "on_hold": "on_hold",
        "hold": "on_hold",
        "solved": "solved",
        "resolved": "solved",
        "done": "solved",
        "completed": "solved",
        "closed": "closed",
        "cancelled": "cancelled",
        "canceled": "cancelled",
    },
    "priority": {
        "low": "low",
        "lowest": "low",
        "minor": "low",
        "planning": "low",
        "p4": "low",
        "p5": "low",
        "4": "low",
        "5": "low",
        "normal": "normal",
        "medium": "normal",
        "moderate": "normal",
        "p3": "normal",
        "3": "normal",
        "high": "high",
        "major": "high",
        "p2": "high",
        "2": "high",
        "urgent": "urgent",
        "critical": "urgent",
        "highest": "urgent",
        "blocker": "urgent",
        "p1": "urgent",
        "1": "urgent",
    },
    "ticket_type": {
        "incident": "incident",
        "request": "request",
        "service request": "request",
        "task": "request",
        "question": "question",
        "problem": "problem",
        "change": "change",
    },
    "channel": {
        "email": "email",
        "e-mail": "email",
        "mail": "email",
        "portal": "portal",
        "web": "portal",
        "web form": "portal",
        "web_form": "portal",
        "self-service": "portal",
        "self service": "portal",
        "chat": "chat",
        "messaging": "chat",
        "phone": "phone",
        "voice": "phone",
        "call": "phone",
        "walk-in": "walk_in",
        "walk_in": "walk_in",
        "walk in": "walk_in",
        "api": "api",
    },
    "requester_type": {
        "employee": "employee",
        "staff": "employee",
        "internal": "employee",
        "contractor": "contractor",
        "consultant": "contractor",
        "vendor": "vendor",
        "supplier": "vendor",
    },
}
COMMON_VALUES["person_type"] = COMMON_VALUES["requester_type"]
COMMON_VALUES["event_kind"] = {
    "status_change": "status",
    "state": "status",
    "assign": "assignment",
    "reassignment": "assignment",
    "comment": "reply",
    "public_reply": "reply",
}
COMMON_VALUES["actor"] = {
    "end-user": "requester",
    "end_user": "requester",
    "customer": "requester",
    "user": "requester",
    "caller": "requester",
    "reporter": "requester",
    "admin": "agent",
    "staff": "agent",
    "automation": "system",
    "trigger": "system",
}

# What each enum becomes when the export's value is not recognised (kept visible
# in the mapping report rather than guessed).
ENUM_FALLBACK: dict[str, str | None] = {
    "status": None,
    "priority": None,
    "ticket_type": "other",
    "channel": "other",
    "requester_type": "unknown",
    "person_type": None,
    "event_kind": "other",
    "actor": None,
}


def own_names(*columns: str) -> dict[str, tuple[str, ...]]:
    """Aliases for columns a `prepare` hook already wrote under their canonical names:
    each is its own and only alias, so no look-alike export column can feed it."""
    return {c: (c,) for c in columns}


@dataclass(frozen=True)
class Adapter:
    """How one export layout becomes rows of one canonical table."""

    name: str
    kind: str
    source: str
    aliases: Mapping[str, tuple[str, ...]]
    signature: frozenset[str] = frozenset()
    value_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    header_rows: int = 1
    prepare: Callable[[duckdb.DuckDBPyConnection, Staged], Staged] | None = None
    # A look at the rows for layouts a header cannot tell apart: an API page is one
    # wrapper key (`result`) whatever table its records come from.
    accepts: Callable[[duckdb.DuckDBPyConnection, Staged], bool] | None = None

    def resolve(self, columns: list[str]) -> dict[str, str]:
        """canonical column → the staged column that feeds it (first alias present)."""
        present = set(columns)
        out = {}
        for canonical, candidates in self.aliases.items():
            for c in candidates:
                if c in present:
                    out[canonical] = c
                    break
        return out

    def values(self, column: str) -> dict[str, str]:
        """The value map for an enum column: the vendor's spellings over the common ones."""
        return {**COMMON_VALUES.get(column, {}), **self.value_maps.get(column, {})}

    def matches(self, columns: list[str]) -> bool:
        """Whether the header carries this adapter's signature (for auto-detection)."""
        return bool(self.signature) and self.signature <= set(columns)
