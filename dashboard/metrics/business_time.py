"""Business-hours minutes and SLA state, computed set-wise in DuckDB.

Why this shape
--------------
"Friday 18:00 → Monday 09:15 waited 15 business minutes" needs, per ticket, the
measure of the team's business hours inside an interval. Walking the calendar per
ticket is O(length of the interval) and a Python loop over 10M tickets is hours.
Instead we use a cumulative function: F(t) = business time from a fixed origin up
to instant t. Then business(a, b) = F(b) − F(a), and F is O(1) to evaluate with
one equality join:

    F(t) = cum_before(utc_day(t)) + Σ_k clamp(t − open_k, 0, len_k)

where, for each *UTC* day, (open_k, len_k) are the (at most a handful of)
business-hour pieces that fall inside that UTC day, and cum_before is the
business time of all earlier UTC days. Keying the table by UTC day (an integer
computed from `epoch_us`) rather than the team's local date means the hot query
never converts a timestamp to a time zone: ICU conversions per row are the
expensive part at 10M tickets; integer arithmetic and a hash join on a table of a
few thousand rows are cheap.

Time zones, DST and holidays
----------------------------
The pieces are built in Python per calendar (a loop per *day*, vectorised with
numpy, never per ticket) from the exact definition used by the tests' brute-force
reference: instant t is business time iff its local wall-clock time, in the
calendar's zone, falls on a workday that is not a holiday and between `start`
(inclusive) and `end` (exclusive). For each span of constant UTC offset we map
the local window [day+start, day+end) to UTC and intersect it with the span. So:

* on a spring-forward day the skipped hour simply is not business time (a 01:00–
  05:00 window lasts 3 h); if `start` itself falls in the gap the day opens at the
  transition instant, the first moment whose wall clock is ≥ start;
* on a fall-back day the repeated hour counts twice when it is inside the window
  (01:00–05:00 lasts 5 h), and a window starting or ending *inside* the repeated
  hour becomes two pieces, exactly like the wall clock says;
* holidays and non-workdays contribute no pieces; a holiday is a local date.

Offset changes are found by sampling the zone every 12 h and bisecting to the
second, so an offset change undone within 12 h would be missed (the tz database
has none for real zones in modern times).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import polars as pl

from dashboard import warehouse
from dashboard.config import PRIORITIES, Calendar, Config

US = 1_000_000
DAY_S = 86_400
DAY_US = DAY_S * US
MINUTE_US = 60 * US
# Integer division in DuckDB truncates toward zero; shifting by a whole number of
# days first makes it a floor for any instant after 1696 without a float floor().
_DAY_SHIFT = 100_000
_SAMPLE_S = 12 * 3600
AT_RISK_SHARE = 0.75
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class CalendarTable:
    """The per-UTC-day table of one set of calendars, ready to register in DuckDB.

    `days` has columns cal (int), day (UTC epoch day), cum (business µs before
    the day), o0, l0, o1, l1, … (piece start in epoch µs and its length in µs;
    unused pieces are o = day start, l = 0). `pieces` is the number of (o, l)
    column pairs; `teams` maps service teams with their own calendar to `cal`
    (every other team, and NULL, is calendar 0: `calendar.default`).
    `spans` lists every business piece once (cal, cum = business µs before it,
    o, l): the inverse of F, "when does the clock reach N business minutes", is
    an ASOF join on it.
    """

    days: pl.DataFrame
    pieces: int
    teams: pl.DataFrame
    spans: pl.DataFrame


def _offset_s(zone: ZoneInfo, t_s: int) -> int:
    """UTC offset in seconds of `zone` at epoch second `t_s`."""
    off = datetime.fromtimestamp(t_s, tz=UTC).astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


@lru_cache(maxsize=128)
def _offset_spans(zone: ZoneInfo, lo_s: int, hi_s: int) -> tuple[tuple[int, int, int], ...]:
    """Spans [start, end) of constant UTC offset covering [lo_s, hi_s): (start, end, offset).

    Cached: the app asks for the same range on every rerun, and zoneinfo calls
    are the only per-day Python work left.
    """
    spans: list[tuple[int, int, int]] = []
    start, cur = lo_s, _offset_s(zone, lo_s)
    t = lo_s
    while t < hi_s:
        nxt = min(t + _SAMPLE_S, hi_s)
        off = _offset_s(zone, nxt)
        if off != cur:
            a, b = t, nxt  # offset(a) == cur, offset(b) != cur: bisect to the second
            while b - a > 1:
                m = (a + b) // 2
                if _offset_s(zone, m) == cur:
                    a = m
                else:
                    b = m
            spans.append((start, b, cur))
            start, cur = b, _offset_s(zone, b)
        t = nxt
    spans.append((start, hi_s, cur))
    return tuple(spans)


def business_pieces(cal: Calendar, lo_s: int, hi_s: int) -> np.ndarray:
    """Disjoint, sorted business intervals [open, close) in epoch seconds within [lo_s, hi_s).

    Shape (n, 2). Follows the wall-clock definition in the module docstring, so
    DST gaps and folds inside the window come out right without special cases.
    """
    zone = ZoneInfo(cal.timezone)
    start = cal.start.hour * 3600 + cal.start.minute * 60
    end = cal.end.hour * 3600 + cal.end.minute * 60
    workdays = np.array(sorted(cal.weekday_numbers), dtype=np.int64)
    holidays = np.array([(h - _EPOCH).days for h in cal.holidays], dtype=np.int64)
    out = []
    for a, b, off in _offset_spans(zone, lo_s, hi_s):
        # Local days whose window, shifted by this offset, can touch [a, b).
        d = np.arange((a - end + off) // DAY_S, (b - start + off) // DAY_S + 2, dtype=np.int64)
        iso_weekday = (d + 3) % 7 + 1  # epoch day 0 (1970-01-01) was a Thursday
        d = d[np.isin(iso_weekday, workdays) & ~np.isin(d, holidays)]
        o = np.maximum(d * DAY_S + start - off, a)
        c = np.minimum(d * DAY_S + end - off, b)
        keep = c > o
        out.append(np.stack([o[keep], c[keep]], axis=1))
    pieces = np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)
    return pieces[np.argsort(pieces[:, 0], kind="stable")]


@dataclass
class _DayPieces:
    """One calendar's pieces split at UTC midnights: per-day columns plus per-piece arrays."""

    cols: dict[str, np.ndarray]  # cal, day, cum (one entry per UTC day)
    open_us: np.ndarray  # per piece
    length_us: np.ndarray
    day_idx: np.ndarray  # index of the piece's UTC day in `cols`
    rank: np.ndarray  # 0-based position of the piece within its day


def _day_rows(cal_id: int, pieces_s: np.ndarray, lo_day: int, hi_day: int) -> _DayPieces:
    """Split pieces at UTC midnights and lay them out per UTC day (numpy, no per-day loop)."""
    o = pieces_s[:, 0].astype(np.int64)
    c = pieces_s[:, 1].astype(np.int64)
    # A window is < 25 h, so splitting at most a few times covers every piece.
    parts_o, parts_c = [], []
    while o.size:
        day_end = (o // DAY_S + 1) * DAY_S
        head_c = np.minimum(c, day_end)
        parts_o.append(o)
        parts_c.append(head_c)
        rest = c > day_end
        o, c = day_end[rest], c[rest]
    po = np.concatenate(parts_o) if parts_o else np.empty(0, dtype=np.int64)
    pc = np.concatenate(parts_c) if parts_c else np.empty(0, dtype=np.int64)
    order = np.argsort(po, kind="stable")
    po, pc = po[order], pc[order]
    pday = po // DAY_S
    length = (pc - po) * US
    ndays = hi_day - lo_day + 1
    per_day = np.bincount(pday - lo_day, minlength=ndays)
    day_total = np.zeros(ndays, dtype=np.int64)
    np.add.at(day_total, pday - lo_day, length)
    cum = np.concatenate([[0], np.cumsum(day_total)[:-1]]).astype(np.int64)
    first_of_day = np.concatenate([[0], np.cumsum(per_day)[:-1]]).astype(np.int64)
    rank = np.arange(po.size) - first_of_day[pday - lo_day]
    days = np.arange(lo_day, hi_day + 1, dtype=np.int64)
    cols = {"cal": np.full(ndays, cal_id, dtype=np.int64), "day": days, "cum": cum}
    return _DayPieces(cols, po * US, length, pday - lo_day, rank)


def build_calendar_table(
    config: Config, teams: list[str], lo: datetime, hi: datetime
) -> CalendarTable:
    """Day table for the default calendar and each of `teams` that has its own, over [lo, hi].

    Identical calendars share one `cal` id so the table stays small however many
    teams point at the same hours.
    """
    lo_day = int(lo.timestamp()) // DAY_S - 2
    hi_day = int(hi.timestamp()) // DAY_S + 2
    cals: list[Calendar] = [config.calendar_for(None)]
    team_rows: list[tuple[str, int]] = []
    for team in sorted({t for t in teams if t is not None}):
        cal = config.calendar_for(team)
        if cal not in cals:
            cals.append(cal)
        idx = cals.index(cal)
        if idx:
            team_rows.append((team, idx))
    built = []
    for cal_id, cal in enumerate(cals):
        pieces = business_pieces(cal, lo_day * DAY_S, (hi_day + 1) * DAY_S)
        built.append(_day_rows(cal_id, pieces, lo_day, hi_day))
    k = max([1] + [int(b.rank.max()) + 1 for b in built if b.rank.size])
    frames, spans = [], []
    for b in built:
        cal_id = int(b.cols["cal"][0])
        starts = (np.cumsum(b.length_us) - b.length_us).astype(np.int64)
        spans.append(
            pl.DataFrame(
                {
                    "cal": np.full(b.open_us.size, cal_id, dtype=np.int64),
                    "cum": starts,
                    "o": b.open_us.astype(np.int64),
                    "l": b.length_us.astype(np.int64),
                }
            )
        )
        cols = dict(b.cols)
        for j in range(k):
            o = cols["day"] * DAY_US
            ln = np.zeros(o.size, dtype=np.int64)
            sel = b.rank == j
            o[b.day_idx[sel]] = b.open_us[sel]
            ln[b.day_idx[sel]] = b.length_us[sel]
            cols[f"o{j}"], cols[f"l{j}"] = o, ln
        frames.append(pl.DataFrame(cols))
    teams_df = pl.DataFrame(
        team_rows, schema={"service_team": pl.String, "cal": pl.Int64}, orient="row"
    )
    return CalendarTable(pl.concat(frames), k, teams_df, pl.concat(spans))


def _f_expr(alias: str, t: str, k: int) -> str:
    """SQL for F(t): business µs before instant `t` (epoch µs) using day-table alias `alias`."""
    terms = " + ".join(f"least(greatest({t} - {alias}.o{j}, 0), {alias}.l{j})" for j in range(k))
    return f"({alias}.cum + {terms})"


def _day_of(t: str) -> str:
    return f"(({t}) + {_DAY_SHIFT * DAY_US}) // {DAY_US} - {_DAY_SHIFT}"


def _data_range(
    con: duckdb.DuckDBPyConnection, extra: datetime | None = None, where: str = "TRUE"
) -> tuple[datetime, datetime, list[str]] | None:
    """Time span and service teams of the tickets matching `where` (None when none do)."""
    row = con.sql(
        "SELECT min(created_at), max(greatest(created_at, first_response_at, resolved_at)) "
        f"FROM tickets WHERE {where}"
    ).fetchall()[0]
    teams = [
        r[0]
        for r in con.sql(
            f"SELECT DISTINCT service_team FROM tickets WHERE service_team IS NOT NULL AND {where}"
        ).fetchall()
    ]
    if row[0] is None:
        return None
    lo, hi = row[0], row[1]
    if extra is not None:
        lo, hi = min(lo, extra), max(hi, extra)
    return lo, hi, teams


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, own: bool) -> Iterator[None]:
    """Run in our own transaction, or (own=False) inside the caller's one.

    Ingest loads a file in one transaction and may refresh inside it; then the
    caller's COMMIT/ROLLBACK decides. It has to say so: DuckDB cannot tell us
    whether a transaction is open, and a failed BEGIN aborts the caller's one.
    """
    if not own:
        yield
        return
    with warehouse.transaction(con):
        yield


class _Registered:
    """Register frames on a connection for one block and always unregister them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> None:
        self.con, self.frames = con, frames

    def __enter__(self) -> None:
        for name, df in self.frames.items():
            self.con.register(name, df)

    def __exit__(self, *exc: object) -> None:
        for name in self.frames:
            self.con.unregister(name)


@contextmanager
def calendars_registered(
    con: duckdb.DuckDBPyConnection, config: Config, teams: list[str], lo: datetime, hi: datetime
) -> Iterator[CalendarTable]:
    """The day table of `teams`' calendars over [lo, hi], registered as
    `_inward_bt_days` / `_inward_bt_teams` for `between_sql`, for one block."""
    table = build_calendar_table(config, teams, lo, hi)
    with _Registered(con, _inward_bt_days=table.days, _inward_bt_teams=table.teams):
        yield table


def between_sql(table: CalendarTable, relation: str, start_us: str, end_us: str, team: str) -> str:
    """SELECT every column of `relation` plus `business_minutes`: the business time
    of column `team`'s calendar in [start_us, end_us) (epoch-µs columns, end ≥ start;
    NULL otherwise), as F(end) − F(start) with the same day table as the tickets'
    business minutes. Needs `calendars_registered` around it."""
    k = table.pieces
    fa, fb = _f_expr("da", f"r.{start_us}", k), _f_expr("db", f"r.{end_us}", k)
    return f"""
        SELECT r.* EXCLUDE (_cal), CASE WHEN r.{end_us} >= r.{start_us}
                         THEN ({fb} - {fa}) / {float(MINUTE_US)} END AS business_minutes
        FROM (SELECT x.*, coalesce(tm.cal, 0) AS _cal FROM {relation} x
              LEFT JOIN _inward_bt_teams tm ON tm.service_team = x.{team}) r
        JOIN _inward_bt_days da ON da.cal = r._cal AND da.day = {_day_of(f"r.{start_us}")}
        JOIN _inward_bt_days db ON db.cal = r._cal AND db.day = {_day_of(f"r.{end_us}")}"""


DUE_HORIZON_DAYS = 730  # due times further than this past the data are left NULL
DUE_COLUMNS = ("first_response_due_at", "resolution_due_at")


def _ticket_query(
    table: CalendarTable, open_only: bool, where: str = "TRUE", rowid: str = "tk.rowid"
) -> str:
    """SELECT rowid, source, ticket_id, business minutes, due times for the tickets
    matching `where`. Readers pass `rowid="NULL"`: on a scoped connection `tickets`
    is a view, which has no rowid.

    `open_only`: a due time only for a clock still running (first response due
    while there is none, resolution due while unresolved), NULL otherwise: the
    view needs no more, and the ASOF joins behind due times are the most expensive
    step, so they get a NULL key (no probe) for stopped clocks. Needs
    `_inward_bt_days`, `_inward_bt_teams`, `_inward_bt_spans` and `_inward_sla_rows`
    registered. The due time of a clock is the first instant at which the target
    is used up: created_at + target for calendar-minute SLAs; for business-minute
    SLAs the instant t with F(t) = F(created_at) + target, found by an ASOF join on
    the pieces (the largest piece starting below the goal) — O(log n) per ticket.
    """
    k = table.pieces
    fa, ff, fr = _f_expr("da", "a", k), _f_expr("df", "f", k), _f_expr("dr", "r", k)

    def ts(us: str) -> str:
        return f"timezone('UTC', make_timestamp(CAST({us} AS BIGINT)))"

    def due_at(target: str, goal: str, p: str) -> str:
        return (
            f"CASE WHEN {goal} IS NULL THEN NULL "
            f"WHEN NOT business THEN {ts(f'a + {target}')} "
            f"WHEN {target} = 0 THEN {ts('a')} "
            f"WHEN {goal} - {p}.cum <= {p}.l THEN {ts(f'{p}.o + {goal} - {p}.cum')} END"
        )

    def goal(target: str, running: str) -> str:
        return f"fa + {target}" if not open_only else f"CASE WHEN {running} THEN fa + {target} END"

    return f"""
        WITH t AS (
            SELECT {rowid} AS rid, tk.source, tk.ticket_id, tk.service_team, tk.priority,
                coalesce(tm.cal, 0) AS cal, epoch_us(tk.created_at) AS a,
                epoch_us(tk.first_response_at) AS f, epoch_us(tk.resolved_at) AS r
            FROM tickets tk
            LEFT JOIN _inward_bt_teams tm ON tm.service_team = tk.service_team
            WHERE {where}
        ), m AS (
            SELECT t.rid, t.source, t.ticket_id, t.service_team, t.priority, t.cal, t.a, t.f, t.r,
                {fa} AS fa,
                CASE WHEN f >= a THEN ({ff} - {fa}) / {float(MINUTE_US)} END AS frm,
                CASE WHEN r >= a THEN ({fr} - {fa}) / {float(MINUTE_US)} END AS rm
            FROM t
            JOIN _inward_bt_days da ON da.cal = t.cal AND da.day = {_day_of("a")}
            LEFT JOIN _inward_bt_days df ON df.cal = t.cal AND df.day = {_day_of("f")}
            LEFT JOIN _inward_bt_days dr ON dr.cal = t.cal AND dr.day = {_day_of("r")}
        ), s AS (
            SELECT m.*,
                CAST(coalesce(st.first_response_minutes, sd.first_response_minutes)
                     * {MINUTE_US} AS BIGINT) AS fr_t,
                CAST(coalesce(st.resolution_minutes, sd.resolution_minutes)
                     * {MINUTE_US} AS BIGINT) AS res_t,
                coalesce(st.business, sd.business) AS business
            FROM m
            LEFT JOIN _inward_sla_rows st
                ON st.service_team = m.service_team AND st.priority = m.priority
            LEFT JOIN _inward_sla_rows sd ON sd.service_team = '*' AND sd.priority = m.priority
        ), g AS (
            SELECT s.*, {goal("fr_t", "f IS NULL")} AS g_fr, {goal("res_t", "r IS NULL")} AS g_res
            FROM s
        )
        SELECT rid, source, ticket_id, frm, rm,
            {due_at("fr_t", "g_fr", "p1")} AS first_response_due_at,
            {due_at("res_t", "g_res", "p2")} AS resolution_due_at
        FROM g
        ASOF LEFT JOIN _inward_bt_spans p1 ON p1.cal = g.cal AND g.g_fr > p1.cum
        ASOF LEFT JOIN _inward_bt_spans p2 ON p2.cal = g.cal AND g.g_res > p2.cum
    """


def _frames(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    extra: datetime | None = None,
    where: str = "TRUE",
) -> tuple[CalendarTable, dict[str, pl.DataFrame]] | None:
    """Calendar table over the tickets matching `where` (+ `extra` + the due horizon)
    and the frames to register."""
    rng = _data_range(con, extra, where)
    if rng is None:
        return None
    hi = rng[1] + timedelta(days=DUE_HORIZON_DAYS)
    table = build_calendar_table(config, rng[2], rng[0], hi)
    return table, {
        "_inward_bt_days": table.days,
        "_inward_bt_teams": table.teams,
        "_inward_bt_spans": table.spans,
        "_inward_sla_rows": _sla_rows(config),
    }


# Rows per UPDATE statement of a refresh: one statement over 5M stale rows took 3x
# as long as ten of 500k (its ASOF sorts and update buffers outgrow the ingest's
# memory cap and spill); rowid ranges let each statement skip the other row groups.
REFRESH_CHUNK_ROWS = 500_000

# Bump when the arithmetic below changes, so stored business minutes are recomputed.
_DERIVATION_VERSION = 2


def derived_key(config: Config) -> str:
    """Fingerprint of everything the stored per-ticket derivations depend on:
    the calendars, the SLA targets, the due horizon and this code's version."""
    slas = sorted(
        (team, sorted(t.first_response.items()), sorted(t.resolution.items()), t.business)
        for team, t in config.slas.items()
    )
    text = repr((_DERIVATION_VERSION, DUE_HORIZON_DAYS, sorted(config.calendars.items()), slas))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def refresh_business_minutes(
    con: duckdb.DuckDBPyConnection, config: Config, own_transaction: bool = True
) -> int:
    """Fill business minutes and SLA due times on the tickets that need them; returns
    how many rows were (re)computed.

    A row needs them when it is new or replaced since the last refresh
    (`derived_key` NULL, the loader's doing) or was computed under other calendars
    or SLA targets (another key): so an ingest pays for its own rows only, and a
    config change still rewrites history. One transaction (the caller's when
    `own_transaction=False`, e.g. inside an ingest), so readers see the old
    numbers or the new ones, never a mix. Due columns are filled while their clock
    runs (the view calls those past due a miss; see `sla_due_at` for all tickets).
    """
    key = derived_key(config)
    stale = f"derived_key IS DISTINCT FROM '{key}'"
    prepared = _frames(con, config, where=stale)
    if prepared is None:
        return 0
    table, frames = prepared
    n = 0
    with _transaction(con, own_transaction), _Registered(con, **frames):
        # Walk the stale rows' rowids chunk by chunk, jumping over gaps: rows inserted
        # in the open transaction (an ingest's own) have rowids from 2^55 up, so a
        # plain range(0, max(rowid)) would never end.
        lo = _next_stale_rowid(con, stale, 0)
        while lo is not None:
            hi = lo + REFRESH_CHUNK_ROWS
            rows = f"{stale} AND tk.rowid >= {lo} AND tk.rowid < {hi}"
            n += con.execute(f"""
                UPDATE tickets SET first_response_business_minutes = b.frm,
                    resolution_business_minutes = b.rm,
                    first_response_due_at = b.first_response_due_at,
                    resolution_due_at = b.resolution_due_at, derived_key = '{key}'
                FROM ({_ticket_query(table, open_only=True, where=rows)}) b
                WHERE tickets.rowid = b.rid
            """).fetchall()[0][0]
            lo = _next_stale_rowid(con, stale, hi)
    return n


def _next_stale_rowid(con: duckdb.DuckDBPyConnection, stale: str, start: int) -> int | None:
    return con.sql(f"SELECT min(rowid) FROM tickets WHERE {stale} AND rowid >= {start}").fetchall()[
        0
    ][0]


def sla_due_at(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Per ticket, when its first-response and resolution targets run out (UTC).

    Columns: source, ticket_id, first_response_due_at, resolution_due_at; NULL
    when there is no target or the deadline lies beyond DUE_HORIZON_DAYS after
    the data (e.g. a calendar without workdays). Read-only. The refresh stores
    the same due times on `tickets`, but only while a clock runs (all the view
    needs to call an open ticket past its deadline a miss); this gives them for
    stopped clocks too.
    """
    prepared = _frames(con, config)
    schema = {
        "source": pl.String,
        "ticket_id": pl.String,
        "first_response_due_at": pl.Datetime("us", "UTC"),
        "resolution_due_at": pl.Datetime("us", "UTC"),
    }
    if prepared is None:
        return pl.DataFrame(schema=schema)
    table, frames = prepared
    with _Registered(con, **frames):
        query = _ticket_query(table, open_only=False, rowid="NULL")
        df = con.sql(
            f"SELECT source, ticket_id, first_response_due_at, resolution_due_at "
            f"FROM ({query}) ORDER BY source, ticket_id"
        ).pl()
    return df.with_columns(pl.col(c).dt.convert_time_zone("UTC") for c in DUE_COLUMNS).cast(schema)  # type: ignore[arg-type]


def _sla_rows(config: Config) -> pl.DataFrame:
    """sla_targets rows from the config: '*' is `sla.default`, then one block per team."""
    rows = []
    for team, targets in sorted(config.slas.items()):
        key = "*" if team == "default" else team
        for p in PRIORITIES:
            rows.append(
                (key, p, targets.first_response.get(p), targets.resolution.get(p), targets.business)
            )
    return pl.DataFrame(
        rows,
        orient="row",
        schema={
            "service_team": pl.String,
            "priority": pl.String,
            "first_response_minutes": pl.Float64,
            "resolution_minutes": pl.Float64,
            "business": pl.Boolean,
        },
    )


def refresh_sla_targets(
    con: duckdb.DuckDBPyConnection, config: Config, own_transaction: bool = True
) -> int:
    """Replace `sla_targets` with the config's targets (one transaction); returns rows written.

    `own_transaction=False` runs inside the caller's open transaction instead.
    """
    rows = _sla_rows(config)
    with _transaction(con, own_transaction), _Registered(con, _inward_sla_rows=rows):
        con.execute("DELETE FROM sla_targets")
        con.execute("INSERT INTO sla_targets SELECT * FROM _inward_sla_rows")
    return rows.height


def _as_utc(as_of: datetime | date) -> datetime:
    if not isinstance(as_of, datetime):
        as_of = datetime(as_of.year, as_of.month, as_of.day)
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


_STATUS_SCHEMA = {
    "source": pl.String,
    "ticket_id": pl.String,
    "service_team": pl.String,
    "priority": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "business": pl.Boolean,
    "first_response_elapsed_minutes": pl.Float64,
    "first_response_target_minutes": pl.Float64,
    "first_response_status": pl.String,
    "resolution_elapsed_minutes": pl.Float64,
    "resolution_target_minutes": pl.Float64,
    "resolution_status": pl.String,
    "sla_status": pl.String,
}


def open_sla_status(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime | date
) -> pl.DataFrame:
    """SLA clock state of the tickets open at `as_of` (naive = UTC).

    The `ticket_times` view can only judge a clock once it stopped, so an open
    ticket long past its target looks "unknown" there; this answers "what is
    burning right now". Open at as_of means created at or before it and not yet
    resolved then; tickets with no resolved_at whose status says they are over
    (solved, closed, cancelled) are left out because we cannot date their end.

    Per clock (first response while unanswered at as_of; resolution): elapsed
    minutes (business or calendar as the team's SLA says), the target, and
    status 'breached' (elapsed > target, matching the view's `<=` for met),
    'at_risk' (≥ 75 % of the target used) or 'ok'; NULL when the clock already
    stopped or there is no target. `sla_status` is the worse of the two.
    Targets come from `config` (not the `sla_targets` table) so this also works
    on read-only connections and before a refresh. Works read-only: only
    registered frames, no writes.
    """
    at = _as_utc(as_of)
    at_us = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    prepared = _frames(con, config, at)
    if prepared is None:
        return pl.DataFrame(schema=_STATUS_SCHEMA)
    table, frames = prepared
    k = table.pieces
    fa = _f_expr("da", "a", k)
    fn = _f_expr("dn", str(at_us), k)
    query = f"""
        WITH t AS (
            SELECT tk.source, tk.ticket_id, tk.service_team, tk.priority, tk.created_at,
                coalesce(tm.cal, 0) AS cal, epoch_us(tk.created_at) AS a,
                tk.first_response_at IS NULL OR tk.first_response_at > $at AS fr_open
            FROM tickets tk
            LEFT JOIN _inward_bt_teams tm ON tm.service_team = tk.service_team
            WHERE tk.created_at <= $at
              AND (tk.resolved_at > $at
                   OR (tk.resolved_at IS NULL
                       AND coalesce(tk.status, '') NOT IN ('solved', 'closed', 'cancelled')))
        ), e AS (
            SELECT t.*,
                coalesce(st.first_response_minutes, sd.first_response_minutes) AS fr_target,
                coalesce(st.resolution_minutes, sd.resolution_minutes) AS res_target,
                coalesce(st.business, sd.business) AS business,
                CASE WHEN coalesce(st.business, sd.business)
                     THEN ({fn} - {fa}) / {float(MINUTE_US)}
                     ELSE ({at_us} - a) / {float(MINUTE_US)} END AS elapsed
            FROM t
            JOIN _inward_bt_days da ON da.cal = t.cal AND da.day = {_day_of("a")}
            JOIN _inward_bt_days dn ON dn.cal = t.cal AND dn.day = {_day_of(str(at_us))}
            LEFT JOIN _inward_sla_rows st
                ON st.service_team = t.service_team AND st.priority = t.priority
            LEFT JOIN _inward_sla_rows sd ON sd.service_team = '*' AND sd.priority = t.priority
        ), s AS (
            SELECT *,
                CASE WHEN NOT fr_open OR fr_target IS NULL THEN NULL
                     WHEN elapsed > fr_target THEN 'breached'
                     WHEN elapsed >= {AT_RISK_SHARE} * fr_target THEN 'at_risk'
                     ELSE 'ok' END AS fr_status,
                CASE WHEN res_target IS NULL THEN NULL
                     WHEN elapsed > res_target THEN 'breached'
                     WHEN elapsed >= {AT_RISK_SHARE} * res_target THEN 'at_risk'
                     ELSE 'ok' END AS res_status
            FROM e
        )
        SELECT source, ticket_id, service_team, priority, created_at, business,
            CASE WHEN fr_open THEN elapsed END AS first_response_elapsed_minutes,
            fr_target AS first_response_target_minutes,
            fr_status AS first_response_status,
            elapsed AS resolution_elapsed_minutes,
            res_target AS resolution_target_minutes,
            res_status AS resolution_status,
            CASE WHEN 'breached' IN (fr_status, res_status) THEN 'breached'
                 WHEN 'at_risk' IN (fr_status, res_status) THEN 'at_risk'
                 WHEN 'ok' IN (fr_status, res_status) THEN 'ok' END AS sla_status
        FROM s
        ORDER BY source, ticket_id
    """
    with _Registered(con, **frames):
        df = con.sql(query, params={"at": at}).pl()
    return df.with_columns(pl.col("created_at").dt.convert_time_zone("UTC")).cast(_STATUS_SCHEMA)  # type: ignore[arg-type]
