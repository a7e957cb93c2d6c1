"""Write demo tickets and surveys in real vendor layouts, so `inward demo` exercises
the same adapters a user's exports go through.

Which team uses which tool (as in many organisations, each function bought its own):
IT Service Desk and Finance & Payroll run Zendesk; HR Operations runs ServiceNow;
Facilities runs Freshservice; Legal runs Jira Service Management. IT surveys its
customers with Qualtrics, everyone else with a Google Form. Column names, value
spellings and timestamp formats follow docs/vendor-formats.md (the vendors' real
exports).

Each tool shows a requester the way it really does, so the demo exercises identity
matching (`dashboard.identity`): Zendesk a numeric `Requester id` with the e-mail
and the department as `Organization`; ServiceNow the caller's display name with the
dot-walked `caller_id.email` (empty for some users) and `caller_id.department`;
Jira the reporter's display name and Atlassian account id, no e-mail; Freshservice
the requester's name and e-mail; the surveys the respondent's e-mail. Requester
type is in none of them: it comes from the people file.

Why one file of ~600 lines: one writer per vendor layout, each short, over the same
generated frame; they change together when the demo's columns do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

ZENDESK_TEAMS = ("IT Service Desk", "Finance & Payroll")
SERVICENOW_TEAMS = ("HR Operations",)
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
# A list export of the `task` table with dot-walked caller columns (field names as
# headers, every field quoted, like the PDI export in ../shared/real-exports).
SERVICENOW_HEADER = [
    "number",
    "opened_at",
    "short_description",
    "caller_id",
    "caller_id.email",
    "caller_id.department",
    "priority",
    "state",
    "category",
    "assignment_group",
    "assigned_to",
    "sys_updated_on",
    "resolved_at",
    "closed_at",
    "contact_type",
    "reopen_count",
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
SERVICENOW_STATUS = {
    "new": "New",
    "open": "In Progress",
    "pending": "Awaiting User Info",
    "on_hold": "On Hold",
    "solved": "Resolved",
    "closed": "Closed",
}
SERVICENOW_PRIORITY = {
    "urgent": "1 - Critical",
    "high": "2 - High",
    "normal": "3 - Moderate",
    "low": "4 - Low",
}
SERVICENOW_CONTACT = {
    "email": "Email",
    "portal": "Self-service",
    "chat": "Chat",
    "phone": "Phone",
    "walk_in": "Walk-in",
}
# Record number prefix by table: a task list mixes incidents, requested items…
SERVICENOW_PREFIX = {
    "incident": "INC",
    "request": "RITM",
    "question": "RITM",
    "problem": "PRB",
    "change": "CHG",
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
        .when(team.is_in(SERVICENOW_TEAMS))
        .then(
            pl.format(
                "{}{}",
                pl.col("ticket_type").replace_strict(SERVICENOW_PREFIX),
                (n + 10_000_000).cast(pl.String).str.slice(1),
            )
        )
        .when(team.is_in(FRESHSERVICE_TEAMS))
        .then(pl.format("INC-{}", n + 1000))
        .otherwise(pl.format("LEG-{}", n))
        .alias("ticket_id")
    )


def zendesk_user_id(person_id: str) -> str:
    """A Zendesk user id: 14 digits, stable per person."""
    return str(10_300_600_000_000 + int(person_id.lstrip("E")) * 7)


def jira_account_id(person_id: str) -> str:
    """An Atlassian account id (`712020:` + a UUID), stable per person."""
    h = hashlib.md5(person_id.encode()).hexdigest()
    return f"712020:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _servicenow_has_email(person_id: str) -> bool:
    """About 1 in 20 ServiceNow users has no e-mail on their user record."""
    return int(hashlib.md5(person_id.encode()).hexdigest(), 16) % 20 != 0


def how_tools_show(people: pl.DataFrame) -> pl.DataFrame:
    """Per person (as `requester_id`): what each tool shows for them."""
    ids = people["person_id"].to_list()
    return people.select(
        pl.col("person_id").alias("requester_id"),
        "name",
        "email",
        pl.Series("zendesk_id", [zendesk_user_id(p) for p in ids]),
        pl.coalesce("aliases", "email").alias("zendesk_email"),  # an old address, if any
        pl.Series("jira_id", [jira_account_id(p) for p in ids]),
        pl.when(pl.Series([_servicenow_has_email(p) for p in ids]))
        .then(pl.col("email"))
        .alias("servicenow_email"),
        pl.coalesce("personal_email", "email").alias("freshservice_email"),
    )


def expected_requester(person: dict, team: str) -> str:
    """The requester_id identity matching should give a person's tickets with `team`:
    their person_id, unless the tool's export cannot tell them from a namesake (Jira
    shows names only; ServiceNow without an e-mail) or shows an address HR does not
    know (a personal e-mail in Freshservice)."""
    pid = person["person_id"]
    if team in JIRA_TEAMS and person["namesake"]:
        return f"jira:{jira_account_id(pid)}"
    if team in SERVICENOW_TEAMS and person["namesake"] and not _servicenow_has_email(pid):
        return f"servicenow:{person['name']}"
    if team in FRESHSERVICE_TEAMS and person["personal_email"]:
        return person["personal_email"]
    return pid


def _team_rows(tick: pl.DataFrame, teams: tuple[str, ...], who: pl.DataFrame) -> pl.DataFrame:
    """The tickets of the teams one tool serves, with how that tool shows each requester."""
    return tick.filter(pl.col("service_team").is_in(teams)).join(who, on="requester_id", how="left")


def write_zendesk(tick: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    t = _team_rows(tick, ZENDESK_TEAMS, who)
    out = t.select(
        pl.lit(1).alias("Summation column"),
        pl.col("ticket_id").alias("Id"),
        pl.col("name").alias("Requester"),
        pl.col("zendesk_id").alias("Requester id"),
        pl.lit(None, pl.String).alias("Requester external id"),
        pl.col("zendesk_email").alias("Requester email"),
        pl.col("zendesk_email").str.split("@").list.last().alias("Requester domain"),
        pl.col("service_team").alias("Group"),
        pl.col("subject").alias("Subject"),
        pl.col("status").replace_strict(ZENDESK_STATUS).alias("Status"),
        pl.col("priority").str.to_titlecase().alias("Priority"),
        pl.col("channel").replace_strict(ZENDESK_VIA).alias("Via"),
        pl.col("ticket_type").replace_strict(ZENDESK_TYPE).alias("Ticket type"),
        pl.col("created_at").alias("Created at"),
        pl.col("updated_at").alias("Updated at"),
        pl.col("requester_department").alias("Organization"),
        pl.col("resolved_at").alias("Solved at"),
        pl.col("reopen_count").alias("Reopens"),
        _minutes("created_at", "first_response_at").alias("First reply time in minutes"),
        _minutes("created_at", "resolved_at").alias("Full resolution time in minutes"),
        pl.col("category").alias("Category [list]"),
    )
    _complete(out, ZENDESK_HEADER).write_csv(path)


def write_servicenow(tick: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    t = _team_rows(tick, SERVICENOW_TEAMS, who)
    out = t.select(
        pl.col("ticket_id").alias("number"),
        pl.col("created_at").alias("opened_at"),
        pl.col("subject").alias("short_description"),
        pl.col("name").alias("caller_id"),
        pl.col("servicenow_email").alias("caller_id.email"),
        pl.col("requester_department").alias("caller_id.department"),
        pl.col("priority").replace_strict(SERVICENOW_PRIORITY).alias("priority"),
        pl.col("status").replace_strict(SERVICENOW_STATUS).alias("state"),
        pl.col("category").alias("category"),
        pl.col("service_team").alias("assignment_group"),
        pl.col("updated_at").alias("sys_updated_on"),
        pl.col("resolved_at").alias("resolved_at"),
        pl.when(pl.col("status") == "closed").then(pl.col("updated_at")).alias("closed_at"),
        pl.col("channel").replace_strict(SERVICENOW_CONTACT).alias("contact_type"),
        pl.col("reopen_count").alias("reopen_count"),
    )
    _complete(out, SERVICENOW_HEADER).write_csv(path, quote_style="always")


def write_freshservice(tick: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    t = _team_rows(tick, FRESHSERVICE_TEAMS, who)
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
        pl.col("name").alias("Requester Name"),
        pl.col("freshservice_email").alias("Requester Email"),
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


def write_jira(tick: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    t = _team_rows(tick, JIRA_TEAMS, who)
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
        pl.col("name").alias("Reporter"),
        pl.col("jira_id").alias("Reporter Id"),
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


def _respondents(surveys: pl.DataFrame, who: pl.DataFrame) -> pl.DataFrame:
    """Survey rows with the respondent's e-mail and first/last name (as distributed)."""
    return surveys.join(
        who.select(
            pl.col("requester_id").alias("respondent_id"),
            pl.col("email").alias("respondent_email"),
            pl.col("name").str.split(" ").list.first().alias("first_name"),
            pl.col("name").str.split(" ").list.last().alias("last_name"),
        ),
        on="respondent_id",
        how="left",
    )


# Qualtrics' own columns ahead of the questions in a CSV export (choice text or values):
# (name row, label row, ImportId).
QUALTRICS_META = (
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("Progress", "Progress", "progress"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
)


def qualtrics_import_id(import_id: str) -> str:
    """The third header row's cell: `{"ImportId":"startDate","timeZone":"UTC"}` (dates
    say their zone)."""
    zone = ',"timeZone":"UTC"' if import_id.endswith("Date") else ""
    return f'{{"ImportId":"{import_id}"{zone}}}'


def write_qualtrics(surveys: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    """Qualtrics CSV: three header rows (names, question text, ImportId JSON)."""
    s = _respondents(surveys.filter(pl.col("service_team").is_in(("IT Service Desk",))), who)
    extra = ("ticket_id", "service_team", "department")  # embedded data: one name each
    names = [n for n, _, _ in QUALTRICS_META] + [*QUALTRICS_QUESTIONS, *extra]
    labels = [lab for _, lab, _ in QUALTRICS_META] + [*QUALTRICS_QUESTIONS.values(), *extra]
    import_ids = [
        qualtrics_import_id(i)
        for i in (*(i for _, _, i in QUALTRICS_META), "QID1", "QID2", "QID3_TEXT", *extra)
    ]
    values = [
        (_ts("submitted_at") - pl.duration(minutes=2)).dt.strftime("%Y-%m-%d %H:%M:%S"),
        pl.col("submitted_at"),
        pl.lit("0"),
        pl.lit("100"),
        pl.lit("1"),
        pl.col("submitted_at"),
        pl.format("R_{}", pl.col("response_id")),
        pl.col("last_name"),
        pl.col("first_name"),
        pl.col("respondent_email"),
        pl.lit(None, pl.String),  # ExternalReference: the demo's surveys set none
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
    "Email Address": "respondent_email",
    "Which team handled your request?": "service_team",
    "Ticket number": "ticket_id",
    "How satisfied were you with the support you received?": "csat",
    "On a scale of 0-10, how likely are you to recommend this team to a colleague?": "nps",
    "Any comments? (what went well, what could be better)": "comment",
    "Your department": "department",
}


def write_google_forms(surveys: pl.DataFrame, who: pl.DataFrame, path: Path) -> None:
    """Google Forms via Sheets CSV: `Timestamp` first, US month-first, unpadded."""
    s = _respondents(surveys.filter(~pl.col("service_team").is_in(("IT Service Desk",))), who)
    ts = _ts("submitted_at")
    stamp = pl.format(
        "{}/{}/{} {}", ts.dt.month(), ts.dt.day(), ts.dt.year(), ts.dt.strftime("%-H:%M:%S")
    ).alias("Timestamp")
    out = s.select(
        stamp, *(pl.col(src).alias(name) for name, src in GOOGLE_COLUMNS.items() if src is not None)
    )
    out.write_csv(path)


def write_all(
    tick: pl.DataFrame, surveys: pl.DataFrame, folder: Path, people: pl.DataFrame
) -> list[Path]:
    """Write every vendor file; returns their paths (ingest order: tickets, then surveys)."""
    who = how_tools_show(people)
    paths = [
        folder / "zendesk_tickets.csv",
        folder / "servicenow_hr_tasks.csv",
        folder / "freshservice_tickets.csv",
        folder / "jira_legal_issues.csv",
        folder / "qualtrics_it_csat.csv",
        folder / "google_forms_csat.csv",
    ]
    write_zendesk(tick, who, paths[0])
    write_servicenow(tick, who, paths[1])
    write_freshservice(tick, who, paths[2])
    write_jira(tick, who, paths[3])
    write_qualtrics(surveys, who, paths[4])
    write_google_forms(surveys, who, paths[5])
    return paths
