"""What an analyst can query: every table and view, its columns, types and meaning.

Descriptions live here, next to the code that reads the schema, so the Schema page
and analysts' SQL share one vocabulary (CONTRACT's names and meanings).
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.filters import Filters

TABLES = {
    "tickets": "One row per ticket, latest export wins (key: source, ticket_id). Times in UTC; "
    "business minutes and SLA due times are derived after each ingest.",
    "ticket_times": "View: tickets plus durations (calendar and business minutes), SLA "
    "targets and whether they were met. Start here for response times.",
    "ticket_latest": "View: one row per ticket_id, its newest version across sources (what a "
    "survey answer's ticket_id links to).",
    "ticket_spans": "View: when each ticket was open (created_at → closed_at) and its source's "
    "as-of. The one definition of open/closed.",
    "open_tickets": "View: the open backlog at each source's as-of, with age_days and "
    "age_bucket. Tickets without a status count as open.",
    "survey_responses": "One row per survey answer and metric (csat, nps, ces, other).",
    "survey_scores": "View: survey answers with score_normalised (CSAT 1–5, CES 1–7, NPS 0–10), "
    "top2, band (low/middle/high) and low_score. Use it rather than raw scores.",
    "external_outcomes": "External customer outcomes per business unit and period.",
    "people": "Who works here: department, employee/contractor/vendor, active dates, and "
    "what identifies them in the tools (email, name, employee_id, aliases).",
    "requester_identities": "Every identity a tool showed for a requester (its id, e-mail, "
    "name, employee number), once per source, and the requester_id it was matched to.",
    "requester_aliases": "View: every alias of a requester per source (kind email, tool_id, "
    "name, employee_id) and how the requester was matched to the people file.",
    "org": "Requester department → business unit used for external outcomes.",
    "requester_engagement": "Per requester and team: rhythm, silence, P(alive), status and "
    "the reason (recomputed after every ingest).",
    "ingests": "Every file load: counts, status and message.",
    "rejected_rows": "Rows that could not be loaded, with the reason and the raw row.",
    "value_mappings": "Raw vendor values (status, priority…) and what they were mapped to.",
    "sla_targets": "SLA targets per team and priority from inward.toml ('*' = default).",
    "source_as_of": "Per source, the 'now' its open tickets, backlog ages and silences are "
    "judged at: as_of from inward.toml, else the source's newest ticket update.",
}
COLUMNS = {
    "service_team": "The team that serves (Zendesk group, JSM project, ServiceNow group…)",
    "requester_id": "Who asked: the people file's person_id when matched, else the e-mail, "
    "else source:tool id; the same person in every tool. Personal data",
    "requester_key": "The requester_identities row this ticket's requester came from",
    "respondent_key": "The requester_identities row this respondent came from",
    "requester_department_source": "export (the ticket's own field) or people (filled from "
    "the people file)",
    "requester_type_source": "export or people, as requester_department_source",
    "respondent_department_source": "export or people, as requester_department_source",
    "matched_by": "How the requester was matched to the people file: email, employee_id, "
    "person_id, alias, name; else ambiguous (several people fit) or unmatched",
    "candidates": "For an ambiguous requester: how many people the alias fits",
    "alias": "An id, e-mail, name or employee number a tool showed. Personal data",
    "requester_department": "The requester's department (from the export or the people file)",
    "requester_type": "employee, contractor, vendor or unknown",
    "priority": "low, normal, high, urgent",
    "ticket_type": "incident, request, question, problem, change, other",
    "status": "new, open, pending, on_hold, solved, closed, cancelled",
    "created_at": "When the ticket was opened (UTC); periods are counted by this",
    "first_response_at": "First agent response (UTC)",
    "resolved_at": "Resolution (UTC)",
    "first_response_minutes": "Calendar minutes from creation to first response",
    "resolution_minutes": "Calendar minutes from creation to resolution",
    "first_response_business_minutes": "Business minutes (the team's calendar) to first response",
    "resolution_business_minutes": "Business minutes to resolution",
    "first_response_due_at": "When the first-response target runs out (set while unanswered)",
    "resolution_due_at": "When the resolution target runs out (set while unresolved)",
    "derived_key": "Calendars/SLA config the derived columns were computed with",
    "superseded": "true when another source stored a newer version of this ticket_id "
    "(ticket_latest leaves it out)",
    "sla_first_response_met": "true/false; null when no target or not yet due",
    "sla_resolution_met": "true/false; null when no target or not yet due",
    "reopen_count": "How often the ticket was reopened",
    "newest_at": "The newest ticket timestamp any export of the source has shown",
    "configured": "true when as_of comes from inward.toml rather than the data",
    "metric": "csat, nps, ces or other (surveys); the outcome name (external_outcomes)",
    "score": "The answer on the question's own scale (scale_min..scale_max)",
    "period_start": "First day of the reporting period",
    "closed_at": "When the ticket stopped being open: resolved_at, else its last update when "
    "marked solved/closed/cancelled; null while open",
    "as_of": "The source's 'now' (as_of in inward.toml, else its newest ticket timestamp): "
    "open clocks, backlog ages and silences are judged then",
    "age_days": "Days from creation to the as-of",
    "age_bucket": "under 1 day, 1–3 days, 3–7 days, 1–2 weeks, 2–4 weeks, over 4 weeks",
    "age_order": "Sort order of age_bucket (1 = youngest)",
    "score_normalised": "The score on the reporting scale: CSAT 1–5, CES 1–7, NPS 0–10",
    "scale_low": "The question's lowest score (scale_min, else the metric's usual one)",
    "scale_high": "The question's highest score (scale_max, else the metric's usual one)",
    "valid": "Whether the score lies on its scale (invalid scores are not scored)",
    "band": "low / middle / high: CSAT bottom-2 / top-2 points of its scale; NPS "
    "detractor (0–6) / promoter (9–10)",
    "low_score": "band = 'low': what every page calls a low score",
    "top2": "CSAT in the top two points of its scale ('satisfied')",
    "business_unit": "Business unit outcomes are reported for",
    "p_alive": "BG/NBD probability the requester still uses the team (0..1)",
}


def schema_overview(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every documented table/view with its columns, types and descriptions."""
    frame = con.sql("""
        SELECT table_name, column_name, data_type, ordinal_position
        FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema = 'main'
            AND table_name <> 'inward_meta'
        ORDER BY table_name, ordinal_position""").pl()
    order = {name: i for i, name in enumerate(TABLES)}
    return (
        frame.filter(pl.col("table_name").is_in(list(TABLES)))
        .with_columns(
            pl.col("column_name").replace_strict(COLUMNS, default="").alias("description"),
            pl.col("table_name").replace_strict(order, default=99).alias("_order"),
        )
        .sort("_order", "ordinal_position")
        .select("table_name", "column_name", "data_type", "description")
    )


def sample(
    con: duckdb.DuckDBPyConnection, table: str, rows: int = 5, filters: Filters | None = None
) -> pl.DataFrame:
    """A few rows of a documented table, ids as the viewer may see them (`inward_id`);
    the scoped connection already masks e-mails, names and tool ids for viewers without
    raw, and alias lists are shown as their length. Rows come from the teams and
    departments the sidebar picked where the table has such columns — a sample must not
    show a team the reader filtered away."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    columns = con.sql(f'SELECT * FROM "{table}" LIMIT 0').columns
    where, params = "TRUE", {}
    if filters is not None:
        department = next(
            (
                c
                for c in ("requester_department", "respondent_department", "department")
                if c in columns
            ),
            "",
        )
        where, params = filters.only(("teams", "departments")).where(
            {
                "teams": "service_team" if "service_team" in columns else "",
                "departments": department,
            },
            time_column="",
        )
    cols = [c for c in columns if c in ID_COLUMNS]
    replace = f" REPLACE ({', '.join(f'inward_id({c}) AS {c}' for c in cols)})" if cols else ""
    frame = con.sql(
        f'SELECT *{replace} FROM "{table}" WHERE {where} LIMIT {int(rows)}', params=params
    ).pl()
    if "aliases" in frame.columns:
        frame = frame.with_columns(pl.col("aliases").list.len().alias("aliases"))
    return frame


# columns that name a person: shown through `inward_id` wherever they leave the data layer
ID_COLUMNS = ("requester_id", "respondent_id", "person_id")
