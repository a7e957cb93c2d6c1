"""Model SQL files are models in the dbt sense: one statement each, a header that
names the model and its grain, and the grain is true. The header is what an analyst
reads before joining a view, so a wrong grain (a "one row per ticket" view that
repeats tickets) double-counts every number built on it; this checks each declared
key is unique on the demo warehouse, and that each file is one statement DuckDB
binds against the real schema."""

from __future__ import annotations

import re

import duckdb
import pytest

from dashboard import models, warehouse

MODELS = sorted(p.stem for p in models.HERE.glob("*.sql"))
GRAIN = re.compile(r"^-- grain: \(([^)]*)\)", re.M)


def header(name: str) -> tuple[str, list[str]]:
    """The model's first line and the key columns its `-- grain:` line declares."""
    text = models.load(name)
    grain = GRAIN.search(text)
    assert grain, f"{name}.sql has no '-- grain: (columns)' line"
    return text.splitlines()[0], [c.strip() for c in grain.group(1).split(",")]


def test_there_are_models() -> None:
    assert {"ticket_times", "open_tickets", "survey_scores"} <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_header_names_the_model_and_its_grain(name: str) -> None:
    first, key = header(name)
    assert first.startswith(f"-- {name}: "), f"{name}.sql must open with '-- {name}: what it is'"
    assert key and all(re.fullmatch(r"[a-z_]+", c) for c in key), key


@pytest.mark.parametrize("name", MODELS)
def test_model_is_one_statement(name: str) -> None:
    statements = duckdb.extract_statements(models.load(name))
    assert len(statements) == 1, f"{name}.sql holds {len(statements)} statements"


@pytest.mark.parametrize("name", MODELS)
def test_declared_grain_is_unique_on_the_demo(demo_wh, name: str) -> None:
    """Run the file itself (not the stored view) so the file is what is checked."""
    _, key = header(name)
    cols = ", ".join(key)
    with warehouse.reader(demo_wh.db) as con:
        rows, distinct = con.sql(
            f"SELECT count(*), count(DISTINCT ({cols})) FROM ({models.load(name)}) m"
        ).fetchall()[0]
    assert rows > 0, f"{name} is empty on the demo, so its grain is untested"
    assert rows == distinct, f"{name}: {rows} rows but {distinct} distinct ({cols})"


def test_the_grain_check_can_fail(demo_wh) -> None:
    """A key that is not unique (tickets per team) is caught by the same query."""
    with warehouse.reader(demo_wh.db) as con:
        model = models.load("ticket_times")
        rows, distinct = con.sql(
            f"SELECT count(*), count(DISTINCT (service_team)) FROM ({model}) m"
        ).fetchall()[0]
    assert rows > distinct
