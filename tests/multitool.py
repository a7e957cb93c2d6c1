"""An independent multi-tool organisation, written in each vendor's documented export layout.

Not the demo generator: its own people, names, cadences and planted truths, written with
the standard `csv` module in the layouts of docs/vendor-formats.md, with the requester
columns each tool really fills (the Zendesk column list is the demo's `ZENDESK_HEADER`:
a vendor's layout is a fact, not something to generate independently, and so are
Qualtrics' metadata columns, `QUALTRICS_META`; the cells are this module's own):

* IT Service Desk on **Zendesk** (CSV export, §1a): numeric `Requester id` (14 digits),
  `Requester` name, `Requester email`, the department as `Organization`;
* HR Operations on **ServiceNow** (incident list export, field-name headers, every cell
  quoted, §3a): `caller_id` as the display name, dot-walked `caller_id.email` (empty for
  some users), no department column;
* Facilities on **Freshservice** (ticket CSV, §4): `Requester Name`, `Requester Email`,
  `Department`;
* Legal on **Jira Service Management** (issues CSV, English UI, §2): `Reporter` display
  name and `Reporter Id` account id, no e-mail;
* IT's CSAT survey on **Qualtrics** (three header rows, §5) with `RecipientEmail`;
* an HR **people file** in a typical HRIS layout (`Employee ID, Full Name, Work Email,
  Department, Worker Type, Start Date, End Date, Aliases`), including two people who
  share a name, and an org file and weekly external outcomes.

Planted truths (`World`):
* `quitters`: (person_id, team) — regulars of a team who had one bad ticket (slow,
  reopened) and filed nothing more with that team, while still filing with another;
* `leavers`: regulars who left the organisation (End Date) and so stopped everywhere;
* a lagged link: IT resolution time for *Customer Support* requesters follows a slow
  weekly factor; the Customer Support business unit's `customer_csat` falls two weeks
  after it rises.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from dashboard.demo_exports import QUALTRICS_META, ZENDESK_HEADER, qualtrics_import_id

START = datetime(2025, 1, 6)  # a Monday
WEEKS = 78
END = START + timedelta(weeks=WEEKS)
LAG_WEEKS = 2

DEPARTMENTS = {  # department -> (weight, business unit)
    "Customer Support": (0.30, "Customer Support"),
    "Sales": (0.20, "Sales"),
    "Engineering": (0.25, "Product"),
    "Finance": (0.15, "Corporate"),
    "People Ops": (0.10, "Corporate"),
}
OTHER_TEAMS = ("HR Operations", "Facilities", "Legal")
FIRST = (
    "Aaliyah", "Bjorn", "Camille", "Dmitri", "Esther", "Fatima", "Gustavo", "Helga", "Ibrahim",
    "Jin", "Kwame", "Leonie", "Mateo", "Nora", "Oskar", "Pilar", "Quentin", "Renata", "Soren",
    "Thandiwe", "Ulrich", "Valentina", "Wanjiru", "Xavier", "Yusra", "Zeynep", "Anouk", "Bruno",
)  # fmt: skip
LAST = (
    "Achterberg", "Bergstrom", "Cardoso", "Demir", "Eze", "Fontaine", "Grabowski", "Holm",
    "Iyer", "Jovanovic", "Kowalczyk", "Lindgren", "Moreau", "Nakashima", "Oyelaran", "Pereira",
    "Quispe", "Rasmussen", "Sokolova", "Takahashi", "Umarov", "Virtanen", "Walczak",
)  # fmt: skip
NAMESAKE = "Alex Kim"


@dataclass
class Person:
    person_id: str
    name: str
    email: str
    department: str
    worker_type: str
    start: date
    end: date | None
    zendesk_id: str
    jira_id: str
    servicenow_email: str | None  # some ServiceNow users have no e-mail on record


@dataclass
class Ticket:
    team: str
    person: Person
    created: datetime
    first_response: datetime
    resolved: datetime
    reopens: int
    ticket_id: str = ""


@dataclass
class World:
    people: list[Person]
    tickets: list[Ticket]
    quitters: set[tuple[str, str]]
    leavers: set[str]
    namesakes: tuple[str, str]
    files: dict[str, Path] = field(default_factory=dict)

    def expected_requester(self, t: Ticket) -> str:
        """What identity matching must give: the person, except a namesake in Jira, which
        shows only the (shared) name and an account id: never merged, kept apart."""
        if t.team == "Legal" and t.person.person_id in self.namesakes:
            return f"jira:{t.person.jira_id}"
        return t.person.person_id


def _slug(name: str) -> str:
    return ".".join(name.lower().split())


def build(seed: int = 3, n_people: int = 260) -> tuple[World, np.ndarray]:
    """The organisation and its weekly link factor (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = [
        f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
        for i in rng.permutation(len(FIRST) * len(LAST))[:n_people]
    ]
    names[0] = names[1] = NAMESAKE  # two different people, one name
    depts = list(DEPARTMENTS)
    weights = np.array([DEPARTMENTS[d][0] for d in depts])
    people, leavers = [], set()
    kinds = rng.choice(["regular", "occasional"], size=n_people, p=[0.7, 0.3])
    kinds[:2] = "regular"
    for i, name in enumerate(names):
        pid = f"HR-{1000 + i}"
        email = (
            f"{_slug(name)}{'' if i else '2'}@acme.example"
            if name == NAMESAKE
            else (f"{_slug(name)}@acme.example")
        )
        leaves = kinds[i] == "regular" and i >= 2 and rng.random() < 0.08
        end = (END - timedelta(days=int(rng.integers(70, 220)))).date() if leaves else None
        if leaves:
            leavers.add(pid)
        h = hashlib.sha1(pid.encode()).hexdigest()
        people.append(
            Person(
                person_id=pid,
                name=name,
                email=email,
                department=depts[int(rng.choice(len(depts), p=weights / weights.sum()))],
                worker_type="Contractor" if rng.random() < 0.1 else "Employee",
                start=date(2019, 1, 1),
                end=end,
                zendesk_id=str(36_100_000_000_000 + 7919 * i),
                jira_id=f"5b{h[:22]}",
                servicenow_email=None if rng.random() < 0.15 else email,
            )
        )
    link = np.zeros(WEEKS + LAG_WEEKS + 1)
    for w in range(1, link.size):
        link[w] = 0.6 * link[w - 1] + rng.normal(0, 0.5)

    tickets: list[Ticket] = []
    quitters: set[tuple[str, str]] = set()
    horizon = (END - START).days

    def series(p: Person, team: str, gap: float, stop_day: float, quit_team: bool) -> None:
        day = float(rng.uniform(0, gap))
        quit_day = horizon - float(rng.uniform(70, 200)) if quit_team else None
        # a one-off long break (holiday, parental leave, a project) for some: silence
        # the model must not mistake for quitting once they are back
        pause = float(rng.uniform(60, horizon - 150)) if rng.random() < 0.25 else None
        while day < stop_day:
            if pause is not None and day >= pause:
                day, pause = day + float(rng.uniform(25, 50)), None
            if quit_day is not None and day >= quit_day:
                break
            created = START + timedelta(days=day, hours=float(rng.uniform(8.5, 17)))
            week = int(day // 7)
            res_h = float(np.exp(rng.normal(np.log(6 if team == "IT Service Desk" else 30), 0.5)))
            if team == "IT Service Desk" and p.department == "Customer Support":
                res_h *= float(np.exp(0.8 * link[week]))
            tickets.append(
                Ticket(
                    team,
                    p,
                    created,
                    created + timedelta(minutes=float(rng.uniform(20, 240))),
                    created + timedelta(hours=res_h),
                    0,
                )
            )
            day += gap * float(rng.uniform(0.5, 1.5))
        if quit_day is not None:  # the bad last ticket, then silence with this team
            created = START + timedelta(days=quit_day, hours=10)
            tickets.append(
                Ticket(
                    team, p, created, created + timedelta(hours=30), created + timedelta(days=12), 2
                )
            )
            quitters.add((p.person_id, team))

    for i, p in enumerate(people):
        stop = horizon if p.end is None else (p.end - START.date()).days
        regular = kinds[i] == "regular"
        other = OTHER_TEAMS[i % 3] if i >= 2 else ("Legal", "Facilities")[i]
        it_gap = float(rng.uniform(5, 12)) if regular else float(rng.uniform(60, 110))
        other_gap = float(rng.uniform(8, 16)) if regular else float(rng.uniform(60, 110))
        eligible = regular and p.end is None and i >= 2
        quit_it = eligible and rng.random() < 0.15
        quit_other = eligible and not quit_it and rng.random() < 0.12
        series(p, "IT Service Desk", it_gap, stop, quit_it)
        series(p, other, other_gap, stop, quit_other)
    tickets.sort(key=lambda t: t.created)
    namesakes = (people[0].person_id, people[1].person_id)
    return World(people, tickets, quitters, leavers, namesakes), link


def _ts(d: datetime | None) -> str:
    return "" if d is None else d.strftime("%Y-%m-%d %H:%M:%S")


def _jira_ts(d: datetime | None) -> str:
    if d is None:
        return ""
    hour = d.hour % 12 or 12
    return d.strftime("%d/%b/%y ") + f"{hour}:{d:%M} " + ("AM" if d.hour < 12 else "PM")


def _done(t: Ticket) -> bool:
    return t.resolved <= END


SERVICENOW_HEADER = [
    "number", "opened_at", "short_description", "caller_id", "caller_id.email", "priority",
    "state", "category", "assignment_group", "assigned_to", "sys_updated_on", "resolved_at",
    "closed_at", "contact_type", "reopen_count",
]  # fmt: skip
FRESHSERVICE_HEADER = [
    "Ticket Id", "Subject", "Status", "Priority", "Source", "Type", "Group", "Agent",
    "Department", "Category", "Requester Name", "Requester Email", "Created Time",
    "Due by Time", "Resolved Time", "Closed Time", "Last Updated Time", "Initial Response Time",
    "Tags",
]  # fmt: skip
JIRA_HEADER = [
    "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Project name",
    "Project type", "Priority", "Resolution", "Assignee", "Assignee Id", "Reporter",
    "Reporter Id", "Creator", "Creator Id", "Created", "Updated", "Resolved",
    "Custom field (Request Type)", "Custom field ([CHART] Date of First Response)",
    "Status Category", "Status Category Changed",
]  # fmt: skip


def _write(path: Path, header: list[str], rows: list[dict], quote_all: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        w.writeheader()
        w.writerows(rows)
    return path


def write(world: World, link: np.ndarray, folder: Path, seed: int = 3) -> World:
    """Write every export into `folder`; ticket ids are assigned here, per tool."""
    rng = np.random.default_rng(seed + 100)
    folder.mkdir(parents=True, exist_ok=True)
    by_team: dict[str, list[Ticket]] = {}
    for t in world.tickets:
        by_team.setdefault(t.team, []).append(t)
    zd, sn, fs, jr = [], [], [], []
    for k, t in enumerate(by_team["IT Service Desk"]):
        t.ticket_id = str(52000 + k)
        p, done = t.person, _done(t)
        zd.append(
            {
                "Summation column": "1",
                "Id": t.ticket_id,
                "Requester": p.name,
                "Requester id": p.zendesk_id,
                "Requester email": p.email,
                "Requester domain": p.email.split("@")[1],
                "Group": t.team,
                "Subject": "Laptop will not connect to VPN",
                "Status": "Solved" if done else "Open",
                "Priority": "Normal",
                "Via": "Web form",
                "Ticket type": "Incident",
                "Created at": _ts(t.created),
                "Updated at": _ts(t.resolved if done else t.created),
                "Organization": p.department,
                "Solved at": _ts(t.resolved) if done else "",
                "Reopens": str(t.reopens),
                "First reply time in minutes": str(
                    round((t.first_response - t.created).seconds / 60)
                ),
            }
        )
    for k, t in enumerate(by_team.get("HR Operations", [])):
        t.ticket_id = f"INC{20000 + k:07d}"
        p, done = t.person, _done(t)
        sn.append(
            {
                "number": t.ticket_id,
                "opened_at": _ts(t.created),
                "short_description": "Question about my payslip",
                "caller_id": p.name,
                "caller_id.email": p.servicenow_email or "",
                "priority": "3 - Moderate",
                "state": "Resolved" if done else "In Progress",
                "category": "Inquiry / Help",
                "assignment_group": t.team,
                "assigned_to": "Beth Anglin",
                "sys_updated_on": _ts(t.resolved if done else t.created),
                "resolved_at": _ts(t.resolved) if done else "",
                "closed_at": "",
                "contact_type": "Self-service",
                "reopen_count": str(t.reopens),
            }
        )
    for k, t in enumerate(by_team.get("Facilities", [])):
        t.ticket_id = f"SR-{3000 + k}"
        p, done = t.person, _done(t)
        fs.append(
            {
                "Ticket Id": t.ticket_id,
                "Subject": "Desk chair broken",
                "Status": "Resolved" if done else "Open",
                "Priority": "Medium",
                "Source": "Portal",
                "Type": "Service Request",
                "Group": t.team,
                "Agent": "Sipho Dlamini",
                "Department": p.department,
                "Category": "Furniture",
                "Requester Name": p.name,
                "Requester Email": p.email,
                "Created Time": _ts(t.created),
                "Due by Time": _ts(t.created + timedelta(days=3)),
                "Resolved Time": _ts(t.resolved) if done else "",
                "Last Updated Time": _ts(t.resolved if done else t.created),
                "Initial Response Time": _ts(t.first_response),
                "Tags": "reopened" if t.reopens else "",
            }
        )
    for k, t in enumerate(by_team.get("Legal", [])):
        t.ticket_id = f"LGL-{k + 1}"
        p, done = t.person, _done(t)
        jr.append(
            {
                "Summary": "NDA review for a supplier",
                "Issue key": t.ticket_id,
                "Issue id": str(70000 + k),
                "Issue Type": "[System] Service request",
                "Status": "Resolved" if done else "Waiting for support",
                "Project key": "LGL",
                "Project name": t.team,
                "Project type": "service_desk",
                "Priority": "Medium",
                "Resolution": "Done" if done else "",
                "Assignee": "Rita Okoro",
                "Assignee Id": "5b00aa11bb22cc33dd44ee55",
                "Reporter": p.name,
                "Reporter Id": p.jira_id,
                "Creator": p.name,
                "Creator Id": p.jira_id,
                "Created": _jira_ts(t.created),
                "Updated": _jira_ts(t.resolved if done else t.created),
                "Resolved": _jira_ts(t.resolved) if done else "",
                "Custom field (Request Type)": "Contract review",
                "Custom field ([CHART] Date of First Response)": t.first_response.strftime(
                    "%Y-%m-%d %H:%M:%S.000"
                ),
                "Status Category": "Done" if done else "In Progress",
                "Status Category Changed": _jira_ts(t.resolved if done else t.created),
            }
        )
    f = world.files
    f["zendesk"] = _write(folder / "zendesk_export.csv", ZENDESK_HEADER, zd)
    f["servicenow"] = _write(folder / "incident.csv", SERVICENOW_HEADER, sn, quote_all=True)
    f["freshservice"] = _write(folder / "freshservice_tickets.csv", FRESHSERVICE_HEADER, fs)
    f["jira"] = _write(folder / "Jira.csv", JIRA_HEADER, jr)
    f["qualtrics"] = _write_qualtrics(world, by_team["IT Service Desk"], folder, rng)
    f["people"] = _write(
        folder / "hris_people.csv",
        [
            "Employee ID",
            "Full Name",
            "Work Email",
            "Department",
            "Worker Type",
            "Start Date",
            "End Date",
            "Aliases",
        ],
        [
            {
                "Employee ID": p.person_id,
                "Full Name": p.name,
                "Work Email": p.email,
                "Department": p.department,
                "Worker Type": p.worker_type,
                "Start Date": p.start.isoformat(),
                "End Date": p.end.isoformat() if p.end else "",
                "Aliases": "",
            }
            for p in world.people
        ],
    )
    f["org"] = _write(
        folder / "org.csv",
        ["department", "business_unit"],
        [{"department": d, "business_unit": u} for d, (_, u) in DEPARTMENTS.items()],
    )
    outcomes = []
    for w in range(WEEKS):
        row = {"period_start": (START + timedelta(weeks=w)).date().isoformat()}
        for unit in sorted({u for _, u in DEPARTMENTS.values()}):
            effect = (
                -3.0 * link[w - LAG_WEEKS] if unit == "Customer Support" and w >= LAG_WEEKS else 0.0
            )
            outcomes.append(
                {
                    **row,
                    "business_unit": unit,
                    "customer_csat": f"{80 + effect + rng.normal(0, 0.8):.2f}",
                }
            )
    f["outcomes"] = _write(
        folder / "outcomes.csv", ["period_start", "business_unit", "customer_csat"], outcomes
    )
    return world


def _write_qualtrics(
    world: World, it: list[Ticket], folder: Path, rng: np.random.Generator
) -> Path:
    """Qualtrics current CSV: names row, label row, ImportId row, then responses."""
    names = [n for n, _, _ in QUALTRICS_META] + ["Q1", "ticket_id"]
    labels = [lab for _, lab, _ in QUALTRICS_META] + [
        "How satisfied were you with how your request was handled?",
        "ticket_id",
    ]
    ids = [i for _, _, i in QUALTRICS_META] + ["QID1", "ticket_id"]
    path = folder / "IT+CSAT_June+30,+2026_09.00.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerow(labels)
        w.writerow([qualtrics_import_id(i) for i in ids])
        for k, t in enumerate(it):
            if not _done(t) or rng.random() > 0.25:
                continue
            at = _ts(t.resolved + timedelta(hours=3))
            first, last = t.person.name.split(" ", 1)
            w.writerow(
                [
                    at,
                    at,
                    "0",
                    "100",
                    "1",
                    at,
                    f"R_{k:07d}",
                    last,
                    first,
                    t.person.email,
                    "",
                    "email",
                    "EN",
                    str(int(rng.integers(1, 6))),
                    t.ticket_id,
                ]
            )
    return path
