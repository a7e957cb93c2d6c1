"""Ticket history → ticket_events, ticket_status_time, waiting time, reassignments.

The real event logs are checked against brute-force walks of their raw rows with
the csv module (no DuckDB, no adapter code): every status interval summed per
incident, waiting (pending + on hold) per incident, and the CONTRACT invariant that
the minutes over a ticket's statuses add up to first event → resolution.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from dashboard.config import Config
from dashboard.ingest import ingest_paths
from tests.conftest import REAL_EXPORTS

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


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


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
    assert rows(uci_db, "SELECT count(*) FROM ticket_events")[0][0] == raw == 47_493
    # the bogus state -100 is no status: those rows keep the state before them
    assert rows(uci_db, "SELECT count(*) FROM ticket_events WHERE vendor_status = '-100'") == [(0,)]


@needs_real
def test_uci_minutes_add_up_and_waiting_matches_a_walk_of_the_raw_rows(uci_db: Path) -> None:
    waiting, total, end_of = uci_brute_force()
    stored = {
        r[0]: r[1:]
        for r in rows(
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
    ((n, med_res, med_excl, hops, bad),) = rows(
        uci_db,
        """
        SELECT count(*), median(resolution_minutes),
            median(resolution_excluding_waiting_minutes), sum(team_hops),
            count(*) FILTER (WHERE resolution_excluding_waiting_minutes
                             > resolution_minutes + 1e-9)
        FROM ticket_times""",
    )
    assert n == 8341 and med_excl < med_res and hops > 0 and bad == 0
    # team hops: assignment group changes between consecutive rows (groups never '?'
    # in between), counted straight from the file
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
    resolved = {r[0]: r[1] for r in rows(uci_db, "SELECT ticket_id, resolved_at FROM tickets")}
    for number, events in by_number.items():
        last = None
        end = resolved[number]
        for at, _, _, group in sorted(events):
            if end is not None and at >= end:
                break
            if group != "?":
                hops_raw += last is not None and group != last
                last = group
    assert hops == hops_raw


@needs_real
def test_other_event_logs_keep_their_rows_and_add_up(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    load(db, VOLVO, HELPDESK)
    counts = dict(rows(db, "SELECT ticket_id LIKE '1-%', count(*) FROM ticket_events GROUP BY 1"))
    assert counts == {True: 65_533, False: 13_710}
    mismatched = rows(
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
    ((w,),) = rows(db, "SELECT sum(waiting_minutes) FROM tickets WHERE ticket_id LIKE '1-%'")
    assert w > 0
