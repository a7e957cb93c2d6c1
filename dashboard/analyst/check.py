"""`inward queries check`: every query file parsed, its defaults bound and run on a
warehouse, so a broken file fails CI rather than a page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.analyst.catalog import discover, queries_dir
from dashboard.analyst.charts import build_chart
from dashboard.analyst.run import run_query
from dashboard.analyst.sandbox import QueryError
from dashboard.analyst.spec import QueryProblem, query_name
from dashboard.config import QuerySettings

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


def check_all(
    db_path: Path | str | None = None,
    root: Path | str | None = None,
    settings: QuerySettings | None = None,
    min_group: int = 5,
) -> list[QueryProblem]:
    """Parse every query, bind its defaults and run it; an empty list means all good.

    With `db_path=None` the queries run against a fresh, empty, migrated
    warehouse in a temp folder: that still catches unknown columns and type
    errors (DuckDB binds the whole plan), and works in CI without demo data.
    """
    import tempfile

    root_path = queries_dir(root)
    specs, errors = discover(root_path)
    problems = [QueryProblem(query_name(e.path, root_path), e.path, str(e)) for e in errors]
    if not root_path.is_dir():
        problems.append(QueryProblem("", root_path, f"{root_path}: no such queries folder"))
        return problems
    if db_path is not None and not Path(db_path).is_file():
        problems.append(
            QueryProblem(
                "",
                Path(db_path),
                f"the warehouse {db_path} does not exist; "
                "run `inward demo` first (or check on an empty warehouse)",
            )
        )
        return problems
    with tempfile.TemporaryDirectory(prefix="inward-check-") as tmp:
        path = Path(db_path) if db_path is not None else _empty_warehouse(Path(tmp))
        for spec in specs:
            try:
                result = run_query(spec, {}, path, settings, min_group=min_group)
                build_chart(spec.chart, result.frame)
            except QueryError as exc:
                msg = str(exc)
                if not msg.startswith(str(spec.path)):
                    msg = f"{spec.path}: {msg.removeprefix(spec.name + ': ')}"
                problems.append(QueryProblem(spec.name, spec.path, msg))
    return problems


def _empty_warehouse(folder: Path) -> Path:
    from dashboard.warehouse import connect, migrate

    path = folder / "empty.duckdb"
    con = connect(path)
    try:
        migrate(con)
    finally:
        con.close()
    return path
