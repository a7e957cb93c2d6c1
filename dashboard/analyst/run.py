"""Running an analyst query: on the viewer's mart, never the warehouse, through the sandbox,
with values bound as parameters; and the options of a choice parameter."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dashboard.access import OPEN, Scope
from dashboard.analyst.params import coerce_values, filter_values
from dashboard.analyst.sandbox import (
    QueryError,
    QueryUsageError,
    one_line,
    open_conflict,
    require_warehouse,
    run_sql,
)
from dashboard.analyst.spec import QueryResult, QuerySpec
from dashboard.config import QuerySettings
from dashboard.filters import Filters

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


def query_settings(settings: QuerySettings | None) -> QuerySettings:
    return settings if settings is not None else QuerySettings()


def _analyst_db(db_path: Path | str, scope: Scope, min_group: int) -> Path:
    """The viewer's mart for this warehouse (built on first use), or a QueryError."""
    from dashboard import mart, warehouse
    from dashboard.pseudonyms import PseudonymKeyError

    path = Path(db_path)
    require_warehouse(path)
    try:
        return mart.ensure(path, scope, min_group)
    except (PseudonymKeyError, warehouse.WarehouseBusy, OSError) as exc:
        raise QueryError(f"cannot prepare the analyst database: {exc}") from exc
    except duckdb.ConnectionException as exc:
        raise open_conflict(path, exc) from exc
    except duckdb.Error as exc:
        raise QueryError(f"cannot prepare the analyst database: {one_line(exc)}") from exc


_WITHHELD = ("survey_responses", "requester_aliases")


def _explain_withheld(exc: QueryError, scope: Scope) -> QueryError:
    """A missing person-level table gets a hint instead of a bare catalog error."""
    text = str(exc)
    if not scope.raw and "does not exist" in text and any(t in text for t in _WITHHELD):
        return QueryError(
            f"{text} — person-level survey rows and aliases need a raw grant; "
            "use survey_cells (published numbers per month and group) or "
            "survey_comments"
        )
    return exc


def choice_options(
    spec: QuerySpec,
    name: str,
    db_path: Path | str,
    settings: QuerySettings | None = None,
    *,
    scope: Scope = OPEN,
    min_group: int = 5,
) -> list[Any]:
    """The allowed values of choice parameter `name` (static list, or its options_sql run
    in the sandbox: first column, nulls dropped, at most row_cap values)."""
    param = spec.param(name)
    if param.type != "choice":
        raise QueryUsageError(f"parameter ${name} of {spec.name} is not a choice")
    if param.options is not None:
        return list(param.options)
    try:
        frame, _ = run_sql(
            _analyst_db(db_path, scope, min_group),
            param.options_sql or "",
            {},
            query_settings(settings),
            f"{spec.name}: options_sql of ${name}",
        )
    except QueryUsageError:
        raise
    except QueryError as exc:
        raise _explain_withheld(exc, scope) from exc
    if frame.width == 0:
        return []
    return [v for v in frame.to_series(0).to_list() if v is not None]


def run_query(
    spec: QuerySpec,
    values: Mapping[str, Any] | None,
    db_path: Path | str,
    settings: QuerySettings | None = None,
    *,
    scope: Scope = OPEN,
    min_group: int = 5,
    filters: Filters | None = None,
) -> QueryResult:
    """Run `spec` with `values` (strings or typed; missing = default) in the sandbox,
    on the mart of warehouse `db_path` for `scope` (`min_group`: the anonymity
    threshold its survey numbers were published with); `filters` fills the
    parameters its `filters:` header binds (see `filter_values`).

    Raises QueryError (one line) for bad values, refused statements, SQL errors
    and every limit. The elapsed time covers the query and the fetch. Choice values
    backed by options_sql are checked against the options in the same run.
    """
    try:
        return _run(spec, values, db_path, settings, scope, min_group, filters)
    except QueryUsageError:
        raise
    except QueryError as exc:
        raise _explain_withheld(exc, scope) from exc


def _run(
    spec: QuerySpec,
    values: Mapping[str, Any] | None,
    db_path: Path | str,
    settings: QuerySettings | None,
    scope: Scope,
    min_group: int,
    filters: Filters | None,
) -> QueryResult:
    bound = coerce_values(spec, values) | filter_values(spec, filters)
    checks = [
        (p.name, p.options_sql, f"{spec.name}: options_sql of ${p.name}")
        for p in spec.params
        if p.type == "choice" and p.options_sql and bound[p.name] is not None
    ]
    started = time.perf_counter()
    frame, cut = run_sql(
        _analyst_db(db_path, scope, min_group),
        spec.sql,
        bound,
        query_settings(settings),
        spec.name,
        checks,
    )
    return QueryResult(
        frame=frame, truncated=cut is not None, elapsed_s=time.perf_counter() - started, cut_by=cut
    )
