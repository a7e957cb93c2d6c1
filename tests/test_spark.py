"""The Spark engine gives the DuckDB engine's numbers: `inward metrics --engine spark`
on the demo lake against `inward metrics` on the warehouse, for every contract
column, every --by and filtered runs; the rollups built by Spark against those
built by DuckDB and against brute force over the tickets.

Real Spark in local mode, one session for the module. Without the `spark` extra
(or Java) the module is skipped locally with the reason, and fails in CI (env CI
or INWARD_REQUIRE_ALL), which installs both (.ci/run).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard.cli import main
from dashboard.derive import rollups


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (uv sync --extra spark)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark_session():
    """One local Spark session for the module; every CLI run below joins it."""
    missing = _missing()
    if missing:
        pytest.skip(f"Spark engine not available: {missing}")
    from dashboard import spark

    session = spark.session("local[2]", {"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(demo_wh, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("spark") / "lake"
    assert main(["export-lake", str(root), "--db", str(demo_wh.db)]) == 0
    return root


def _rows(capsys, *args: str) -> list[dict]:
    code = main(["metrics", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _same(a: object, b: object) -> bool:
    """Equal, floats to 1e-12 relative: exact percentiles interpolate the same two
    values in both engines, but may round the last bit differently."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b and type(a) is type(b)


FILTERS = {
    "all": [],
    "range": ["--from", "2025-09-01", "--to", "2025-12-31"],
    "teams and department": ["--team", "IT Service Desk", "--team", "Legal",
                             "--department", "Engineering"],
    "everything": ["--from", "2025-10-15", "--to", "2026-01-20", "--team", "IT Service Desk",
                   "--department", "Sales", "--department", "Engineering"],
}  # fmt: skip


RUNS = [(by, "all") for by in (None, "team", "department", "team,department")] + [
    ("team,department", f) for f in FILTERS if f != "all"
]


@pytest.mark.parametrize(("by", "filters"), RUNS)
def test_metrics_on_spark_equal_duckdb(spark_session, demo_wh, lake, capsys, by, filters) -> None:
    args = [*(["--by", by] if by else []), *FILTERS[filters]]
    duck = _rows(capsys, "--db", str(demo_wh.db), *args)
    spark = _rows(capsys, "--engine", "spark", "--lake", str(lake), *args)
    assert duck, "the filter must leave tickets, or the comparison proves nothing"
    assert [list(r) for r in spark] == [list(r) for r in duck]  # columns, in contract order
    assert len(spark) == len(duck)
    for s_row, d_row in zip(spark, duck, strict=True):
        for column, value in d_row.items():
            assert _same(s_row[column], value), (filters, by, column, s_row, d_row)
    # the comparison covers real numbers, not two columns of nulls
    assert any(isinstance(r["median_resolution_business_minutes"], float) for r in duck)
    assert any(isinstance(r["sla_resolution_met_rate"], float) for r in duck)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_rollups_built_by_spark_equal_duckdb_and_brute_force(spark_session, demo_wh, lake) -> None:
    from dashboard import spark

    con = duckdb.connect(str(demo_wh.db), read_only=True)
    try:
        by_duck = rollups.build(con)
        on_spark = spark.open_lake(lake)
        assert not on_spark.owns_session
        by_spark = rollups.build(on_spark)
        for name in rollups.ROLLUPS:
            assert by_spark[name].schema == by_duck[name].schema, name
            assert _sorted(by_spark[name]).equals(_sorted(by_duck[name])), name
        # brute force: counts add up to the tickets, and the histogram's cumulative
        # count gives quantile_cont of the whole-minute durations, per team
        truth = con.sql("""
            SELECT service_team, count(*) AS tickets,
                quantile_cont(floor(resolution_minutes), 0.5) AS median_res,
                quantile_cont(floor(first_response_business_minutes), 0.9) AS p90_frb
            FROM ticket_times GROUP BY ALL""").pl()
    finally:
        con.close()
    counts = by_spark["rollup_counts"].group_by("service_team").agg(pl.col("tickets").sum())
    assert dict(counts.iter_rows()) == dict(truth.select("service_team", "tickets").iter_rows())
    hist = by_spark["rollup_durations"]
    for row in truth.iter_rows(named=True):
        team = hist.filter(pl.col("service_team") == row["service_team"])
        assert _histogram_quantile(team, "resolution", 0.5) == pytest.approx(row["median_res"])
        assert _histogram_quantile(team, "first_response_business", 0.9) == pytest.approx(
            row["p90_frb"]
        )


def _histogram_quantile(rows: pl.DataFrame, measure: str, p: float) -> float:
    """quantile_cont from (minute, count) pairs: expand the counts and interpolate."""
    h = rows.filter(pl.col("measure") == measure).group_by("minute").agg(pl.col("tickets").sum())
    values = sorted(v for minute, n in h.iter_rows() for v in [minute] * n)
    pos = p * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def test_rollups_command_loads_spark_results_into_the_warehouse(
    spark_session, demo_wh, lake, tmp_path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(demo_wh.db, db)
    assert main(["rollups", "--db", str(db), "--engine", "spark", "--lake", str(lake)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = con.sql("SELECT sum(tickets) FROM rollup_counts").fetchall()[0][0]
        tickets = con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]
    finally:
        con.close()
    assert loaded == tickets


def test_a_lake_without_tickets_is_a_clear_error(spark_session, tmp_path, capsys) -> None:
    code = main(["metrics", "--engine", "spark", "--lake", str(tmp_path / "nowhere")])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no tickets/ in the lake" in err and "export-lake" in err


def test_without_the_extra_the_hint_says_how_to_install(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    assert main(["metrics", "--engine", "spark", "--lake", str(tmp_path)]) == 1
    assert "uv sync --extra spark" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--engine", "spark"],
        ["--lake", "somewhere"],
        ["--engine", "spark", "--lake", "x", "--spark-conf", "no-equals-sign"],
    ],
)
def test_engine_options_are_checked(args, capsys) -> None:
    assert main(["metrics", *args]) == 2
    assert capsys.readouterr().err.startswith("inward metrics: ")
