"""Business minutes and SLA state, checked through the real path.

Every check goes DuckDB in-memory → `migrate` → INSERT tickets → refresh →
SELECT from the `ticket_times` view, and compares with a brute-force reference
that classifies each single UTC minute by its wall-clock time (zoneinfo). The
reference knows nothing about the day table, pieces or joins, so a mistake in
either shows up as a disagreement.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import as_of
from dashboard.config import PRIORITIES, WEEKDAYS, Calendar, Config, SlaTargets
from dashboard.derive.business_minutes import refresh_business_minutes, refresh_sla_targets
from dashboard.metrics.business_time import DUE_HORIZON_DAYS, open_sla_status, sla_due_at
from dashboard.warehouse import migrate

ALL_DAYS = WEEKDAYS
MON_FRI = ("mon", "tue", "wed", "thu", "fri")
# DST zones of several kinds: EU and US rules, southern hemisphere, a 30-minute
# DST shift (Lord Howe), quarter-hour offsets (Kathmandu, Chatham), switches at
# midnight (Santiago), and no DST at all.
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Santiago",
    "America/St_Johns",
    "Asia/Tokyo",
)
WINDOW_START = datetime(2023, 10, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 7, 1, tzinfo=UTC)
QUARTER = 15  # minutes


# --------------------------------------------------------------------------- reference
@cache
def _quarter_offsets(zone: str) -> np.ndarray:
    """UTC offset (minutes) at the start of every UTC quarter-hour of the test window.

    Every offset change of the ZONES in this window happens on a UTC quarter-hour
    (offsets are multiples of 15 min and clocks switch at whole local quarter-hours),
    so the offset of a minute is the offset at its quarter's start. zoneinfo is asked
    once per UTC day, and per quarter-hour on days whose offset changes; caching per
    zone keeps the reference fast enough for hypothesis without changing its answer.
    """
    z = ZoneInfo(zone)

    def off(q: int) -> int:
        delta = datetime.fromtimestamp(q * 900, tz=z).utcoffset()
        assert delta is not None
        return int(delta.total_seconds()) // 60

    q0 = int(WINDOW_START.timestamp()) // 900
    q1 = int(WINDOW_END.timestamp()) // 900
    out = np.empty(q1 - q0 + 1, dtype=np.int64)
    for d0 in range(q0, q1 + 1, 96):
        d1 = min(d0 + 96, q1 + 1)
        first, nxt = off(d0), off(d1)
        out[d0 - q0 : d1 - q0] = first
        if first != nxt:
            out[d0 - q0 : d1 - q0] = [off(q) for q in range(d0, d1)]
    return out


def reference_minutes(cal: Calendar, a: datetime, b: datetime) -> float | None:
    """Business minutes in [a, b), minute by minute (a and b on whole minutes)."""
    if b < a:
        return None
    a_m, b_m = int(a.timestamp()) // 60, int(b.timestamp()) // 60
    assert a.timestamp() % 60 == 0 and b.timestamp() % 60 == 0
    if b_m == a_m:
        return 0.0
    minutes = np.arange(a_m, b_m, dtype=np.int64)
    q0 = int(WINDOW_START.timestamp()) // 900
    local = minutes + _quarter_offsets(cal.timezone)[minutes // QUARTER - q0]
    day, tod = local // 1440, local % 1440
    weekday_ok = np.array([WEEKDAYS[(i + 3) % 7] in cal.workdays for i in range(7)])
    first = int(day.min())  # not day[0]: a fall-back at midnight moves the clock a day back
    holiday = np.zeros(int(day.max()) - first + 1, dtype=bool)
    for h in cal.holidays:
        i = (h - date(1970, 1, 1)).days - first
        if 0 <= i < holiday.size:
            holiday[i] = True
    start = cal.start.hour * 60 + cal.start.minute
    end = cal.end.hour * 60 + cal.end.minute
    business = weekday_ok[day % 7] & ~holiday[day - first] & (tod >= start) & (tod < end)
    return float(np.count_nonzero(business))


def test_reference_agrees_with_a_per_minute_zoneinfo_walk() -> None:
    """The quarter-hour offset shortcut of the reference equals asking zoneinfo every minute."""
    cal = Calendar("Australia/Lord_Howe", ALL_DAYS, time(1, 0), time(3, 0))
    a = datetime(2024, 4, 6, 12, 0, tzinfo=UTC)  # Lord Howe falls back 30 min on 2024-04-07
    b = a + timedelta(days=2)
    z = ZoneInfo(cal.timezone)
    slow = 0
    t = a
    while t < b:
        local = t.astimezone(z)
        if cal.start <= local.time() < cal.end:
            slow += 1
        t += timedelta(minutes=1)
    assert reference_minutes(cal, a, b) == slow == 2 * 120 + 30


# --------------------------------------------------------------------------- real path
def _warehouse(
    config: Config, tickets: list[tuple], con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """In-memory warehouse with `tickets` (id, team, priority, status, created, first, resolved).

    Pass `con` to reuse a migrated connection (its tickets are replaced): the
    property test runs many examples and a fresh migrate each time dominates.
    """
    if con is None:
        con = duckdb.connect()
        migrate(con)
    con.execute("DELETE FROM tickets")
    if tickets:
        con.executemany(
            "INSERT INTO tickets (ticket_id, source, service_team, priority, status, created_at, "
            "first_response_at, resolved_at) VALUES (?, 'generic', ?, ?, ?, ?, ?, ?)",
            [list(t) for t in tickets],
        )
    refresh_sla_targets(con, config)
    refresh_business_minutes(con, config)
    return con


def _times(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.sql(
        "SELECT ticket_id, first_response_business_minutes, resolution_business_minutes, "
        "sla_first_response_met, sla_resolution_met FROM ticket_times"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _one(cal: Calendar, a: datetime, b: datetime | None) -> float | None:
    """Business minutes a→b for a single ticket of a team with calendar `cal`."""
    cfg = Config(calendars={"default": Calendar(), "T": cal})
    con = _warehouse(cfg, [("1", "T", "normal", "open", a, b, None)])
    return _times(con)["1"][0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"), fold=fold)


def test_friday_evening_to_monday_morning_is_15_minutes() -> None:
    assert _one(Calendar(), utc(2024, 3, 1, 18), utc(2024, 3, 4, 9, 15)) == 15


def test_created_and_answered_outside_hours_is_zero() -> None:
    assert _one(Calendar(), utc(2024, 3, 5, 18), utc(2024, 3, 5, 20)) == 0  # Tuesday evening
    assert _one(Calendar(), utc(2024, 3, 9, 10), utc(2024, 3, 10, 12)) == 0  # weekend
    assert _one(Calendar(), utc(2024, 3, 5, 3), utc(2024, 3, 5, 8, 59)) == 0  # before opening


def test_holiday_counts_nothing() -> None:
    cal = Calendar(holidays=(date(2024, 12, 25),))
    # Tue 16:00 → Thu 10:00 with Wednesday a holiday: 60 + 60.
    assert _one(cal, utc(2024, 12, 24, 16), utc(2024, 12, 26, 10)) == 120
    assert _one(Calendar(), utc(2024, 12, 24, 16), utc(2024, 12, 26, 10)) == 120 + 480


def test_holiday_is_a_local_date() -> None:
    """Tokyo's holiday 2024-05-03 runs 2024-05-02 15:00Z → 05-03 15:00Z."""
    cal = Calendar("Asia/Tokyo", holidays=(date(2024, 5, 3),))
    assert _one(cal, utc(2024, 5, 2, 15), utc(2024, 5, 3, 15)) == 0
    assert _one(cal, utc(2024, 5, 1, 15), utc(2024, 5, 2, 15)) == 480


def test_berlin_spring_forward_day_loses_the_skipped_hour() -> None:
    night = Calendar("Europe/Berlin", ALL_DAYS, time(1, 0), time(5, 0))
    # 2024-03-31: 02:00 CET jumps to 03:00 CEST, so a 01:00-05:00 window lasts 3 h.
    assert _one(night, berlin(2024, 3, 31, 0), berlin(2024, 3, 31, 6)) == 180
    assert _one(night, berlin(2024, 3, 30, 0), berlin(2024, 3, 30, 6)) == 240
    # A window opening inside the gap opens at the first instant whose clock is >= 02:30.
    gap = Calendar("Europe/Berlin", ALL_DAYS, time(2, 30), time(4, 0))
    assert _one(gap, berlin(2024, 3, 31, 0), berlin(2024, 3, 31, 6)) == 60


def test_berlin_weekend_across_spring_forward() -> None:
    """Fri 16:00 CET → Mon 10:00 CEST = 120 business minutes, 65 real hours apart."""
    cal = Calendar("Europe/Berlin")
    a, b = berlin(2024, 3, 29, 16), berlin(2024, 4, 1, 10)
    assert b.astimezone(UTC) - a.astimezone(UTC) == timedelta(hours=65)
    assert _one(cal, a, b) == 120


def test_berlin_fall_back_day_counts_the_repeated_hour_twice() -> None:
    night = Calendar("Europe/Berlin", ALL_DAYS, time(1, 0), time(5, 0))
    # 2024-10-27: 03:00 CEST goes back to 02:00 CET, so 01:00-05:00 lasts 5 h.
    assert _one(night, berlin(2024, 10, 27, 0), berlin(2024, 10, 27, 6)) == 300
    # Window 02:30-04:00 starts inside the repeated hour: 02:30-03:00 CEST, then
    # (clock back at 02:00, below 02:30) closed until 02:30 CET, then 02:30-04:00 CET.
    fold = Calendar("Europe/Berlin", ALL_DAYS, time(2, 30), time(4, 0))
    a, b = berlin(2024, 10, 27, 0), berlin(2024, 10, 27, 6)
    assert _one(fold, a, b) == 30 + 90 == reference_minutes(fold, a, b)
    # Ending inside the repeated hour: first pass 02:00-02:30 CEST, second 02:00-02:30 CET.
    end_fold = Calendar("Europe/Berlin", ALL_DAYS, time(2, 0), time(2, 30))
    assert _one(end_fold, a, b) == 60 == reference_minutes(end_fold, a, b)
    # Start and end on different passes through the fold.
    assert _one(night, berlin(2024, 10, 27, 2, 15), berlin(2024, 10, 27, 2, 15, fold=1)) == 60


def test_new_york_weekend_across_spring_forward() -> None:
    cal = Calendar("America/New_York")
    ny = ZoneInfo("America/New_York")
    a = datetime(2024, 3, 8, 16, tzinfo=ny)  # Friday, EST
    b = datetime(2024, 3, 11, 10, tzinfo=ny)  # Monday, EDT
    assert _one(cal, a, b) == 120


def test_sub_minute_timestamps_and_ticket_spanning_months() -> None:
    assert _one(Calendar(), utc(2024, 3, 5, 9, 0, 30), utc(2024, 3, 5, 9, 1)) == 0.5
    # Mon 2024-01-01 09:00 → Mon 2024-04-01 09:00: 13 weeks x 5 days x 8 h.
    assert _one(Calendar(), utc(2024, 1, 1, 9), utc(2024, 4, 1, 9)) == 13 * 5 * 480


def test_missing_or_backwards_end_is_null_and_equal_is_zero() -> None:
    at = utc(2024, 3, 5, 10)
    con = _warehouse(
        Config(),
        [
            ("none", "T", "normal", "open", at, None, None),
            ("back", "T", "normal", "solved", at, utc(2024, 3, 5, 9), utc(2024, 3, 4, 12)),
            ("same", "T", "normal", "solved", at, at, at),
        ],
    )
    got = _times(con)
    assert got["none"][:2] == (None, None)
    assert got["back"][:2] == (None, None)
    assert got["same"][:2] == (0, 0)


def test_teams_without_calendar_and_null_team_use_default() -> None:
    cfg = Config(
        calendars={
            "default": Calendar("America/New_York"),
            "Berlin desk": Calendar("Europe/Berlin"),
        }
    )
    a, b = utc(2024, 3, 5, 8), utc(2024, 3, 5, 16)  # 09-17 CET; 03-11 EST
    con = _warehouse(
        cfg,
        [
            ("b", "Berlin desk", "normal", "open", a, b, None),
            ("o", "Other", "normal", "open", a, b, None),
            ("n", None, "normal", "open", a, b, None),
        ],
    )
    got = _times(con)
    assert got["b"][0] == 480
    assert got["o"][0] == got["n"][0] == 120


def test_refresh_computes_only_stale_rows_and_follows_config_changes() -> None:
    con = _warehouse(
        Config(), [("1", "T", "normal", "open", utc(2024, 3, 5, 8), utc(2024, 3, 5, 12), None)]
    )
    assert _times(con)["1"][0] == 180
    assert refresh_business_minutes(con, Config()) == 0  # same config: nothing to redo
    later = Config(calendars={"default": Calendar(start=time(10, 0))})
    assert refresh_business_minutes(con, later) == 1
    assert _times(con)["1"][0] == 120
    # A row the loader inserted or replaced (derived_key NULL) is recomputed alone.
    con.execute(
        "INSERT INTO tickets (ticket_id, source, service_team, priority, status, "
        "created_at, first_response_at) VALUES ('2', 'generic', 'T', 'normal', 'open', "
        "TIMESTAMPTZ '2024-03-05 08:00:00+00', TIMESTAMPTZ '2024-03-05 11:00:00+00')"
    )
    assert refresh_business_minutes(con, later) == 1
    assert _times(con)["2"][0] == 60
    # Inside a caller's transaction (ingest): joins it, and the caller's rollback undoes it.
    con.execute("BEGIN TRANSACTION")
    assert refresh_business_minutes(con, Config(), own_transaction=False) == 2
    assert _times(con)["1"][0] == 180
    con.execute("ROLLBACK")
    assert _times(con)["1"][0] == 120
    con.execute("DELETE FROM tickets")
    assert refresh_business_minutes(con, Config()) == 0


def test_refresh_in_small_chunks_gives_the_same_numbers(monkeypatch) -> None:
    """The refresh updates rowid ranges one statement each; range edges lose nothing."""
    from dashboard.derive import business_minutes as bt

    tickets = [
        (
            str(i),
            ["T", "U"][i % 2],
            "normal",
            "open",
            utc(2024, 3, 1 + i, 8),
            utc(2024, 3, 1 + i, 12),
            None if i % 3 else utc(2024, 3, 9, 10),
        )
        for i in range(7)
    ]
    whole = _times(_warehouse(Config(), tickets))
    monkeypatch.setattr(bt, "REFRESH_CHUNK_ROWS", 2)
    con = _warehouse(Config(), tickets)
    assert _times(con) == whole
    assert con.sql("SELECT count(*) FROM tickets WHERE derived_key IS NULL").fetchall() == [(0,)]


def test_replacing_a_ticket_in_a_newer_export_recomputes_its_business_minutes(tmp_path) -> None:
    """The loader marks replaced rows stale: their stored minutes must not survive."""
    from dashboard import derive
    from dashboard.ingest.load import ingest_file

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con)
    header = "ticket_id,service_team,priority,status,created_at,updated_at,first_response_at\n"
    for n, (updated, first) in enumerate(
        (("2024-03-05 13:00", "2024-03-05 12:00"), ("2024-03-06 09:00", "2024-03-05 14:00"))
    ):
        path = tmp_path / f"export{n}.csv"
        path.write_text(header + f"1,T,normal,open,2024-03-05 08:00,{updated},{first}\n")
        assert ingest_file(con, path).status == "loaded"
        derive.refresh(con, Config())
    assert _times(con)["1"][0] == 300  # 09:00 → 14:00, not the first export's 180


def test_sla_targets_and_view_flags() -> None:
    cfg = Config(
        slas={
            "default": SlaTargets(),
            "Facilities": SlaTargets(
                first_response={"urgent": 30, "high": 240, "normal": 60, "low": 1440},
                business=False,
            ),
        }
    )
    con = duckdb.connect()
    migrate(con)
    assert refresh_sla_targets(con, cfg) == 8
    rows = con.sql("SELECT * FROM sla_targets ORDER BY service_team, priority").fetchall()
    assert ("*", "normal", 480.0, 4320.0, True) in rows
    assert ("Facilities", "normal", 60.0, 4320.0, False) in rows
    # Fri 16:30 → Mon 09:00: 30 business minutes, 3870 calendar minutes.
    a, b = utc(2024, 3, 1, 16, 30), utc(2024, 3, 4, 9)
    con.executemany(
        "INSERT INTO tickets (ticket_id, source, service_team, priority, status, created_at, "
        "first_response_at) VALUES (?, 'g', ?, 'normal', 'open', ?, ?)",
        [["biz", "IT", a, b], ["cal", "Facilities", a, b]],
    )
    refresh_business_minutes(con, cfg)
    got = _times(con)
    assert got["biz"][0] == 30 and got["biz"][2] is True  # 30 business <= 480
    assert got["cal"][2] is False  # 3870 calendar minutes > 60
    # Unresolved: judged at the source's as-of, never at the wall clock. The data's
    # own time (Mon 09:00, its newest timestamp) is before the 9-business-day due time.
    as_of.rebuild(con)
    assert _times(con)["biz"][3] is None  # not yet due
    due = con.sql("SELECT resolution_due_at FROM tickets WHERE ticket_id = 'biz'").fetchall()[0][0]
    assert as_of.apply_config(con, Config(as_of=due - timedelta(seconds=1)))
    assert _times(con)["biz"][3] is None  # one second before the deadline
    assert as_of.apply_config(con, Config(as_of=due))
    assert _times(con)["biz"][3] is False  # at the deadline: a miss


def test_open_sla_status() -> None:
    cfg = Config()  # normal: first response 480, resolution 4320 business minutes
    as_of = utc(2024, 3, 6, 12)  # Wednesday noon
    con = _warehouse(
        cfg,
        [
            # 3 business hours in: 180 / 480 -> ok, resolution ok.
            ("ok", "T", "normal", "open", utc(2024, 3, 6, 9), None, None),
            # since Tue 09:00: 8 h + 3 h = 660 > 480 -> first response breached.
            ("late", "T", "normal", "open", utc(2024, 3, 5, 9), None, None),
            # since Tue 12:00: 5 h + 3 h = 480 -> exactly at target: at risk, not breached.
            ("edge", "T", "normal", "open", utc(2024, 3, 5, 12), None, None),
            # answered before as_of: only resolution counts.
            ("ans", "T", "normal", "open", utc(2024, 3, 5, 9), utc(2024, 3, 5, 10), None),
            # resolved before as_of, created after as_of, closed without date: not open.
            (
                "done",
                "T",
                "normal",
                "solved",
                utc(2024, 3, 5, 9),
                utc(2024, 3, 5, 10),
                utc(2024, 3, 5, 11),
            ),
            ("future", "T", "normal", "open", utc(2024, 3, 7, 9), None, None),
            ("closed", "T", "normal", "closed", utc(2024, 3, 5, 9), None, None),
            # resolved after as_of: still open at as_of.
            ("laterres", "T", "urgent", "solved", utc(2024, 3, 6, 11), None, utc(2024, 3, 7, 9)),
        ],
    )
    df = open_sla_status(con, cfg, as_of)
    by = {r["ticket_id"]: r for r in df.iter_rows(named=True)}
    assert set(by) == {"ok", "late", "edge", "ans", "laterres"}
    assert by["ok"]["first_response_elapsed_minutes"] == 180
    assert (by["ok"]["first_response_status"], by["ok"]["sla_status"]) == ("ok", "ok")
    assert by["late"]["first_response_status"] == "breached" == by["late"]["sla_status"]
    assert by["late"]["resolution_status"] == "ok"
    assert by["edge"]["first_response_status"] == "at_risk"
    assert by["ans"]["first_response_status"] is None
    assert by["ans"]["first_response_elapsed_minutes"] is None
    assert by["ans"]["resolution_elapsed_minutes"] == 660
    # urgent first response 60: 60/60 used -> at risk; resolution 60/480 -> ok.
    assert by["laterres"]["first_response_status"] == "at_risk"
    assert by["laterres"]["resolution_status"] == "ok"
    assert df.schema["created_at"] == pl.Datetime("us", "UTC")
    # Before any ticket exists the answer is an empty frame with the same columns.
    empty = open_sla_status(_warehouse(cfg, []), cfg, as_of)
    assert empty.height == 0 and empty.columns == df.columns


def test_due_times_business_and_calendar() -> None:
    cfg = Config(slas={"default": SlaTargets(), "Cal": SlaTargets(business=False)})
    a = utc(2024, 3, 1, 16, 30)  # Friday
    con = _warehouse(
        cfg,
        [
            ("biz", "IT", "normal", "open", a, None, None),
            ("cal", "Cal", "normal", "open", a, None, None),
            ("nop", "IT", None, "open", a, None, None),
        ],
    )
    due = {r["ticket_id"]: r for r in sla_due_at(con, cfg).iter_rows(named=True)}
    # 480 business minutes: 30 on Friday, 450 from Monday 09:00 -> Monday 16:30.
    assert due["biz"]["first_response_due_at"] == utc(2024, 3, 4, 16, 30)
    # 4320 business minutes = 9 working days: Fri 30 min + 8 days + 450 min -> Thu 14th 16:30.
    assert due["biz"]["resolution_due_at"] == utc(2024, 3, 14, 16, 30)
    assert due["cal"]["first_response_due_at"] == a + timedelta(minutes=480)
    assert due["nop"]["first_response_due_at"] is None  # no priority, no target


def test_refresh_fills_due_columns_while_their_clock_runs() -> None:
    """Due times are filled only while their clock runs (what the view needs)."""
    con = duckdb.connect()
    migrate(con)
    con.execute(
        "INSERT INTO tickets (ticket_id, source, service_team, priority, created_at, "
        "first_response_at, resolved_at) VALUES "
        "('1', 'g', 'IT', 'urgent', TIMESTAMPTZ '2024-03-01 16:30:00+00', NULL, NULL), "
        "('2', 'g', 'IT', 'urgent', TIMESTAMPTZ '2024-03-01 16:30:00+00', "
        "TIMESTAMPTZ '2024-03-01 16:40:00+00', TIMESTAMPTZ '2024-03-01 16:50:00+00')"
    )
    assert refresh_business_minutes(con, Config()) == 2
    rows = dict(
        con.sql(
            "SELECT ticket_id, [first_response_due_at, resolution_due_at] FROM tickets"
        ).fetchall()
    )
    # urgent: 60 and 480 business minutes from Friday 16:30.
    assert [r.astimezone(UTC) for r in rows["1"]] == [
        utc(2024, 3, 4, 9, 30),
        utc(2024, 3, 4, 16, 30),
    ]
    assert rows["2"] == [None, None]  # both clocks stopped: not needed by the view
    assert con.sql(
        "SELECT first_response_business_minutes FROM tickets WHERE ticket_id = '2'"
    ).fetchall() == [(10.0,)]


# --------------------------------------------------------------------------- property
# DST switch dates of the ZONES in 2024-2025, to make intervals start near them often.
DST_DAYS = [
    date(2024, 3, 10),
    date(2024, 3, 31),
    date(2024, 10, 27),
    date(2024, 11, 3),
    date(2024, 4, 7),
    date(2024, 10, 6),
    date(2024, 9, 8),
    date(2024, 9, 29),
    date(2025, 3, 9),
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2025, 11, 2),
    date(2025, 4, 6),
    date(2025, 10, 5),
    date(2025, 4, 5),
]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    tz = draw(st.sampled_from(ZONES))
    days = draw(st.sets(st.sampled_from(ALL_DAYS), max_size=7))
    clock = st.one_of(st.integers(0, 1439), st.sampled_from([0, 60, 90, 120, 150, 180, 1380]))
    a, b = sorted(draw(st.lists(clock, min_size=2, max_size=2, unique=True)))
    holidays = draw(st.lists(st.dates(date(2023, 12, 1), date(2026, 3, 1)), max_size=6))
    holidays += draw(st.lists(st.sampled_from(DST_DAYS), max_size=2))
    return Calendar(
        tz,
        tuple(d for d in ALL_DAYS if d in days),
        time(a // 60, a % 60),
        time(b // 60, b % 60),
        tuple(holidays),
    )


@st.composite
def intervals(draw: st.DrawFn) -> tuple[datetime, datetime]:
    if draw(st.booleans()):
        base = datetime.combine(draw(st.sampled_from(DST_DAYS)), time(), UTC)
        start = base + timedelta(minutes=draw(st.integers(-3 * 1440, 2 * 1440)))
    else:
        start = utc(2024, 1, 1) + timedelta(minutes=draw(st.integers(0, 700 * 1440)))
    length = draw(
        st.one_of(st.integers(-120, 600), st.integers(0, 10 * 1440), st.integers(0, 92 * 1440))
    )
    return start, start + timedelta(minutes=length)


CHECK_SPAN = timedelta(days=120)
_PROPERTY_CON: list[duckdb.DuckDBPyConnection] = []


def _shared_con() -> duckdb.DuckDBPyConnection:
    if not _PROPERTY_CON:
        con = duckdb.connect()
        migrate(con)
        _PROPERTY_CON.append(con)
    return _PROPERTY_CON[0]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    team_cal=calendars(),
    default_cal=calendars(),
    spans=st.lists(
        st.tuples(
            intervals(), intervals(), st.sampled_from(["T", "X", None]), st.sampled_from(PRIORITIES)
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_business_minutes_and_due_times_match_minute_by_minute_reference(
    team_cal: Calendar,
    default_cal: Calendar,
    spans: list[tuple[tuple[datetime, datetime], tuple[datetime, datetime], str | None, str]],
) -> None:
    cfg = Config(calendars={"default": default_cal, "T": team_cal})
    tickets, expected, cals = [], {}, {}
    for i, ((a, b), (r0, r1), team, prio) in enumerate(spans):
        r = a + (r1 - r0)  # resolution from the same created_at, to a second random end
        tickets.append((str(i), team, prio, "open", a, b, r))
        cal = team_cal if team == "T" else default_cal
        expected[str(i)] = (reference_minutes(cal, a, b), reference_minutes(cal, a, r))
        cals[str(i)] = (cal, a, prio)
    con = _warehouse(cfg, tickets, _shared_con())
    got = {k: v[:2] for k, v in _times(con).items()}
    assert got == expected
    # Due times: the target is used up exactly at the due minute, not a minute earlier.
    targets = SlaTargets()
    horizon = max(max(t[4:]) for t in tickets) + timedelta(days=DUE_HORIZON_DAYS)
    for row in sla_due_at(con, cfg).iter_rows(named=True):
        cal, a, prio = cals[row["ticket_id"]]
        for col, target in (
            ("first_response_due_at", targets.first_response[prio]),
            ("resolution_due_at", targets.resolution[prio]),
        ):
            due = row[col]
            # Deadlines more than ~4 months out are checked only up to there, to keep the
            # minute-by-minute reference fast (it is O(length)).
            if due is None:  # beyond the horizon: the target is not reached before it
                assert reference_minutes(cal, a, min(horizon, a + CHECK_SPAN)) < target
            elif due < min(WINDOW_END, a + CHECK_SPAN):
                assert reference_minutes(cal, a, due) == target
                # ...and not a minute earlier: the last minute before it is business time.
                assert reference_minutes(cal, due - timedelta(minutes=1), due) == 1
            else:  # far out: at least not reached within the span we can afford to walk
                assert reference_minutes(cal, a, a + CHECK_SPAN) < target


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
