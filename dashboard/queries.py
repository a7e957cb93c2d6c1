"""Analyst queries: `queries/**/*.sql` files as a first-class, sandboxed interface.

A query file is a YAML header in a block comment followed by one SELECT (see
queries/README.md and CONTRACT). This module turns a file into a typed
`QuerySpec`, coerces parameter values, runs the SQL in a sandbox and renders
results for the app (`build_chart`); the CLI prints through `dashboard.output`.

Why the pieces look the way they do:

- Parameters are found with DuckDB's own parser (`Statement.named_parameters`),
  not a regex, so `'$x'` in a string or `-- $x` in a comment is not a parameter
  and a file is checked exactly the way DuckDB will run it. The sqlglot
  tokenizer is only used to point at the *line* of a `$name`.
- Values are always bound as DuckDB named parameters, never formatted into the
  SQL, so a value such as `x'; DROP TABLE tickets; --` is just a string.
- The sandbox is layered, so no single check has to be perfect: DuckDB's parser
  must see exactly one SELECT; the SQL runs in a worker process (dashboard/
  sandbox.py) on a read-only connection with external access and the local file
  system off (no files, not even the warehouse's own; no ATTACH, no INSTALL), the
  configuration locked (no SET), bounded memory, a time limit that kills the
  worker when DuckDB does not stop, and results cut at a row cap and a byte cap.
- The SQL never runs on the warehouse itself but on the viewer's *mart*
  (`dashboard.mart`): a database holding only the rows and survey numbers that
  viewer may see, with ids already pseudonymised. Whatever the SQL names —
  `main.tickets`, a catalog, `query_table`, `duckdb_views()`, `information_schema`
  — it finds nothing else. Without a scope, a run is what open mode gives
  everyone: all rows, pseudonymised, survey numbers only through anonymity.
- Parsed files are cached by (mtime, size), and the folder is re-listed on every
  call, so a new or edited file shows up without restarting the app.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import yaml

from dashboard.access import OPEN, Scope
from dashboard.config import QuerySettings
from dashboard.filters import Filters
from dashboard.sandbox import QueryError, QueryUsageError, one_line, run_sql, single_select

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    import plotly.graph_objects as go

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
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # validates a declared name, not SQL text
_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}


# ---------------------------------------------------------------------------
# Errors and value types
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Locating query files
# ---------------------------------------------------------------------------

SHIPPED_QUERIES = Path(__file__).resolve().parent.parent / "queries"


def queries_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The analyst query folder: explicit, else $INWARD_QUERIES, else ./queries, else shipped.

    The shipped folder (next to the package in a source checkout) is the
    fallback so `inward query` works from any directory in development.
    """
    if explicit:
        return Path(explicit)
    env = os.environ.get("INWARD_QUERIES")
    if env:
        return Path(env)
    local = Path("queries")
    return local if local.is_dir() else SHIPPED_QUERIES


def _query_name(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


# ---------------------------------------------------------------------------
# Parsing a file
# ---------------------------------------------------------------------------


def _split_header(text: str, path: Path) -> tuple[str, int, str, int]:
    """Split into (yaml_text, yaml_first_line, padded_sql, sql_line)."""
    stripped = text.lstrip()
    if not stripped.startswith("/*"):
        raise QuerySpecError(
            path,
            1,
            "a query file must start with a /* ... */ YAML header (title:, params:, chart:)",
        )
    start = len(text) - len(stripped)
    end = text.find("*/", start + 2)
    if end < 0:
        line = text.count("\n", 0, start) + 1
        raise QuerySpecError(path, line, "the /* header comment is never closed with */")
    yaml_text = text[start + 2 : end]
    yaml_line = text.count("\n", 0, start) + 1
    sql_start = end + 2
    # Pad with newlines so DuckDB's "LINE n" and token lines are file lines.
    padded = "\n" * text.count("\n", 0, sql_start) + text[sql_start:]
    first = re.search(r"\S", text[sql_start:])
    sql_line = text.count("\n", 0, sql_start + (first.start() if first else 0)) + 1
    return yaml_text, yaml_line, padded, sql_line


def _key_lines(node: yaml.Node | None, first_line: int) -> dict[tuple[str, ...], int]:
    """File line of every key in the header (top level and one level under params/chart)."""
    lines: dict[tuple[str, ...], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for k, v in node.value:
        key = str(k.value)
        lines[(key,)] = first_line + k.start_mark.line
        if isinstance(v, yaml.MappingNode):
            for k2, v2 in v.value:
                lines[(key, str(k2.value))] = first_line + k2.start_mark.line
                if isinstance(v2, yaml.MappingNode):
                    for k3, _ in v2.value:
                        lines[(key, str(k2.value), str(k3.value))] = first_line + k3.start_mark.line
    return lines


def _refuse_expensive_yaml(yaml_text: str, first_line: int, path: Path) -> None:
    """Size and alias limits, checked on the event stream before anything is built.

    A few hundred bytes of nested aliases ("billion laughs") expand to millions of
    items as soon as a value is turned into text (5.8 MB and 5.8 s for six levels,
    850 MB for more); a header never needs an alias, so none is accepted.
    """
    if len(yaml_text.encode()) > HEADER_MAX_BYTES:
        raise QuerySpecError(
            path, first_line, f"the header is larger than {HEADER_MAX_BYTES // 1024} KB"
        )
    for event in yaml.parse(yaml_text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise QuerySpecError(
                path,
                first_line + event.start_mark.line,
                f"YAML aliases (*{event.anchor}) are not allowed in a query header",
            )


def _load_header(
    yaml_text: str, first_line: int, path: Path
) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    try:
        _refuse_expensive_yaml(yaml_text, first_line, path)
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(yaml_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        problem = exc.problem or exc.context or "invalid YAML"
        raise QuerySpecError(path, line, f"bad YAML in header: {problem}") from exc
    except yaml.YAMLError as exc:
        raise QuerySpecError(path, first_line, f"bad YAML in header: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise QuerySpecError(
            path,
            first_line,
            "the header must be a YAML mapping (title:, description:, params:, chart:)",
        )
    return data, _key_lines(node, first_line)


def _param_from_yaml(name: str, raw: Any, path: Path, lines: dict[tuple[str, ...], int]) -> Param:
    line = lines.get(("params", name))

    def at(field_name: str) -> int | None:
        return lines.get(("params", name, field_name), line)

    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise QuerySpecError(path, line, f"parameter name {name!r} must be letters, digits and _")
    if isinstance(raw, str):  # shorthand `team: text`
        raw = {"type": raw}
    if not isinstance(raw, dict):
        raise QuerySpecError(
            path, line, f"parameter ${name}: expected a mapping such as {{type: int, default: 10}}"
        )
    unknown = sorted(set(map(str, raw)) - set(PARAM_KEYS))
    if unknown:
        raise QuerySpecError(
            path,
            at(unknown[0]),
            f"parameter ${name}: unknown key {unknown[0]!r} (allowed: {', '.join(PARAM_KEYS)})",
        )
    ptype = raw.get("type")
    if ptype not in PARAM_TYPES:
        raise QuerySpecError(
            path,
            at("type"),
            f"parameter ${name}: unknown type {ptype!r} (known: {', '.join(PARAM_TYPES)})",
        )
    options: tuple[Any, ...] | None = None
    options_sql = raw.get("options_sql")
    if ptype == "choice":
        has_list, has_sql = "options" in raw, "options_sql" in raw
        if has_list == has_sql:
            raise QuerySpecError(
                path,
                line,
                f"parameter ${name}: a choice needs exactly one of "
                "options: [..] or options_sql: SELECT ...",
            )
        if has_list:
            opts = raw["options"]
            if (
                not isinstance(opts, list)
                or not opts
                or any(isinstance(o, dict | list) or o is None for o in opts)
            ):
                raise QuerySpecError(
                    path,
                    at("options"),
                    f"parameter ${name}: options must be a non-empty list of values",
                )
            options = tuple(opts)
        else:
            if not isinstance(options_sql, str) or not options_sql.strip():
                raise QuerySpecError(
                    path, at("options_sql"), f"parameter ${name}: options_sql must be a SELECT"
                )
            try:
                stmt = single_select(options_sql, f"options_sql of ${name}")
            except QueryError as exc:
                raise QuerySpecError(path, at("options_sql"), str(exc)) from exc
            if stmt.named_parameters:
                raise QuerySpecError(
                    path, at("options_sql"), f"parameter ${name}: options_sql cannot use parameters"
                )
    else:
        for key in ("options", "options_sql"):
            if key in raw:
                raise QuerySpecError(
                    path, at(key), f"parameter ${name}: {key} only applies to type choice"
                )
    for key in ("min", "max"):
        if key in raw and ptype not in ("int", "float", "date"):
            raise QuerySpecError(
                path, at(key), f"parameter ${name}: {key} only applies to int, float and date"
            )
    bare = Param(name=name, type=ptype, options=options, options_sql=options_sql, line=line)
    try:
        lo = _coerce(bare, raw["min"]) if raw.get("min") is not None else None
        hi = _coerce(bare, raw["max"]) if raw.get("max") is not None else None
    except QueryError as exc:
        raise QuerySpecError(path, at("min" if "min" in raw else "max"), str(exc)) from exc
    if lo is not None and hi is not None and lo > hi:
        raise QuerySpecError(path, at("min"), f"parameter ${name}: min {lo} is above max {hi}")
    bounded = Param(
        name=name, type=ptype, min=lo, max=hi, options=options, options_sql=options_sql, line=line
    )
    try:
        default = _coerce(bounded, raw.get("default"))
    except QueryError as exc:
        raise QuerySpecError(path, at("default"), f"default: {exc}") from exc
    label = raw.get("label")
    return Param(
        name=name,
        type=ptype,
        default=default,
        label=str(label) if label is not None else name.replace("_", " ").capitalize(),
        help=str(raw.get("help") or ""),
        min=lo,
        max=hi,
        options=options,
        options_sql=options_sql,
        line=line,
    )


def _chart_from_yaml(raw: Any, path: Path, lines: dict[tuple[str, ...], int]) -> ChartSpec:
    line = lines.get(("chart",))
    if raw is None:
        return ChartSpec()
    if isinstance(raw, str):  # shorthand `chart: table`
        raw = {"type": raw}
    if not isinstance(raw, dict):
        raise QuerySpecError(
            path, line, "chart: expected a mapping such as {type: bar, x: category, y: tickets}"
        )
    unknown = sorted(set(map(str, raw)) - set(CHART_KEYS))
    if unknown:
        raise QuerySpecError(
            path,
            lines.get(("chart", unknown[0]), line),
            f"chart: unknown key {unknown[0]!r} (allowed: {', '.join(CHART_KEYS)})",
        )
    ctype = raw.get("type", "table")
    if ctype not in CHART_TYPES:
        raise QuerySpecError(
            path,
            lines.get(("chart", "type"), line),
            f"chart: unknown type {ctype!r} (known: {', '.join(CHART_TYPES)})",
        )
    y = raw.get("y")
    ys: tuple[str, ...] = ()
    if isinstance(y, str):
        ys = (y,)
    elif isinstance(y, list) and all(isinstance(v, str) for v in y):
        ys = tuple(y)
    elif y is not None:
        raise QuerySpecError(
            path,
            lines.get(("chart", "y"), line),
            "chart: y must be a column name or a list of column names",
        )
    x, color = raw.get("x"), raw.get("color")
    for key, val in (("x", x), ("color", color)):
        if val is not None and not isinstance(val, str):
            raise QuerySpecError(
                path, lines.get(("chart", key), line), f"chart: {key} must be a column name"
            )
    if ctype != "table" and (not x or not ys):
        raise QuerySpecError(path, line, f"chart: type {ctype} needs both x and y columns")
    title = raw.get("title")
    return ChartSpec(type=ctype, x=x, y=ys, color=color, title=str(title) if title else None)


def _param_lines(sql: str) -> dict[str, int]:
    """Line of the first `$name` token per name.

    sqlglot's tokenizer (not its parser, which trips on some DuckDB syntax)
    already skips strings and comments, so only real parameters are found.
    """
    try:
        import sqlglot

        tokens = sqlglot.tokenize(sql, read="duckdb")
    except Exception:  # lines are a courtesy; DuckDB's parser is the authority
        return {}
    out: dict[str, int] = {}
    for prev, tok in itertools.pairwise(tokens):
        if prev.token_type.name == "PARAMETER" and prev.text == "$":
            # Token.line can run ahead after a parameter; the offset is exact.
            out.setdefault(tok.text, sql.count("\n", 0, prev.start) + 1)
    return out


def parse_query_text(text: str, path: Path | str, root: Path | str | None = None) -> QuerySpec:
    """Parse and validate the text of a query file; `path` is used for names and messages."""
    path = Path(path)
    root_path = Path(root) if root is not None else path.parent
    try:
        name = _query_name(path, root_path)
    except ValueError:
        name = path.stem
    yaml_text, yaml_line, sql, sql_line = _split_header(text, path)
    header, lines = _load_header(yaml_text, yaml_line, path)
    unknown = sorted(set(map(str, header)) - set(HEADER_KEYS))
    if unknown:
        raise QuerySpecError(
            path,
            lines.get((unknown[0],), yaml_line),
            f"unknown header key {unknown[0]!r} (allowed: {', '.join(HEADER_KEYS)})",
        )
    raw_params = header.get("params") or {}
    if not isinstance(raw_params, dict):
        raise QuerySpecError(
            path,
            lines.get(("params",), yaml_line),
            "params: expected a mapping of name: {type: ..., default: ...}",
        )
    params = tuple(_param_from_yaml(n, raw, path, lines) for n, raw in raw_params.items())
    filters = _filters_from_yaml(header.get("filters"), path, lines, yaml_line)
    implicit = {name for f in filters for name in FILTER_PARAMS[f]}
    clash = sorted(implicit & {p.name for p in params})
    if clash:
        raise QuerySpecError(
            path,
            lines.get(("params", clash[0]), yaml_line),
            f"${clash[0]} is bound by filters: and cannot also be declared under params:",
        )
    chart = _chart_from_yaml(header.get("chart"), path, lines)
    try:
        stmt = single_select(sql, "SQL")
    except QueryError as exc:
        m = re.search(r"\(line (\d+)\)|starts at line (\d+)", str(exc))
        line = int(m.group(1) or m.group(2)) if m else sql_line
        raise QuerySpecError(path, line, str(exc)) from exc
    used = set(stmt.named_parameters)
    declared = {p.name for p in params}
    token_lines = _param_lines(sql)
    positional = sorted(n for n in used if n.isdigit())
    if positional:
        raise QuerySpecError(
            path,
            token_lines.get(positional[0], sql_line),
            "positional parameters ($1, ?) are not supported; use $name and "
            "declare it under params:",
        )
    undeclared = sorted(used - declared - implicit)
    if undeclared:
        n = undeclared[0]
        raise QuerySpecError(
            path,
            token_lines.get(n, sql_line),
            f"${n} is used in the SQL but not declared under params:",
        )
    unused = [p for p in params if p.name not in used]
    if unused:
        raise QuerySpecError(
            path, unused[0].line, f"parameter ${unused[0].name} is declared but not used in the SQL"
        )
    idle = [f for f in filters if not set(FILTER_PARAMS[f]) & used]
    if idle:
        names = " or ".join(f"${n}" for n in FILTER_PARAMS[idle[0]])
        raise QuerySpecError(
            path,
            lines.get(("filters",), yaml_line),
            f"filters: lists {idle[0]} but the SQL uses no {names}",
        )
    title = header.get("title")
    section = name.rsplit("/", 1)[0] if "/" in name else None
    return QuerySpec(
        name=name,
        path=path,
        title=str(title) if title else path.stem.replace("_", " ").capitalize(),
        description=str(header.get("description") or "").strip(),
        params=params,
        chart=chart,
        section=section,
        sql=sql,
        sql_line=sql_line,
        filters=filters,
    )


def _filters_from_yaml(
    raw: Any, path: Path, lines: dict[tuple[str, ...], int], yaml_line: int
) -> tuple[str, ...]:
    """`filters: [dates, teams]` (or one name) → the filters, in canonical order."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise QuerySpecError(
            path,
            lines.get(("filters",), yaml_line),
            "filters: expected a list such as [dates, teams, departments]",
        )
    unknown = sorted(set(items) - set(FILTER_PARAMS))
    if unknown:
        raise QuerySpecError(
            path,
            lines.get(("filters",), yaml_line),
            f"filters: unknown filter {unknown[0]!r} (allowed: {', '.join(FILTER_PARAMS)})",
        )
    return tuple(f for f in FILTER_PARAMS if f in items)


def filter_values(spec: QuerySpec, filters: Filters | None) -> dict[str, Any]:
    """The values of the parameters `spec`'s `filters:` binds (all NULL without filters).

    Raises QueryUsageError when a filter is set that the query does not take: on the
    command line a silently ignored --team would look like an answer for that team."""
    f = filters or Filters()
    ignored = [name for name in f.active() if name not in spec.filters]
    if ignored:
        takes = ", ".join(spec.filters) or "none"
        raise QueryUsageError(
            f"query {spec.name} does not take the {ignored[0]} filter (filters it takes: {takes})"
        )
    out: dict[str, Any] = {}
    for name in spec.filters:
        if name == "dates":
            out["date_from"], out["date_to"] = f.date_from, f.date_to
        else:
            out[name] = list(getattr(f, name)) or None
    return out


_cache: dict[tuple[Path, Path | None], tuple[int, int, QuerySpec | QuerySpecError]] = {}
_cache_lock = threading.Lock()


def load_query(path: Path | str, root: Path | str | None = None) -> QuerySpec:
    """Parse one file, reusing the previous parse while its mtime and size are unchanged.

    Errors are cached too, so a broken file is not re-parsed on every app rerun.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise QueryError(f"query file {path} does not exist") from exc
    if st.st_size > FILE_MAX_BYTES:
        raise QuerySpecError(path, None, f"the file is larger than {FILE_MAX_BYTES // 2**20} MB")
    key = (path.resolve(), Path(root).resolve() if root is not None else None)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        result = hit[2]
    else:
        try:
            result = parse_query_text(path.read_text(encoding="utf-8"), path, root)
        except UnicodeDecodeError:
            result = QuerySpecError(path, None, "not UTF-8 text")
        except QuerySpecError as exc:
            result = exc
        with _cache_lock:
            _cache[key] = (st.st_mtime_ns, st.st_size, result)
    if isinstance(result, QuerySpecError):
        raise result
    return result


def discover(root: Path | str | None = None) -> tuple[list[QuerySpec], list[QuerySpecError]]:
    """Every `**/*.sql` under the folder, sorted by name: the good specs and the broken files.

    Broken files are returned, not raised, so one bad file never hides the rest
    (the app lists them with their error; `queries check` fails on them).
    """
    root_path = queries_dir(root)
    specs: list[QuerySpec] = []
    errors: list[QuerySpecError] = []
    if not root_path.is_dir():
        return specs, errors
    for path in sorted(root_path.rglob("*.sql")):
        if any(part.startswith(".") for part in path.relative_to(root_path).parts):
            continue
        try:
            specs.append(load_query(path, root_path))
        except QuerySpecError as exc:
            errors.append(exc)
        except QueryError as exc:  # vanished between listing and reading
            errors.append(QuerySpecError(path, None, str(exc)))
    specs.sort(key=lambda s: s.name)
    return specs, errors


def get_query(name: str, root: Path | str | None = None) -> QuerySpec:
    """The query called `name` ("surveys/low_score_comments", ".sql" optional).

    Looked up among discovered names, so a name can never escape the folder.
    """
    root_path = queries_dir(root)
    wanted = name.removesuffix(".sql").strip("/")
    specs, errors = discover(root_path)
    for spec in specs:
        if spec.name == wanted:
            return spec
    for err in errors:
        if _query_name(err.path, root_path) == wanted:
            raise err
    known = ", ".join(s.name for s in specs) or "none"
    raise QueryUsageError(f"no query named {name!r} in {root_path} (known: {known})")


# ---------------------------------------------------------------------------
# Parameter values
# ---------------------------------------------------------------------------


def _coerce(param: Param, value: Any) -> Any:
    """One value (a CLI/URL string or an already typed value) to the param's type."""
    where = f"parameter ${param.name}"
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None  # an empty field (URL, text box, --param k=) clears the filter
    t = param.type
    try:
        if t == "text":
            if isinstance(value, dict | list):
                raise ValueError
            out: Any = value if isinstance(value, str) else str(value)
        elif t == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            out = int(value)
        elif t == "float":
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
            if not math.isfinite(out):
                raise ValueError
        elif t == "date":
            if isinstance(value, datetime):
                out = value.date()
            elif isinstance(value, date):
                out = value
            else:
                out = date.fromisoformat(str(value))
        elif t == "bool":
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in _TRUE:
                out = True
            elif str(value).lower() in _FALSE:
                out = False
            else:
                raise ValueError
        else:  # choice
            out = value
    except (ValueError, TypeError) as exc:
        expected = {
            "text": "text",
            "int": "a whole number",
            "float": "a number",
            "date": "a date YYYY-MM-DD",
            "bool": "true or false",
        }[t]
        raise QueryUsageError(f"{where}: expected {expected}, got {value!r}") from exc
    if t == "choice" and param.options is not None:
        for opt in param.options:
            if opt == out or str(opt) == str(out):
                return opt
        raise QueryUsageError(
            f"{where}: {value!r} is not one of {', '.join(map(str, param.options))}"
        )
    if param.min is not None and out < param.min:
        raise QueryUsageError(f"{where}: {out} is below the minimum {param.min}")
    if param.max is not None and out > param.max:
        raise QueryUsageError(f"{where}: {out} is above the maximum {param.max}")
    return out


def coerce_value(param: Param, value: Any) -> Any:
    """Public form of `_coerce`: typed value or a QueryError naming the parameter."""
    return _coerce(param, value)


def coerce_values(spec: QuerySpec, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """All parameters of `spec`: given values coerced, missing ones at their default.

    Accepts strings (CLI `--param k=v`, URL query params) and typed widget values
    alike; an unknown name is an error rather than silently ignored, because a
    typo would otherwise run the query with the default and look plausible.
    """
    values = dict(values or {})
    out: dict[str, Any] = {}
    for name in values:
        spec.param(name)  # raises for unknown names
    for p in spec.params:
        out[p.name] = _coerce(p, values[p.name]) if p.name in values else p.default
    return out


def parse_param_args(items: Iterable[str]) -> dict[str, str]:
    """`["team=IT Service Desk", "top=5"]` (repeated `--param k=v`) to a dict."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise QueryUsageError(f"--param expects NAME=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


# ---------------------------------------------------------------------------
# The sandbox
# ---------------------------------------------------------------------------


def _settings(settings: QuerySettings | None) -> QuerySettings:
    return settings if settings is not None else QuerySettings()


def _analyst_db(db_path: Path | str, scope: Scope, min_group: int) -> Path:
    """The viewer's mart for this warehouse (built on first use), or a QueryError."""
    from dashboard import mart, warehouse
    from dashboard.pseudonyms import PseudonymKeyError

    path = Path(db_path)
    if not path.is_file():
        raise QueryError(
            f"the warehouse {path} does not exist; run `inward demo` or `inward ingest` first"
        )
    try:
        return mart.ensure(path, scope, min_group)
    except (PseudonymKeyError, warehouse.WarehouseBusy, OSError) as exc:
        raise QueryError(f"cannot prepare the analyst database: {exc}") from exc
    except duckdb.ConnectionException as exc:
        raise QueryError(
            f"cannot open {path} read-only in this process (a connection with a "
            f"different configuration is open): {one_line(exc)}"
        ) from exc
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
            _settings(settings),
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
        _settings(settings),
        spec.name,
        checks,
    )
    return QueryResult(
        frame=frame, truncated=cut is not None, elapsed_s=time.perf_counter() - started, cut_by=cut
    )


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------


def build_chart(chart: ChartSpec, frame: pl.DataFrame) -> go.Figure | None:
    """A Plotly figure for the chart spec, or None when there is nothing to draw.

    None means "show the table": chart type `table`, or no rows. Column names
    are checked first (even for an empty result) so a spec that does not match
    the SQL is reported as such, not as a Plotly traceback.
    """
    cols = list(frame.columns)
    needed = [("x", chart.x), *(("y", y) for y in chart.y), ("color", chart.color)]
    for role, col in needed:
        if col is not None and col not in cols:
            raise ChartError(
                f"chart: {role} column {col!r} is not in the result "
                f"(columns: {', '.join(cols) or 'none'})"
            )
    if chart.type == "table" or frame.height == 0:
        return None
    import plotly.express as px

    y: str | list[str] = chart.y[0] if len(chart.y) == 1 else list(chart.y)
    kwargs: dict[str, Any] = {"x": chart.x, "y": y, "title": chart.title}
    if chart.color:
        kwargs["color"] = chart.color
    # Plotly needs plain columns; object-like values (lists, decimals) become floats/strings.
    data = frame.with_columns(
        [pl.col(c).cast(pl.Float64) for c, d in frame.schema.items() if isinstance(d, pl.Decimal)]
    )
    if chart.type == "line":
        fig = px.line(data, markers=True, **kwargs)
    elif chart.type == "bar":
        fig = px.bar(data, **kwargs)
    elif chart.type == "area":
        fig = px.area(data, **kwargs)
    else:
        fig = px.scatter(data, **kwargs)
    if chart.type == "bar" and chart.x is not None and data.schema[chart.x] == pl.String:
        # Keep the SQL's ORDER BY (Plotly would otherwise order by first trace).
        order = list(dict.fromkeys(data[chart.x].to_list()))
        fig.update_xaxes(categoryorder="array", categoryarray=order)
    return fig


# ---------------------------------------------------------------------------
# `inward queries check`
# ---------------------------------------------------------------------------


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
    problems = [QueryProblem(_query_name(e.path, root_path), e.path, str(e)) for e in errors]
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


__all__ = [
    "CHART_TYPES",
    "PARAM_TYPES",
    "ChartError",
    "ChartSpec",
    "Param",
    "QueryError",
    "QueryProblem",
    "QueryResult",
    "QuerySpec",
    "QuerySpecError",
    "QueryUsageError",
    "build_chart",
    "check_all",
    "choice_options",
    "coerce_value",
    "coerce_values",
    "discover",
    "filter_values",
    "get_query",
    "load_query",
    "parse_param_args",
    "parse_query_text",
    "queries_dir",
    "run_query",
]
