"""A query file to a QuerySpec: the YAML header (params, chart, filters) checked key by key
with the line of each mistake, and the SQL checked by DuckDB's own parser."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import yaml

from dashboard.analyst.params import coerce_value
from dashboard.analyst.sandbox import QueryError, single_select
from dashboard.analyst.spec import (
    CHART_KEYS,
    CHART_TYPES,
    FILTER_PARAMS,
    HEADER_KEYS,
    HEADER_MAX_BYTES,
    NAME_RE,
    PARAM_KEYS,
    PARAM_TYPES,
    ChartSpec,
    Param,
    QuerySpec,
    QuerySpecError,
    query_name,
)

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


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

    if not isinstance(name, str) or not NAME_RE.match(name):
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
        lo = coerce_value(bare, raw["min"]) if raw.get("min") is not None else None
        hi = coerce_value(bare, raw["max"]) if raw.get("max") is not None else None
    except QueryError as exc:
        raise QuerySpecError(path, at("min" if "min" in raw else "max"), str(exc)) from exc
    if lo is not None and hi is not None and lo > hi:
        raise QuerySpecError(path, at("min"), f"parameter ${name}: min {lo} is above max {hi}")
    bounded = Param(
        name=name, type=ptype, min=lo, max=hi, options=options, options_sql=options_sql, line=line
    )
    try:
        default = coerce_value(bounded, raw.get("default"))
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

    DuckDB's own tokenizer already skips strings and comments, so only real
    parameters are found: a `$` operator with a name (or a number, `$1`) right after
    it, whose text runs to the end of the word.
    """
    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # lines are a courtesy; DuckDB's parser is the authority
        return {}
    out: dict[str, int] = {}
    for (at, kind), (name_at, _) in itertools.pairwise(tokens):
        if kind == duckdb.token_type.operator and sql[at] == "$" and name_at == at + 1:
            word = re.match(r"\w+", sql[name_at:])
            if word:
                out.setdefault(word.group(), sql.count("\n", 0, at) + 1)
    return out


def parse_query_text(text: str, path: Path | str, root: Path | str | None = None) -> QuerySpec:
    """Parse and validate the text of a query file; `path` is used for names and messages."""
    path = Path(path)
    root_path = Path(root) if root is not None else path.parent
    try:
        name = query_name(path, root_path)
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
