"""Shared fixtures: a small demo warehouse built once per session through the real
ingest path (demo files → `ingest_paths`), and helpers to snapshot a warehouse.

Under CI (`CI=true`) or `INWARD_REQUIRE_ALL=1` a skipped test fails: the tests that
need chromium, poppler, Java with the `spark` extra or `../shared/real-exports` skip on
a laptop without them, but in CI a skip would hide a missing install step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dashboard import warehouse
from dashboard.config import Config
from dashboard.demo import DemoFiles, write_demo
from dashboard.ingest import ingest_paths

REAL_EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "real-exports"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's: the browser tests and the report use it
FIXTURES = Path(__file__).parent / "fixtures"
REQUIRE_ALL = bool(os.environ.get("CI") or os.environ.get("INWARD_REQUIRE_ALL"))


# The longest modules (a served app, a browser, a JVM) start first, so parallel workers
# fill the rest of the time with short ones instead of waiting on one long tail.
SLOW_FIRST = ("test_browser.py", "test_spark.py", "test_signin_browser.py", "test_report.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI / INWARD_REQUIRE_ALL needs every test: {reason}"
    return report


@dataclass(frozen=True)
class DemoWarehouse:
    db: Path
    files: DemoFiles


@pytest.fixture(scope="session")
def demo_wh(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    """A ~4k-ticket demo warehouse (read-only use: copy it before writing)."""
    root = tmp_path_factory.mktemp("demo")
    files = write_demo(root / "exports", seed=11, tickets=4000, layout="generic")
    db = root / "inward.duckdb"
    results = ingest_paths(db, files.all(), Config())
    assert all(r.status == "loaded" for r in results), [r.message for r in results]
    return DemoWarehouse(db, files)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Path:
    """An empty, migrated warehouse file."""
    db = tmp_path / "w.duckdb"
    with warehouse.writer(db):
        pass
    return db


# Two tickets in the layout of a plain tickets CSV (one solved, one open), local times.
TWO_TICKETS = """Ticket ID,Team,Priority,Status,Created,Resolved
T1,IT Service Desk,high,solved,2026-03-02 10:00,2026-03-02 12:00
T2,IT Service Desk,normal,open,2026-03-03 09:30,
"""


def snapshot(db: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every contract table."""
    out = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name in (
            "tickets",
            "survey_responses",
            "external_outcomes",
            "people",
            "org",
            "rejected_rows",
            "requester_engagement",
        ):
            n, h = con.sql(
                f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {name} t"
            ).fetchall()[0]
            out[name] = (n, h)
    finally:
        con.close()
    return out


def fetch(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """The rows of `sql` on `db`, read-only, the connection closed again (a test's
    open reader would block the next writer)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


def stored_values(db: Path, sql: str) -> set:
    """The first column of `sql` on `db` as a set, read the way the operator sees it
    (no scope, raw ids): the truth a scoped or pseudonymised surface is checked against."""
    return {r[0] for r in fetch(db, sql)}


def whole_range(db: Path) -> list[str]:
    """The first and last day a ticket was created, as the app's `dates` URL parameter:
    the range that shows every ticket (the default range is only the latest quarter)."""
    [(first, last)] = fetch(db, "SELECT min(created_at)::DATE, max(created_at)::DATE FROM tickets")
    return [first.isoformat(), last.isoformat()]


def ingests_rows(db: Path) -> list[dict]:
    """The `ingests` rows, oldest first, as dicts."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql("SELECT * FROM ingests ORDER BY ingest_id").pl().to_dicts()
    finally:
        con.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Debian chromium per browser-test module (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context per test: a new Streamlit session, no shared state."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def inward_serve(
    db: Path, port: int, cwd: Path, env: dict[str, str], host: str = "127.0.0.1"
) -> Iterator[str]:
    """`inward serve` of `db` on `port`, run from `cwd` with `env`; yields its URL once
    Streamlit's health check answers, and stops it afterwards. Its output goes to
    serve.log beside `db`: a pipe nobody drains can fill and stall the server, and
    reading a running server's pipe to its end never returns."""
    log_path = db.parent / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(port)],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://{host}:{port}"
        try:
            deadline = time.monotonic() + 180  # a busy 2-core machine starts it slowly
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        out = log_path.read_text(errors="replace")
                        pytest.fail(f"inward serve did not start: {out[-2000:]}")
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
