"""Every panel of every page, through the registry the app and `inward panel` share:
each honours the team and department filters it claims (no row of another team or
department), and the CLI prints exactly the frame the page is given."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dashboard import panels, scoped, warehouse
from dashboard.access import OPEN
from dashboard.cli import main
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.alignment import business_units_of
from dashboard.output import render

TEAM_COLUMNS = ("service_team",)
DEPARTMENT_COLUMNS = ("requester_department", "department")
OPTIONS = {"alignment.pair": {"unit": "Sales"}}
CONFIGS = {
    "flow.agents": Config(show_agents=True),  # off by default: agents are people
    # comments come only from (month, team, department) parts at the threshold: on a
    # small demo a low threshold leaves several teams, so the team check can fail
    "voice.comments": Config(anonymity_min_group=2),
}
OPTIONS["voice.comments"] = {"band": "high"}


@pytest.fixture(scope="module")
def con(demo_wh):
    c = warehouse.connect(demo_wh.db, read_only=True)  # the app's configuration
    scoped.install(c, OPEN, demo_wh.db)  # and what its open mode gives every reader
    yield c
    c.close()


@pytest.fixture(scope="module")
def picks(con) -> tuple[str, str]:
    """A team and a department with plenty of tickets."""
    team = con.sql(
        "SELECT service_team FROM tickets GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    dept = con.sql(
        "SELECT requester_department FROM tickets WHERE requester_department IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    return team, dept


def offending(frame: pl.DataFrame, columns: tuple[str, ...], allowed: set[str]) -> list[str]:
    out = []
    for c in columns:
        if c in frame.columns:
            out += [v for v in frame[c].drop_nulls().unique().to_list() if v not in allowed]
    return out


@pytest.mark.parametrize("name", list(panels.PANELS))
def test_panel_honours_team_and_department(con, picks, name) -> None:
    panel = panels.get(name)
    team, dept = picks
    options = OPTIONS.get(name, {})
    config = CONFIGS.get(name, Config())
    unfiltered = panel.run(con, Filters(), config, **options)
    by_team = panel.run(con, Filters(teams=(team,)), config, **options)
    by_dept = panel.run(con, Filters(departments=(dept,)), config, **options)
    if "teams" in panel.applies:
        assert offending(by_team, TEAM_COLUMNS, {team}) == []
        if any(c in unfiltered.columns for c in TEAM_COLUMNS):
            assert offending(unfiltered, TEAM_COLUMNS, {team}), f"{name}: the check cannot fail"
    if "departments" in panel.applies:
        assert offending(by_dept, DEPARTMENT_COLUMNS, {dept}) == []
        units = set(business_units_of(con, [dept]))
        assert offending(by_dept, ("business_unit",), units) == []
    if not set(panel.applies) & {"teams", "departments"}:
        assert panel.why, f"{name} ignores team and department without saying why"


def test_cli_prints_the_panel(demo_wh, con, picks, capsys) -> None:
    team, _ = picks
    frame = panels.get("teams.backlog_age").run(con, Filters(teams=(team,)), Config())
    code = main(
        ["panel", "teams.backlog_age", "--db", str(demo_wh.db), "--team", team, "--format", "json"]
    )
    out = capsys.readouterr()
    assert code == 0
    assert json.loads(out.out) == json.loads(render(frame, "json"))
    assert (
        main(["panel", "teams.backlog_age", "--db", str(demo_wh.db), "--from", "2026-01-01"]) == 0
    )
    assert "does not apply" in capsys.readouterr().err
    assert main(["panel", "nope", "--db", str(demo_wh.db)]) == 2
