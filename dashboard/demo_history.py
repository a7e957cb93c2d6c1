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
Rows are snapshots: `ticket_id, at, status, service_team, assignee, kind, actor`
with `at` a naive UTC datetime to the second (written as text like the generator's
other timestamps).

Both the events and the Zendesk audit pages are Polars expressions over whole
columns — one column per planted branch, one string template per audit — not a
Python loop per ticket or per event: a 2M-ticket demo has about 10M events.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import polars as pl

MISROUTED_TEAMS = ("HR Operations", "Finance & Payroll")
MISROUTE_SHARE = 0.18
TRIAGE_TEAM = "IT Service Desk"
VENDOR_HOLD_TEAMS = ("Facilities", "IT Service Desk")
AGENTS_PER_TEAM = 6
CLOSE_AFTER_US = 4 * 86_400 * 1_000_000  # a closed ticket closes four days after solved
FORMAT = "%Y-%m-%d %H:%M:%S"
COLUMNS = ("ticket_id", "at", "status", "service_team", "assignee", "kind", "actor")


def _initials(team: str) -> str:
    return "".join(w[0] for w in team.replace("&", "").split()).lower()


def _us(column: str) -> pl.Expr:
    """A generator timestamp (naive text) as integer microseconds since the epoch."""
    return pl.col(column).str.to_datetime(FORMAT, time_unit="us").dt.epoch("us")


def _along(start: str, end: str, *shares: float | pl.Expr) -> pl.Expr:
    """`start + (end - start) * share…`, each product rounded to the microsecond (half
    to even, as a timedelta times a float is), so every time is a whole microsecond."""
    step = pl.col(end) - pl.col(start)
    for share in shares:
        step = (step * share).round().cast(pl.Int64)
    return pl.col(start) + step


def _walk(tick: pl.DataFrame, seed: int) -> pl.DataFrame:
    """One row per ticket: which planted branches it takes and when each step happens.

    A ticket walks them in order, each step starting where the one before ended: a
    misroute before the first response, a question to the requester (a ticket still
    pending on it stops there), a vendor hold, then its resolution (a reopen first
    when it was reopened) or, unresolved, its current waiting status."""
    rng = np.random.default_rng([seed, 20])
    u = rng.random((tick.height, 8))
    agent = rng.integers(0, AGENTS_PER_TEAM, tick.height)
    team, status, f, r = pl.col("service_team"), pl.col("status"), pl.col("f"), pl.col("r")
    initials = {t: _initials(t) for t in tick["service_team"].unique().to_list()}
    return (
        tick.lazy()
        .select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
            "ticket_id",
            "service_team",
            "status",
            "reopen_count",
            _us("created_at").alias("c"),
            _us("first_response_at").alias("f"),
            _us("resolved_at").alias("r"),
            _us("updated_at").alias("updated"),
            *(pl.lit(pl.Series(u[:, j])).alias(f"u{j}") for j in range(6)),
            pl.concat_str(
                team.replace_strict(initials, return_dtype=pl.String),
                pl.lit(".agent"),
                pl.lit(pl.Series(agent + 1)).cast(pl.String).str.zfill(2),
                pl.lit("@northwind.example"),
            ).alias("who"),
        )
        .with_columns(
            misrouted=team.is_in(MISROUTED_TEAMS) & (pl.col("u0") < MISROUTE_SHARE),
            end=pl.coalesce("r", "updated"),
            hop=_along("c", "f", 0.15 + 0.5 * pl.col("u1")),
        )
        .with_columns(
            # anything after the first response: a question, a hold, a resolution
            go=(f.is_not_null() & (pl.col("end") > f)).fill_null(False),
            ask=_along("f", "end", 0.4, pl.col("u3")),
        )
        .with_columns(
            asked=pl.col("go") & (pl.col("u2") < 0.35),
            back=_along("ask", "end", 0.2 + 0.6 * pl.col("u4")),
        )
        .with_columns(
            goes_on=pl.col("go") & ~(pl.col("asked") & r.is_null() & (status == "pending"))
        )
        .with_columns(answered=pl.col("asked") & pl.col("goes_on"))
        .with_columns(
            t=pl.when("answered").then("back").otherwise("f"),
            held=pl.col("goes_on")
            & team.is_in(VENDOR_HOLD_TEAMS)
            & (pl.col("u5") < 0.1)
            & r.is_not_null(),
        )
        .with_columns(hold=_along("t", "end", 0.3))
        .with_columns(resume=_along("hold", "end", 0.5))
        .with_columns(t=pl.when("held").then("resume").otherwise("t"))
        .with_columns(
            waits=pl.col("goes_on") & r.is_null() & status.is_in(("pending", "on_hold")),
            wait=_along("t", "end", 0.5),
            resolved=pl.col("goes_on") & r.is_not_null(),
            solved=_along("t", "r", 0.4),
            closes=r + CLOSE_AFTER_US,
        )
        .with_columns(
            responded=f.is_not_null(),
            hops=pl.col("misrouted") & f.is_not_null(),
            reopens=pl.col("resolved") & (pl.col("reopen_count") != 0),
            reopened=_along("solved", "r", 0.3),
            closed=pl.col("resolved") & (status == "closed"),
            first_team=pl.when("misrouted").then(pl.lit(TRIAGE_TEAM)).otherwise(team),
        )
        .collect()
    )


# Every change a demo ticket can record, in the order it records them: (the branch
# that takes it, its time, status — None: the ticket's own —, the team holding the
# ticket, assigned to the ticket's agent?, kind, actor). None as branch: every ticket.
_STEPS = (
    (None, "c", "new", "first_team", False, "status", "requester"),
    ("hops", "hop", "new", "service_team", False, "assignment", "agent"),
    ("responded", "f", "open", "service_team", True, "reply", "agent"),
    ("asked", "ask", "pending", "service_team", True, "reply", "agent"),
    ("answered", "back", "open", "service_team", True, "other", "requester"),
    ("held", "hold", "on_hold", "service_team", True, "other", "agent"),
    ("held", "resume", "open", "service_team", True, "other", "agent"),
    ("waits", "wait", None, "service_team", True, "reply", "agent"),
    ("reopens", "solved", "solved", "service_team", True, "reply", "agent"),
    ("reopens", "reopened", "open", "service_team", True, "other", "requester"),
    ("resolved", "r", "solved", "service_team", True, "reply", "agent"),
    ("closed", "closes", "closed", "service_team", True, "status", "system"),
)


def history(tick: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The demo tickets' events (one row per change, oldest first per ticket)."""
    walk = _walk(tick, seed).lazy()
    steps = [
        (walk if branch is None else walk.filter(branch)).select(
            "row",
            pl.lit(k, pl.Int8).alias("step"),
            "ticket_id",
            pl.from_epoch(at, "us").dt.truncate("1s").alias("at"),
            (pl.col("status") if status is None else pl.lit(status)).alias("status"),
            pl.col(team).alias("service_team"),
            (pl.col("who") if assigned else pl.lit(None, pl.String)).alias("assignee"),
            pl.lit(kind).alias("kind"),
            pl.lit(actor).alias("actor"),
        )
        for k, (branch, at, status, team, assigned, kind, actor) in enumerate(_STEPS)
    ]
    return pl.concat(steps).sort("row", "step").select(COLUMNS).collect()


def write_events_csv(events: pl.DataFrame, path: Path) -> Path:
    """The generic layout: one change per row, the events kind's column names."""
    events.write_csv(path, datetime_format=FORMAT)
    return path


def _user_id(name: str) -> int:
    """A stable Zendesk-style numeric user id for a name or e-mail."""
    return 360_000_000_000 + zlib.crc32(name.encode())


def _user_ids(names: pl.Expr, among: pl.Series) -> pl.Expr:
    """`_user_id` of each name (null stays null), hashed once per distinct name."""
    ids = {v: _user_id(v) for v in among.drop_nulls().unique().to_list()}
    return names.replace_strict(ids, default=None, return_dtype=pl.Int64)


def _json(*parts: str | pl.Expr) -> pl.Expr:
    """JSON text from literal pieces and value columns (numbers or pre-quoted text)."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


PAGE_SIZE = 1000  # audits per saved API page (one JSON page per line)
PAGES_PER_WRITE = 50  # pages built and written at a time: memory stays flat
ZENDESK_STATUS = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "on_hold": "hold",
    "solved": "solved",
    "closed": "closed",
}
NEXT_PAGE = "https://northwind.zendesk.com/api/v2/ticket_audits.json?page="


def _audits(events: pl.DataFrame, tick: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """One row per audit (changes that set nothing and say nothing make none), with
    its author and each field's value before it (the Change events' previous_value),
    and the teams' group ids in order of first appearance."""
    groups = {
        t: 360_000_100 + i for i, t in enumerate(events["service_team"].unique(maintain_order=True))
    }
    ev = (
        events.lazy()
        .with_row_index("k")
        .join(
            tick.lazy().select("ticket_id", requester=pl.col("requester_id")),
            on="ticket_id",
            how="left",
            maintain_order="left",
        )
    )
    actor, assignee, team = pl.col("actor"), pl.col("assignee"), pl.col("service_team")
    names = pl.concat([tick["requester_id"], events["assignee"], events["service_team"]])
    by_requester = actor == "requester"
    audits = (
        ev.select(
            pl.col("k").cast(pl.Int64),
            pl.col("ticket_id").cast(pl.Int64),
            pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            actor,
            pl.col("kind"),
            pl.when(actor == "system")
            .then(pl.lit(-1, pl.Int64))
            .otherwise(
                _user_ids(
                    pl.when(by_requester).then("requester").otherwise(pl.coalesce(assignee, team)),
                    names,
                )
            )
            .alias("author"),
            # how a user is named and what role it has in the users sideload
            pl.when(by_requester)
            .then("requester")
            .otherwise(pl.coalesce(assignee, team + " triage"))
            .alias("user"),
            pl.when(by_requester).then(pl.lit("end-user")).otherwise(pl.lit("agent")).alias("role"),
            pl.col("status").replace_strict(ZENDESK_STATUS).alias("status"),
            team.replace_strict(groups, return_dtype=pl.Int64).alias("group_id"),
            _user_ids(assignee, names).alias("assignee_id"),
        )
        .with_columns(
            pl.col("status").shift(1).over("ticket_id").alias("was_status"),
            pl.col("group_id").shift(1).over("ticket_id").alias("was_group_id"),
            pl.col("assignee_id")
            .shift(1)
            .forward_fill()
            .over("ticket_id")
            .alias("was_assignee_id"),
        )
        .with_columns(
            first=pl.col("was_status").is_null(),  # every change records a status
            set_status=pl.col("status").ne_missing(pl.col("was_status")),
            set_group_id=pl.col("group_id").ne_missing(pl.col("was_group_id")),
            set_assignee_id=pl.col("assignee_id").is_not_null()
            & pl.col("assignee_id").ne_missing(pl.col("was_assignee_id")),
            comment=(pl.col("kind") == "reply") | by_requester,
        )
        .collect()
    )
    return audits, groups


def _users(audits: pl.DataFrame) -> pl.DataFrame:
    """Each author's users-sideload entry as JSON (the name it last had)."""
    last = (
        audits.filter(pl.col("author") > 0)
        .group_by("author", maintain_order=True)
        .agg(pl.col("user").last(), pl.col("role").last())
    )
    return last.select(
        "author",
        pl.Series(
            [
                json.dumps({"id": a, "name": n, "role": r}, separators=(",", ":"))
                for a, n, r in last.iter_rows()
            ],
            dtype=pl.String,
        ).alias("user_json"),
    )


def _audit_json() -> pl.Expr:
    """An audit row as the API's audit object: a Comment first when the change says
    something, then a Create (a new ticket) or Change per field it sets."""
    base = (pl.col("k") + 1) * 1_000_000
    verb = pl.when("first").then(pl.lit("Create")).otherwise(pl.lit("Change"))
    position = pl.lit(0, pl.Int64)
    children = [
        pl.when("comment").then(
            _json(
                '{"id":',
                base + 99,
                ',"type":"Comment","author_id":',
                pl.col("author"),
                ',"public":true,"body":"',
                pl.when(pl.col("actor") == "agent")
                .then(pl.lit("(reply)"))
                .otherwise(pl.lit("(requester message)")),
                '"}',
            )
        )
    ]
    for field in ("status", "group_id", "assignee_id"):
        was = pl.col(f"was_{field}").cast(pl.String)
        previous = (
            pl.when("first")
            .then(pl.lit(""))
            .otherwise(
                _json(
                    ',"previous_value":',
                    pl.when(was.is_null()).then(pl.lit("null")).otherwise(_json('"', was, '"')),
                )
            )
        )
        children.append(
            pl.when(f"set_{field}").then(
                _json(
                    '{"id":',
                    base + position,
                    ',"type":"',
                    verb,
                    f'","field_name":"{field}","value":"',
                    pl.col(field).cast(pl.String),
                    '"',
                    previous,
                    "}",
                )
            )
        )
        position = position + pl.col(f"set_{field}").cast(pl.Int64)
    return _json(
        '{"id":',
        900_000_000 + pl.col("k"),
        ',"ticket_id":',
        pl.col("ticket_id"),
        ',"created_at":"',
        pl.col("at"),
        '","author_id":',
        pl.col("author"),
        ',"via":{"channel":"',
        pl.when(pl.col("actor") == "system").then(pl.lit("rule")).otherwise(pl.lit("web")),
        '"},"events":[',
        pl.concat_str(children, separator=",", ignore_nulls=True),
        "]}",
    )


def write_zendesk_audits(events: pl.DataFrame, tick: pl.DataFrame, path: Path) -> Path:
    """Zendesk ticket audits (docs/vendor-formats.md §1c) as saved API pages, one per
    line: `audits` with Create/Change/Comment child events, sideloaded `users`
    (role) and `groups` (name). One audit per recorded change; field changes carry the
    previous value like the API's Change events. Pages are built and written a few
    at a time, so memory follows the events frame, not the JSON text."""
    audits, groups = _audits(events, tick)
    users = _users(audits)
    audits = audits.filter(
        pl.col("comment")
        | pl.col("set_status")
        | pl.col("set_group_id")
        | pl.col("set_assignee_id")
    ).with_columns(page=pl.int_range(pl.len(), dtype=pl.Int64) // PAGE_SIZE)
    total = audits.height
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    group_list = json.dumps(
        [{"id": i, "name": name} for name, i in groups.items()], separators=(",", ":")
    )
    with path.open("w", encoding="utf-8") as fh:
        for first in range(0, pages, PAGES_PER_WRITE):
            part = audits.slice(first * PAGE_SIZE, PAGES_PER_WRITE * PAGE_SIZE).lazy()
            page_users = (
                part.filter(pl.col("author") > 0)
                .select("page", "author")
                .unique()
                .join(users.lazy(), on="author")
                .sort("page", "author")
                .group_by("page", maintain_order=True)
                .agg(pl.col("user_json").str.join(","))
            )
            lines = (
                part.group_by("page", maintain_order=True)
                .agg(_audit_json().str.join(",").alias("audits"))
                .join(page_users, on="page", how="left", maintain_order="left")
                .select(
                    _json(
                        '{"audits":[',
                        pl.col("audits"),
                        '],"users":[',
                        pl.col("user_json").fill_null(""),
                        '],"groups":',
                        group_list,
                        ',"next_page":',
                        pl.when(pl.col("page") + 1 < pages)
                        .then(_json(f'"{NEXT_PAGE}', pl.col("page") + 2, '"'))
                        .otherwise(pl.lit("null")),
                        f',"previous_page":null,"count":{total}}}',
                    )
                )
                .collect()
                .to_series()
            )
            fh.write("".join(f"{line}\n" for line in lines))
    return path
