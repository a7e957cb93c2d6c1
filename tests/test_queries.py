"""Analyst query files: header parsing, parameter checks, coercion, discovery, shipped queries."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import as_of
from dashboard.analyst.catalog import SHIPPED_QUERIES, discover, get_query, load_query
from dashboard.analyst.charts import build_chart
from dashboard.analyst.check import check_all
from dashboard.analyst.header import parse_query_text
from dashboard.analyst.params import coerce_value, coerce_values, parse_param_args
from dashboard.analyst.run import run_query
from dashboard.analyst.sandbox import QueryError, QueryUsageError
from dashboard.analyst.spec import ChartError, ChartSpec, Param, QuerySpecError
from dashboard.filters import Filters
from dashboard.output import render
from dashboard.warehouse import connect, migrate

TEAMS = ("IT Service Desk", "HR Operations")
CATEGORIES = ("access", "hardware", "payroll")
DEPARTMENTS = ("Sales", "Finance", "Engineering")
CHANNELS = ("email", "portal", "chat", "phone")
REQUESTER_TYPES = ("employee",) * 7 + ("contractor", "contractor", "vendor")


def build_small_warehouse(path: Path) -> None:
    """120 tickets over ~5 weeks plus survey responses, shaped so every shipped query has rows.

    Deterministic (no random): ticket i is created 7 h after ticket i-1, so the
    data covers nights and weekends; every 10th ticket is still open; one
    requester (u000) is a heavy repeat requester; IT has 6 survey respondents,
    HR only 3 (below the anonymity threshold), Facilities 5 (hidden as HR's
    complement, the smaller of the two others).
    """
    con = connect(path)
    try:
        migrate(con)
        start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
        rows = []
        for i in range(120):
            created = start + timedelta(hours=7 * i)
            is_open = i % 10 == 0
            rows.append(
                [
                    f"T{i:03d}",
                    "generic",
                    TEAMS[i % 2],
                    "u000" if i % 8 == 0 else f"u{i % 23 + 1:03d}",
                    DEPARTMENTS[(i // 3) % 3],
                    REQUESTER_TYPES[i % 10],
                    CHANNELS[i % 4],
                    CATEGORIES[i % 3],
                    ("low", "normal", "normal", "high", "urgent")[i % 5],
                    "request",
                    "open" if is_open else "solved",
                    created,
                    created + timedelta(hours=1),
                    created + timedelta(minutes=15 + (i % 9) * 60),
                    None if is_open else created + timedelta(hours=2 + (i % 7) * 11),
                    1 if i % 6 == 0 else 0,
                    f"subject {i}",
                ]
            )
        con.executemany(
            "INSERT INTO tickets (ticket_id, source, service_team, requester_id, "
            "requester_department, requester_type, channel, category, priority, ticket_type, "
            "status, created_at, updated_at, first_response_at, resolved_at, reopen_count, "
            "subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        as_of.rebuild(con)  # what the loader records per file
        # Calendar-minute targets for every team, so ticket_times has met/breached flags.
        con.executemany(
            "INSERT INTO sla_targets VALUES ('*', ?, ?, ?, false)",
            [["urgent", 60, 480], ["high", 240, 1440], ["normal", 480, 4320], ["low", 1440, 10080]],
        )
        surveys = []
        # a third team so that hiding HR does not force IT out as its complement
        for team, people, tag in (
            (TEAMS[0], 6, "it"),
            (TEAMS[1], 3, "hr-secret"),
            ("Facilities", 5, "fac"),
        ):
            for k in range(people):
                surveys.append(
                    [
                        f"{tag}-{k}",
                        "generic",
                        "pulse",
                        start + timedelta(days=k),
                        f"{tag}-person-{k}",
                        "Sales",
                        team,
                        None,
                        "csat",
                        1.0 + (k % 5),
                        1.0,
                        5.0,
                        f"{tag} comment {k}",
                    ]
                )
        con.executemany(
            "INSERT INTO survey_responses (response_id, source, survey, submitted_at, "
            "respondent_id, respondent_department, service_team, ticket_id, metric, score, "
            "scale_min, scale_max, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            surveys,
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("queries") / "small.duckdb"
    build_small_warehouse(path)
    return path


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("queries") / "empty.duckdb"
    con = connect(path)
    migrate(con)
    con.close()
    return path


def _err(text: str) -> str:
    with pytest.raises(QuerySpecError) as info:
        parse_query_text(text, "q/bad.sql", "q")
    return str(info.value)


# --- header parsing ---------------------------------------------------------------------------


def test_parses_the_contract_example() -> None:
    spec = parse_query_text(
        "/*\ntitle: Slowest categories\ndescription: Longest median.\nparams:\n"
        '  team:  {type: text, default: "IT Service Desk", label: Service team}\n'
        '  since: {type: date, default: "2024-01-01"}\n'
        "  top:   {type: int, default: 10, min: 1, max: 100}\n"
        "chart: {type: bar, x: category, y: median_hours}\n*/\n"
        "SELECT category, median(resolution_minutes) / 60 AS median_hours\n"
        "FROM ticket_times WHERE service_team = $team AND created_at >= $since\n"
        "GROUP BY category ORDER BY median_hours DESC LIMIT $top\n",
        "queries/sub/slowest.sql",
        "queries",
    )
    assert spec.name == "sub/slowest" and spec.section == "sub"
    assert spec.title == "Slowest categories" and spec.description == "Longest median."
    assert [p.name for p in spec.params] == ["team", "since", "top"]
    assert spec.defaults == {"team": "IT Service Desk", "since": date(2024, 1, 1), "top": 10}
    assert spec.param("team").label == "Service team" and spec.param("top").max == 100
    assert spec.chart == ChartSpec(type="bar", x="category", y=("median_hours",))
    assert spec.sql_line == 10
    assert spec.sql.count("\n") >= 9  # padded so DuckDB line numbers are file lines


def test_missing_header() -> None:
    assert _err("SELECT 1").startswith("q/bad.sql:1: a query file must start with")


def test_unclosed_header() -> None:
    assert _err("\n/*\ntitle: x\nSELECT 1").startswith("q/bad.sql:2: the /* header comment")


def test_bad_yaml_names_the_file_line() -> None:
    msg = _err("/*\ntitle: ok\nparams:\n  top: {type: int, default: [1}\n*/\nSELECT $top")
    assert msg.startswith("q/bad.sql:4: bad YAML in header")


def test_header_must_be_a_mapping() -> None:
    assert "must be a YAML mapping" in _err("/* just prose */ SELECT 1")


def test_unknown_header_key() -> None:
    msg = _err("/*\ntitle: x\nparms:\n  a: {type: int}\n*/\nSELECT 1")
    assert msg.startswith("q/bad.sql:3: unknown header key 'parms'")


def test_unknown_param_type_points_at_the_type_line() -> None:
    msg = _err("/*\nparams:\n  top:\n    type: integer\n    default: 3\n*/\nSELECT $top")
    assert msg.startswith("q/bad.sql:4: parameter $top: unknown type 'integer'")
    assert "text, int, float, date, bool, choice" in msg


@pytest.mark.parametrize(
    ("param", "needle"),
    [
        ("{type: int, default: ten}", "default: parameter $p: expected a whole number"),
        ("{type: int, default: 500, max: 100}", "above the maximum 100"),
        ("{type: int, min: 5, max: 1}", "min 5 is above max 1"),
        ("{type: text, min: 1}", "min only applies to int, float and date"),
        ("{type: choice}", "needs exactly one of options"),
        ("{type: choice, options: [a, b], default: c}", "'c' is not one of a, b"),
        ("{type: choice, options_sql: DROP TABLE tickets}", "only a read-only SELECT"),
        ("{type: text, options: [a]}", "options only applies to type choice"),
        ("{type: text, colour: red}", "unknown key 'colour'"),
    ],
)
def test_bad_param_declarations(param: str, needle: str) -> None:
    msg = _err(f"/*\nparams:\n  p: {param}\n*/\nSELECT $p")
    assert msg.startswith("q/bad.sql:3: ") and needle in msg


@pytest.mark.parametrize(
    ("chart", "needle"),
    [
        ("{type: pie, x: a, y: b}", "chart: unknown type 'pie'"),
        ("{type: bar, x: a}", "type bar needs both x and y"),
        ("{type: bar, x: a, y: {b: 1}}", "y must be a column name"),
    ],
)
def test_bad_chart_specs(chart: str, needle: str) -> None:
    assert needle in _err(f"/*\nchart: {chart}\n*/\nSELECT 1 AS a, 2 AS b")


def test_sql_syntax_error_names_the_file_line() -> None:
    msg = _err("/*\ntitle: x\n*/\nSELECT 1\nFORM tickets")
    assert msg.startswith("q/bad.sql:5: ") and "syntax error" in msg


# --- $param checks ----------------------------------------------------------------------------


def test_undeclared_param_names_its_line() -> None:
    msg = _err(
        "/*\nparams:\n  team: {type: text}\n*/\nSELECT *\nFROM tickets\n"
        "WHERE service_team = $team\n  AND category = $cat"
    )
    assert msg == "q/bad.sql:8: $cat is used in the SQL but not declared under params:"


def test_declared_but_unused_param_names_its_declaration() -> None:
    msg = _err(
        "/*\nparams:\n  team: {type: text}\n  top: {type: int, default: 3}\n*/\n"
        "SELECT * FROM tickets WHERE service_team = $team"
    )
    assert msg == "q/bad.sql:4: parameter $top is declared but not used in the SQL"


def test_dollar_names_in_strings_and_comments_are_not_params() -> None:
    spec = parse_query_text(
        "/*\nparams:\n  a: {type: int, default: 1}\n*/\n"
        "SELECT $a AS a, '$b' AS s, $$ $c $$ AS d -- $e\n/* $f */",
        "x.sql",
    )
    assert [p.name for p in spec.params] == ["a"]


def test_positional_params_refused() -> None:
    assert "positional parameters" in _err("/*\ntitle: x\n*/\nSELECT ?")
    assert "positional parameters" in _err("/*\ntitle: x\n*/\nSELECT $1")


# --- coercion ---------------------------------------------------------------------------------


def test_coercion_of_cli_strings() -> None:
    spec = parse_query_text(
        "/*\nparams:\n  n: {type: int, default: 3, min: 1, max: 10}\n"
        "  x: {type: float}\n  d: {type: date}\n  b: {type: bool, default: false}\n"
        "  t: {type: text}\n  c: {type: choice, options: [1, 2, 3]}\n*/\n"
        "SELECT $n, $x, $d, $b, $t, $c",
        "x.sql",
    )
    got = coerce_values(
        spec, {"n": "7", "x": "2.5", "d": "2024-02-29", "b": "yes", "t": " 42 ", "c": "2"}
    )
    assert got == {"n": 7, "x": 2.5, "d": date(2024, 2, 29), "b": True, "t": "42", "c": 2}
    assert coerce_values(spec, {}) == {
        "n": 3,
        "x": None,
        "d": None,
        "b": False,
        "t": None,
        "c": None,
    }
    cleared = coerce_values(spec, {"n": "", "d": "", "t": "  "})  # empty clears a filter
    assert cleared["n"] is None and cleared["d"] is None and cleared["t"] is None
    assert coerce_values(spec, {"n": 4, "d": date(2024, 1, 1), "b": True})["n"] == 4


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("n", "seven", "parameter $n: expected a whole number, got 'seven'"),
        ("n", "5.5", "expected a whole number"),
        ("n", True, "expected a whole number"),
        ("n", "11", "parameter $n: 11 is above the maximum 10"),
        ("n", "0", "below the minimum 1"),
        ("x", "nan", "expected a number"),
        ("d", "2024-13-01", "expected a date YYYY-MM-DD"),
        ("b", "maybe", "expected true or false"),
        ("c", "4", "'4' is not one of 1, 2, 3"),
        ("zz", "1", "has no parameter 'zz' (it takes: n, x, d, b, c)"),
    ],
)
def test_coercion_errors_are_clear(name: str, value: object, needle: str) -> None:
    spec = parse_query_text(
        "/*\nparams:\n  n: {type: int, default: 3, min: 1, max: 10}\n"
        "  x: {type: float}\n  d: {type: date}\n  b: {type: bool}\n"
        "  c: {type: choice, options: [1, 2, 3]}\n*/\nSELECT $n, $x, $d, $b, $c",
        "x.sql",
    )
    with pytest.raises(QueryUsageError) as info:  # the CLI exits 2 (bad usage) on these
        coerce_values(spec, {name: value})
    assert needle in str(info.value)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_int_round_trips_through_text(n: int) -> None:
    p = Param(name="n", type="int", min=-(10**6), max=10**6)
    assert coerce_value(p, str(n)) == n


@given(st.dates())
def test_date_round_trips_through_iso_text(d: date) -> None:
    assert coerce_value(Param(name="d", type="date"), d.isoformat()) == d


def test_parse_param_args() -> None:
    assert parse_param_args(["team=IT Service Desk", "q=a=b", "top="]) == {
        "team": "IT Service Desk",
        "q": "a=b",
        "top": "",
    }
    with pytest.raises(QueryUsageError, match="--param expects NAME=VALUE"):
        parse_param_args(["oops"])


# --- discovery and the mtime cache ------------------------------------------------------------


def test_mtime_cache_picks_up_new_and_changed_files(tmp_path: Path) -> None:
    root = tmp_path / "queries"
    (root / "sec").mkdir(parents=True)
    first = root / "one.sql"
    first.write_text("/*\ntitle: One\n*/\nSELECT 1 AS a\n")
    specs, errors = discover(root)
    assert [s.name for s in specs] == ["one"] and errors == []
    again, _ = discover(root)
    assert again[0] is specs[0]  # unchanged file: the cached parse is reused

    (root / "sec" / "two.sql").write_text("/*\ntitle: Two\n*/\nSELECT 2 AS b\n")
    (root / "sec" / "broken.sql").write_text("SELECT 3\n")
    specs, errors = discover(root)
    assert [(s.name, s.section) for s in specs] == [("one", None), ("sec/two", "sec")]
    assert len(errors) == 1 and str(errors[0]).startswith(f"{root}/sec/broken.sql:1:")

    first.write_text("/*\ntitle: One, renamed\n*/\nSELECT 1 AS a\n")
    st_ = first.stat()
    os.utime(first, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000_000))
    assert get_query("one", root).title == "One, renamed"
    assert get_query("sec/two.sql", root).title == "Two"
    with pytest.raises(QueryUsageError, match=r"no query named 'nope' .*known: one, sec/two"):
        get_query("nope", root)
    with pytest.raises(QuerySpecError, match="must start with"):
        get_query("sec/broken", root)
    with pytest.raises(QueryError, match="no query named"):
        get_query("../queries/one", root)


def test_load_query_caches_errors_too(tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_text("/*\nparams:\n  a: {type: int}\n*/\nSELECT 1")
    with pytest.raises(QuerySpecError) as one:
        load_query(path, tmp_path)
    with pytest.raises(QuerySpecError) as two:
        load_query(path, tmp_path)
    assert one.value is two.value


# --- charts and output ------------------------------------------------------------------------


def test_build_chart_checks_columns_and_draws() -> None:
    frame = pl.DataFrame({"category": ["b", "a"], "hours": [3.0, 1.0], "team": ["x", "y"]})
    with pytest.raises(
        ChartError,
        match=r"y column 'median' is not in the result "
        r"\(columns: category, hours, team\)",
    ):
        build_chart(ChartSpec("bar", "category", ("median",)), frame)
    assert build_chart(ChartSpec("table"), frame) is None
    assert build_chart(ChartSpec("bar", "category", ("hours",)), frame.head(0)) is None
    for kind in ("line", "bar", "area", "scatter"):
        fig = build_chart(ChartSpec(kind, "category", ("hours",), "team"), frame)
        assert fig is not None and len(fig.data) == 2
    fig = build_chart(ChartSpec("bar", "category", ("hours",)), frame)
    assert list(fig.layout.xaxis.categoryarray) == ["b", "a"]  # SQL order kept


def test_format_result_json_csv_table() -> None:
    frame = pl.DataFrame(
        {
            "at": [datetime(2026, 3, 2, 9, 30, tzinfo=UTC), None],
            "day": [date(2026, 3, 2), None],
            "n": [1, None],
            "share": [0.25, float("nan")],
            "ok": [True, None],
        }
    ).with_columns(pl.col("at").dt.convert_time_zone("UTC"))
    rows = json.loads(render(frame, "json"))
    assert rows == [
        {"at": "2026-03-02T09:30:00+00:00", "day": "2026-03-02", "n": 1, "share": 0.25, "ok": True},
        {"at": None, "day": None, "n": None, "share": None, "ok": None},
    ]
    assert json.loads(render(frame.head(0), "json")) == []
    csv_text = render(frame, "csv").splitlines()
    assert csv_text == [
        "at,day,n,share,ok",
        "2026-03-02T09:30:00+00:00,2026-03-02,1,0.25,true",
        ",,,,",
    ]
    table = render(frame, "table").splitlines()
    assert table[0].split() == ["at", "day", "n", "share", "ok"]
    assert "0.25" in table[2]
    assert render(frame.head(0), "table").splitlines()[-1] == "(no rows)"
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(frame, "xml")


# --- shipped queries --------------------------------------------------------------------------

SHIPPED = sorted(s.name for s in discover(SHIPPED_QUERIES)[0])


def test_shipped_queries_all_parse() -> None:
    specs, errors = discover(SHIPPED_QUERIES)
    assert errors == []
    assert len(specs) >= 10
    assert {s.section for s in specs} >= {None, "demand", "surveys"}
    for spec in specs:
        assert spec.title and spec.description, spec.name


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_query_runs_on_small_and_empty_warehouses(
    name: str, small: Path, empty: Path
) -> None:
    spec = get_query(name, SHIPPED_QUERIES)
    on_empty = run_query(spec, {}, empty)
    assert on_empty.frame.height == 0 and not on_empty.truncated
    build_chart(spec.chart, on_empty.frame)
    result = run_query(spec, {}, small)
    assert result.frame.height > 0, f"{name} returned no rows on the small warehouse"
    fig = build_chart(spec.chart, result.frame)
    assert (fig is None) == (spec.chart.type == "table")
    json.loads(render(result.frame, "json"))


def test_low_score_comments_hide_small_teams(small: Path) -> None:
    spec = get_query("surveys/low_score_comments", SHIPPED_QUERIES)
    frame = run_query(spec, {}, small).frame
    assert set(frame["service_team"]) == {"IT Service Desk"}
    assert frame.height == 3  # IT's 6 people scored 1, 2, 3, 4, 5, 1: three are low (1-2)
    assert not any("hr-secret" in c for c in frame["comment"])
    assert "respondent_id" not in frame.columns
    # the small team's answers are not in the analyst's database at all
    hostile = parse_query_text(
        "/*\ntitle: t\n*/\nSELECT count(*) AS n FROM survey_comments WHERE comment LIKE '%hr-%'",
        "x.sql",
    )
    assert run_query(hostile, {}, small).frame["n"][0] == 0


def test_repeat_requesters_are_pseudonymised(small: Path) -> None:
    spec = get_query("demand/repeat_requesters", SHIPPED_QUERIES)
    frame = run_query(spec, {"days": "365"}, small).frame
    assert frame["requester"][0].startswith("R-") and len(frame["requester"][0]) == 14
    assert frame["tickets"][0] == 15  # u000 opened every 8th ticket
    assert not any(v.startswith("u0") for v in frame["requester"])


def test_choice_from_options_sql(small: Path) -> None:
    from dashboard.analyst.run import choice_options

    spec = parse_query_text(
        "/*\nparams:\n  team:\n    type: choice\n    options_sql: SELECT DISTINCT service_team "
        "FROM tickets ORDER BY 1\n*/\n"
        "SELECT DISTINCT category FROM tickets WHERE $team IS NULL OR service_team = $team\n",
        "categories_of.sql",
    )
    assert choice_options(spec, "team", small) == sorted(TEAMS)
    only_hr = run_query(spec, {"team": "HR Operations"}, small)
    assert only_hr.frame.height == 3
    with pytest.raises(QueryError, match=r"\$team: 'Nope' is not one of the 2 allowed values"):
        run_query(spec, {"team": "Nope"}, small)


def test_global_filters_bind_to_parameters(small: Path) -> None:
    """`filters:` binds the sidebar's dates, teams and departments; the same rows as a
    brute-force count, and a filter the query does not take is refused, not ignored."""
    spec = get_query("slowest_categories", SHIPPED_QUERIES)
    assert "teams" in spec.filters and "dates" in spec.filters
    everyone = run_query(spec, {"min_tickets": "1"}, small).frame
    hr = Filters(teams=("HR Operations",), date_from=date(2026, 3, 9), date_to=date(2026, 3, 22))
    only = run_query(spec, {"min_tickets": "1"}, small, filters=hr).frame
    con = connect(small, read_only=True)
    try:
        expected = con.sql(
            "SELECT count(*) FROM ticket_times WHERE service_team = 'HR Operations' "
            "AND resolution_minutes IS NOT NULL AND created_at >= TIMESTAMPTZ '2026-03-09 00:00Z' "
            "AND created_at < TIMESTAMPTZ '2026-03-23 00:00Z'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert (
        0
        < int(only["resolved_tickets"].sum())
        == expected
        < int(everyone["resolved_tickets"].sum())
    )
    backlog = get_query("backlog_by_age", SHIPPED_QUERIES)
    with pytest.raises(QueryUsageError, match="does not take the dates filter"):
        run_query(backlog, {}, small, filters=hr)


def test_filters_header_is_checked() -> None:
    assert "unknown filter 'team'" in _err("/*\nfilters: [team]\n*/\nSELECT 1\n")
    assert "uses no $teams" in _err("/*\nfilters: [teams]\n*/\nSELECT 1\n")
    assert "cannot also be declared" in _err(
        "/*\nfilters: [teams]\nparams:\n  teams: {type: text}\n*/\n"
        "SELECT 1 WHERE picked($teams, 'x')\n"
    )


def test_check_all_passes_on_shipped_queries() -> None:
    assert check_all(None, SHIPPED_QUERIES) == []  # on a temp empty warehouse


def test_trailing_semicolon_and_comment_are_fine(empty: Path) -> None:
    spec = parse_query_text("/*\ntitle: t\n*/\nSELECT ';' AS a;\n-- the end\n", "x.sql")
    assert run_query(spec, {}, empty).frame["a"].to_list() == [";"]


def test_check_all_reports_file_and_line(tmp_path: Path, empty: Path) -> None:
    root = tmp_path / "queries"
    root.mkdir()
    (root / "good.sql").write_text("/*\ntitle: ok\n*/\nSELECT count(*) AS n FROM tickets\n")
    (root / "typo.sql").write_text("/*\ntitle: typo\n*/\nSELECT nope FROM tickets\n")
    (root / "undeclared.sql").write_text("/*\ntitle: u\n*/\nSELECT $x\n")
    problems = [str(p) for p in check_all(empty, root)]
    assert len(problems) == 2
    assert (
        problems[0] == f"{root}/undeclared.sql:4: $x is used in the SQL but not declared "
        "under params:"
    )
    assert problems[1].startswith(f"{root}/typo.sql: Binder Error") and "nope" in problems[1]
    missing = check_all(tmp_path / "missing.duckdb", root)
    assert len(missing) == 2  # parse errors are still reported, then the missing file once
    assert "does not exist; run `inward demo`" in str(missing[1])


def test_inward_queries_check_runs_every_shipped_query(capsys) -> None:
    """What CI needs from `inward queries check`: every shipped query runs on a demo."""
    from dashboard.cli import main

    assert main(["queries", "check", "--demo"]) == 0
    assert "queries parse and run" in capsys.readouterr().err


def test_queries_check_counts_each_failing_file_once(tmp_path, monkeypatch, capsys) -> None:
    """Run failures were counted twice (`60 of 102` for 85 files, issue 17)."""
    from dashboard.cli import main

    root = tmp_path / "queries"
    root.mkdir()
    (root / "good.sql").write_text("/*\ntitle: ok\n*/\nSELECT count(*) AS n FROM tickets\n")
    (root / "typo.sql").write_text("/*\ntitle: typo\n*/\nSELECT nope FROM tickets\n")
    (root / "undeclared.sql").write_text("/*\ntitle: u\n*/\nSELECT $x\n")
    monkeypatch.setenv("INWARD_QUERIES", str(root))
    from dashboard.warehouse import connect, migrate

    db = tmp_path / "w.duckdb"
    con = connect(db)
    migrate(con)
    con.close()
    capsys.readouterr()
    assert main(["queries", "check", "--db", str(db)]) == 1
    assert capsys.readouterr().err.splitlines()[-1].endswith("2 of 3 queries failed")
