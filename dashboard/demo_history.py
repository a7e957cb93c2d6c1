"""Demo ticket history: what happened between a demo ticket's creation and its end.

`history(tick, seed)` turns the generator's tickets (created, first response,
resolved, final status, reopens) into the changes a helpdesk records, without
moving any of those times — every other planted pattern stays as it was. It uses
its own random stream, so the rest of the demo is byte-for-byte unchanged.

What it plants (tests check these through the real ingest path):

* **Waiting** — about a third of resolved tickets wait on the requester
  (`pending`) for a share of the time between first response and resolution,
  and some Facilities and IT tickets wait on a vendor (`on_hold`): resolution
  excluding waiting is shorter than resolution by exactly that time.
* **Misrouted tickets** — 18 % of HR Operations and Finance & Payroll tickets
  land at the IT Service Desk first and are handed over before the receiving
  team's first response; Finance picks them up slowest.
* **Reopens** — a reopened ticket is solved, answered by the requester, reopened
  and solved again at its final resolution time.
* **Replies and agents** — the first response is an agent reply by the agent the
  ticket is assigned to (six agents per team), answers to a pending question come
  from the requester, and a closed ticket closes four days after it was solved.

Rows are snapshots: `ticket_id, at, status, service_team, assignee, kind, actor`
with `at` as naive UTC text, like the generator's other timestamps.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

MISROUTED_TEAMS = ("HR Operations", "Finance & Payroll")
MISROUTE_SHARE = 0.18
TRIAGE_TEAM = "IT Service Desk"
VENDOR_HOLD_TEAMS = ("Facilities", "IT Service Desk")
AGENTS_PER_TEAM = 6
CLOSE_AFTER = timedelta(days=4)
FORMAT = "%Y-%m-%d %H:%M:%S"
COLUMNS = ("ticket_id", "at", "status", "service_team", "assignee", "kind", "actor")


def agent_name(team: str, k: int) -> str:
    initials = "".join(w[0] for w in team.replace("&", "").split()).lower()
    return f"{initials}.agent{k + 1:02d}@northwind.example"


def _parse(values: list[str | None]) -> list[datetime | None]:
    return [None if v is None else datetime.strptime(v, FORMAT) for v in values]


def history(tick: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The demo tickets' events (one row per change, oldest first per ticket)."""
    rng = np.random.default_rng([seed, 20])
    n = tick.height
    u = rng.random((n, 8))
    agent = rng.integers(0, AGENTS_PER_TEAM, n)
    rows: list[tuple] = []
    cols = zip(
        tick["ticket_id"],
        tick["service_team"],
        tick["status"],
        tick["reopen_count"],
        _parse(tick["created_at"].to_list()),
        _parse(tick["first_response_at"].to_list()),
        _parse(tick["resolved_at"].to_list()),
        _parse(tick["updated_at"].to_list()),
        strict=True,
    )
    for i, (tid, team, status, reopens, c, f, r, upd) in enumerate(cols):
        who = agent_name(team, int(agent[i]))

        def add(
            at: datetime,
            st: str,
            holder: str,
            kind: str,
            actor: str,
            assignee: str | None = None,
            tid: str = tid,
        ) -> None:
            rows.append((tid, at.strftime(FORMAT), st, holder, assignee, kind, actor))

        first_team = team
        if team in MISROUTED_TEAMS and u[i, 0] < MISROUTE_SHARE:
            first_team = TRIAGE_TEAM
        add(c, "new", first_team, "status", "requester")
        if f is None:
            continue
        if first_team != team:
            hop = c + (f - c) * (0.15 + 0.5 * u[i, 1])
            add(hop, "new", team, "assignment", "agent")
        add(f, "open", team, "reply", "agent", who)
        end = r if r is not None else upd
        if end is None or end <= f:
            continue
        t = f
        if u[i, 2] < 0.35:  # a question to the requester, answered later
            ask = t + (end - t) * 0.4 * u[i, 3]
            back = ask + (end - ask) * (0.2 + 0.6 * u[i, 4])
            if r is None and status == "pending":
                add(ask, "pending", team, "reply", "agent", who)
                continue
            add(ask, "pending", team, "reply", "agent", who)
            add(back, "open", team, "other", "requester", who)
            t = back
        if team in VENDOR_HOLD_TEAMS and u[i, 5] < 0.1 and r is not None:
            hold = t + (end - t) * 0.3
            resume = hold + (end - hold) * 0.5
            add(hold, "on_hold", team, "other", "agent", who)
            add(resume, "open", team, "other", "agent", who)
            t = resume
        if r is None:
            if status in ("pending", "on_hold"):
                add(t + (end - t) * 0.5, status, team, "reply", "agent", who)
            continue
        if reopens:
            solved = t + (r - t) * 0.4
            reopened = solved + (r - solved) * 0.3
            add(solved, "solved", team, "reply", "agent", who)
            add(reopened, "open", team, "other", "requester", who)
        add(r, "solved", team, "reply", "agent", who)
        if status == "closed":
            add(r + CLOSE_AFTER, "closed", team, "status", "system", who)
    return pl.DataFrame(rows, schema=list(COLUMNS), orient="row")


def write_events_csv(events: pl.DataFrame, path: Path) -> Path:
    """The generic layout: one change per row, the events kind's column names."""
    events.write_csv(path)
    return path


def _user_id(name: str) -> int:
    """A stable Zendesk-style numeric user id for a name or e-mail."""
    return 360_000_000_000 + zlib.crc32(name.encode())


PAGE_SIZE = 1000  # audits per saved API page (one JSON page per line)
ZENDESK_STATUS = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "on_hold": "hold",
    "solved": "solved",
    "closed": "closed",
}


def write_zendesk_audits(events: pl.DataFrame, tick: pl.DataFrame, path: Path) -> Path:
    """Zendesk ticket audits (docs/vendor-formats.md §1c) as saved API pages, one per
    line: `audits` with Create/Change/Comment child events, sideloaded `users`
    (role) and `groups` (name). One audit per recorded change; field changes carry the
    previous value like the API's Change events."""
    requester = dict(zip(tick["ticket_id"], tick["requester_id"], strict=True))
    groups: dict[str, int] = {}
    users: dict[int, tuple[str, str]] = {}
    audits = []
    prev: dict[str, dict[str, object]] = {}
    for k, (tid, at, status, team, assignee, kind, actor) in enumerate(events.iter_rows()):
        gid = groups.setdefault(team, 360_000_100 + len(groups))
        state = prev.setdefault(tid, {})
        author = (
            _user_id(requester[tid])
            if actor == "requester"
            else -1
            if actor == "system"
            else _user_id(assignee or team)
        )
        if author > 0:
            users[author] = (
                (requester[tid], "end-user")
                if actor == "requester"
                else (assignee or f"{team} triage", "agent")
            )
        child = []
        verb = "Create" if not state else "Change"
        for field, value in (
            ("status", ZENDESK_STATUS[status]),
            ("group_id", gid),
            ("assignee_id", _user_id(assignee) if assignee else None),
        ):
            if value is not None and state.get(field) != value:
                event = {
                    "id": 1_000_000 * (k + 1) + len(child),
                    "type": verb,
                    "field_name": field,
                    "value": str(value),
                }
                if verb == "Change":
                    old = state.get(field)
                    event["previous_value"] = None if old is None else str(old)
                child.append(event)
                state[field] = value
        if kind == "reply" or actor == "requester":
            child.insert(
                0,
                {
                    "id": 1_000_000 * (k + 1) + 99,
                    "type": "Comment",
                    "author_id": author,
                    "public": True,
                    "body": "(reply)" if actor == "agent" else "(requester message)",
                },
            )
        if not child:
            continue
        audits.append(
            {
                "id": 900_000_000 + k,
                "ticket_id": int(tid),
                "created_at": at.replace(" ", "T") + "Z",
                "author_id": author,
                "via": {"channel": "web" if actor != "system" else "rule"},
                "events": child,
            }
        )
    group_list = [{"id": i, "name": name} for name, i in groups.items()]
    with path.open("w", encoding="utf-8") as fh:
        for start in range(0, len(audits), PAGE_SIZE):
            page = audits[start : start + PAGE_SIZE]
            authors = {a["author_id"] for a in page} | {
                e.get("author_id") for a in page for e in a["events"]
            }
            page_users = [
                {"id": i, "name": users[i][0], "role": users[i][1]}
                for i in sorted(a for a in authors if a in users)
            ]
            more = start + PAGE_SIZE < len(audits)
            fh.write(
                json.dumps(
                    {
                        "audits": page,
                        "users": page_users,
                        "groups": group_list,
                        "next_page": f"https://northwind.zendesk.com/api/v2/ticket_audits.json?page="
                        f"{start // PAGE_SIZE + 2}"
                        if more
                        else None,
                        "previous_page": None,
                        "count": len(audits),
                    },
                    separators=(",", ":"),
                )
                + "\n"
            )
    return path
