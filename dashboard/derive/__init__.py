"""Derived data, kept complete by the process that holds the write lock.

Every writer of a table computed from the canonical ones lives in this package, so
`dashboard.metrics` only reads (tests/test_layers.py holds it to that):

* `identity` - requester identities: registered at ingest, re-resolved here;
* `business_minutes` - business minutes, SLA due times and `sla_targets`;
* `history` - time in status, waiting time and hand-offs from ticket history;
* `engagement` - the stored engagement model, `requester_engagement`;
* `rollups` - the response-time rollup tables (`inward rollups`, either engine);
* this file - the order of the refresh, the pending mark, and completing a refresh
  (or a new config `as_of`) before anyone reads.

The app only reads, so anything that depends on configuration (business hours,
SLA targets), on other tables (the people file) or on the whole history
(engagement) is computed here, once, by the process that holds the write lock.
Each file's load transaction also records that a refresh is pending; only a
finished refresh clears it, so a writer killed between a commit and the refresh
(1M tickets were left without business minutes, and the rerun said "unchanged")
is completed by the next command: ingest, serve, or any reading command.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import duckdb

from dashboard import as_of, warehouse
from dashboard.config import Config
from dashboard.derive import identity
from dashboard.derive.business_minutes import (
    derived_key,
    refresh_business_minutes,
    refresh_sla_targets,
)
from dashboard.derive.engagement import refresh_engagement
from dashboard.derive.history import refresh_history
from dashboard.memory import memory_cap
from dashboard.progress import Phases, Say

PENDING = "derived_pending"  # inward_meta key: a load committed, refresh not finished yet
FINGERPRINT = "derived_config"  # inward_meta key: `fingerprint` of the last refresh's config


def fingerprint(config: Config) -> str:
    """What the stored derived data depends on in the config: calendars, SLA targets and
    the engagement model's settings."""
    text = repr((derived_key(config), config.engagement))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mark_pending(con: duckdb.DuckDBPyConnection) -> None:
    """Record, inside a load's own transaction, that derived data is now behind."""
    con.execute(f"INSERT OR REPLACE INTO inward_meta VALUES ('{PENDING}', 'true')")


def needs_refresh(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """Whether a refresh is pending, or the derived data was made under another config."""
    meta = dict(
        con.sql(
            "SELECT key, value FROM inward_meta WHERE key IN (?, ?)", params=[PENDING, FINGERPRINT]
        ).fetchall()
    )
    return PENDING in meta or meta.get(FINGERPRINT) != fingerprint(config)


def refresh(con: duckdb.DuckDBPyConnection, config: Config, say: Say | None = None) -> None:
    """Recompute every derived table from the canonical ones.

    Two transactions: first the per-ticket derivations (who each requester is and
    their department/type from the people file, see `dashboard.identity`; the
    config's as-of; SLA targets, business minutes and SLA due times from the team
    calendars, time in status from ticket history), then the engagement model
    (which replaces its table atomically itself). A failure in either leaves the
    previous derived data in place, never a half-written table, and the pending
    mark set, so the next command tries again; the mark is cleared last. `say` gets
    the phase lines when the refresh runs long.
    """
    phases = Phases(say, "derived data")
    with warehouse.transaction(con):
        identity.refresh(con)
        phases.done("requester identities")
        as_of.apply_config(con, config)
        refresh_sla_targets(con, config, own_transaction=False)
        n = refresh_business_minutes(con, config, own_transaction=False)
        phases.done("business minutes and SLA due times", n)
        refresh_history(con, config)
        warehouse.bump_version(con)
    phases.done("time in status")
    phases.done("engagement", refresh_engagement(con, config))
    with warehouse.transaction(con):
        con.execute(f"DELETE FROM inward_meta WHERE key = '{PENDING}'")
        con.execute(
            f"INSERT OR REPLACE INTO inward_meta VALUES ('{FINGERPRINT}', ?)", [fingerprint(config)]
        )


def ensure_derived(db: str | Path, config: Config) -> None:
    """Complete a pending refresh (or one a config change calls for) before anyone reads.

    Reading commands and `inward serve` call this; it takes the write lock only
    when there is something to do. A config whose only change is `as_of` needs no
    full refresh: `ensure_applied` moves the as-of and recomputes what depends on it.
    """
    with warehouse.reader(db) as con:
        pending = needs_refresh(con, config)
    if pending:
        with warehouse.writer(db) as con, memory_cap(con):
            if needs_refresh(con, config):  # another process may have done it meanwhile
                refresh(con, config)
    ensure_applied(db, config)


def ensure_applied(db: str | Path, config: Config) -> bool:
    """Before a reading command: when the config's `as_of` is not the one stored,
    apply it (the write lock, briefly) and recompute what depends on it (the
    engagement model's days silent). Returns True when it had to.

    Read-only users cannot write, and config is read when a command starts
    (CONTRACT), so `inward metrics` / `inward serve` with `as_of` set in
    inward.toml judge at that instant without waiting for the next ingest."""
    with warehouse.reader(db) as con:
        if not as_of.differs_from_config(con, config):
            return False
    with warehouse.writer(db) as con:
        with warehouse.transaction(con):
            changed = as_of.apply_config(con, config)
            warehouse.bump_version(con)
        if changed:
            refresh_engagement(con, config)
    return True


def team_setting_warnings(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """One line per `[calendar."X"]` / `[sla."X"]` naming no service team in the warehouse.

    Such a table is silently never used (a typo, or a team renamed in the tool), so
    its team's numbers quietly fall back to the defaults; say so, with the near miss.
    """
    teams = [
        r[0]
        for r in con.sql(
            "SELECT DISTINCT service_team FROM tickets WHERE service_team IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    if not teams:
        return []
    known = set(teams)
    out = []
    for section, named in (("calendar", config.calendars), ("sla", config.slas)):
        for team in named:
            if team == "default" or team in known:
                continue
            close = difflib.get_close_matches(team, teams, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(
                f'warning: [{section}."{team}"] names no service team in the warehouse, so it '
                f"is not used (that team would get [{section}.default]){hint}"
            )
    return out
