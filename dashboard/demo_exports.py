"""Write demo tickets and surveys in real vendor layouts, so `inward demo` exercises
the same adapters a user's exports go through.

Which team uses which tool (as in many organisations, each function bought its own):
IT Service Desk, HR Operations and Finance & Payroll run Zendesk; Facilities runs
Freshservice; Legal runs Jira Service Management. IT surveys its customers with
Qualtrics, everyone else with a Google Form. Column names, value spellings and
timestamp formats follow docs/vendor-formats.md (the vendors' real exports).

Each tool identifies a requester by e-mail, the key the people file uses too; Jira
and Freshservice exports carry no requester type, so that comes from the people
file (see `derive.fill_from_people`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

ZENDESK_TEAMS = ("IT Service Desk", "HR Operations", "Finance & Payroll")
FRESHSERVICE_TEAMS = ("Facilities",)
JIRA_TEAMS = ("Legal",)

ZENDESK_HEADER = [
    "Summation column",
    "Id",
    "Requester",
    "Requester id",
    "Requester external id",
    "Requester email",
    "Requester domain",
    "Submitter",
    "Assignee",
    "Group",
    "Subject",
    "Tags",
    "Status",
    "Priority",
    "Via",
    "Ticket type",
    "Created at",
    "Updated at",
    "Assigned at",
    "Organization",
    "Due date",
    "Initially assigned at",
    "Solved at",
    "Resolution time",
    "Satisfaction Score",
    "Group stations",
    "Assignee stations",
    "Reopens",
    "Replies",
    "First reply time in minutes",
    "First reply time in minutes within business hours",
    "First resolution time in minutes",
    "First resolution time in minutes within business hours",
    "Full resolution time in minutes",
    "Full resolution time in minutes within business hours",
    "Agent wait time in minutes",
    "Agent wait time in minutes within business hours",
    "Requester wait time in minutes",
    "Requester wait time in minutes within business hours",
    "On hold time in minutes",
    "On hold time in minutes within business hours",
    "Department [list]",
    "Requester type [list]",
    "Category [list]",
]
FRESHSERVICE_HEADER = [
    "Ticket Id",
    "Subject",
    "Status",
    "Priority",
    "Urgency",
    "Impact",
    "Source",
    "Type",
    "Group",
    "Agent",
    "Department",
    "Category",
    "Sub-Category",
    "Item",
    "Requester Name",
    "Requester Email",
    "Requester Location",
    "Created Time",
    "Due by Time",
    "Resolved Time",
    "Closed Time",
    "Last Updated Time",
    "Initial Response Time",
    "Time Tracked",
    "First Response Time (in Hrs)",
    "Resolution Time (in Hrs)",
    "Agent interactions",
    "Customer interactions",
    "Resolution Status",
    "First Response Status",
    "Tags",
    "Survey Result",
]
JIRA_HEADER = [
    "Summary",
    "Issue key",
    "Issue id",
    "Issue Type",
    "Status",
    "Project key",
    "Project name",
    "Project type",
    "Priority",
    "Resolution",
    "Assignee",
    "Reporter",
    "Reporter Id",
    "Created",
    "Updated",
    "Resolved",
    "Component/s",
    "Custom field (Request Type)",
    "Custom field (Source)",
    "Custom field ([CHART] Date of First Response)",
    "Status Category",
    "Status Category Changed",
]

ZENDESK_STATUS = {
    "new": "New",
    "open": "Open",
    "pending": "Pending",
    "on_hold": "Hold",
    "solved": "Solved",
    "closed": "Closed",
}
ZENDESK_TYPE = {
    "incident": "Incident",
    "request": "Task",
    "question": "Question",
    "problem": "Problem",
    "change": "Task",
}
ZENDESK_VIA = {
    "email": "Mail",
    "portal": "Web form",
    "chat": "Chat",
    "phone": "Phone call (incoming)",
    "walk_in": "Phone call (incoming)",
}
FRESH_STATUS = {
    "new": "Open",
    "open": "Open",
    "pending": "Pending",
    "on_hold": "Pending",
    "solved": "Resolved",
    "closed": "Closed",
}
FRESH_PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Urgent"}
FRESH_SOURCE = {
    "email": "Email",
    "portal": "Portal",
    "chat": "Chat",
    "phone": "Phone",
    "walk_in": "Walkup",
}
FRESH_TYPE = {
    "incident": "Incident",
    "request": "Service Request",
    "question": "Service Request",
    "problem": "Incident",
    "change": "Service Request",
}
JIRA_STATUS = {
    "new": ("Open", "To Do"),
    "open": ("In Progress", "In Progress"),
    "pending": ("Waiting for customer", "In Progress"),
    "on_hold": ("Pending", "In Progress"),
    "solved": ("Resolved", "Done"),
    "closed": ("Closed", "Done"),
}
JIRA_PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}
JIRA_TYPE = {
    "incident": "[System] Incident",
    "request": "[System] Service request",
    "question": "Question",
    "problem": "[System] Problem",
    "change": "[System] Change",
}
JIRA_SOURCE = {
    "email": "email",
    "portal": "portal",
    "chat": "chat",
    "phone": "phone",
    "walk_in": "phone",
}


def _ts(col: str) -> pl.Expr:
    return pl.col(col).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)


def _minutes(start: str, end: str) -> pl.Expr:
    return ((_ts(end) - _ts(start)).dt.total_seconds() / 60).round(0).cast(pl.Int64)


def vendor_ids(tick: pl.DataFrame) -> pl.DataFrame:
    """Replace the generator's ids with each tool's own id style (before surveys link)."""
    n = pl.int_range(1, tick.height + 1)
    team = pl.col("service_team")
    return tick.with_columns(
        pl.when(team.is_in(ZENDESK_TEAMS))
        .then((n + 40000).cast(pl.String))
        .when(team.is_in(FRESHSERVICE_TEAMS))
        .then(pl.format("INC-{}", n + 1000))
        .otherwise(pl.format("LEG-{}", n))
        .alias("ticket_id")
    )


def write_zendesk(tick: pl.DataFrame, path: Path) -> None:
    t = tick.filter(pl.col("service_team").is_in(ZENDESK_TEAMS))
    out = t.select(
        pl.lit(1).alias("Summation column"),
        pl.col("ticket_id").alias("Id"),
        pl.col("requester_id").str.split("@").list.first().alias("Requester"),
        pl.lit(None, pl.String).alias("Requester id"),
        pl.lit(None, pl.String).alias("Requester external id"),
        pl.col("requester_id").alias("Requester email"),
        pl.col("requester_id").str.split("@").list.last().alias("Requester domain"),
        pl.col("service_team").alias("Group"),
        pl.col("subject").alias("Subject"),
        pl.col("status").replace_strict(ZENDESK_STATUS).alias("Status"),
        pl.col("priority").str.to_titlecase().alias("Priority"),
        pl.col("channel").replace_strict(ZENDESK_VIA).alias("Via"),
        pl.col("ticket_type").replace_strict(ZENDESK_TYPE).alias("Ticket type"),
        pl.col("created_at").alias("Created at"),
        pl.col("updated_at").alias("Updated at"),
        pl.col("resolved_at").alias("Solved at"),
        pl.col("reopen_count").alias("Reopens"),
        _minutes("created_at", "first_response_at").alias("First reply time in minutes"),
        _minutes("created_at", "resolved_at").alias("Full resolution time in minutes"),
        pl.col("requester_department").alias("Department [list]"),
        pl.col("requester_type").str.to_titlecase().alias("Requester type [list]"),
        pl.col("category").alias("Category [list]"),
    )
    _complete(out, ZENDESK_HEADER).write_csv(path)


def write_freshservice(tick: pl.DataFrame, path: Path) -> None:
    t = tick.filter(pl.col("service_team").is_in(FRESHSERVICE_TEAMS))
    out = t.select(
        pl.col("ticket_id").alias("Ticket Id"),
        pl.col("subject").alias("Subject"),
        pl.col("status").replace_strict(FRESH_STATUS).alias("Status"),
        pl.col("priority").replace_strict(FRESH_PRIORITY).alias("Priority"),
        pl.col("channel").replace_strict(FRESH_SOURCE).alias("Source"),
        pl.col("ticket_type").replace_strict(FRESH_TYPE).alias("Type"),
        pl.col("service_team").alias("Group"),
        pl.col("requester_department").alias("Department"),
        pl.col("category").alias("Category"),
        pl.col("requester_id").str.split("@").list.first().alias("Requester Name"),
        pl.col("requester_id").alias("Requester Email"),
        pl.col("created_at").alias("Created Time"),
        pl.col("resolved_at").alias("Resolved Time"),
        pl.when(pl.col("status") == "closed").then(pl.col("updated_at")).alias("Closed Time"),
        pl.col("updated_at").alias("Last Updated Time"),
        pl.col("first_response_at").alias("Initial Response Time"),
        pl.when(pl.col("reopen_count") > 0).then(pl.lit("reopened")).alias("Tags"),
    )
    _complete(out, FRESHSERVICE_HEADER).write_csv(path)


def _jira_time(col: str) -> pl.Expr:
    """Jira's `02/Mar/26 8:05 AM` (English UI, minute precision, no zone)."""
    ts = _ts(col)
    return pl.concat_str(
        ts.dt.strftime("%d/%b/%y "),
        ts.dt.hour().mod(12).replace(0, 12).cast(pl.String),
        ts.dt.strftime(":%M %p"),
    )


def write_jira(tick: pl.DataFrame, path: Path) -> None:
    t = tick.filter(pl.col("service_team").is_in(JIRA_TEAMS))
    status = pl.col("status")
    out = t.select(
        pl.col("subject").alias("Summary"),
        pl.col("ticket_id").alias("Issue key"),
        pl.col("ticket_id").str.replace("LEG-", "7").alias("Issue id"),
        pl.col("ticket_type").replace_strict(JIRA_TYPE).alias("Issue Type"),
        status.replace_strict({k: v[0] for k, v in JIRA_STATUS.items()}).alias("Status"),
        pl.lit("LEG").alias("Project key"),
        pl.col("service_team").alias("Project name"),
        pl.lit("service_desk").alias("Project type"),
        pl.col("priority").replace_strict(JIRA_PRIORITY).alias("Priority"),
        pl.when(pl.col("resolved_at").is_not_null()).then(pl.lit("Done")).alias("Resolution"),
        pl.col("requester_id").alias("Reporter"),
        pl.col("requester_id").alias("Reporter Id"),
        _jira_time("created_at").alias("Created"),
        _jira_time("updated_at").alias("Updated"),
        _jira_time("resolved_at").alias("Resolved"),
        pl.col("category").alias("Component/s"),
        pl.col("category").alias("Custom field (Request Type)"),
        pl.col("channel").replace_strict(JIRA_SOURCE).alias("Custom field (Source)"),
        (pl.col("first_response_at") + ".000").alias(
            "Custom field ([CHART] Date of First Response)"
        ),
        status.replace_strict({k: v[1] for k, v in JIRA_STATUS.items()}).alias("Status Category"),
        _jira_time("updated_at").alias("Status Category Changed"),
    )
    _complete(out, JIRA_HEADER).write_csv(path)


def _complete(frame: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """All of the tool's columns, in its order; the ones we don't simulate stay empty."""
    return frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in header if c not in frame.columns
    ).select(header)


QUALTRICS_QUESTIONS = {
    "Q1": "How satisfied were you with the support you received?",
    "Q2": "How likely are you to recommend the IT Service Desk to a colleague?",
    "Q3": "Is there anything else you would like to tell us about your experience?",
}


def write_qualtrics(surveys: pl.DataFrame, path: Path) -> None:
    """Qualtrics CSV: three header rows (names, question text, ImportId JSON)."""
    s = surveys.filter(pl.col("service_team").is_in(("IT Service Desk",)))
    names = [
        "StartDate",
        "EndDate",
        "Status",
        "Progress",
        "Finished",
        "RecordedDate",
        "ResponseId",
        "RecipientEmail",
        "DistributionChannel",
        "UserLanguage",
        "Q1",
        "Q2",
        "Q3",
        "ticket_id",
        "service_team",
        "department",
    ]
    labels = [
        "Start Date",
        "End Date",
        "Response Type",
        "Progress",
        "Finished",
        "Recorded Date",
        "Response ID",
        "Recipient Email",
        "Distribution Channel",
        "User Language",
        *QUALTRICS_QUESTIONS.values(),
        "ticket_id",
        "service_team",
        "department",
    ]
    import_ids = [
        '{"ImportId":"startDate","timeZone":"UTC"}',
        '{"ImportId":"endDate","timeZone":"UTC"}',
        '{"ImportId":"status"}',
        '{"ImportId":"progress"}',
        '{"ImportId":"finished"}',
        '{"ImportId":"recordedDate","timeZone":"UTC"}',
        '{"ImportId":"_recordId"}',
        '{"ImportId":"recipientEmail"}',
        '{"ImportId":"distributionChannel"}',
        '{"ImportId":"userLanguage"}',
        '{"ImportId":"QID1"}',
        '{"ImportId":"QID2"}',
        '{"ImportId":"QID3_TEXT"}',
        '{"ImportId":"ticket_id"}',
        '{"ImportId":"service_team"}',
        '{"ImportId":"department"}',
    ]
    values = [
        (_ts("submitted_at") - pl.duration(minutes=2)).dt.strftime("%Y-%m-%d %H:%M:%S"),
        pl.col("submitted_at"),
        pl.lit("0"),
        pl.lit("100"),
        pl.lit("1"),
        pl.col("submitted_at"),
        pl.format("R_{}", pl.col("response_id")),
        pl.col("respondent_id"),
        pl.lit("email"),
        pl.lit("EN"),
        pl.col("csat").cast(pl.String),
        pl.col("nps").cast(pl.String),
        pl.col("comment"),
        pl.col("ticket_id"),
        pl.col("service_team"),
        pl.col("department"),
    ]
    rows = s.select(v.alias(n) for v, n in zip(values, names, strict=True))
    header = pl.DataFrame(
        [
            pl.Series(n, [lab, imp], pl.String)
            for n, lab, imp in zip(names, labels, import_ids, strict=True)
        ]
    )
    pl.concat([header, rows.cast(pl.String)]).write_csv(path)


GOOGLE_COLUMNS = {
    "Timestamp": None,
    "Email Address": "respondent_id",
    "Which team handled your request?": "service_team",
    "Ticket number": "ticket_id",
    "How satisfied were you with the support you received?": "csat",
    "On a scale of 0-10, how likely are you to recommend this team to a colleague?": "nps",
    "Any comments? (what went well, what could be better)": "comment",
    "Your department": "department",
}


def write_google_forms(surveys: pl.DataFrame, path: Path) -> None:
    """Google Forms via Sheets CSV: `Timestamp` first, US month-first, unpadded."""
    s = surveys.filter(~pl.col("service_team").is_in(("IT Service Desk",)))
    ts = _ts("submitted_at")
    stamp = pl.format(
        "{}/{}/{} {}", ts.dt.month(), ts.dt.day(), ts.dt.year(), ts.dt.strftime("%-H:%M:%S")
    ).alias("Timestamp")
    out = s.select(
        stamp, *(pl.col(src).alias(name) for name, src in GOOGLE_COLUMNS.items() if src is not None)
    )
    out.write_csv(path)


def write_all(tick: pl.DataFrame, surveys: pl.DataFrame, folder: Path) -> list[Path]:
    """Write every vendor file; returns their paths (ingest order)."""
    paths = [
        folder / "zendesk_tickets.csv",
        folder / "freshservice_tickets.csv",
        folder / "jira_legal_issues.csv",
        folder / "qualtrics_it_csat.csv",
        folder / "google_forms_csat.csv",
    ]
    write_zendesk(tick, paths[0])
    write_freshservice(tick, paths[1])
    write_jira(tick, paths[2])
    write_qualtrics(surveys, paths[3])
    write_google_forms(surveys, paths[4])
    return paths
