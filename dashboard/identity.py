"""Who a requester is, by name: the columns, sides and match kinds of identity resolution.

The rules (one key per person across every tool, CONTRACT "Who a requester is") are
in `dashboard.derive.identity`, which writes `requester_identities` at ingest and
re-resolves it in the derived refresh; `dashboard.metrics.identity` reads the result.
Both need these names, so they live once, here, below either.
"""

from __future__ import annotations

from dataclasses import dataclass

# An e-mail address, loosely: something@domain.tld without spaces.
EMAIL_RX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# matched_by values, best first (requester_aliases keeps the best per alias).
MATCHED_BY = ("email", "employee_id", "person_id", "alias", "name")
NOT_MATCHED = ("ambiguous", "unmatched")
PARTS = ("tool_id", "email", "name", "employee_id")


@dataclass(frozen=True)
class Side:
    """Where one kind of row keeps its requester: tickets or survey responses."""

    table: str
    key: str  # column pointing at requester_identities.requester_key
    person: str  # the resolved id column (CONTRACT name)
    department: str
    department_source: str


TICKETS = Side(
    "tickets", "requester_key", "requester_id", "requester_department",
    "requester_department_source",
)  # fmt: skip
SURVEYS = Side(
    "survey_responses", "respondent_key", "respondent_id", "respondent_department",
    "respondent_department_source",
)  # fmt: skip
SIDES = (TICKETS, SURVEYS)


def is_email(expr: str) -> str:
    """SQL: whether `expr` looks like an e-mail address."""
    return f"coalesce(regexp_full_match({expr}, '{EMAIL_RX}'), false)"


def name_key(expr: str) -> str:
    """SQL: a name as compared for matching: 'Tuter, Abel' = 'abel  tuter' = 'Abel Tuter'."""
    flipped = (
        f"CASE WHEN {expr} LIKE '%,%' AND {expr} NOT LIKE '%,%,%' "
        f"THEN split_part({expr}, ',', 2) || ' ' || split_part({expr}, ',', 1) ELSE {expr} END"
    )
    return f"nullif(trim(regexp_replace(lower(strip_accents({flipped})), '\\s+', ' ', 'g')), '')"
