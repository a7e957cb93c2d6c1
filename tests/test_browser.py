"""End to end in a real browser: `inward serve` + Debian's chromium via Playwright.

Also the concurrency contract: `inward ingest` succeeds while a browser session is
open on the same warehouse, and the page shows the new rows after a rerun.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium: sudo apt-get install -y chromium"
    ),
]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(demo_wh, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`inward serve` on a private copy of the demo warehouse; yields (url, db)."""
    db = tmp_path / "served.duckdb"
    shutil.copy(demo_wh.db, db)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "INWARD_CONFIG": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"inward serve did not start: {out[-2000:]}")
                time.sleep(0.3)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    # Stopping `inward serve` stops the server: no orphan keeps the port.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the app outlived `inward serve`"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
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
        pg = browser.new_page(viewport={"width": 1440, "height": 1000})
        yield pg
        browser.close()


def tickets_tile(pg) -> int:
    tile = pg.locator('[data-testid="stMetric"]').filter(has_text="Tickets").first
    value = tile.locator('[data-testid="stMetricValue"]').inner_text()
    return int(value.replace(",", ""))


def wait_for_overview(pg) -> None:
    pg.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 5", timeout=60_000
    )
    pg.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)


def test_overview_in_a_real_browser(served, page) -> None:
    url, _ = served
    page.goto(url)
    wait_for_overview(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert tickets_tile(page) > 0
    shot = os.environ.get("INWARD_SCREENSHOT")
    if shot:
        page.wait_for_timeout(1500)
        page.screenshot(path=shot, full_page=False)


def test_url_filter_in_browser(served, page) -> None:
    url, _ = served
    page.goto(url)
    wait_for_overview(page)
    everyone = tickets_tile(page)
    page.goto(f"{url}/?team=Legal")
    wait_for_overview(page)
    assert tickets_tile(page) < everyone
    assert page.locator('[data-testid="stException"]').count() == 0


def test_ingest_while_browser_is_open(served, page, tmp_path: Path) -> None:
    url, db = served
    page.goto(url)
    wait_for_overview(page)
    before = tickets_tile(page)
    con = duckdb.connect(str(db), read_only=True)
    last = con.sql("SELECT max(created_at AT TIME ZONE 'UTC') FROM tickets").fetchall()[0][0]
    con.close()
    new = tmp_path / "late.csv"
    stamp = last.strftime("%Y-%m-%d %H:%M:%S")
    new.write_text(
        "ticket_id,service_team,created_at\n"
        + "".join(f"LATE-{i},IT Service Desk,{stamp}\n" for i in range(7))
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "ingest", str(new), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "loaded 7 of 7" in proc.stdout
    page.reload()
    wait_for_overview(page)
    assert tickets_tile(page) == before + 7
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("path", ["teams", "q-slowest-categories", "voice", "engagement"])
def test_other_pages_in_browser(served, page, path) -> None:
    url, _ = served
    page.goto(f"{url}/{path}")
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
def test_download_report_is_the_clis_report(served, page, tmp_path: Path) -> None:
    """The Overview's "Download report" gives the file `inward report` writes for the same
    filters (the dates come from the downloaded file's name)."""
    from dashboard.cli import main

    url, db = served
    page.goto(f"{url}/?team=Legal")
    wait_for_overview(page)
    with page.expect_download(timeout=180_000) as info:
        page.get_by_role("button", name="Download report").click()
    got = tmp_path / info.value.suggested_filename
    info.value.save_as(got)
    dates = got.stem.removeprefix("inward-report-").split("-to-")
    cli = tmp_path / "cli.pdf"
    args = ["report", "--db", str(db), "--team", "Legal", "--out", str(cli)]
    assert main([*args, "--from", dates[0], "--to", dates[1]]) == 0

    def text(pdf: Path) -> list[str]:
        out = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
        )
        return [line for line in out.stdout.splitlines() if "Generated" not in line]

    assert got.read_bytes().startswith(b"%PDF")
    assert text(got) == text(cli)
    assert any("Legal" in line for line in text(got))


def test_flow_page_in_browser(served, page) -> None:
    """The Flow page in a real browser shows the demo's history: its hand-off table
    names the planted misroute, the wait chart and the backlog per team draw."""
    url, _ = served
    page.goto(f"{url}/flow")
    page.wait_for_selector("h1", timeout=60_000)
    page.get_by_text("Slowest hand-offs").wait_for(timeout=60_000)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length >= 3",
        timeout=60_000,
    )
    assert page.locator("h1").first.inner_text() == "Flow"
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="Excluding waiting").first
    assert tile.locator('[data-testid="stMetricValue"]').inner_text().endswith(" h")
    body = page.locator("body").inner_text()
    assert "Where tickets wait" in body and "Per-agent tables are off" in body
    assert page.locator('[data-testid="stException"]').count() == 0
