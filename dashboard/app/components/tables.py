"""Readable tables: one vocabulary of column labels, units and rounding for every page.

Metric functions return machine columns in their natural units (minutes, shares
0..1, days as floats) because the CLI, the report and analysts need them exact.
People need "Median first response (h) 1.6", "Resolved within SLA 87.5 %", not
`median_first_response_minutes 96.1333` or `p_alive 0.00000000001`. This module is
the one translation: labels, units and formats per column name (`COLUMNS`), applied
through `st.column_config`, so a column reads the same on every page. Durations
are shown in hours everywhere (one unit for the app). The CSV download keeps the
machine frame: exact values under their documented names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from dashboard.formatting import status_label
from dashboard.output import csv_text


@dataclass(frozen=True)
class Col:
    """How a column reads. `kind` decides unit and rounding:

    text, long (wrapping text), status (a state code shown in words, "On hold"),
    count, number (2 decimals), score (2 decimals), hours (a value in hours),
    minutes (shown in hours), days, percent (a 0..1 share shown as %),
    signed_percent, date, month, datetime, bool.
    """

    label: str
    kind: str = "number"
    help: str | None = None


_H = "Hours; business hours use each team's calendar where the label says so."
COLUMNS: dict[str, Col] = {
    # who and what
    "service_team": Col("Team", "text"),
    "requester_department": Col("Department", "text"),
    "department": Col("Department", "text", "The respondent's department"),
    "requester_type": Col("Requester type", "text"),
    "requester": Col("Requester", "text", "Pseudonym (R-…): the same person, not their id"),
    "requester_id": Col("Requester", "text", "Pseudonym (R-…) unless show_names is set"),
    "ticket_id": Col("Ticket", "text"),
    "priority": Col("Priority", "text"),
    "ticket_type": Col("Type", "text"),
    "channel": Col("Channel", "text"),
    "category": Col("Category", "text"),
    "status": Col("Status", "status"),
    "period": Col("Period", "text"),
    "created_at": Col("Created (UTC)", "datetime"),
    "last_ticket_at": Col("Last ticket", "date"),
    # response times
    "tickets": Col("Tickets", "count"),
    "resolved": Col("Resolved", "count"),
    "median_first_response_minutes": Col("Median first response (h)", "minutes", _H),
    "p90_first_response_minutes": Col(
        "p90 first response (h)", "minutes", "9 in 10 tickets got a first response within this"
    ),
    "median_resolution_minutes": Col("Median resolution (h)", "minutes", _H),
    "p90_resolution_minutes": Col(
        "p90 resolution (h)", "minutes", "9 in 10 resolved tickets were resolved within this"
    ),
    "median_first_response_business_minutes": Col(
        "Median first response (business h)", "minutes", _H
    ),
    "median_resolution_business_minutes": Col("Median resolution (business h)", "minutes", _H),
    "median_resolution_excluding_waiting_minutes": Col(
        "Median resolution excl. waiting (h)",
        "minutes",
        "Resolution minus time spent pending or on hold (sources with history only)",
    ),
    "sla_first_response_met_rate": Col(
        "First response within SLA", "percent", "Share of tickets with a due target that met it"
    ),
    "sla_resolution_met_rate": Col(
        "Resolved within SLA", "percent", "Share of tickets with a due target that met it"
    ),
    "reopen_rate": Col("Reopened", "percent", "Share of tickets reopened at least once"),
    "first_response_hours": Col("First response (h)", "hours"),
    "resolution_hours": Col("Resolution (h)", "hours"),
    "median_resolution_hours": Col("Median resolution (h)", "hours"),
    "p90_resolution_hours": Col("p90 resolution (h)", "hours"),
    "median_hours": Col("Median (h)", "hours"),
    "p10_hours": Col("p10 (h)", "hours"),
    "p25_hours": Col("p25 (h)", "hours"),
    "p75_hours": Col("p75 (h)", "hours"),
    "p90_hours": Col("p90 (h)", "hours"),
    "sla_first_response_met": Col("First response in SLA", "bool"),
    "sla_resolution_met": Col("Resolved in SLA", "bool"),
    "reopen_count": Col("Reopens", "count"),
    "requesters": Col("Requesters", "count", "Distinct people who filed tickets"),
    "head_count": Col("Head count", "count", "People in the department (people file)"),
    "tickets_per_head": Col("Tickets per head", "number"),
    "requesters_per_head": Col("Requesters per head", "percent", "Share of the department"),
    "age": Col("Age", "text"),
    "age_bucket": Col("Age", "text"),
    "bucket_order": Col("Band order", "count", "Sorts the age bands, youngest first"),
    "oldest_days": Col("Oldest (days)", "days"),
    # engagement
    "regular_requesters": Col(
        "Regular requesters", "count", "Requesters with a rhythm (not new, not occasional)"
    ),
    "went_quiet_this_quarter": Col(
        "Went quiet (last 91 days)", "count", "Regulars now at risk or gone quiet"
    ),
    "went_quiet_previous_quarter": Col("Went quiet (91 days before)", "count"),
    "typical_gap_days": Col("Usual gap (days)", "days", "Median days between their tickets"),
    "days_silent": Col("Silent (days)", "days", "Days since their last ticket, at the as-of"),
    "p_alive": Col(
        "Still engaged",
        "percent",
        "Model estimate (BG/NBD) that the requester still uses the team",
    ),
    "reason": Col("Why", "long"),
    "quiet_with": Col("Went quiet with", "text"),
    "still_files_with": Col("Still files with", "text", "Most recent first"),
    "days_since_last_elsewhere": Col(
        "Last ticket elsewhere (days ago)", "days", "At the as-of, with any of those teams"
    ),
    "tickets_elsewhere": Col("Tickets elsewhere", "count"),
    "people": Col("People", "count"),
    "active_requesters": Col("Active requesters", "count", "Filed at least one ticket"),
    "headcount": Col("Head count", "count"),
    "first_half_share": Col(
        "Reactive share, first half", "percent", "Incidents and urgent work over all tickets"
    ),
    "last_half_share": Col("Reactive share, last half", "percent"),
    "turned_reactive": Col(
        "Turned reactive",
        "bool",
        "The share rose by more than chance explains (tested across all departments)",
    ),
    "survey_response_trend": Col(
        "Survey answers trend",
        "signed_percent",
        "Change per quarter in survey answers per resolved ticket; falling = survey fatigue",
    ),
    # voice
    "responses": Col("Answers", "count"),
    "respondents": Col("Respondents", "count", "Distinct people who answered"),
    "csat_mean": Col("CSAT (1–5)", "score", "Mean satisfaction, every scale mapped to 1–5"),
    "csat_top2_share": Col(
        "Satisfied (top-2 box)",
        "percent",
        "Share answering in the top two points of the scale (4–5 of 5)",
    ),
    "csat_top2_ci_low": Col("Satisfied, 95% CI low", "percent"),
    "csat_top2_ci_high": Col("Satisfied, 95% CI high", "percent"),
    "nps": Col("NPS", "integer", "% promoters (9–10) minus % detractors (0–6), −100 to 100"),
    "nps_ci_low": Col("NPS, 95% CI low", "integer"),
    "nps_ci_high": Col("NPS, 95% CI high", "integer"),
    "ces_mean": Col("CES (1–7)", "score", "Customer effort, 7 = very easy"),
    "csat_responses": Col("CSAT answers", "count"),
    "nps_responses": Col("NPS answers", "count"),
    "ces_responses": Col("CES answers", "count"),
    "suppressed": Col(
        "Hidden", "bool", "Too few respondents to show, or hidden so others cannot be worked out"
    ),
    "resolved_tickets": Col("Resolved tickets", "count"),
    "response_rate": Col("Answer rate", "percent", "Survey answers per resolved ticket"),
    "note": Col("Note", "text"),
    "survey": Col("Survey", "text"),
    "submitted_month": Col("Month", "month"),
    "band": Col("Score band", "text"),
    "comment": Col("Comment", "long"),
    # alignment
    "internal_metric": Col("Internal metric", "text"),
    "business_unit": Col("Business unit", "text"),
    "external_metric": Col("External outcome", "text"),
    "lag_periods": Col("Lead (periods)", "count", "How many periods the internal metric leads"),
    "n_periods": Col("Periods", "count", "Paired period-to-period changes tested"),
    "correlation": Col("ρ", "score", "Rank correlation of the changes, −1 to 1; 0 = no relation"),
    "ci_low": Col("ρ 95% CI low", "score"),
    "ci_high": Col("ρ 95% CI high", "score"),
    "p_value": Col("p", "p", "Chance of a link this strong with none at all, for one test"),
    "q_value": Col(
        "q",
        "p",
        "p corrected for testing every combination (Benjamini–Hochberg); q ≤ 0.05 = significant",
    ),
    "significant": Col("Significant", "bool"),
    "n_effective": Col("Effective periods", "number"),
    # data
    "ingest_id": Col("#", "count"),
    "file": Col("File", "text"),
    "source_file": Col("From", "text"),
    "sha256": Col("SHA-256", "text"),
    "kind": Col("Kind", "text"),
    "format": Col("Format", "text"),
    "rows_read": Col("Rows read", "count"),
    "rows_loaded": Col("Loaded", "count"),
    "rows_rejected": Col("Rejected", "count"),
    "finished_at": Col("Finished (UTC)", "datetime"),
    "message": Col("Message", "long"),
    "row_number": Col("Row", "count", "Data row in the file (1 = first row after the header)"),
    "raw": Col("Row as read", "long"),
    "column_name": Col("Column", "text"),
    "raw_value": Col("Value in the export", "text"),
    "mapped_value": Col("Became", "text"),
    # flow (ticket history)
    "entries": Col("Entries", "count", "Times tickets entered this status"),
    "median_minutes": Col("Median (h)", "minutes", "Median time per ticket"),
    "p90_minutes": Col("p90 (h)", "minutes", "9 in 10 tickets spent less than this"),
    "median_business_minutes": Col("Median (business h)", "minutes", _H),
    "total_hours": Col("Total (h)", "hours"),
    "share": Col("Share", "percent"),
    "waiting": Col("Waiting", "bool", "On the requester or a third party, not on the team"),
    "vendor_status": Col("Status in the tool", "text"),
    "spans": Col("Spans", "count", "Stretches of time in this status"),
    "from_team": Col("From team", "text"),
    "to_team": Col("To team", "text"),
    "handoffs": Col("Hand-offs", "count"),
    "median_pickup_minutes": Col(
        "Median pick-up (h)", "minutes", "From the hand-off to the receiving team's first move"
    ),
    "median_held_minutes": Col("Median held (h)", "minutes", "Time the receiving team held it"),
    "median_held_business_minutes": Col("Median held (business h)", "minutes", _H),
    "bounced_back_rate": Col("Bounced back", "percent", "Sent back to the team it came from"),
    "replies": Col("Replies", "count"),
    "tickets_replied": Col("Tickets replied", "count"),
    "median_first_reply_minutes": Col("Median first reply (h)", "minutes", "From creation"),
    "median_next_reply_minutes": Col(
        "Median next reply (h)", "minutes", "After the requester answered"
    ),
    "assignee": Col("Agent", "text"),
    "hours_held": Col("Hours held", "hours"),
    "hours_waiting": Col("Hours waiting", "hours"),
    "median_hours_per_ticket": Col("Median per ticket (h)", "hours"),
    "passed_on_rate": Col("Passed on", "percent", "Tickets handed to another team"),
    # identity (who the requesters are)
    "matched": Col("Matched", "count", "Matched to the people file"),
    "match_rate": Col("Matched share", "percent", "Requesters matched to the people file"),
    "matched_by": Col("Matched by", "text"),
    "candidates": Col("Candidates", "count", "People an ambiguous name fits"),
    "with_email": Col("With e-mail", "count"),
    "with_tool_id": Col("With tool id", "count"),
    "with_name": Col("With name", "count"),
    "has_email": Col("E-mail given", "bool"),
    "has_tool_id": Col("Tool id given", "bool"),
    "has_name": Col("Name given", "bool"),
    "rows_matched_share": Col("Rows matched", "percent"),
    "rows_without_requester": Col("Rows without requester", "count"),
    "rows": Col("Rows", "count"),
    "recognised": Col("Recognised", "bool"),
    "data_type": Col("Type", "text"),
    "description": Col("Meaning", "long"),
}

_PRINTF = {
    "count": "%,d",
    "integer": "%.0f",
    "number": "%.2f",
    "score": "%.2f",
    "p": "%.3f",
    "hours": "%.1f",
    "minutes": "%.1f",
    "days": "%.0f",
    "percent": "%.1f %%",
    "signed_percent": "%+.1f %%",
}


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in display units: minutes → hours, shares → percent points, state
    codes → words."""
    exprs = []
    for name in frame.columns:
        spec = COLUMNS.get(name)
        if spec is not None and spec.kind == "status" and frame.schema[name] == pl.String:
            exprs.append(pl.col(name).map_elements(status_label, return_dtype=pl.String))
        if spec is None or not frame.schema[name].is_numeric():
            continue
        if spec.kind == "minutes":
            exprs.append(pl.col(name) / 60)
        elif spec.kind in ("percent", "signed_percent"):
            exprs.append(pl.col(name) * 100)
    return frame.with_columns(exprs) if exprs else frame


def label(name: str) -> str:
    """How a column is named on screen: its COLUMNS label, else the name in words."""
    spec = COLUMNS.get(name)
    return spec.label if spec else name.replace("_", " ")


def column_config(frame: pl.DataFrame, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`st.column_config` entries for the frame's known columns (`labels` overrides)."""
    out: dict[str, Any] = {}
    for name in frame.columns:
        spec = COLUMNS.get(name)
        shown = (labels or {}).get(name) or label(name)
        if spec is None:
            out[name] = st.column_config.Column(shown)
        elif spec.kind in _PRINTF and frame.schema[name].is_numeric():
            out[name] = st.column_config.NumberColumn(
                shown, help=spec.help, format=_PRINTF[spec.kind]
            )
        elif spec.kind == "long":
            out[name] = st.column_config.TextColumn(shown, help=spec.help, width="large")
        elif spec.kind == "date" and frame.schema[name].is_temporal():
            out[name] = st.column_config.DateColumn(shown, help=spec.help, format="YYYY-MM-DD")
        elif spec.kind == "month" and frame.schema[name].is_temporal():
            out[name] = st.column_config.DateColumn(shown, help=spec.help, format="MMM YYYY")
        elif spec.kind == "datetime" and frame.schema[name].is_temporal():
            out[name] = st.column_config.DatetimeColumn(
                shown, help=spec.help, format="YYYY-MM-DD HH:mm"
            )
        elif spec.kind == "bool":
            out[name] = st.column_config.CheckboxColumn(shown, help=spec.help)
        else:
            out[name] = st.column_config.Column(shown, help=spec.help)
    return out


def table(
    frame: pl.DataFrame,
    name: str,
    *,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    empty: str = "Nothing to show for these filters.",
    height: int | str = "auto",
    key: str | None = None,
    download: bool = True,
    row_height: int | None = None,
) -> None:
    """A readable table with its CSV download (exact values, machine column names), or
    an explained empty state. `columns` picks and orders what is shown (all when None)."""
    if frame.is_empty():
        st.caption(empty)
        return
    shown = frame.select([c for c in columns if c in frame.columns]) if columns else frame
    wraps = any(COLUMNS.get(c, Col("")).kind == "long" for c in shown.columns)
    st.dataframe(
        readable(shown),
        hide_index=True,
        height=height,
        column_config=column_config(shown, labels),
        key=key,
        placeholder="–",
        row_height=row_height or (58 if wraps else None),  # long text wraps over 2 lines
    )
    if download:
        download_csv(frame, name, key=f"dl_{key or name}")


def download_csv(frame: pl.DataFrame, name: str, key: str) -> None:
    """A CSV download of the exact frame, written only when clicked: turning a
    ticket list into CSV text on every rerun cost more than the rest of the page."""
    st.download_button(
        "Download CSV",
        lambda: csv_text(frame),
        f"{name}.csv",
        "text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )
