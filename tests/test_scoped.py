"""The scoped connection: every built-in reader sees exactly the in-scope rows, and
no raw id, whatever its SQL.

The central check builds the reference independently: a copy of the warehouse
from which the out-of-scope rows are *deleted* (plain SQL written here, not the
shadow views), and then asserts that every public metric function returns the
same on the scoped connection as on that reference. A function that read a base
table past the shadows, or a shadow that filtered differently from the
definition below, fails it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import dashboard
import dashboard.metrics
from dashboard import pseudonyms, scoped
from dashboard.access import OPEN, OPERATOR, Scope
from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.surveys.answers import whole_months

ROOT = Path(__file__).resolve().parents[1]
SCOPE = Scope(teams=("Legal",), departments=("Sales",))
KEY = "test-key-0123456789abcdef"

# What each parameter of a metric function gets in the sweep.
ARGS: dict[str, Any] = {
    "filters": Filters(date_from=date(2025, 9, 1), date_to=date(2026, 9, 30)),
    "config": Config(anonymity_min_group=3),
    "by": ["service_team", "requester_department"],
    "ingest_id": 1,
    "table": "tickets",
    "as_of": datetime(2026, 10, 1, tzinfo=UTC),
    "departments": ["Sales", "Engineering"],
    "period": "month",
    "team": "Legal",
    "unit": "Sales",
    "internal": "ticket_volume",
    "external": "customer_csat",
    "lag": 1,
    "name": "summary",
    "kind": "tickets",
    "text": "Sales",
    # "requester_id": set per test (a pseudonym only a scoped viewer can resolve)
}
# Helpers that build or register the inputs of another query are not readers; nor are
# the models' raw inputs (rows before pseudonyms and anonymity, never shown as they are).
# (Writers live in dashboard.derive, outside the sweep: tests/test_layers.py.)
NOT_READERS = {
    "model_inputs",
    "load_rows",
    "calendars_registered",
    "calendar_frames",
    "data_range",
}


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"coalesce({col} IN ({', '.join(repr(v) for v in values) or 'NULL'}), FALSE)"


def _keep(team: str, dept: str) -> str:
    return f"({_in(team, SCOPE.teams)} OR {_in(dept, SCOPE.departments)})"


@pytest.fixture(scope="module")
def full(demo_wh, tmp_path_factory) -> Path:
    """The demo warehouse plus survey answers that only their ticket (or the people
    file) places in a team or department, so the fallbacks are exercised."""
    db = tmp_path_factory.mktemp("scoped") / "full.duckdb"
    shutil.copy(demo_wh.db, db)
    con = duckdb.connect(str(db))
    con.execute("""
        INSERT INTO survey_responses (response_id, source, survey, submitted_at, respondent_id,
            respondent_department, service_team, ticket_id, metric, score, scale_min, scale_max)
        SELECT 'planted-' || row_number() OVER (), 'generic', 'planted', t.resolved_at,
            t.requester_id, NULL, NULL, t.ticket_id, 'csat', 4, 1, 5
        FROM (SELECT * FROM tickets WHERE resolved_at IS NOT NULL
              AND service_team IN ('Legal', 'Facilities') ORDER BY ticket_id LIMIT 40) t""")
    con.close()
    return db


@pytest.fixture(scope="module")
def reference(full, tmp_path_factory) -> Path:
    """`full` with every out-of-scope row deleted (the definition of the scope)."""
    db = tmp_path_factory.mktemp("scoped") / "reference.duckdb"
    shutil.copy(full, db)
    con = duckdb.connect(str(db))
    con.execute(f"""
        DELETE FROM survey_responses WHERE (source, response_id, metric) NOT IN (
            SELECT (s.source, s.response_id, s.metric) FROM survey_responses s
            LEFT JOIN people p ON p.person_id = s.respondent_id
            LEFT JOIN (SELECT * FROM tickets QUALIFY row_number() OVER (PARTITION BY ticket_id
                       ORDER BY updated_at DESC NULLS LAST, ingest_id DESC NULLS LAST) = 1) t
                ON t.ticket_id = s.ticket_id
            WHERE {
        _keep(
            "coalesce(nullif(s.service_team, ''), t.service_team)",
            "coalesce(nullif(s.respondent_department, ''), p.department, "
            "nullif(t.requester_department, ''))",
        )
    })""")
    con.execute(f"DELETE FROM tickets WHERE NOT {_keep('service_team', 'requester_department')}")
    con.execute(
        "DELETE FROM requester_engagement WHERE NOT "
        + _keep("service_team", "requester_department")
    )
    con.execute(f"""DELETE FROM people WHERE NOT ({_in("department", SCOPE.departments)}
        OR person_id IN (SELECT requester_id FROM tickets)
        OR person_id IN (SELECT respondent_id FROM survey_responses))""")
    con.execute("DELETE FROM rejected_rows")
    tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in ("ticket_events", "ticket_status_time", "ticket_status_spans", "ticket_keys"):
        if name in tables:  # a ticket's history goes with the ticket
            con.execute(
                f"DELETE FROM {name} WHERE (source, ticket_id) NOT IN "
                "(SELECT (source, ticket_id) FROM tickets)"
            )
    con.execute("""DELETE FROM requester_identities WHERE NOT (
        requester_id IN (SELECT requester_id FROM tickets)
        OR requester_id IN (SELECT respondent_id FROM survey_responses))""")
    con.close()
    return db


def readers(exclude: set[str] = NOT_READERS) -> list[tuple[str, Any]]:
    """Every public function of dashboard.metrics.* (its packages too) that takes a
    connection first, but those named in `exclude`."""
    out = []
    prefix = "dashboard.metrics."
    for mod in pkgutil.walk_packages(dashboard.metrics.__path__, prefix):
        module = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            params = list(inspect.signature(fn).parameters)
            if (
                fn.__module__ == module.__name__
                and not name.startswith("_")
                and params
                and params[0] == "con"
                and name not in exclude
            ):
                out.append((f"{mod.name.removeprefix(prefix)}.{name}", fn))
    return out


def call(fn: Any, con: duckdb.DuckDBPyConnection) -> Any:
    params = list(inspect.signature(fn).parameters.values())[1:]
    kwargs = {
        p.name: ARGS[p.name]
        for p in params
        if p.default is inspect.Parameter.empty or p.name in ("filters",)
    }
    if fn.__module__.startswith("dashboard.metrics.surveys.") and "filters" in kwargs:
        kwargs["filters"] = whole_months(kwargs["filters"])
    return fn(con, **kwargs)


def canonical(value: Any) -> Any:
    """Frames compare regardless of row order; everything else as is."""
    if isinstance(value, pl.DataFrame):
        return value.sort(value.columns, nulls_last=True) if value.width else value
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, pl.DataFrame):
        # float sums may differ in the last bits with the order rows arrive in
        try:
            assert_frame_equal(a, b, rel_tol=1e-9, abs_tol=1e-12)
        except AssertionError:
            return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b or (str(a) == str(b))


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(pseudonyms.KEY_ENV, KEY)


def test_every_metric_function_sees_only_the_scope(full, reference, key, monkeypatch) -> None:
    funcs = readers()
    assert len(funcs) >= 50, [n for n, _ in funcs]  # the sweep really covers the metrics
    a = duckdb.connect(str(full), read_only=True)
    b = duckdb.connect(str(reference), read_only=True)
    # someone in scope, as a viewer without raw ids names them
    sales = b.sql(
        "SELECT min(requester_id) FROM tickets WHERE requester_department = 'Sales'"
    ).fetchall()[0][0]
    monkeypatch.setitem(ARGS, "requester_id", pseudonyms.pseudonym(KEY.encode(), sales))
    try:
        scoped.install(a, SCOPE, full)
        scoped.install(b, Scope(all=True), reference)  # same pseudonyms, no filtering
        differ = [
            name for name, fn in funcs if not same(canonical(call(fn, a)), canonical(call(fn, b)))
        ]
        assert not differ
        # the comparison has teeth: the scope really removes rows
        assert (
            a.sql("SELECT count(*) FROM main.tickets").fetchall()
            < duckdb.connect(str(full), read_only=True)
            .sql("SELECT count(*) FROM tickets")
            .fetchall()
        )
    finally:
        a.close()
        b.close()


def _strings(value: Any) -> set[str]:
    if isinstance(value, pl.DataFrame):
        out: set[str] = set()
        for col in value.columns:
            s = value[col]
            if s.dtype == pl.String:
                out |= set(s.drop_nulls().to_list())
            elif s.dtype == pl.List(pl.String):
                out |= {v for lst in s.drop_nulls().to_list() for v in lst}
        return out
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


@pytest.mark.parametrize("scope", [OPEN, SCOPE], ids=["open", "scoped"])
def test_no_reader_returns_a_raw_id_without_raw(full, key, scope, monkeypatch) -> None:
    con = duckdb.connect(str(full), read_only=True)
    try:
        raw = {
            r[0]
            for r in con.sql("""
            SELECT requester_id FROM tickets UNION SELECT respondent_id FROM survey_responses
            UNION SELECT person_id FROM people""").fetchall()
            if r[0]
        }
        scoped.install(con, scope, full)
        monkeypatch.setitem(ARGS, "requester_id", "R-000000000000")
        leaks = {name: sorted(_strings(call(fn, con)) & raw)[:3] for name, fn in readers()}
        assert not {k: v for k, v in leaks.items() if v}
        # and with raw, the ids are there (the check above can fail)
        scoped.install(con, OPERATOR, full)
        shown = _strings(call(dict(readers())["engagement.stored.engagement_rows"], con))
        assert shown & raw
    finally:
        con.close()


def test_sql_pseudonym_is_hmac_sha256_of_the_key(fresh_db, key) -> None:
    con = duckdb.connect(str(fresh_db), read_only=True)
    try:
        scoped.install(con, OPEN, fresh_db)
        ids = ["alice@example.com", "zendesk:361000066640", "Zoë Ångström", "", "x" * 200]
        got = con.sql("SELECT inward_id(x) FROM unnest($ids) t(x)", params={"ids": ids}).fetchall()
        want = [
            "R-" + hmac.new(KEY.encode(), v.encode(), hashlib.sha256).hexdigest()[:12] for v in ids
        ]
        assert [g[0] for g in got] == want
        assert con.sql("SELECT inward_id(NULL::VARCHAR)").fetchall() == [(None,)]
        # no key material in any view or macro text the connection can list
        texts = " ".join(
            str(r)
            for r in con.sql(
                "SELECT sql FROM duckdb_views() UNION ALL SELECT macro_definition::VARCHAR "
                "FROM duckdb_functions() WHERE macro_definition IS NOT NULL"
            ).fetchall()
        )
        assert KEY not in texts and KEY.encode().hex() not in texts
    finally:
        con.close()


def test_key_file_is_private_stable_and_outside_the_warehouse(fresh_db, monkeypatch) -> None:
    monkeypatch.delenv(pseudonyms.KEY_ENV, raising=False)
    first = pseudonyms.load_key(fresh_db)
    path = pseudonyms.key_path(fresh_db)
    assert path.is_file() and path.parent == fresh_db.parent
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert pseudonyms.load_key(fresh_db) == first  # stable across runs
    assert first not in fresh_db.read_bytes()  # never inside the warehouse file
    other = fresh_db.with_name("other.duckdb")
    assert pseudonyms.load_key(other) != first  # per warehouse
    monkeypatch.setenv(pseudonyms.KEY_ENV, "short")
    with pytest.raises(pseudonyms.PseudonymKeyError):
        pseudonyms.load_key(fresh_db)


def test_duckdb_binds_warehouse_views_to_the_shadows(full, key) -> None:
    """The mechanism's premise, pinned: a stored view (ticket_times) and `main.tickets`
    resolve to the temp shadow; only a catalog-qualified name reaches the base table."""
    con = duckdb.connect(str(full), read_only=True)
    try:
        total = con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]
        scoped.install(con, SCOPE, full)
        n = con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]
        assert 0 < n < total
        assert con.sql("SELECT count(*) FROM ticket_times").fetchall()[0][0] == n
        assert con.sql("SELECT count(*) FROM main.tickets").fetchall()[0][0] == n
        assert con.sql('SELECT count(*) FROM "full".main.tickets').fetchall()[0][0] == total
    finally:
        con.close()


def test_a_table_nobody_classified_is_empty_for_a_scoped_user(full, tmp_path, key) -> None:
    db = tmp_path / "new.duckdb"
    shutil.copy(full, db)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE brand_new AS SELECT requester_id FROM tickets")
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        scoped.install(con, SCOPE, db)
        assert con.sql("SELECT count(*) FROM brand_new").fetchall() == [(0,)]
    finally:
        con.close()


def test_without_raw_rejected_rows_and_aliases_hide_raw_text(full, key) -> None:
    con = duckdb.connect(str(full), read_only=True)
    try:
        scoped.install(con, OPEN, full)
        assert con.sql("SELECT count(*) FROM rejected_rows WHERE raw IS NOT NULL").fetchall() == [
            (0,)
        ]
    finally:
        con.close()


CATALOG_QUALIFIED = re.compile(r"""\b(?:"?\w+"?\.main|main)\.(?!py\b)\w+""")


def test_no_product_sql_names_the_base_catalog_or_schema() -> None:
    """Only the shadow views may reach a base table by its full name; anything else
    that wrote `main.tickets` or `"inward".main.tickets` would read past the scope."""
    offenders = []
    for path in [*Path(dashboard.__file__).parent.rglob("*.py"), *ROOT.glob("queries/**/*.sql")]:
        if path.name in ("scoped.py", "warehouse.py"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            prose = re.sub(r"`[^`]*`", "", line)  # docs quote such names in backticks
            prose = prose.replace("temp.main.", "")  # the connection's own temp objects
            if CATALOG_QUALIFIED.search(prose) and "schema_name" not in prose:
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders


# Every place in the product that opens the warehouse (or a database) itself rather
# than through `scoped.reader`, and why that place needs no viewer's scope. A new
# opener fails this test until it is scoped or listed here with its reason.
UNSCOPED_OPENERS = {
    ("dashboard/scoped.py", "reader"): "the scoped reader itself",
    ("dashboard/warehouse.py", "connect"): "the one low-level opener the others wrap",
    ("dashboard/derive/__init__.py", "ensure_derived"): "writer: completes derived data",
    ("dashboard/derive/__init__.py", "ensure_applied"): "writer: applies config as_of",
    ("dashboard/ingest/__init__.py", "ingest_paths"): "writer: loads files",
    ("dashboard/cli/operator.py", "cmd_rollups"): "operator command: builds and stores rollups",
    ("dashboard/cli/operator.py", "cmd_export_lake"): "operator command: counts, then exports",
    ("dashboard/cli/common.py", "warn_about_config"): "operator: team names for config warnings",
    ("dashboard/lake.py", "export_lake"): "operator command: writes every table to a lake",
    ("dashboard/mart.py", "_build"): "writes the mart file; reads through scoped.reader",
    ("dashboard/analyst/check.py", "_empty_warehouse"): "creates an empty warehouse for checks",
    ("dashboard/analyst/sandbox.py", "open_sandbox"): "opens a viewer's mart (never the warehouse)",
    ("dashboard/analyst/sandbox.py", "_parser_connection"): "in-memory database to parse SQL",
}


def _openers() -> set[tuple[str, str]]:
    """(file, outermost function) of every call that opens a DuckDB database."""
    import ast

    found = set()
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                 and n.module in ("dashboard.warehouse", "duckdb") for a in n.names}  # fmt: skip
        rel = str(path.relative_to(ROOT))
        for top in ast.walk(tree):
            if not isinstance(top, ast.FunctionDef):
                continue
            for node in ast.walk(top):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                qualified = (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id in ("duckdb", "warehouse")
                    and f.attr in ("connect", "reader", "writer")
                )
                imported = isinstance(f, ast.Name) and f.id in local & {"connect", "reader"}
                if qualified or imported:
                    found.add((rel, top.name))
    return found


def test_no_code_path_opens_the_warehouse_without_a_scope() -> None:
    """Only `scoped.reader` hands out connections for reading: every other opener in
    the product is a writer, an operator command, or opens something that is not the
    warehouse. Together with the sweep above (every metric function on a scoped
    connection), no reader reaches a scoped table unscoped; the app's pages only ever
    get rows through `dashboard.app.data.call`, which opens `scoped.reader`."""
    found = _openers()
    assert found - UNSCOPED_OPENERS.keys() == set(), "unscoped opener: scope it or list it"
    assert UNSCOPED_OPENERS.keys() - found == set(), "stale entry: remove it"
    app = {f for f, _ in found if f.startswith("dashboard/app/")}
    assert app == set(), f"app code opening the warehouse itself: {app}"
