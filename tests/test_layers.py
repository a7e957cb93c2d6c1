"""The metrics layer only reads: every writer of a derived table is in `dashboard.derive`.

Two independent checks. Statically, no SQL string in a module (or a `.sql` file) under
`dashboard/metrics/` holds a write statement; the same scanner must find the writers
under `dashboard/derive/`, so it is known to see them. Dynamically, every public metric
function runs on a demo warehouse opened `read_only=True`, where DuckDB refuses any
write: a writer hidden behind SQL the scanner cannot read still fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from dashboard import scoped
from dashboard.access import OPERATOR
from tests.test_scoped import ARGS, call, readers

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "dashboard" / "metrics"
DERIVE = ROOT / "dashboard" / "derive"

# A statement that changes a database (its objects or its rows), in any case. Prose
# ("the newest ticket update") does not match: each needs the keyword that follows it.
_OBJECT = r"(?:TABLE|VIEW|MACRO|SEQUENCE|INDEX|SCHEMA|TYPE|FUNCTION)"
WRITE = re.compile(
    rf"""\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?{_OBJECT}
        |INSERT\s+(?:OR\s+(?:REPLACE|IGNORE)\s+)?INTO
        |UPDATE\s+\S+\s+SET
        |DELETE\s+FROM
        |DROP\s+{_OBJECT}
        |ALTER\s+{_OBJECT}
        |COPY\s+\S+.*?\s(?:TO|FROM))\b""",
    re.IGNORECASE | re.VERBOSE,
)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (prose, not SQL)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in a Python file but its docstrings; an
    f-string is one text with `{…}` where its values go, so `UPDATE {t} SET` is seen."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    inside_f = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
            out.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip | inside_f
        ):
            out.append((node.lineno, node.value))
    return out


def writes_in(tree: Path) -> list[str]:
    """`file:line: statement` for every write statement in the SQL under `tree`."""
    found = []
    for path in sorted(tree.rglob("*.py")):
        for line, text in sql_strings(path):
            found += [f"{path}:{line}: {m[0]}" for m in WRITE.finditer(text)]
    for path in sorted(tree.rglob("*.sql")):
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        found += [f"{path}: {m[0]}" for m in WRITE.finditer(text)]
    return found


def test_no_sql_under_metrics_writes() -> None:
    assert writes_in(METRICS) == []


def test_the_scanner_sees_the_writers_in_derive() -> None:
    """The check above can fail: the derive layer's writes, of every kind it uses, are
    found by the same scanner."""
    found = " ".join(writes_in(DERIVE)).upper()
    for statement in ("INSERT INTO", "DELETE FROM", "UPDATE", "CREATE OR REPLACE", "DROP TABLE"):
        assert statement in found, statement


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT OR REPLACE INTO inward_meta VALUES (1, 2)",
        "update tickets set x = 1",
        "CREATE TEMP TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO 'out.csv'",
        "ALTER TABLE tickets ADD COLUMN y INT",
    ],
)
def test_the_scanner_reads_f_strings_and_any_case(sql: str, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        f'def f(t):\n    """{sql} in prose."""\n    q = f"{sql} {{t}}"\n'
    )
    assert len(writes_in(tmp_path)) == 1  # the f-string, not the docstring


def test_every_metric_function_runs_on_a_read_only_warehouse(demo_wh, monkeypatch) -> None:
    """DuckDB raises on any write through a read-only connection; every public
    function of dashboard.metrics (the sweep's readers and the input helpers it leaves
    out, but `calendars_registered`, which only registers frames for a caller's query)
    must come back with an answer."""
    funcs = readers(exclude={"calendars_registered"})
    assert len(funcs) >= 50, [n for n, _ in funcs]
    con = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        scoped.install(con, OPERATOR, demo_wh.db)  # the macros readers use; no filtering
        someone = con.sql("SELECT min(requester_id) FROM tickets").fetchall()[0][0]
        monkeypatch.setitem(ARGS, "requester_id", someone)
        for _, fn in funcs:
            call(fn, con)
        with pytest.raises(duckdb.Error, match="read-only"):  # the premise, pinned
            con.execute("DELETE FROM people")
    finally:
        con.close()
