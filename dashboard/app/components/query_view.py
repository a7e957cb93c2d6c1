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

from dashboard import queries, warehouse
from dashboard.access import Scope
from dashboard.app import data
from dashboard.app.components import signin
from dashboard.config import QuerySettings
from dashboard.output import csv_text


def _widget(spec: queries.QuerySpec, p: queries.Param) -> Any:
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


def _options(spec: queries.QuerySpec, name: str) -> list[Any]:
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
    spec: queries.QuerySpec,
    name: str,
    db: str,
    version: str,
    settings: QuerySettings,
    scope: Scope,
    min_group: int,
) -> list[Any]:
    """`version` keys the cache only: a new ingest gives new options. The scope keys it
    too: the cache is shared by every session of the server."""
    return queries.choice_options(spec, name, db, settings, scope=scope, min_group=min_group)


@st.cache_data(max_entries=256, show_spinner="Running the query…")
def _run(
    spec: queries.QuerySpec,
    values: tuple[tuple[str, Any], ...],
    db: str,
    version: str,
    settings: QuerySettings,
    scope: Scope,
    min_group: int,
) -> queries.QueryResult:
    """`spec` (frozen, includes the SQL) and `version` key the cache: an edited file or a
    new ingest runs the query again; the viewer's scope decides which mart it runs on."""
    return queries.run_query(spec, dict(values), db, settings, scope=scope, min_group=min_group)


def render(name: str) -> None:
    """Draw the page of query `name` (re-read from disk, so edits show on rerun)."""
    try:
        spec = queries.get_query(name)
    except queries.QueryError as exc:
        st.error(str(exc))
        return
    st.title(spec.title)
    if spec.description:
        st.caption(spec.description)
    if not data.db_path().is_file():
        st.info("No warehouse yet: load data first (`uv run inward demo`).")
        return
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
        )
        fig = queries.build_chart(spec.chart, result.frame)
    except queries.QueryError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if result.truncated:
        st.warning(f"Only the first {result.frame.height:,} rows are shown ({result.cut_by}).")
    if fig is not None:
        with st.container(border=True):
            st.plotly_chart(fig, key=f"chart_{name}")
    st.dataframe(result.frame, hide_index=True)
    st.download_button(
        "Download CSV",
        csv_text(result.frame),
        f"{name.replace('/', '_')}.csv",
        "text/csv",
        icon=":material/download:",
    )
    with st.expander("SQL"):
        st.code(spec.sql.strip(), language="sql")
        st.caption(
            f"`{spec.path.name}` · ran in {result.elapsed_s:.2f} s · CLI: `inward query {name}`"
        )


def pages() -> tuple[dict[str, list[Any]], list[str]]:
    """st.Page objects for every query file, grouped by section, and broken-file errors."""
    specs, broken = queries.discover()
    grouped: dict[str, list[Any]] = {}
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
    return grouped, [str(e) for e in broken]


def _page_fn(name: str) -> Callable[[], None]:
    def page() -> None:
        render(name)

    page.__name__ = "q_" + name.replace("/", "_")
    return page
