"""What an analyst query is once parsed: its parameters, chart and filters, the result of
a run, and the errors that name the file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from dashboard.analyst.sandbox import QueryError, QueryUsageError

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


PARAM_TYPES = ("text", "int", "float", "date", "bool", "choice")
CHART_TYPES = ("line", "bar", "area", "scatter", "table")
HEADER_KEYS = ("title", "description", "params", "chart", "filters")
# `filters:` in a header binds the app's sidebar (and the CLI's --from/--to/--team/...)
# to these parameters, which the file then uses without declaring them: dates as DATE
# (inclusive days, NULL when open-ended), the others as a list of text (NULL = all).
FILTER_PARAMS: dict[str, tuple[str, ...]] = {
    "dates": ("date_from", "date_to"),
    "teams": ("teams",),
    "departments": ("departments",),
    "requester_types": ("requester_types",),
    "priorities": ("priorities",),
    "categories": ("categories",),
    "channels": ("channels",),
}
PARAM_KEYS = ("type", "default", "label", "help", "min", "max", "options", "options_sql")
CHART_KEYS = ("type", "x", "y", "color", "title")
HEADER_MAX_BYTES = 64 * 1024
FILE_MAX_BYTES = 1024 * 1024  # a query is read whole on every change
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # validates a declared name, not SQL text
TRUE_WORDS = {"true", "t", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "off", "0"}


class QuerySpecError(QueryError):
    """A query file that cannot be used; names the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}: {message}")


class ChartError(QueryError):
    """A chart spec that does not fit the result (e.g. a column that is not there)."""


@dataclass(frozen=True)
class Param:
    """One declared `$name` parameter; `default` is already of the declared type (or None)."""

    name: str
    type: str
    default: Any = None
    label: str = ""
    help: str = ""
    min: Any = None
    max: Any = None
    options: tuple[Any, ...] | None = None
    options_sql: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ChartSpec:
    """How to draw a result; `table` means "just show the rows"."""

    type: str = "table"
    x: str | None = None
    y: tuple[str, ...] = ()
    color: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class QuerySpec:
    """A parsed, validated query file. Frozen and hashable so it can key caches."""

    name: str  # path under the queries folder, without .sql, "/"-separated
    path: Path
    title: str
    description: str
    params: tuple[Param, ...]
    chart: ChartSpec
    section: str | None  # the subfolder ("surveys"), None at top level
    sql: str  # the SQL after the header, padded with newlines so lines match the file
    sql_line: int = 1  # file line where the SQL starts
    filters: tuple[str, ...] = ()  # global filters bound to parameters (FILTER_PARAMS)

    def param(self, name: str) -> Param:
        """The declared parameter `name`, or a QueryError listing the declared ones."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryUsageError(f"query {self.name} has no parameter {name!r} (it takes: {known})")

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class QueryResult:
    """Rows of a sandboxed run. `truncated` is true when the row cap or the byte cap cut
    the result."""

    frame: pl.DataFrame
    truncated: bool
    elapsed_s: float
    cut_by: str | None = None  # which limit cut it: "row cap of 10,000", "result limit of 50 MB"


@dataclass(frozen=True)
class QueryProblem:
    """One failure found by `check_all`; `str()` gives the line to print."""

    name: str
    path: Path
    message: str  # already includes path:line when it came from parsing

    def __str__(self) -> str:
        return self.message


def query_name(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()
