"""Page logic with Streamlit's AppTest on a small demo warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import whole_range

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app" / "main.py")
TITLES = {  # page file -> the title it draws
    "app_pages/overview.py": "Overview",
    "app_pages/teams.py": "Teams",
    "app_pages/flow.py": "Flow",
    "app_pages/engagement.py": "Engagement",
    "app_pages/voice.py": "Voice of the internal customer",
    "app_pages/alignment.py": "Alignment",
    "app_pages/data_page.py": "Data",
    "app_pages/schema.py": "Schema",
}
PAGES = list(TITLES)


def app(db: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("INWARD_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_draws_its_title_and_rows_of_the_demo(demo_wh, monkeypatch, page) -> None:
    """More than "no exception": the page drawn is the one asked for, and at least one of
    its tables holds rows (a page whose reads all came back empty shows none)."""
    at = app(demo_wh.db, monkeypatch).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLES[page]]
    assert any(len(d.value) > 0 for d in at.dataframe), f"{page} shows no rows"


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


def query_page(name: str) -> AppTest:
    script = f"from dashboard.app.components.query_view import render\nrender({name!r})\n"
    return AppTest.from_string(script, default_timeout=90)


def test_query_page_renders_widgets_chart_and_table(demo_wh, monkeypatch) -> None:
    monkeypatch.setenv("INWARD_DB", str(demo_wh.db))
    at = query_page("slowest_categories").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Slowest categories"
    assert len(at.dataframe) == 1 and len(at.number_input) >= 1
    rows_all = len(at.dataframe[0].value)
    top = next(w for w in at.number_input if w.key.endswith("_top"))
    top.set_value(2).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == min(2, rows_all)


def test_new_query_file_becomes_a_page_without_restart(demo_wh, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("INWARD_DB", str(demo_wh.db))
    monkeypatch.setenv("INWARD_QUERIES", str(tmp_path))
    (tmp_path / "busiest_teams.sql").write_text(
        "/*\ntitle: Busiest teams\nparams:\n  n: {type: int, default: 3}\n"
        "chart: {type: bar, x: service_team, y: tickets}\n*/\n"
        "SELECT service_team, count(*) AS tickets FROM ticket_times "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT $n\n"
    )
    at = query_page("busiest_teams").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe[0].value) == 3
    main = app(demo_wh.db, monkeypatch).run()
    assert not main.exception


def test_engagement_page_pseudonymises_requesters(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch).run()
    at.switch_page("app_pages/engagement.py").run()
    assert not at.exception
    at_risk = at.dataframe[-1].value
    assert len(at_risk) > 0
    assert all(str(r).startswith("R-") for r in at_risk["requester_id"])
    assert set(at_risk["status"]) <= {"At risk", "Gone quiet"}  # words, not gone_quiet
    assert not any("@" in str(r) for r in at_risk["requester_id"])


def small_group_view(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app filtered to a department × team where 1 to 4 people answered surveys
    (below the anonymity threshold of 5), over the whole range."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        dept, team, _ = con.sql(
            "SELECT respondent_department, service_team, count(DISTINCT respondent_id) AS n "
            "FROM survey_responses GROUP BY 1, 2 HAVING n BETWEEN 1 AND 4 ORDER BY n LIMIT 1"
        ).fetchall()[0]
    finally:
        con.close()
    at = app(db, monkeypatch, department=dept, team=team)
    at.query_params["dates"] = whole_range(db)
    return at


def test_voice_page_never_shows_a_small_group(demo_wh, monkeypatch) -> None:
    at = small_group_view(demo_wh.db, monkeypatch)
    at.run()
    at.switch_page("app_pages/voice.py").run()
    assert not at.exception
    assert any("nothing can be shown" in w.value for w in at.warning), [i.value for i in at.info]
    assert not [m for m in at.metric if m.label.startswith("CSAT")]


def test_voice_page_shows_the_planted_reopen_driver(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch)
    at.query_params["dates"] = whole_range(demo_wh.db)
    at.run()
    at.switch_page("app_pages/voice.py").run()
    assert not at.exception
    assert any("Reopened tickets score" in m.value and "lower" in m.value for m in at.markdown)


def test_overview_offers_the_report_for_its_filters(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch, team="Legal").run()
    assert not at.exception
    buttons = [b for b in at.get("download_button") if b.proto.label == "Download report"]
    assert len(buttons) == 1


def test_sources_ending_years_apart_get_a_meaningful_range_and_an_as_of(
    tmp_path, monkeypatch
) -> None:
    """A 2019 ServiceNow export next to one 2024 ticket from another tool: the default
    range is the 2019 export's quarter, the sidebar says why, and the Overview says
    which as-of each source was judged at."""
    from dashboard.config import Config
    from dashboard.ingest import ingest_paths
    from tests.test_as_of import servicenow_2019

    db, old, new = tmp_path / "w.duckdb", tmp_path / "incident.csv", tmp_path / "new.csv"
    rows = servicenow_2019(old)
    new.write_text("ticket_id,service_team,created_at,updated_at\nN1,HR,2024-05-01,2024-05-02\n")
    assert all(r.status == "loaded" for r in ingest_paths(db, [old, new], Config()))
    at = app(db, monkeypatch).run()
    assert not at.exception
    assert int(tiles(at)["Tickets"].replace(",", "")) == len(rows)
    picked = at.sidebar.date_input(key="dates").value
    assert picked[1].year == 2019
    notes = [e.label for e in at.sidebar.expander]
    assert any(label.startswith("Sources end at different times") for label in notes)
    captions = " ".join(c.value for c in at.caption)
    assert "2019-07-31 17:00 UTC (servicenow)" in captions
    assert "2024-05-02 00:00 UTC (generic)" in captions


BUILT_IN = [p for p in PAGES if not p.endswith("data_page.py")]  # Data: files, no teams
TEAM_COLUMNS = ("service_team",)
DEPARTMENT_COLUMNS = ("requester_department", "department")


def _busiest(db: Path, column: str) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            f"SELECT {column} FROM tickets WHERE {column} IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


def _shown(at: AppTest, columns: tuple[str, ...]) -> set[str]:
    """Every value of these columns in every table on the page."""
    out: set[str] = set()
    for frame in at.dataframe:
        value = frame.value
        for c in columns:
            if c in value.columns:
                out |= {str(v) for v in value[c].dropna().unique()}
    return out


@pytest.mark.parametrize("page", BUILT_IN)
@pytest.mark.parametrize("field", ["team", "department"])
def test_every_page_honours_team_and_department_in_the_url(demo_wh, monkeypatch, page, field):
    """A lead opens a shared link: no table on any page may show another team or
    department (alignment shows business units: those of the department)."""
    column = "service_team" if field == "team" else "requester_department"
    value = _busiest(demo_wh.db, column)
    at = app(demo_wh.db, monkeypatch, **{field: value}).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.multiselect(key=field).value == [value]
    columns = TEAM_COLUMNS if field == "team" else DEPARTMENT_COLUMNS
    assert _shown(at, columns) <= {value}, f"{page} shows other {field}s"
    if field == "department" and page.endswith("alignment.py"):
        from dashboard.metrics.alignment import business_units_of

        con = duckdb.connect(str(demo_wh.db), read_only=True)
        try:
            units = set(business_units_of(con, [value]))
        finally:
            con.close()
        assert _shown(at, ("business_unit",)) <= units


def test_the_filter_check_can_fail(demo_wh, monkeypatch) -> None:
    """Without a filter the same pages show several teams and departments."""
    at = app(demo_wh.db, monkeypatch).run()
    at.switch_page("app_pages/teams.py").run()
    assert len(_shown(at, TEAM_COLUMNS)) > 1 and len(_shown(at, DEPARTMENT_COLUMNS)) > 1


def test_pages_say_which_filters_do_not_apply(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch, priority="high").run()
    for page, expected in (
        ("app_pages/engagement.py", "Date range, Priority do not apply here"),
        ("app_pages/voice.py", "Priority does not apply here"),
        ("app_pages/alignment.py", "Date range, Priority do not apply here"),
    ):
        at.switch_page(page).run()
        assert not at.exception
        captions = " ".join(c.value for c in at.caption)
        assert expected in captions, (page, captions[:500])


def test_date_presets_set_the_range(demo_wh, monkeypatch) -> None:
    at = app(demo_wh.db, monkeypatch).run()
    first, last = at.sidebar.date_input(key="dates").value
    at.sidebar.button(key="preset_4 weeks").click().run()
    assert not at.exception and not at.warning
    start, end = at.sidebar.date_input(key="dates").value
    assert end == last and 22 <= (end - start).days + 1 <= 28
    at.sidebar.button(key="preset_Year").click().run()
    start, end = at.sidebar.date_input(key="dates").value
    assert 358 <= (end - start).days + 1 <= 364 or start == first


def test_team_names_read_in_natural_order(tmp_path, monkeypatch) -> None:
    """Teams whose names differ by a number or by case: the sidebar, the Overview's
    by-team table and the charts list "Group 2" before "Group 10" and "alpha" next to
    "Beta" (a byte sort gives Beta, Group 1, Group 10, Group 2, alpha)."""
    from dashboard import figures
    from dashboard.config import Config
    from dashboard.ingest import ingest_paths

    natural = ["alpha", "Beta", "Group 1", "Group 2", "Group 10"]
    export = tmp_path / "tickets.csv"
    export.write_text(
        "ticket_id,service_team,requester_department,created_at,updated_at\n"
        + "".join(
            f"T{i}{j},{team},Sales,2024-05-0{1 + j},2024-05-0{2 + j}\n"
            for i, team in enumerate(sorted(natural))
            for j in range(3)
        )
    )
    db = tmp_path / "w.duckdb"
    assert all(r.status == "loaded" for r in ingest_paths(db, [export], Config()))
    at = app(db, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.multiselect(key="team").options == natural
    by_team = next(d.value for d in at.dataframe if "service_team" in d.value.columns)
    assert list(by_team["service_team"]) == natural
    status = pl.DataFrame({"service_team": sorted(natural), "status": "open", "share": 1.0})
    status = status.with_columns(median_minutes=pl.lit(1.0), tickets=pl.lit(1))
    shown = figures.status_share(status).layout.yaxis.categoryarray
    assert list(shown)[::-1] == natural  # drawn bottom-up: the first team on top
    heat = pl.DataFrame(
        {"requester_department": "Sales", "service_team": sorted(natural), "median_hours": 1.0}
    ).with_columns(tickets=pl.lit(1))
    grid = figures.heatmap_cells(heat, "service_team", "requester_department", "median_hours", "h")
    assert list(grid.data[0].x) == natural


def _metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def test_csat_tile_says_why_it_has_no_value(tmp_path, monkeypatch, demo_wh) -> None:
    """No bare dash: without survey answers the tile says "no surveys"; with answers
    from too few people (a small department × team of the demo) "too few answers"."""
    from dashboard.config import Config
    from dashboard.ingest import ingest_paths

    export = tmp_path / "tickets.csv"
    export.write_text(
        "ticket_id,service_team,created_at,updated_at\nA,IT,2024-05-01,2024-05-02\n"
        "B,IT,2024-05-02,2024-05-03\n"
    )
    db = tmp_path / "w.duckdb"
    assert all(r.status == "loaded" for r in ingest_paths(db, [export], Config()))
    at = app(db, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    tile = _metric(at, "CSAT (1–5)")
    assert tile.value == "no surveys" and "No survey answers" in tile.proto.help
    at = small_group_view(demo_wh.db, monkeypatch)
    tile = _metric(at.run(), "CSAT (1–5)")
    assert tile.value == "too few answers" and "anonymity" in tile.proto.help


def test_alignment_pair_chart_names_both_axes_with_units(demo_wh, monkeypatch) -> None:
    """The pair chart's right axis (the outcome) has a title saying how it is counted,
    and picks its own ticks; the left one names the internal metric's unit."""
    at = app(demo_wh.db, monkeypatch).run()
    at.switch_page("app_pages/alignment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (pair,) = [c for c in charts if "yaxis2" in c["layout"]]
    left, right = pair["layout"]["yaxis"], pair["layout"]["yaxis2"]
    assert right["title"]["text"].endswith("(as reported)") and right["tickmode"] == "auto"
    assert left["title"]["text"].endswith(")")  # "ticket volume (tickets)"
