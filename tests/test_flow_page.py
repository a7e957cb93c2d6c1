"""The Flow page (AppTest) on the demo and on the real event logs: what it shows, not
only that it runs. Numbers on the page are checked against the metric functions'
own frames and against facts of the data (planted in the demo, or raw-log values)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.app import data
from dashboard.config import Config
from dashboard.ingest import ingest_paths
from tests.conftest import whole_range
from tests.test_history import HELPDESK, UCI, VOLVO, needs_real

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app" / "main.py")


def flow_page(db: Path, monkeypatch: pytest.MonkeyPatch, config: Path | None = None) -> AppTest:
    monkeypatch.setenv("INWARD_DB", str(db))
    monkeypatch.setenv("INWARD_CONFIG", str(config) if config else "")
    data.config.clear()  # the app reads its config once per process (cache_resource)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dates"] = whole_range(db)
    at.run()
    at.switch_page("app_pages/flow.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Flow"]
    return at


def table(at: AppTest, first_column: str, *columns: str):
    """The page's dataframe whose first columns are these."""
    want = [first_column, *columns]
    for d in at.dataframe:
        if list(d.value.columns)[: len(want)] == want:
            return d.value
    raise AssertionError(
        f"no table starting {want}: {[list(d.value.columns) for d in at.dataframe]}"
    )


def hours(text: str) -> float:
    return float(text.removesuffix(" h").replace(",", ""))


def test_flow_page_on_the_demo(demo_wh, monkeypatch) -> None:
    at = flow_page(demo_wh.db, monkeypatch)
    tiles = {m.label: m.value for m in at.metric}
    con = duckdb.connect(str(demo_wh.db), read_only=True)
    n = con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]
    con.close()
    assert tiles["Tickets with history"] == f"{n:,} of {n:,}"  # the demo history covers all
    assert hours(tiles["Excluding waiting"]) < hours(tiles["Median resolution"])
    hand = table(at, "from_team", "to_team")
    assert hand.iloc[0]["to_team"] == "Finance & Payroll"  # planted: slowest pickup
    # slowest first, by the number shown next to the teams (the one they are ranked by)
    held = list(hand[list(hand.columns)[2]])
    assert list(hand.columns)[2] == "median_held_minutes" and held == sorted(held, reverse=True)
    waits = table(at, "service_team", "status", "vendor_status")
    assert {"Pending", "On hold"} <= set(waits["status"])  # words, never on_hold
    status = table(at, "service_team", "status", "tickets")
    it_new = status[(status.service_team == "IT Service Desk") & (status.status == "New")]
    assert int(it_new["tickets"].iloc[0]) > 0
    # agents are people: no per-agent table unless the config asks for one
    assert not any("assignee" in d.value.columns for d in at.dataframe)
    assert any("Per-agent tables are off" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3


def test_flow_page_shows_agents_only_when_configured(demo_wh, monkeypatch, tmp_path) -> None:
    cfg = tmp_path / "inward.toml"
    cfg.write_text("show_agents = true\n")
    at = flow_page(demo_wh.db, monkeypatch, cfg)
    agents = table(at, "assignee", "service_team", "tickets")
    assert len(agents) > 0 and agents["assignee"].str.contains("agent").all()
    data.config.clear()  # later tests get the default (agents off) again


@needs_real
def test_flow_page_on_the_real_event_logs(tmp_path, monkeypatch) -> None:
    db = tmp_path / "w.duckdb"
    results = ingest_paths(db, [UCI, VOLVO, HELPDESK], Config())
    assert all(r.status == "loaded" for r in results)
    at = flow_page(db, monkeypatch)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Tickets with history"] == "19,699 of 19,699"  # 8,341 + 7,554 + 3,804
    waits = table(at, "service_team", "status", "vendor_status")
    assert "Awaiting User Info" in set(waits["vendor_status"])  # ServiceNow's own names
    hand = table(at, "from_team", "to_team")
    assert len(hand) > 0 and (hand["handoffs"] >= 3).all()
    status = table(at, "service_team", "status", "tickets")
    assert {"New", "Open", "Pending", "On hold"} <= set(status["status"])
