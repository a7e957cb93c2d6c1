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
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CHROMIUM, free_port, inward_serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium: sudo apt-get install -y chromium"
    ),
]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served(demo_wh, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `inward serve` for the whole module, on a private copy of the demo warehouse
    (tests may ingest into it); yields (url, db). One server keeps the suite fast."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "served.duckdb"
    shutil.copy(demo_wh.db, db)
    port = free_port()
    with inward_serve(db, port, ROOT, {**os.environ, "INWARD_CONFIG": ""}) as url:
        yield url, db
    # Stopping `inward serve` stops the server: no orphan keeps the port.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the app outlived `inward serve`"


def tickets_tile(pg) -> int:
    tile = pg.locator('[data-testid="stMetric"]').filter(has_text="Tickets").first
    value = tile.locator('[data-testid="stMetricValue"]').inner_text()
    return int(value.replace(",", ""))


def settled(pg) -> None:
    """Wait until Streamlit has finished the current script run (and no rerun follows)."""
    pg.wait_for_selector('[data-test-script-state="notRunning"]', timeout=180_000)
    pg.wait_for_timeout(300)
    pg.wait_for_selector('[data-test-script-state="notRunning"]', timeout=180_000)


def wait_for_overview(pg) -> None:
    pg.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 5", timeout=180_000
    )
    pg.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=180_000)
    settled(pg)


def no_exception(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0


def test_overview_ingest_url_filter_and_report(served, page, tmp_path: Path) -> None:
    """One session through the Overview: it renders; `inward ingest` succeeds while the
    browser holds the page open and a reload shows the new rows; a team in the URL narrows
    the tiles; "Download report" gives the file `inward report` writes for the same filters
    (the dates come from the downloaded file's name). One test, so three page loads."""
    from dashboard.cli import main

    url, db = served
    page.goto(url)
    wait_for_overview(page)
    no_exception(page)
    before = tickets_tile(page)
    assert before > 0
    shot = os.environ.get("INWARD_SCREENSHOT")
    if shot:
        page.wait_for_timeout(1500)
        page.screenshot(path=shot, full_page=False)

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
    everyone = tickets_tile(page)
    assert everyone == before + 7
    no_exception(page)

    page.goto(f"{url}/?team=Legal")
    wait_for_overview(page)
    assert 0 < tickets_tile(page) < everyone
    no_exception(page)
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils (pdftotext) to compare the report")
    # generous: the PDF is built by Chromium on click; speed is benchmarks/report.py's job
    with page.expect_download(timeout=300_000) as info:
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


def test_every_page_through_the_navigation(served, page) -> None:
    """One session visits every other page through the sidebar (no reload between them,
    as a user moves): each shows its title, a table, and no error. The Flow page shows
    the demo's history: its hand-off table, the wait chart and the backlog per team."""
    url, _ = served
    page.goto(f"{url}/voice")
    pages = ("Voice", "Engagement", "Flow", "Alignment", "Slowest categories", "Data", "Schema")
    for title in pages:
        if title != "Voice":
            page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        page.wait_for_selector(f"h1:has-text('{title}')", timeout=180_000)
        settled(page)
        # a table may mount a moment after the script finished (a busy browser); one in a
        # collapsed expander (Alignment's full table) is in the page but not visible
        page.wait_for_selector('[data-testid="stDataFrame"]', state="attached", timeout=60_000)
        no_exception(page)
        if title == "Flow":
            assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
            tile = page.locator('[data-testid="stMetric"]').filter(has_text="Excluding waiting")
            value = tile.first.locator('[data-testid="stMetricValue"]').inner_text()
            assert value.endswith(" h"), value
            body = page.locator("body").inner_text()
            assert "Slowest hand-offs" in body and "Where tickets wait" in body
            assert "Per-agent tables are off" in body


def ticket_list_csv(pg, tmp_path: Path, name: str) -> list[dict[str, str]]:
    """The Teams page's ticket list as its own Download CSV gives it."""
    import csv

    button = pg.locator(".st-key-dl_inward_tickets button")
    with pg.expect_download(timeout=180_000) as info:
        button.click()
    path = tmp_path / name
    info.value.save_as(path)
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_heatmap_cell_click_filters_the_ticket_list(served, page, tmp_path: Path) -> None:
    """Drill-down in a real browser: clicking a department × team cell lists only that
    cell's tickets (Plotly selection events through st.plotly_chart)."""
    url, _ = served
    page.goto(f"{url}/teams")
    page.wait_for_selector(".st-key-heatmap .nsewdrag", timeout=180_000)
    settled(page)
    no_exception(page)
    everyone = ticket_list_csv(page, tmp_path, "all.csv")
    teams = {r["service_team"] for r in everyone}
    departments = {r["requester_department"] for r in everyone if r["requester_department"]}
    assert len(teams) > 1
    grid = page.locator(".st-key-heatmap .nsewdrag").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the middle of the top-left cell (the list's first 5,000 tickets cover every pair)
    page.mouse.click(
        box["x"] + box["width"] / len(teams) / 2, box["y"] + box["height"] / len(departments) / 2
    )
    page.wait_for_selector("text=Tickets: ", timeout=180_000)
    settled(page)
    heading = page.locator("strong", has_text="Tickets: ").first.inner_text()
    department, team = heading.removeprefix("Tickets: ").split(" → ")
    rows = ticket_list_csv(page, tmp_path, "cell.csv")
    assert rows, heading
    assert {r["service_team"] for r in rows} == {team}
    assert {r["requester_department"] for r in rows} == {department}
    assert len(rows) < len(everyone)
    no_exception(page)
