"""Page logic with Streamlit's AppTest on a small demo warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app" / "main.py")
PAGES = ["app_pages/overview.py", "app_pages/teams.py", "app_pages/data_page.py"]


def app(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("INWARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exceptions(demo_wh, monkeypatch, page) -> None:
    at = app(demo_wh.db, monkeypatch).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]


def test_overview_shows_kpis(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch).run()
    assert not at.exception
    shown = tiles(at)
    assert set(shown) >= {
        "Tickets",
        "Median first response",
        "Median resolution",
        "SLA met (resolution)",
        "CSAT (1–5)",
    }
    assert int(shown["Tickets"].replace(",", "")) > 0


def test_url_filter_changes_kpis(demo_wh, monkeypatch) -> None:
    everyone = tiles(app(demo_wh.db, monkeypatch).run())
    legal_at = app(demo_wh.db, monkeypatch, team="Legal").run()
    assert not legal_at.exception
    legal = tiles(legal_at)
    assert int(legal["Tickets"].replace(",", "")) < int(everyone["Tickets"].replace(",", ""))
    assert legal["Median resolution"] != everyone["Median resolution"]
    assert legal_at.sidebar.multiselect(key="team").value == ["Legal"]


def test_empty_warehouse_shows_a_friendly_state(tmp_path, monkeypatch) -> None:
    at = app(tmp_path / "nothing.duckdb", monkeypatch).run()
    assert not at.exception
    assert any("Welcome to Inward" in t.value for t in at.title)
    at.switch_page("app_pages/data_page.py").run()
    assert not at.exception
