"""Ticket history → ticket_events, ticket_status_time, waiting time, reassignments.

The real event logs are checked against brute-force walks of their raw rows with
the csv module (no DuckDB, no adapter code): every status interval summed per
incident, waiting (pending + on hold) per incident, and the CONTRACT invariant that
the minutes over a ticket's statuses add up to first event → resolution.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import as_of
from dashboard.config import Calendar, Config
from dashboard.derive.history import refresh_history
from dashboard.ingest import ingest_paths
from dashboard.warehouse import migrate
from tests.conftest import REAL_EXPORTS, fetch
from tests.test_business_time import calendars, intervals, reference_minutes

UCI = REAL_EXPORTS / "servicenow/uci_incident_event_log/incident_event_log.sample_mod3.csv"
VOLVO = REAL_EXPORTS / "bpi2013_volvo_it_incidents/VINST-new.csv"
HELPDESK = REAL_EXPORTS / "helpdesk_event_log_italian/helpdesk.csv"
needs_real = pytest.mark.skipif(not UCI.exists(), reason=f"real exports not at {REAL_EXPORTS}")

# ServiceNow incident states that wait on someone outside the team (the caller, a
# vendor, a problem or change): written out here, independently of the adapter.
UCI_WAITING = {"Awaiting User Info", "Awaiting Vendor", "Awaiting Problem", "Awaiting Evidence"}
UCI_NOT_A_STATE = {"-100", "?"}


def load(db: Path, *paths: Path, config: Config | None = None) -> None:
    results = ingest_paths(db, list(paths), config or Config())
    assert all(r.status == "loaded" for r in results), [r.message for r in results]


def _uci_time(text: str) -> datetime | None:
    return None if text == "?" else datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=UTC)


def uci_brute_force() -> tuple[dict[str, float], dict[str, float], dict[str, datetime | None]]:
    """Per incident: waiting minutes and total minutes from its first row to its end,
    walking the raw rows in time order (ties: sys_mod_count, then file order).

    The end is the incident's resolved_at, else its closed_at (both repeated on
    every row), else — still open — the newest sys_updated_at in the file."""
    by_number: dict[str, list[tuple[datetime, int, int, str]]] = defaultdict(list)
    end_of: dict[str, datetime | None] = {}
    newest = datetime.min.replace(tzinfo=UTC)
    with UCI.open(encoding="ascii", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            at = _uci_time(row["sys_updated_at"])
            assert at is not None
            newest = max(newest, at)
            by_number[row["number"]].append(
                (at, int(row["sys_mod_count"]), i, row["incident_state"])
            )
            end_of[row["number"]] = _uci_time(row["resolved_at"]) or _uci_time(row["closed_at"])
    waiting: dict[str, float] = {}
    total: dict[str, float] = {}
    for number, events in by_number.items():
        events.sort()
        end = end_of[number] or newest
        state, w, t = None, 0.0, 0.0
        for k, (at, _, _, raw) in enumerate(events):
            if raw not in UCI_NOT_A_STATE:
                state = raw
            nxt = events[k + 1][0] if k + 1 < len(events) else end
            length = max((min(nxt, end) - at).total_seconds() / 60, 0.0) if at < end else 0.0
            t += length
            if state in UCI_WAITING:
                w += length
        waiting[number], total[number] = w, t
    return waiting, total, end_of


@pytest.fixture(scope="module")
def uci_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("uci") / "w.duckdb"
    load(db, UCI)
    return db


@needs_real
def test_uci_every_raw_row_is_an_event(uci_db: Path) -> None:
    with UCI.open(encoding="ascii") as fh:
        raw = sum(1 for _ in fh) - 1
    assert fetch(uci_db, "SELECT count(*) FROM ticket_events")[0][0] == raw == 47_493
    # the bogus state -100 is no status: those rows keep the state before them
    assert fetch(uci_db, "SELECT count(*) FROM ticket_events WHERE vendor_status = '-100'") == [
        (0,)
    ]


@needs_real
def test_uci_minutes_add_up_and_waiting_matches_a_walk_of_the_raw_rows(uci_db: Path) -> None:
    waiting, total, end_of = uci_brute_force()
    stored = {
        r[0]: r[1:]
        for r in fetch(
            uci_db,
            """
        SELECT t.ticket_id, t.waiting_minutes, t.resolved_at,
            (SELECT sum(minutes) FROM ticket_status_time s
             WHERE s.source = t.source AND s.ticket_id = t.ticket_id),
            (SELECT min(e."at") FROM ticket_events e
             WHERE e.source = t.source AND e.ticket_id = t.ticket_id)
        FROM tickets t""",
        )
    }
    assert set(stored) == set(waiting)
    resolved = [n for n, (_, res, _, _) in stored.items() if res is not None]
    assert len(resolved) == sum(1 for e in end_of.values() if e is not None) > 7000
    for n in resolved:
        w, res, summed, first = stored[n]
        span = max((res - first).total_seconds() / 60, 0.0)
        assert (summed or 0.0) == pytest.approx(span, abs=1e-6), n
        assert (summed or 0.0) == pytest.approx(total[n], abs=1e-6), n
    for n, (w, *_rest) in stored.items():
        assert w == pytest.approx(waiting[n], abs=1e-6), n
    assert sum(1 for v in waiting.values() if v > 0) > 1000  # the check is not vacuous


@needs_real
def test_uci_excluding_waiting_metric_and_reassignments(uci_db: Path) -> None:
    ((n, med_res, med_excl, hops, bad),) = fetch(
        uci_db,
        """
        SELECT count(*), median(resolution_minutes),
            median(resolution_excluding_waiting_minutes), sum(team_hops),
            count(*) FILTER (WHERE resolution_excluding_waiting_minutes
                             > resolution_minutes + 1e-9)
        FROM ticket_times""",
    )
    assert n == 8341 and med_excl < med_res and hops > 0 and bad == 0
    # team hops: assignment group changes between consecutive moments ('?' keeps the
    # group before it), counted straight from the file
    hops_raw = 0
    by_number: dict[str, list[tuple[datetime, int, int, str]]] = defaultdict(list)
    with UCI.open(encoding="ascii", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            by_number[row["number"]].append(
                (
                    _uci_time(row["sys_updated_at"]),
                    int(row["sys_mod_count"]),
                    i,
                    row["assignment_group"],
                )
            )
    resolved = {r[0]: r[1] for r in fetch(uci_db, "SELECT ticket_id, resolved_at FROM tickets")}
    for number, events in by_number.items():
        current = last = None
        end = resolved[number]
        ordered = sorted(events)
        for k, (at, _, _, group) in enumerate(ordered):
            if end is not None and at >= end:
                break
            if group != "?":
                current = group
            if k + 1 < len(ordered) and ordered[k + 1][0] == at:
                continue  # rows of one instant are one moment, in the state after its last
            if current is not None:
                hops_raw += last is not None and current != last
                last = current
    assert hops == hops_raw


@needs_real
def test_other_event_logs_keep_their_rows_and_add_up(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    load(db, VOLVO, HELPDESK)
    counts = dict(fetch(db, "SELECT ticket_id LIKE '1-%', count(*) FROM ticket_events GROUP BY 1"))
    assert counts == {True: 65_533, False: 13_710}
    mismatched = fetch(
        db,
        """
        WITH s AS (SELECT source, ticket_id, sum(minutes) AS m
                   FROM ticket_status_time GROUP BY 1, 2),
        e AS (SELECT source, ticket_id, min("at") AS first FROM ticket_events GROUP BY 1, 2)
        SELECT count(*) FROM tickets t JOIN e USING (source, ticket_id)
        LEFT JOIN s USING (source, ticket_id)
        WHERE t.resolved_at IS NOT NULL
          AND abs(coalesce(s.m, 0) - greatest(
                (epoch_us(t.resolved_at) - epoch_us(e.first)) / 60e6, 0)) > 1e-6""",
    )
    assert mismatched == [(0,)]
    # Volvo: waiting statuses exist (Wait - User / Vendor) and are taken out
    ((w,),) = fetch(db, "SELECT sum(waiting_minutes) FROM tickets WHERE ticket_id LIKE '1-%'")
    assert w > 0


# --------------------------------------------------------------------------- planted
TICKETS = """ticket_id,service_team,created_at,updated_at,resolved_at,status
T1,IT Service Desk,2024-03-04 09:00:00,2024-03-04 17:00:00,2024-03-04 17:00:00,solved
T2,IT Service Desk,2024-03-04 09:00:00,2024-03-05 12:00:00,2024-03-05 12:00:00,solved
T3,Facilities,2024-03-05 08:00:00,2024-03-06 08:00:00,,open
T4,Facilities,2024-03-05 08:00:00,2024-03-05 09:00:00,2024-03-05 09:00:00,closed
"""
EVENTS = """ticket_id,at,status,service_team,assignee,kind,actor,event_id
T1,2024-03-04 09:00:00,new,IT Service Desk,,status,requester,e1
T1,2024-03-04 10:00:00,open,,ana,reply,agent,e2
T1,2024-03-04 12:00:00,pending,,,reply,agent,e3
T1,2024-03-04 15:00:00,open,,,,requester,e4
T1,2024-03-04 17:00:00,solved,,,reply,agent,e5
T1,2024-03-06 17:00:00,closed,,,status,system,e6
T2,2024-03-04 09:00:00,new,IT Service Desk,,,,e7
T2,2024-03-04 09:30:00,,Facilities,,,,e8
T2,2024-03-04 11:30:00,,IT Service Desk,bo,,,e9
T2,2024-03-04 11:30:00,open,,,,,e10
T2,2024-03-05 12:00:00,solved,,,,,e11
T3,2024-03-05 08:00:00,new,Facilities,,,,e12
T3,2024-03-05 09:00:00,on_hold,Facilities,cy,,,e13
T3,yesterday-ish,open,,,,,e14
T3,2024-03-05 09:00:00,on_hold,Facilities,cy,,,e13
"""


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    (tmp_path / "tickets.csv").write_text(TICKETS)
    (tmp_path / "events.csv").write_text(EVENTS)
    db = tmp_path / "w.duckdb"
    results = ingest_paths(db, [tmp_path / "tickets.csv", tmp_path / "events.csv"], Config())
    assert [r.status for r in results] == ["loaded", "loaded"]
    ev = results[1]
    assert (ev.kind, ev.rows_read, ev.rows_loaded, ev.rows_rejected) == ("events", 15, 13, 2)
    return db


def test_planted_history_time_in_status(planted: Path) -> None:
    reasons = [r[0] for r in fetch(planted, "SELECT reason FROM rejected_rows ORDER BY row_number")]
    assert "duplicate 'e13'" in reasons[0]  # row 13; the later row 15 wins
    assert "could not read 'yesterday-ish'" in reasons[1]
    st = {
        (t, s): (m, e)
        for t, s, m, e in fetch(
            planted, "SELECT ticket_id, status, minutes, entries FROM ticket_status_time"
        )
    }
    assert {k: v for k, v in st.items() if k[0] == "T1"} == {
        ("T1", "new"): (60.0, 1),
        ("T1", "open"): (240.0, 2),
        ("T1", "pending"): (180.0, 1),
    }
    # T3 is open: on hold from 09:00 to the source's as-of (its newest record: T1's
    # closing event, 03-06 17:00)
    assert st[("T3", "on_hold")] == (32 * 60.0, 1)
    got = {
        r[0]: r[1:]
        for r in fetch(
            planted,
            """
        SELECT ticket_id, waiting_minutes, resolution_excluding_waiting_minutes,
            reassignments, team_hops, replies FROM ticket_times""",
        )
    }
    assert got["T1"] == (180.0, 300.0, 0, 0, 3)
    # there and back: two hops; bo's assignment is a first one, not a reassignment
    assert got["T2"][2:4] == (2, 2)
    assert got["T4"] == (None, None, None, None, None)  # no history: nothing invented


def test_planted_handoffs_backlog_and_metrics(planted: Path) -> None:
    from dashboard.filters import Filters
    from dashboard.metrics import flow
    from dashboard.metrics.response_times import summary

    con = duckdb.connect(str(planted), read_only=True)
    try:
        hand = flow.handoffs(con, Filters(), min_handoffs=1)
        pairs = {(r["from_team"], r["to_team"]): r for r in hand.iter_rows(named=True)}
        assert pairs[("IT Service Desk", "Facilities")]["median_held_minutes"] == 120.0
        assert pairs[("IT Service Desk", "Facilities")]["bounced_back_rate"] == 1.0
        back = flow.backlog_by_team(con, Filters())
        day = {
            (r["day"].isoformat(), r["service_team"]): r["open"] for r in back.iter_rows(named=True)
        }
        # 03-04 end: T2 open (IT holds it again); T1 solved. 03-05: T3 open (Facilities),
        # T2 solved at noon, T4 (no history) resolved the same morning.
        assert day[("2024-03-04", "IT Service Desk")] == 1
        assert day[("2024-03-05", "IT Service Desk")] == 0
        assert day[("2024-03-05", "Facilities")] == 1
        assert max(d for d, _ in day) == "2024-03-06"  # up to the as-of day, not beyond
        s = summary(con, Filters(), ["service_team"])
        excl = dict(
            zip(s["service_team"], s["median_resolution_excluding_waiting_minutes"], strict=True)
        )
        assert excl["IT Service Desk"] == pytest.approx((300.0 + 27 * 60.0) / 2)
        assert excl["Facilities"] is None  # T4 has no history, T3 is not resolved
    finally:
        con.close()


def test_overlapping_history_exports_add_nothing_twice(planted: Path, tmp_path: Path) -> None:
    newer = tmp_path / "events_newer.csv"
    newer.write_text(
        EVENTS.replace("e14\n", "e14\n").rstrip("\n").rsplit("\n", 1)[0]
        + "\nT3,2024-03-06 08:00:00,open,,,,,e15\n"
    )
    before = fetch(planted, "SELECT count(*) FROM ticket_events")[0][0]
    ingest_paths(planted, [newer], Config())
    assert fetch(planted, "SELECT count(*) FROM ticket_events")[0][0] == before + 1
    assert fetch(
        planted,
        "SELECT minutes FROM ticket_status_time WHERE ticket_id = 'T3' AND status = 'on_hold'",
    ) == [(23 * 60.0,)]


def test_a_newer_event_log_replaces_the_history_of_the_tickets_it_wins(tmp_path: Path) -> None:
    old = tmp_path / "helpdesk_v1.csv"
    new = tmp_path / "helpdesk_v2.csv"
    old.write_text(
        "CaseID,ActivityID,CompleteTimestamp\n1,1,2024-01-02 09:00:00\n"
        "1,8,2024-01-02 10:00:00\n2,1,2024-01-03 09:00:00\n"
    )
    new.write_text(
        "CaseID,ActivityID,CompleteTimestamp\n1,1,2024-01-02 09:00:00\n"
        "1,8,2024-01-02 10:00:00\n1,6,2024-01-04 10:00:00\n"
    )
    db = tmp_path / "w.duckdb"
    load(db, old)
    load(db, new)
    counts = dict(fetch(db, "SELECT ticket_id, count(*) FROM ticket_events GROUP BY 1"))
    assert counts == {"1": 3, "2": 1}
    assert fetch(db, "SELECT sum(minutes) FROM ticket_status_time WHERE ticket_id = '1'") == [
        (49 * 60.0,)
    ]


# --------------------------------------------------------------------------- business time
@st.composite
def histories(draw: st.DrawFn) -> list[tuple[datetime, str, str | None]]:
    """A ticket's events: (time, status, team) at whole minutes, often across a DST day."""
    ((start, _),) = [draw(intervals())]
    gaps = draw(st.lists(st.integers(0, 6 * 1440), min_size=1, max_size=5))
    times = [start + timedelta(minutes=sum(gaps[:i])) for i in range(len(gaps))]
    statuses = draw(
        st.lists(
            st.sampled_from(["new", "open", "pending", "on_hold"]),
            min_size=len(times),
            max_size=len(times),
        )
    )
    teams = draw(
        st.lists(st.sampled_from(["T", "X", None]), min_size=len(times), max_size=len(times))
    )
    return list(zip(times, statuses, teams, strict=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    team_cal=calendars(),
    default_cal=calendars(),
    events=histories(),
    tail=st.integers(1, 3 * 1440),
    ticket_team=st.sampled_from(["T", "X"]),
)
def test_business_minutes_per_status_match_a_minute_by_minute_reference(
    team_cal: Calendar, default_cal: Calendar, events: list, tail: int, ticket_team: str
) -> None:
    """Each run's business minutes use the calendar of the team holding the ticket
    (the ticket's team while none is recorded), across DST changes and holidays."""
    cfg = Config(calendars={"default": default_cal, "T": team_cal})
    con = duckdb.connect()
    migrate(con)
    resolved = events[-1][0] + timedelta(minutes=tail)
    con.execute(
        "INSERT INTO tickets (ticket_id, source, service_team, created_at, resolved_at, "
        "status) VALUES ('1', 'generic', ?, ?, ?, 'solved')",
        [ticket_team, events[0][0], resolved],
    )
    as_of.rebuild(con)  # what the loader records per file: the source's as-of
    con.executemany(
        'INSERT INTO ticket_events (source, ticket_id, "at", status, service_team, kind, '
        "event_key, seq) VALUES ('generic', '1', ?, ?, ?, 'status', ?, ?)",
        [[at, s, team, str(i), i] for i, (at, s, team) in enumerate(events)],
    )
    refresh_history(con, cfg)
    spans = con.sql(
        "SELECT started_at, ended_at, service_team, minutes, business_minutes "
        "FROM ticket_status_spans ORDER BY span"
    ).fetchall()
    assert sum(s[3] for s in spans) == (resolved - events[0][0]).total_seconds() / 60
    held = None
    for a, b, team, _minutes, business in spans:
        held = team or held  # carried forward like the spans' own team
        cal = team_cal if (held or ticket_team) == "T" else default_cal
        assert business == reference_minutes(cal, a, b), (a, b, team)
    total = con.sql("SELECT sum(business_minutes) FROM ticket_status_time").fetchall()[0][0]
    assert total == pytest.approx(sum(s[4] for s in spans))
    con.close()


# --------------------------------------------------------------------------- demo
def test_demo_history_loads_whole_and_its_planted_patterns_are_found(demo_wh) -> None:
    from dashboard.filters import Filters
    from dashboard.metrics import flow

    (events_csv,) = demo_wh.files.history
    with events_csv.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert fetch(demo_wh.db, "SELECT count(*) FROM ticket_events")[0][0] == len(raw)
    # waiting per ticket, walked from the file: time from a pending/on_hold row to the
    # next row of the ticket, up to its resolution
    resolved = dict(fetch(demo_wh.db, "SELECT ticket_id, resolved_at FROM tickets"))
    by_ticket: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for r in raw:
        at = datetime.fromisoformat(r["at"]).replace(tzinfo=UTC)
        by_ticket[r["ticket_id"]].append((at, r["status"]))
    expected = {}
    for tid, evs in by_ticket.items():
        end = resolved[tid]
        if end is None:
            continue
        evs.sort()
        expected[tid] = sum(
            (min(evs[k + 1][0] if k + 1 < len(evs) else end, end) - at).total_seconds() / 60
            for k, (at, s) in enumerate(evs)
            if s in ("pending", "on_hold") and at < end
        )
    stored = dict(
        fetch(
            demo_wh.db,
            "SELECT ticket_id, waiting_minutes FROM tickets WHERE resolved_at IS NOT NULL",
        )
    )
    assert stored == pytest.approx(expected)
    con = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        summary = flow.summary(con, Filters())
        hand = flow.handoffs(con, Filters())
    finally:
        con.close()
    for r in summary.iter_rows(named=True):
        assert (
            r["median_resolution_excluding_waiting_minutes"]
            < r["history_median_resolution_minutes"]
        )
    # planted misroutes: IT Service Desk hands tickets to HR and Finance, Finance slowest
    assert set(zip(hand["from_team"], hand["to_team"], strict=True)) == {
        ("IT Service Desk", "HR Operations"),
        ("IT Service Desk", "Finance & Payroll"),
    }
    assert hand["to_team"][0] == "Finance & Payroll"


# --------------------------------------------------------------------------- vendor layouts
FIXTURES = Path(__file__).parent / "fixtures"


def status_minutes(db: Path) -> dict[tuple[str, str], float]:
    return {
        (t, s): m
        for t, s, m in fetch(db, "SELECT ticket_id, status, minutes FROM ticket_status_time")
    }


def test_zendesk_audits_and_metric_events(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    zd = FIXTURES / "zendesk"
    results = ingest_paths(
        db,
        [zd / "tickets.csv", zd / "ticket_audits.json", zd / "ticket_metric_events.json"],
        Config(),
    )
    assert [(r.format, r.rows_read, r.rows_rejected) for r in results[1:]] == [
        ("zendesk_audits", 14, 0),
        ("zendesk_metric_events", 8, 0),
    ]
    assert "3 other events" in results[1].message  # a notification, tags, priority
    got = status_minutes(db)
    # 48101: new 08:14 → agent reply and open 08:41 → solved 11:40 (the CSV's Solved at)
    assert (got[("48101", "new")], got[("48101", "open")]) == (27.0, 179.0)
    # 48108 from metric events: only agent_work_time paused 09:00-12:00 → on hold
    assert got[("48108", "on_hold")] == 180.0 and got[("48108", "open")] == 1595.0
    tk = {
        r[0]: r[1:]
        for r in fetch(
            db,
            "SELECT ticket_id, team_hops, replies, status "
            "FROM tickets WHERE waiting_minutes IS NOT NULL",
        )
    }
    assert tk["48106"][:1] == (1,)  # IT Service Desk → Payroll, names from the groups list
    assert tk["48101"][1] == 1  # the requester's description is no reply; Sam's answer is
    ((actor,),) = fetch(db, "SELECT actor FROM ticket_events WHERE event_key = '7001:70011'")
    assert actor == "requester"  # the users sideload says end-user


def test_jira_issue_json_with_changelog(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    load(db, FIXTURES / "jira/issues_changelog.json")
    got = status_minutes(db)
    # LEG-101: waiting for support 08:05 → in progress 09:30 → waiting for customer
    # 09:35 → waiting for support 03-03 11:00 → resolved 03-04 16:00
    assert got[("LEG-101", "pending")] == 25 * 60 + 25
    assert got[("LEG-101", "open")] == 85 + 5 + 29 * 60
    tk = {
        r[0]: r[1:]
        for r in fetch(
            db,
            """SELECT ticket_id, team_hops, waiting_minutes,
        first_response_at, replies FROM tickets""",
        )
    }
    assert tk["LEG-102"][0] == 1  # moved from the HR Operations project to Legal
    assert tk["LEG-104"][1:2] == (None,)  # exported without its changelog: no history
    assert tk["LEG-101"][2].isoformat().startswith("2026-03-02T09:35")  # first agent comment
    assert tk["LEG-101"][3] == 1  # the internal note and the reporter's answer are no replies


def test_servicenow_sys_audit_and_metric_instance(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    sn = FIXTURES / "servicenow"
    # the audit comes first: its rows name incidents by sys_id until the list export
    # (which carries sys_id) says which incident that is
    load(
        db,
        sn / "sys_audit.csv",
        sn / "incident_with_sys_id.csv",
        sn / "sys_audit.json",
        sn / "metric_instance.csv",
    )
    got = status_minutes(db)
    assert got[("INC0013001", "pending")] == 180.0  # On Hold, Awaiting Caller: on the caller
    assert got[("INC0013002", "on_hold")] == 180.0  # On Hold, Awaiting Vendor
    assert got[("INC0013003", "on_hold")] == 60.0  # metric_instance "Incident State Duration"
    assert fetch(db, "SELECT count(*) FROM ticket_events WHERE ticket_id NOT LIKE 'INC%'") == [(0,)]
    hops = dict(fetch(db, "SELECT ticket_id, team_hops FROM tickets"))
    assert hops == {"INC0013001": 0, "INC0013002": 1, "INC0013003": 0}
