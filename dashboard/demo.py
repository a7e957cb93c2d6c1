"""Deterministic demo data: realistic exports of an internal service organisation.

`write_demo(folder, seed, tickets)` writes export *files* — the same kinds of file a
user would drop into `inward ingest` — and `inward demo` ingests them through the
normal path. Same seed, same files, byte for byte.

The organisation: five service teams (IT Service Desk, HR Operations, Finance &
Payroll, Facilities, Legal) serving twelve requester departments, including a
contractor pool and vendor partners, over 18 months ending 2026-10-31.

Realistic shapes: per-requester ticket rates (gamma-distributed, so a few heavy
users and many light ones), weekly and yearly seasonality (quiet weekends and
late December), business-hours arrivals with some after-hours demand,
log-normal first-response and resolution times per team and priority, waits that
roll over nights and weekends, reopens, and a backlog spike (an outage in
IT Service Desk and Facilities during three weeks of 2026-01).

Planted patterns later analyses must find (and tests check):

1. **Quitters** — about 8 % of *regular* requesters (typical gap ≤ 21 days) have a
   bad experience with their main team (resolution ×6, reopened, low CSAT) and file
   nothing with that team afterwards. `write_demo(...).quitters` lists them.
2. **Reactive shift** — the *Sales* department moves from proactive requests to
   urgent incidents: its incident/urgent share climbs from ~30 % to ~70 % over the
   last six months. Other departments stay flat.
3. **Lagged link** — IT Service Desk resolution time for requesters in the
   *Customer Support* business unit follows a slow weekly multiplier; the Customer
   Support unit's external `customer_csat` is lower two weeks after it rises. Every
   other outcome series is trend + noise, unrelated to internal metrics.
4. **Reopens hurt CSAT** — reopened tickets score ~1.2 points lower on the 1–5
   CSAT scale than the rest, other things equal.
5. **Occasional requesters** — about a third of requesters file every few months;
   their long gaps are natural and must not be flagged as disengagement.

Why one file of ~570 lines: the planted truths above are one generative model (the
same requesters, teams and clock drive every one); split, each part would need
the whole model's state passed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from dashboard import demo_exports, demo_history

END = datetime(2026, 10, 31, 18, 0)
DAYS = 548
START = END - timedelta(days=DAYS)
# weeks are counted from the Monday on or before START, like calendar (ISO) weeks
MONDAY0 = (START - timedelta(days=START.weekday())).replace(hour=0, minute=0)

TEAMS = ("IT Service Desk", "HR Operations", "Finance & Payroll", "Facilities", "Legal")
TEAM_SHARE = np.array([0.46, 0.15, 0.15, 0.15, 0.09])
# median first response and resolution, minutes, at normal priority
TEAM_FR = np.array([40.0, 150.0, 200.0, 110.0, 480.0])
TEAM_RES = np.array([360.0, 1800.0, 2400.0, 1300.0, 6000.0])
CATEGORIES = {
    "IT Service Desk": ("Access & accounts", "Hardware", "Software", "Network", "Email"),
    "HR Operations": ("Leave", "Onboarding", "Benefits", "Contracts"),
    "Finance & Payroll": ("Payroll", "Expenses", "Invoices", "Purchase orders"),
    "Facilities": ("Desk & room", "Repairs", "Cleaning", "Access badge"),
    "Legal": ("Contract review", "NDA", "Compliance question"),
}
# department -> (headcount weight, business unit, requester type)
DEPARTMENTS = {
    "Customer Support": (0.16, "Customer Support", "employee"),
    "Sales": (0.13, "Sales", "employee"),
    "Marketing": (0.07, "Sales", "employee"),
    "Engineering": (0.15, "Product & Engineering", "employee"),
    "Product": (0.06, "Product & Engineering", "employee"),
    "Operations": (0.09, "Operations", "employee"),
    "Logistics": (0.07, "Operations", "employee"),
    "Finance": (0.05, "Corporate", "employee"),
    "People": (0.04, "Corporate", "employee"),
    "Executive Office": (0.02, "Corporate", "employee"),
    "Contractors Pool": (0.10, "Product & Engineering", "contractor"),
    "Vendor Partners": (0.06, "Operations", "vendor"),
}
BUSINESS_UNITS = ("Customer Support", "Sales", "Product & Engineering", "Operations", "Corporate")
PRIORITIES = np.array(["low", "normal", "high", "urgent"])
PRIORITY_P = np.array([0.2, 0.55, 0.18, 0.07])
PRIORITY_SPEED = np.array([1.8, 1.0, 0.5, 0.25])
CHANNELS = np.array(["portal", "email", "chat", "phone", "walk_in"])
CHANNEL_P = np.array([0.45, 0.3, 0.12, 0.1, 0.03])
OUTAGE = (datetime(2026, 1, 12), datetime(2026, 2, 2))
LINK_LAG_WEEKS = 2
COMMENTS = {
    "low": (
        "Took far too long to get an answer.",
        "Had to chase the team several times.",
        "The issue came back after it was closed.",
        "Nobody told me what was happening.",
        "Ticket was closed without fixing the problem.",
    ),
    "mid": ("Fine, but slower than I hoped.", "Got there in the end.", "OK service."),
    "high": (
        "Quick and friendly, thank you!",
        "Solved on the first try.",
        "Great help, very clear explanation.",
        "Fast response, problem fixed.",
    ),
}


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files one demo run wrote (ingest order: reference data first)."""

    org: Path
    people: Path
    tickets: tuple[Path, ...]
    surveys: tuple[Path, ...]
    outcomes: Path
    # planted (requester_id, service_team): the id identity matching should give them
    quitters: tuple[tuple[str, str], ...] = ()
    # person ids of the two people who share a name (never matched by name)
    namesakes: tuple[str, ...] = ()
    history: tuple[Path, ...] = ()  # ticket history (see demo_history)

    def all(self) -> list[Path]:
        return [self.org, self.people, *self.tickets, *self.history, *self.surveys, self.outcomes]


def _people(rng: np.random.Generator, n: int) -> pl.DataFrame:
    names = list(DEPARTMENTS)
    weights = np.array([DEPARTMENTS[d][0] for d in names])
    dept = rng.choice(len(names), size=n, p=weights / weights.sum())
    kinds = np.array([DEPARTMENTS[names[i]][2] for i in dept], dtype=object)
    # some contractors sit in Engineering
    eng = (np.array(names)[dept] == "Engineering") & (rng.random(n) < 0.15)
    kinds[eng] = "contractor"
    joined = (
        START
        - timedelta(days=400)
        + np.array([timedelta(days=int(x)) for x in rng.integers(0, 400 + DAYS - 60, n)])
    )
    leaves = rng.random(n) < 0.05
    left = np.where(
        leaves, joined + np.array([timedelta(days=int(x)) for x in rng.integers(60, 500, n)]), None
    )
    left = np.array([x if x is not None and x < END else None for x in left], dtype=object)
    return pl.DataFrame(
        {
            "person_id": [f"E{10001 + i}" for i in range(n)],  # HR's employee number
            "department": np.array(names)[dept],
            "person_type": kinds.astype(str),
            "active_from": [d.date() for d in joined],
            "active_to": [d.date() if d is not None else None for d in left],
        }
    )


PEOPLE_COLUMNS = (
    "person_id", "name", "email", "department", "person_type", "active_from", "active_to",
    "aliases",
)  # fmt: skip
FIRST_NAMES = (
    "Abel", "Adaeze", "Aiko", "Alex", "Amelia", "Ana", "Arjun", "Astrid", "Beatriz", "Ben",
    "Carlos", "Chen", "Chloé", "Dara", "David", "Diego", "Elena", "Emma", "Farah", "Felix",
    "Grace", "Hana", "Hiroshi", "Ines", "Isaac", "Jamal", "Javier", "Jonas", "José", "Julia",
    "Kai", "Karin", "Laila", "Leo", "Lina", "Lucas", "Maya", "Mei", "Mohammed", "Nadia",
    "Nikos", "Noah", "Olga", "Omar", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia",
    "Tariq", "Tomasz", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoë", "Ngozi", "Marcus",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Andersen", "Bauer", "Becker", "Bianchi", "Brown", "Chen", "Clarke", "Costa",
    "Dubois", "Eriksson", "Fernández", "Fielding", "García", "Gupta", "Haddad", "Hansen",
    "Ibrahim", "Ivanova", "Jansen", "Kim", "Kowalski", "Larsen", "Lee", "Lindqvist", "Lopez",
    "Marchetti", "Martin", "Müller", "Nakamura", "Natarajan", "Nguyen", "Novak", "Okafor",
    "Olsen", "Park", "Patel", "Peeters", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt",
    "Shah", "Silva", "Singh", "Smith", "Souza", "Tanaka", "Tuter", "Varga", "Wang", "Weber",
    "Wojcik", "Yilmaz", "Zhang", "O'Brien", "Mensah", "Haugen", "Rahman",
)  # fmt: skip


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum() or c in ".-")


def _identities(
    rng: np.random.Generator, people: pl.DataFrame, who: np.ndarray, team: np.ndarray
) -> pl.DataFrame:
    """Names, e-mails and aliases for the people file, and how each tool shows a person.

    Unique names by construction, except one planted pair of namesakes (two people with
    Legal tickets share a name: Jira, which exports no e-mail, can only tell them apart by
    account id, so they must stay unmatched rather than merged). About 3 % of people
    changed e-mail address and still appear with the old one in Zendesk (listed in the
    people file's aliases); about 1 % file Facilities tickets from a personal address
    HR does not know (unmatched by design). A separate random stream, so the planted
    ticket patterns are the same as without identities.
    """
    n = people.height
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    order = rng.permutation(max(combos, n))
    names = []
    for k in order[:n]:
        first = FIRST_NAMES[k % len(FIRST_NAMES)]
        last = LAST_NAMES[(k // len(FIRST_NAMES)) % len(LAST_NAMES)]
        middle = f" {chr(65 + k // combos - 1)}." if k >= combos else ""
        names.append(f"{first}{middle} {last}")
    legal = np.unique(who[team == TEAMS.index("Legal")])
    namesake = np.zeros(n, dtype=bool)
    if legal.size >= 2:
        a, b = rng.choice(legal, 2, replace=False)
        names[b] = names[a]
        namesake[[a, b]] = True
    emails, seen = [], set()
    for nm in names:
        base = ".".join(_ascii(part) for part in nm.replace(".", "").split())
        email, k = f"{base}@northwind.example", 2
        while email in seen:
            email, k = f"{base}{k}@northwind.example", k + 1
        seen.add(email)
        emails.append(email)
    old = rng.random(n) < 0.03
    personal = rng.random(n) < 0.01
    return people.with_columns(
        pl.Series("name", names),
        pl.Series("email", emails),
        pl.Series("namesake", namesake),
        pl.Series(
            "aliases",
            [
                e.replace("@northwind.", "@northwind-legacy.") if o else None
                for e, o in zip(emails, old, strict=True)
            ],
            dtype=pl.String,
        ),
        pl.Series(
            "personal_email",
            [
                e.replace("@northwind.example", "@home.example") if p else None
                for e, p in zip(emails, personal, strict=True)
            ],
            dtype=pl.String,
        ),
    )


def _weekly_link(rng: np.random.Generator, weeks: int) -> np.ndarray:
    """Slow AR(1) log-multiplier for IT resolution time of Customer Support requesters."""
    z = np.zeros(weeks)
    for w in range(1, weeks):
        z[w] = 0.6 * z[w - 1] + rng.normal(0, 0.5)
    return z


def _arrivals(
    rng: np.random.Generator, people: pl.DataFrame, target: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-requester Poisson arrivals thinned by weekly/yearly seasonality.

    Returns person index, main-team flag, created (epoch seconds), regular flag.
    """
    n = people.height
    regular = rng.random(n) < 0.45
    occasional = ~regular & (rng.random(n) < 0.6)
    gap_days = np.where(
        regular,
        rng.uniform(5, 21, n),
        np.where(occasional, rng.uniform(70, 160, n), rng.uniform(25, 60, n)),
    )
    start = np.array([max(d, START.date()) for d in people["active_from"].to_list()])
    stop = np.array(
        [min(d, END.date()) if d is not None else END.date() for d in people["active_to"].to_list()]
    )
    span = np.array([(b - a).days for a, b in zip(start, stop, strict=True)], dtype=float)
    span = np.clip(span, 0, None)
    expected = span / gap_days
    scale = target / max(expected.sum() * 0.57, 1.0)  # ≈ share kept by thinning and quits
    counts = rng.poisson(expected * scale)
    who = np.repeat(np.arange(n), counts)
    t0 = np.array([datetime.combine(d, datetime.min.time()).timestamp() for d in start])
    offset = rng.random(who.size) * span[who] * 86400
    created = t0[who] + offset
    # business-hours arrival time of day (after-hours ~12 %)
    day = np.floor(created / 86400) * 86400
    after = rng.random(who.size) < 0.12
    tod = np.where(
        after, rng.uniform(0, 24, who.size), np.clip(rng.normal(11.5, 2.2, who.size), 8, 17.5)
    )
    created = day + tod * 3600 + rng.integers(0, 60, who.size)
    dt = np.array(created, dtype="datetime64[s]")
    weekday = (dt.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    month = dt.astype("datetime64[M]").astype(int) % 12 + 1
    keep_p = np.where(weekday >= 5, 0.08, np.where(weekday == 0, 1.0, 0.85))
    keep_p = keep_p * np.where(month == 12, 0.6, np.where(month == 1, 1.0, 0.9))
    keep = rng.random(who.size) < keep_p
    return who[keep], created[keep], regular


def write_demo(
    folder: str | Path, seed: int = 7, tickets: int = 50_000, layout: str = "vendor"
) -> DemoFiles:
    """Write the demo exports into `folder` and return their paths.

    `layout="vendor"` (what `inward demo` uses) writes tickets and surveys as
    Zendesk, Freshservice, Jira, Qualtrics and Google Forms exports (see
    `demo_exports`); `layout="generic"` writes one canonical CSV each, which tests
    use when they compare against brute-force computations on exact timestamps.
    """
    if layout not in ("vendor", "generic"):
        raise ValueError(f"layout must be 'vendor' or 'generic', got {layout!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_people = max(60, tickets // 25)
    people = _people(rng, n_people)
    who, created, regular = _arrivals(rng, people, tickets)
    order = np.argsort(created, kind="stable")
    who, created = who[order], created[order]
    m = who.size
    dept = people["department"].to_numpy()[who]
    ptype = people["person_type"].to_numpy()[who]
    bu = np.array([DEPARTMENTS[d][1] for d in dept])

    main_team = rng.choice(len(TEAMS), size=n_people, p=TEAM_SHARE)
    team = np.where(
        rng.random(m) < 0.7, main_team[who], rng.choice(len(TEAMS), size=m, p=TEAM_SHARE)
    )
    prio = rng.choice(4, size=m, p=PRIORITY_P)
    ttype = rng.choice(
        np.array(["incident", "request", "question", "problem", "change"]),
        size=m,
        p=[0.38, 0.47, 0.12, 0.02, 0.01],
    )
    # planted 2: Sales turns reactive over the last six months
    shift_start = (END - timedelta(days=183)).timestamp()
    progress = np.clip((created - shift_start) / (END.timestamp() - shift_start), 0, 1)
    sales = (dept == "Sales") & (rng.random(m) < 0.6 * progress)
    ttype = np.where(sales, "incident", ttype)
    prio = np.where(sales & (rng.random(m) < 0.7), np.where(rng.random(m) < 0.5, 3, 2), prio)

    channel = rng.choice(CHANNELS, size=m, p=CHANNEL_P)
    cats = np.array([rng.choice(CATEGORIES[TEAMS[t]]) for t in team])

    # planted 3: weekly multiplier for IT resolution of Customer Support requesters
    week = ((created - MONDAY0.timestamp()) // (7 * 86400)).astype(int)
    link = _weekly_link(rng, int(week.max()) + LINK_LAG_WEEKS + 2)
    speed = PRIORITY_SPEED[prio]
    fr = TEAM_FR[team] * speed * rng.lognormal(0, 0.9, m)
    res = np.maximum(TEAM_RES[team] * speed * rng.lognormal(0, 0.8, m), fr + 5)
    cs_it = (bu == "Customer Support") & (team == 0)
    res = np.where(cs_it, res * np.exp(0.8 * link[week]), res)
    outage = (
        (created >= OUTAGE[0].timestamp())
        & (created < OUTAGE[1].timestamp())
        & np.isin(team, [0, 3])
    )
    res = np.where(outage, res * 4, res)
    fr = np.where(outage, fr * 3, fr)
    # waits outside business hours roll over to the next working morning
    fr = np.where(prio < 3, fr + _minutes_to_opening(created), fr)
    reopen = (rng.random(m) < 0.06).astype(int)

    # planted 1: quitters among regular requesters, with their main team
    quitters = np.where(regular & (rng.random(n_people) < 0.08))[0]
    bad = np.zeros(m, dtype=bool)
    drop = np.zeros(m, dtype=bool)
    quit_at = {}
    for q in quitters:
        idx = np.where((who == q) & (team == main_team[q]))[0]
        if idx.size < 8:
            continue
        cut = idx[int(idx.size * rng.uniform(0.45, 0.8))]
        bad[cut] = True
        drop[idx[idx > cut]] = True
        quit_at[q] = created[cut]
    res = np.where(bad, res * 6 + 3 * 1440, res)
    reopen = np.where(bad, 1 + (rng.random(m) < 0.5), reopen)
    res = np.where(reopen > 0, res * 1.6, res)
    res = np.maximum(res, fr + rng.uniform(5, 120, m))

    end_ts = END.timestamp()
    resolved_ts = created + res * 60
    open_now = resolved_ts > end_ts
    first_ts = created + fr * 60
    fr_missing = first_ts > end_ts
    status = np.where(
        open_now,
        rng.choice(
            np.array(["open", "pending", "on_hold", "new"]), size=m, p=[0.6, 0.25, 0.1, 0.05]
        ),
        np.where(resolved_ts < end_ts - 7 * 86400, "closed", "solved"),
    )
    status = np.where(open_now & fr_missing, "new", status)
    updated_ts = np.where(open_now, np.minimum(created + 86400, end_ts), resolved_ts + 3600)

    keep = ~drop
    ids = np.arange(1, m + 1)
    tick = pl.DataFrame(
        {
            "ticket_id": [f"INW-{i:06d}" for i in ids],
            "service_team": np.array(TEAMS)[team],
            "requester_id": people["person_id"].to_numpy()[who],
            "requester_department": dept,
            "requester_type": ptype,
            "channel": channel,
            "category": cats,
            "priority": PRIORITIES[prio],
            "ticket_type": ttype,
            "status": status,
            "created_at": _iso(created),
            "updated_at": _iso(updated_ts),
            "first_response_at": _iso(np.where(fr_missing, np.nan, first_ts)),
            "resolved_at": _iso(np.where(open_now, np.nan, resolved_ts)),
            "reopen_count": reopen,
            "subject": [f"{c} — request" for c in cats],
        }
    ).filter(pl.Series(keep))

    person_ids = people["person_id"].to_list()
    who_kept, team_kept = who[keep], team[keep]
    people = _identities(np.random.default_rng([seed, 1]), people, who_kept, team_kept)
    if layout == "vendor":
        tick = demo_exports.vendor_ids(tick)
    surveys = _surveys(rng, tick, res[keep], reopen[keep], bad[keep])
    org, people_path, outcomes = folder / "org.csv", folder / "people.csv", folder / "outcomes.csv"
    pl.DataFrame(
        {"department": list(DEPARTMENTS), "business_unit": [v[1] for v in DEPARTMENTS.values()]}
    ).write_csv(org)
    people.select(PEOPLE_COLUMNS).write_csv(people_path)
    _outcomes(rng, link).write_csv(outcomes)
    events = demo_history.history(tick, seed)
    if layout == "vendor":
        paths = demo_exports.write_all(tick, surveys, folder, people)
        ticket_files, survey_files = tuple(paths[:4]), tuple(paths[4:])
        zd = tick.filter(pl.col("service_team").is_in(demo_exports.ZENDESK_TEAMS))
        history = (
            demo_history.write_zendesk_audits(
                events.filter(pl.col("ticket_id").is_in(zd["ticket_id"].implode())),
                zd,
                folder / "zendesk_ticket_audits.jsonl",
            ),
        )
    else:
        ticket_files, survey_files = (folder / "tickets.csv",), (folder / "surveys.csv",)
        tick.write_csv(ticket_files[0])
        surveys.write_csv(survey_files[0])
        history = (demo_history.write_events_csv(events, folder / "ticket_events.csv"),)
    expected = demo_exports.expected_requester if layout == "vendor" else None
    quitters = tuple(
        (
            expected(people.row(q, named=True), TEAMS[main_team[q]]) if expected else person_ids[q],
            TEAMS[main_team[q]],
        )
        for q in sorted(quit_at)
    )
    namesakes = tuple(people.filter(pl.col("namesake"))["person_id"].to_list())
    return DemoFiles(
        org, people_path, ticket_files, survey_files, outcomes, quitters, namesakes, history
    )


def _minutes_to_opening(created: np.ndarray) -> np.ndarray:
    """Minutes from each timestamp to the next Mon–Fri 09:00–17:00 opening (0 when open)."""
    day = np.floor(created / 86400)
    hour = (created - day * 86400) / 3600
    weekday = (day.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    is_open = (weekday < 5) & (hour >= 9) & (hour < 17)
    next_day = np.where((weekday < 5) & (hour < 9), day, day + 1)
    next_wd = (next_day.astype(np.int64) - 4) % 7
    next_day = next_day + np.where(next_wd == 5, 2, np.where(next_wd == 6, 1, 0))
    wait = (next_day * 86400 + 9 * 3600 - created) / 60
    return np.where(is_open, 0.0, wait)


def _iso(epoch: np.ndarray) -> pl.Series:
    """Epoch seconds → naive ISO strings (UTC wall clock, whole seconds) with None for
    NaN; one column expression, as the 2M-ticket demo has 8M of them."""
    whole = pl.Series(np.trunc(epoch)).fill_nan(None).cast(pl.Int64)
    return pl.from_epoch(whole, "s").dt.strftime("%Y-%m-%d %H:%M:%S")


def _surveys(
    rng: np.random.Generator,
    tick: pl.DataFrame,
    res: np.ndarray,
    reopen: np.ndarray,
    bad: np.ndarray,
) -> pl.DataFrame:
    """CSAT (1–5) on ~30 % of resolved tickets, NPS (0–10) on ~10 %, with comments.

    Planted 4: reopened tickets score ~1.2 lower; slow resolution scores lower too.
    """
    resolved = tick["resolved_at"].is_not_null().to_numpy()
    n = tick.height
    asked = resolved & (rng.random(n) < 0.3)
    team_med = (
        tick.with_columns(pl.Series("res", res))
        .group_by("service_team")
        .agg(pl.col("res").median().alias("med"))
    )
    med = tick.select("service_team").join(team_med, on="service_team", how="left")["med"]
    slow = np.log(res / med.to_numpy())
    latent = (
        4.3 - 0.35 * np.clip(slow, -2, 3) - 1.2 * (reopen > 0) - 1.0 * bad + rng.normal(0, 0.6, n)
    )
    csat = np.clip(np.round(latent), 1, 5).astype(int)
    nps_asked = asked & (rng.random(n) < 0.33)
    nps = np.clip(np.round(latent * 2.2 - 1 + rng.normal(0, 1.2, n)), 0, 10).astype(int)
    band = np.where(csat <= 2, "low", np.where(csat == 3, "mid", "high"))
    comment = np.array([rng.choice(COMMENTS[b]) for b in band], dtype=object)
    comment = np.where(rng.random(n) < 0.45, comment, None)
    later = pl.Series(rng.uniform(1, 72, n) * 3600e6).round().cast(pl.Int64)  # µs, as timedelta
    submitted = tick.select(
        (
            pl.col("resolved_at").str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
            + pl.duration(microseconds=later)
        ).dt.strftime("%Y-%m-%d %H:%M:%S")
    ).to_series()
    frame = pl.DataFrame(
        {
            "response_id": [f"S-{i:06d}" for i in range(n)],
            "survey": "Internal service CSAT",
            "submitted_at": submitted,
            "respondent_id": tick["requester_id"],
            "department": tick["requester_department"],
            "service_team": tick["service_team"],
            "ticket_id": tick["ticket_id"],
            "csat": csat,
            "nps": pl.Series(nps).set(pl.Series(~nps_asked), None),
            "comment": pl.Series(comment.tolist(), dtype=pl.String),
        }
    )
    cutoff = END.strftime("%Y-%m-%d %H:%M:%S")
    return frame.filter(pl.Series(asked)).filter(pl.col("submitted_at") <= cutoff)


def _outcomes(rng: np.random.Generator, link: np.ndarray) -> pl.DataFrame:
    """Weekly external outcomes per business unit, wide (one column per metric).

    Planted 3: Customer Support's customer_csat drops two weeks after the IT
    resolution multiplier rises; everything else is trend + noise.
    """
    weeks = DAYS // 7
    rows = []
    for unit in BUSINESS_UNITS:
        trend = rng.normal(0, 0.02)
        walk = np.cumsum(rng.normal(0, 0.4, weeks))
        for w in range(weeks):
            effect = (
                -3.0 * link[w - LINK_LAG_WEEKS]
                if (unit == "Customer Support" and w >= LINK_LAG_WEEKS)
                else 0.0
            )
            rows.append(
                {
                    "period_start": (MONDAY0.date() + timedelta(weeks=w)).isoformat(),
                    "business_unit": unit,
                    "customer_csat": round(
                        82 + trend * w + 0.3 * walk[w] + effect + rng.normal(0, 1.0), 2
                    ),
                    "nps": round(31 + 0.5 * walk[w] + rng.normal(0, 3), 1),
                    "churn_rate": round(max(0.2, 2.0 + 0.05 * walk[w] + rng.normal(0, 0.15)), 3),
                    "revenue": round(1e6 * (1 + 0.004 * w) * (1 + rng.normal(0, 0.03)), 0),
                }
            )
    return pl.DataFrame(rows)


def demo_dates() -> tuple[date, date]:
    """First and last day of the demo's ticket history."""
    return START.date(), END.date()
