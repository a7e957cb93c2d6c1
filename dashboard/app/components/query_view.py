"""One page per analyst SQL file: widgets from its params, a chart, a table, a download.

The page is generic — the SQL file is the whole definition (Datasette's canned
queries, Evidence's SQL-first pages). Widget values live in the URL
(`bind="query-params"`, keys prefixed `p_` so they never clash with the global
filters), so a filtered query can be shared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from dashboard import warehouse
from dashboard.access import Scope
from dashboard.analyst.catalog import discover, get_query
from dashboard.analyst.charts import build_chart
from dashboard.analyst.run import choice_options, run_query
from dashboard.analyst.sandbox import QueryError
from dashboard.analyst.spec import Param, QueryResult, QuerySpec
from dashboard.app import data
from dashboard.app.components import signin
from dashboard.app.components.tables import label, table
from dashboard.config import QuerySettings
from dashboard.filters import Filters


def _widget(spec: QuerySpec, p: Param) -> Any:
    key = f"p_{spec.name.replace('/', '_')}_{p.name}"
    label = p.label or p.name.replace("_", " ").capitalize()
    common: dict[str, Any] = {"key": key, "help": p.help or None, "bind": "query-params"}
    if p.type == "int":
        return st.number_input(
            label, value=p.default, min_value=p.min, max_value=p.max, step=1, **common
        )
    if p.type == "float":
        return st.number_input(label, value=p.default, min_value=p.min, max_value=p.max, **common)
    if p.type == "date":
        default = p.default if isinstance(p.default, date) else None
        return st.date_input(label, value=default, **common)
    if p.type == "bool":
        return st.toggle(label, value=bool(p.default), **common)
    if p.type == "choice":
        options = [None, *_options(spec, p.name)]
        index = options.index(p.default) if p.default in options else 0
        return st.selectbox(
            label,
            options,
            index=index,
            format_func=lambda v: "All" if v is None else str(v),
            **common,
        )
    return st.text_input(label, value=p.default or "", **common)


def _options(spec: QuerySpec, name: str) -> list[Any]:
    return _cached_options(
        spec,
        name,
        str(data.db_path()),
        warehouse.data_version(data.db_path()),
        data.config().queries,
        data.scope(),
        data.config().anonymity_min_group,
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_options(
    spec: QuerySpec,
    name: str,
    db: str,
    version: str,
    settings: QuerySettings,
    scope: Scope,
    min_group: int,
) -> list[Any]:
    """`version` keys the cache only: a new ingest gives new options. The scope keys it
    too: the cache is shared by every session of the server."""
    return choice_options(spec, name, db, settings, scope=scope, min_group=min_group)


@st.cache_data(max_entries=256, show_spinner="Running the query…")
def _run(
    spec: QuerySpec,
    values: tuple[tuple[str, Any], ...],
    db: str,
    version: str,
    settings: QuerySettings,
    scope: Scope,
    min_group: int,
    filters: Filters,
) -> QueryResult:
    """`spec` (frozen, includes the SQL) and `version` key the cache: an edited file or a
    new ingest runs the query again; the viewer's scope decides which mart it runs on.
    `filters` holds only the filters the file takes."""
    return run_query(
        spec, dict(values), db, settings, scope=scope, min_group=min_group, filters=filters
    )


def _filters_caption(spec: QuerySpec, filters: Filters) -> None:
    """Say which sidebar filters this query uses, and which set ones it does not."""
    from dashboard.filters import LABELS

    if spec.filters:
        used = ", ".join(LABELS[f].lower() for f in spec.filters)
        st.caption(f":material/filter_alt: Uses the sidebar's {used}.")
    note = filters.ignored_note(
        spec.filters,
        "this query's SQL does not take it (its header's `filters:` lists the sidebar "
        "filters it uses; its own inputs above decide the rest)",
    )
    if note:
        st.caption(f":material/filter_alt_off: {note}")


def render(name: str) -> None:
    """Draw the page of query `name` (re-read from disk, so edits show on rerun)."""
    try:
        spec = get_query(name)
    except QueryError as exc:
        st.error(str(exc))
        return
    st.title(spec.title)
    if spec.description:
        st.caption(spec.description)
    if not data.db_path().is_file():
        st.info("No warehouse yet: load data first (`uv run inward demo`).")
        return
    filters = st.session_state.get("filters") or Filters()
    _filters_caption(spec, filters)
    values: dict[str, Any] = {}
    if spec.params:
        with st.container(horizontal=True):
            for p in spec.params:
                values[p.name] = _widget(spec, p)
    signin.audit_query(name, values)
    try:
        result = _run(
            spec,
            tuple(sorted(values.items())),
            str(data.db_path()),
            warehouse.data_version(data.db_path()),
            data.config().queries,
            data.scope(),
            data.config().anonymity_min_group,
            filters.only(spec.filters),
        )
        fig = build_chart(spec.chart, result.frame)
    except QueryError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if result.truncated:
        st.warning(f"Only the first {result.frame.height:,} rows are shown ({result.cut_by}).")
    if fig is not None:
        # axis and legend titles in words, as the table below names its columns
        chart = spec.chart
        fig.update_xaxes(title=label(chart.x) if chart.x else None)
        fig.update_yaxes(title=", ".join(label(y) for y in chart.y) or None)
        fig.update_layout(legend_title_text=label(chart.color) if chart.color else None)
        with st.container(border=True):
            st.plotly_chart(fig, key=f"chart_{name}")
    table(
        result.frame,
        name.replace("/", "_"),
        empty="The query returned no rows for these inputs.",
        key=f"rows_{name}",
    )
    with st.expander("SQL"):
        st.code(spec.sql.strip(), language="sql")
        st.caption(
            f"`{spec.path.name}` · ran in {result.elapsed_s:.2f} s · CLI: `inward query {name}`"
        )


def pages() -> dict[str, list[Any]]:
    """st.Page objects for every query file, grouped by section; when files are broken,
    a page listing them comes first in the Queries section, where an analyst looks."""
    specs, broken = discover()
    grouped: dict[str, list[Any]] = {}
    if broken:
        grouped["Queries"] = [_problems_page([str(e) for e in broken])]
    for spec in sorted(specs, key=lambda s: (s.section or "", s.title)):
        section = f"Queries · {spec.section}" if spec.section else "Queries"
        grouped.setdefault(section, []).append(
            st.Page(
                _page_fn(spec.name),
                title=spec.title,
                icon=":material/query_stats:",
                url_path="q-" + spec.name.replace("/", "-").replace("_", "-"),
            )
        )
    return grouped


def _problems_page(problems: list[str]) -> Any:
    def page() -> None:
        st.title("Query files with problems")
        st.caption(
            "These files in the queries folder could not be read, so they have no page. "
            "Fix the line named and the page appears on the next rerun; "
            "`inward queries check` lists the same problems."
        )
        for problem in problems:
            st.error(problem, icon=":material/error:")

    page.__name__ = "q_problems"
    n = len(problems)
    return st.Page(
        page,
        title=f"{n} broken quer{'y' if n == 1 else 'ies'}",
        icon=":material/error:",
        url_path="q-problems",
    )


def _page_fn(name: str) -> Callable[[], None]:
    def page() -> None:
        render(name)

    page.__name__ = "q_" + name.replace("/", "_")
    return page
