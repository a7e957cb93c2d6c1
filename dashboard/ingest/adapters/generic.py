"""Generic layouts: plain CSV/Parquet/JSON/XLSX with the contract's column names
or common aliases (`id`, `ticket id`, `ticket_id` …), one adapter per kind."""

from __future__ import annotations

from dashboard.ingest.base import Adapter

TICKETS = Adapter(
    name="generic",
    kind="tickets",
    source="generic",
    aliases={
        "ticket_id": (
            "ticket_id",
            "id",
            "ticket",
            "ticket_number",
            "number",
            "issue_key",
            "key",
            "case_id",
            "incident_id",
            "case_number",
        ),
        "service_team": (
            "service_team",
            "team",
            "group",
            "assignment_group",
            "queue",
            "assigned_group",
            "support_group",
        ),
        "requester_id": (
            "requester_id",
            "requester",
            "caller_id",
            "caller",
            "reporter",
            "user_id",
            "requested_by",
        ),
        "requester_email": (
            "requester_email",
            "email",
            "email_address",
            "caller_email",
            "reporter_email",
        ),
        "requester_name": ("requester_name", "caller_name", "reporter_name", "full_name"),
        "requester_employee_id": (
            "requester_employee_id",
            "employee_id",
            "employee_number",
            "employee_no",
        ),
        "requester_department": ("requester_department", "department", "dept", "requester_dept"),
        "requester_type": ("requester_type", "person_type", "user_type"),
        "channel": ("channel", "via", "contact_type", "origin"),
        "category": ("category", "request_type", "subcategory"),
        "priority": ("priority", "urgency"),
        "ticket_type": ("ticket_type", "type", "issue_type"),
        "status": ("status", "state"),
        "created_at": (
            "created_at",
            "created",
            "opened_at",
            "opened",
            "created_date",
            "creation_date",
            "date_created",
        ),
        "updated_at": ("updated_at", "updated", "last_updated", "sys_updated_on", "modified_at"),
        "first_response_at": (
            "first_response_at",
            "first_responded_at",
            "first_reply_at",
            "responded_at",
        ),
        "first_response_minutes": ("first_response_minutes", "first_reply_time_in_minutes"),
        "resolved_at": ("resolved_at", "resolved", "solved_at", "resolution_date", "closed_at"),
        "reopen_count": ("reopen_count", "reopens", "reopened"),
        "replies": ("replies", "reply_count", "agent_replies"),
        "subject": ("subject", "summary", "title", "short_description"),
    },
)

SURVEYS = Adapter(
    name="generic",
    kind="surveys",
    source="generic",
    aliases={
        "response_id": ("response_id", "responseid", "id", "response"),
        "survey": ("survey", "survey_name"),
        "submitted_at": (
            "submitted_at",
            "timestamp",
            "submitted",
            "completed_at",
            "date",
            "created_at",
            "end_date",
        ),
        "respondent_id": ("respondent_id", "respondent", "requester_id", "person_id", "user_id"),
        "respondent_email": ("respondent_email", "email", "email_address"),
        "respondent_name": ("respondent_name", "name", "full_name"),
        "respondent_employee_id": ("respondent_employee_id", "employee_id", "employee_number"),
        "respondent_department": ("respondent_department", "department", "dept"),
        "service_team": ("service_team", "team", "group"),
        "ticket_id": ("ticket_id", "ticket", "ticket_number"),
        "metric": ("metric", "question_type"),
        "score": ("score", "value", "rating"),
        "scale_min": ("scale_min",),
        "scale_max": ("scale_max",),
        "comment": ("comment", "comments", "feedback", "verbatim", "free_text"),
        "csat": ("csat", "satisfaction", "csat_score"),
        "nps": ("nps", "nps_score", "likelihood_to_recommend"),
        "ces": ("ces", "effort", "ces_score"),
    },
)

OUTCOMES = Adapter(
    name="generic",
    kind="outcomes",
    source="generic",
    aliases={
        "period_start": ("period_start", "period", "week_start", "week", "month", "date"),
        "business_unit": ("business_unit", "bu", "unit", "business"),
        "metric": ("metric", "measure", "kpi"),
        "value": ("value", "amount"),
        "source": ("source",),
    },
)

PEOPLE = Adapter(
    name="generic",
    kind="people",
    source="generic",
    aliases={
        "person_id": ("person_id", "requester_id", "employee_id", "id", "user_id", "email"),
        "department": ("department", "dept", "requester_department"),
        "person_type": ("person_type", "requester_type", "type", "employment_type", "worker_type"),
        "active_from": ("active_from", "start_date", "hire_date", "joined"),
        "active_to": ("active_to", "end_date", "termination_date", "leave_date", "left"),
        "email": ("email", "email_address", "work_email", "mail", "e_mail"),
        "name": ("name", "full_name", "display_name", "employee_name"),
        "first_name": ("first_name", "given_name", "firstname"),
        "last_name": ("last_name", "surname", "family_name", "lastname"),
        "employee_id": ("employee_id", "employee_number", "employee_no", "staff_id", "emp_id"),
        "aliases": ("aliases", "alias", "other_ids", "other_emails"),
    },
)

ORG = Adapter(
    name="generic",
    kind="org",
    source="generic",
    aliases={
        "department": ("department", "dept", "requester_department"),
        "business_unit": ("business_unit", "bu", "unit"),
    },
)

# Ticket history as plain rows: one change per row (`inward ingest --kind events`, or
# detected from ticket id + event time + a status/team/assignee column). The rows
# belong to the tickets of the same source (`generic`).
EVENTS = Adapter(
    name="generic",
    kind="events",
    source="generic",
    aliases={
        "ticket_id": ("ticket_id", "ticket", "ticket_number", "case_id", "issue_key", "number"),
        "event_at": ("at", "event_at", "changed_at", "event_time", "timestamp", "occurred_at"),
        "status": ("status", "state", "to_status", "new_status"),
        "vendor_status": ("status", "state", "to_status", "new_status"),
        "service_team": ("service_team", "team", "group", "assignment_group", "queue"),
        "assignee": ("assignee", "agent", "assigned_to", "owner"),
        "kind": ("kind", "event_kind", "event_type"),
        "actor": ("actor", "author_role", "actor_role"),
        "event_key": ("event_key", "event_id"),
    },
)

BY_KIND = {a.kind: a for a in (TICKETS, SURVEYS, OUTCOMES, PEOPLE, ORG, EVENTS)}
