"""Business minutes and SLA state read set-wise in DuckDB, from the calendar day table.

`dashboard.metrics.business_calendar` builds the per-UTC-day table of business-hour
pieces (and says why that shape); this module turns it into SQL: F(t), the business
time before instant t, is one equality join on that table, so business(a, b) =
F(b) - F(a) and a due time is an ASOF join on its pieces. Everything here reads
(frames are registered on the connection, nothing is written): `sla_due_at` and
`open_sla_status` answer on read-only connections, and the derived refresh
(`dashboard.derive.business_minutes`) stores the same numbers per ticket through
`ticket_query`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl

from dashboard.config import PRIORITIES, Config
from dashboard.metrics.business_calendar import (
    DAY_US,
    MINUTE_US,
    CalendarTable,
    build_calendar_table,
)

# Integer division in DuckDB truncates toward zero; shifting by a whole number of
# days first makes it a floor for any instant after 1696 without a float floor().
_DAY_SHIFT = 100_000
AT_RISK_SHARE = 0.75


def f_expr(alias: str, t: str, k: int) -> str:
    """SQL for F(t): business µs before instant `t` (epoch µs) using day-table alias `alias`."""
    terms = " + ".join(f"least(greatest({t} - {alias}.o{j}, 0), {alias}.l{j})" for j in range(k))
    return f"({alias}.cum + {terms})"


def day_of(t: str) -> str:
    return f"(({t}) + {_DAY_SHIFT * DAY_US}) // {DAY_US} - {_DAY_SHIFT}"


def data_range(
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


class Registered:
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
    with Registered(con, _inward_bt_days=table.days, _inward_bt_teams=table.teams):
        yield table


def between_sql(table: CalendarTable, relation: str, start_us: str, end_us: str, team: str) -> str:
    """SELECT every column of `relation` plus `business_minutes`: the business time
    of column `team`'s calendar in [start_us, end_us) (epoch-µs columns, end ≥ start;
    NULL otherwise), as F(end) − F(start) with the same day table as the tickets'
    business minutes. Needs `calendars_registered` around it."""
    k = table.pieces
    fa, fb = f_expr("da", f"r.{start_us}", k), f_expr("db", f"r.{end_us}", k)
    return f"""
        SELECT r.* EXCLUDE (_cal), CASE WHEN r.{end_us} >= r.{start_us}
                         THEN ({fb} - {fa}) / {float(MINUTE_US)} END AS business_minutes
        FROM (SELECT x.*, coalesce(tm.cal, 0) AS _cal FROM {relation} x
              LEFT JOIN _inward_bt_teams tm ON tm.service_team = x.{team}) r
        JOIN _inward_bt_days da ON da.cal = r._cal AND da.day = {day_of(f"r.{start_us}")}
        JOIN _inward_bt_days db ON db.cal = r._cal AND db.day = {day_of(f"r.{end_us}")}"""


DUE_HORIZON_DAYS = 730  # due times further than this past the data are left NULL
DUE_COLUMNS = ("first_response_due_at", "resolution_due_at")


def ticket_query(
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
    fa, ff, fr = f_expr("da", "a", k), f_expr("df", "f", k), f_expr("dr", "r", k)

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
            JOIN _inward_bt_days da ON da.cal = t.cal AND da.day = {day_of("a")}
            LEFT JOIN _inward_bt_days df ON df.cal = t.cal AND df.day = {day_of("f")}
            LEFT JOIN _inward_bt_days dr ON dr.cal = t.cal AND dr.day = {day_of("r")}
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


def calendar_frames(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    extra: datetime | None = None,
    where: str = "TRUE",
) -> tuple[CalendarTable, dict[str, pl.DataFrame]] | None:
    """Calendar table over the tickets matching `where` (+ `extra` + the due horizon)
    and the frames to register."""
    rng = data_range(con, extra, where)
    if rng is None:
        return None
    hi = rng[1] + timedelta(days=DUE_HORIZON_DAYS)
    table = build_calendar_table(config, rng[2], rng[0], hi)
    return table, {
        "_inward_bt_days": table.days,
        "_inward_bt_teams": table.teams,
        "_inward_bt_spans": table.spans,
        "_inward_sla_rows": sla_rows(config),
    }


def sla_due_at(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Per ticket, when its first-response and resolution targets run out (UTC).

    Columns: source, ticket_id, first_response_due_at, resolution_due_at; NULL
    when there is no target or the deadline lies beyond DUE_HORIZON_DAYS after
    the data (e.g. a calendar without workdays). Read-only. The refresh stores
    the same due times on `tickets`, but only while a clock runs (all the view
    needs to call an open ticket past its deadline a miss); this gives them for
    stopped clocks too.
    """
    prepared = calendar_frames(con, config)
    schema = {
        "source": pl.String,
        "ticket_id": pl.String,
        "first_response_due_at": pl.Datetime("us", "UTC"),
        "resolution_due_at": pl.Datetime("us", "UTC"),
    }
    if prepared is None:
        return pl.DataFrame(schema=schema)
    table, frames = prepared
    with Registered(con, **frames):
        query = ticket_query(table, open_only=False, rowid="NULL")
        df = con.sql(
            f"SELECT source, ticket_id, first_response_due_at, resolution_due_at "
            f"FROM ({query}) ORDER BY source, ticket_id"
        ).pl()
    return df.with_columns(pl.col(c).dt.convert_time_zone("UTC") for c in DUE_COLUMNS).cast(schema)  # type: ignore[arg-type]


def sla_rows(config: Config) -> pl.DataFrame:
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
    prepared = calendar_frames(con, config, at)
    if prepared is None:
        return pl.DataFrame(schema=_STATUS_SCHEMA)
    table, frames = prepared
    k = table.pieces
    fa = f_expr("da", "a", k)
    fn = f_expr("dn", str(at_us), k)
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
            JOIN _inward_bt_days da ON da.cal = t.cal AND da.day = {day_of("a")}
            JOIN _inward_bt_days dn ON dn.cal = t.cal AND dn.day = {day_of(str(at_us))}
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
    with Registered(con, **frames):
        df = con.sql(query, params={"at": at}).pl()
    return df.with_columns(pl.col("created_at").dt.convert_time_zone("UTC")).cast(_STATUS_SCHEMA)  # type: ignore[arg-type]
