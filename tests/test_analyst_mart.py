"""Analyst SQL is untrusted: whatever it says, a scoped user reads only the mart.

Each hostile query below is a way past temp views on a warehouse connection
(catalog-qualified names, `query_table`, `query`, catalog functions, view text,
`information_schema`, the warehouse file itself); on the mart every one of them
finds only the viewer's rows, pseudonymised, and survey numbers that passed the
anonymity rules.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import mart, pseudonyms
from dashboard.access import Scope
from dashboard.analyst.header import parse_query_text
from dashboard.analyst.run import run_query
from dashboard.analyst.sandbox import QueryError
from dashboard.cli import main
from tests.conftest import stored_values

ALICE = Scope(departments=("Sales",), who="alice@example.com")
DPO = Scope(all=True, raw=True, who="dpo@example.com")
K = 5


@pytest.fixture(scope="module")
def wh(demo_wh, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("mart") / "inward.duckdb"
    shutil.copy(demo_wh.db, db)
    return db


@pytest.fixture(scope="module")
def secrets(wh) -> dict[str, set[str]]:
    """What alice must never see: other departments' names, any raw id."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        ids = {
            r[0]
            for r in con.sql(
                "SELECT requester_id FROM tickets UNION SELECT respondent_id FROM survey_responses "
                "UNION SELECT person_id FROM people"
            ).fetchall()
            if r[0]
        }
        depts = {
            r[0]
            for r in con.sql("SELECT DISTINCT requester_department FROM tickets").fetchall()
            if r[0]
        }
    finally:
        con.close()
    return {"ids": ids, "departments": depts - {"Sales"}, "key": {pseudonyms.load_key(wh).decode()}}


def q(sql: str, db: Path, scope: Scope = ALICE) -> pl.DataFrame:
    spec = parse_query_text(f"/*\ntitle: hostile\n*/\n{sql}\n", "hostile.sql")
    return run_query(spec, {}, db, scope=scope, min_group=K).frame


def cells(frame: pl.DataFrame) -> set[str]:
    out: set[str] = set()
    for col in frame.columns:
        out |= {str(v) for v in frame[col].drop_nulls().to_list()}
    return out


def leaks(frame: pl.DataFrame, secrets: dict[str, set[str]]) -> set[str]:
    text = cells(frame)
    found = text & (secrets["ids"] | secrets["departments"])
    found |= {s for s in secrets["key"] if any(s in t for t in text)}
    return found


HOSTILE = [
    "SELECT * FROM main.tickets",
    "SELECT * FROM query_table('tickets')",
    "SELECT * FROM query('SELECT * FROM ticket_times')",
    "SELECT * FROM ticket_times",
    "SELECT * FROM people",
    "SELECT * FROM requester_engagement",
    "SELECT sql FROM duckdb_views()",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_functions() WHERE macro_definition IS NOT NULL",
    "SELECT * FROM duckdb_databases()",
    "SELECT table_catalog, table_schema, table_name FROM information_schema.tables",
    "SELECT * FROM information_schema.columns",
    "SELECT * FROM survey_cells",
    "SELECT * FROM survey_comments",
    "SELECT * FROM rejected_rows",
    "SELECT current_database() AS db, current_setting('enable_external_access') AS ext",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_finds_only_the_scope(wh, secrets, sql) -> None:
    frame = q(sql, wh)
    assert not leaks(frame, secrets), sql


def test_scoped_rows_are_there_and_pseudonymised(wh, secrets) -> None:
    frame = q("SELECT requester_department, requester_id FROM main.tickets", wh)
    assert frame.height > 0 and set(frame["requester_department"]) == {"Sales"}
    key = pseudonyms.load_key(wh)
    raw = stored_values(wh, "SELECT requester_id FROM tickets WHERE requester_department = 'Sales'")
    assert set(frame["requester_id"]) == {pseudonyms.pseudonym(key, r) for r in raw}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ('SELECT count(*) FROM "inward".main.tickets', "inward"),
        ("SELECT * FROM survey_responses", "need a raw grant"),
        ("SELECT * FROM requester_aliases", "need a raw grant"),
        (
            "SELECT respondent_id FROM survey_responses WHERE respondent_department = 'Legal'",
            "need a raw grant",
        ),
    ],
)
def test_what_is_not_in_the_mart_is_an_error(wh, sql, message) -> None:
    with pytest.raises(QueryError, match=message):
        q(sql, wh)


def test_the_warehouse_file_cannot_be_read_from_the_mart(wh) -> None:
    for sql in (
        f"SELECT * FROM read_blob('{wh}')",
        f"SELECT * FROM read_text('{wh}.key')",
        f"SELECT * FROM read_csv('{wh}')",
    ):
        with pytest.raises(QueryError):
            q(sql, wh)


def test_survey_cells_never_show_a_group_under_k(wh) -> None:
    for scope in (ALICE, Scope(all=True)):
        frame = q("SELECT * FROM survey_cells", wh, scope)
        shown = frame.filter(~pl.col("suppressed"))
        assert shown.height > 0
        assert (shown["respondents"] >= K).all()
        hidden = frame.filter(pl.col("suppressed"))
        assert hidden.height > 0  # the rule bites on this data
        for col in ("responses", "respondents", "csat_mean", "nps", "ces_mean"):
            assert hidden[col].null_count() == hidden.height


def test_mart_holds_no_key_and_no_raw_id(wh, secrets) -> None:
    path = mart.ensure(wh, Scope(all=True), K)
    data = path.read_bytes()
    assert not any(s.encode() in data for s in secrets["key"])
    sample = sorted(secrets["ids"])[:200]
    assert not [i for i in sample if i.encode() in data]


def test_a_raw_grant_sees_survey_rows_and_ids(wh, secrets) -> None:
    frame = q("SELECT respondent_id FROM survey_responses", wh, DPO)
    assert frame.height > 0 and set(frame["respondent_id"]) <= secrets["ids"]


def test_cli_query_as_user_runs_hostile_sql_on_the_scope(
    wh, secrets, tmp_path, monkeypatch, capsys
) -> None:
    root = tmp_path / "queries"
    root.mkdir()
    (root / "steal.sql").write_text(
        "/*\ntitle: steal\n*/\nSELECT requester_department, requester_id, subject\n"
        "FROM query_table('tickets')\n",
        encoding="utf-8",
    )
    (root / "schema.sql").write_text(
        "/*\ntitle: schema\n*/\nSELECT * FROM information_schema.tables\n", encoding="utf-8"
    )
    cfg = tmp_path / "inward.toml"
    cfg.write_text(
        '[access]\nmode = "login"\n[access.users."alice@example.com"]\ndepartments = ["Sales"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("INWARD_QUERIES", str(root))
    for name in ("steal", "schema"):
        code = main(
            [
                "--config",
                str(cfg),
                "query",
                name,
                "--db",
                str(wh),
                "--format",
                "json",
                "--as-user",
                "alice@example.com",
            ]
        )
        out = capsys.readouterr().out
        assert code == 0
        frame = pl.DataFrame(json.loads(out))
        assert frame.height > 0 and not leaks(frame, secrets)
    code = main(
        [
            "--config",
            str(cfg),
            "query",
            "steal",
            "--db",
            str(wh),
            "--as-user",
            "mallory@example.com",
        ]
    )
    assert code == 1 and "no access" in capsys.readouterr().err
