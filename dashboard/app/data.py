"""How pages get numbers: cached calls of metric functions on short-lived read-only
connections.

Why this shape (docs/architecture.md, Concurrency): a DuckDB file has one writer or many
readers across processes, so the app never keeps a connection open — each call
opens read-only (~10 ms), runs, closes — and `inward ingest` can take the write
lock between reruns. Results are cached per (function, arguments, warehouse
version), where the version is the file's mtime/size: a finished ingest changes
it, so the next rerun shows the new rows without restarting the app.

Every call runs under the viewer's `Scope` (`dashboard.scoped`), and the scope is
part of the cache key: `st.cache_data` is shared by all sessions of the server, so
a cache keyed on arguments alone would hand one user's rows to another.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from dashboard import panels, scoped, warehouse
from dashboard.access import OPEN, Scope
from dashboard.config import Config, load_config
from dashboard.filters import Filters

T = TypeVar("T")


def db_path() -> Path:
    """The warehouse this app serves (set by `inward serve` through $INWARD_DB)."""
    return warehouse.db_path(None).resolve()


@st.cache_resource(show_spinner=False)
def config() -> Config:
    """Config is read once per server process (restart to apply a changed inward.toml)."""
    return load_config(None)


class NoScope(RuntimeError):
    """A page asked for data before the sign-in gate decided the viewer's scope."""


def scope() -> Scope:
    """The viewer's scope: set by main.py's sign-in gate; open mode needs no sign-in."""
    current = st.session_state.get("scope")
    if isinstance(current, Scope):
        return current
    if config().access.mode == "open":
        return OPEN
    raise NoScope("no signed-in user: sign in first")


def has_data() -> bool:
    """Whether the warehouse exists and holds any ticket (for empty states)."""
    path = db_path()
    if not path.is_file():
        return False
    return bool(call(_ticket_count))


def _ticket_count(con: Any) -> int:
    return con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(con, *args, **kwargs)` on a fresh read-only connection under the viewer's
    scope, cached by warehouse version and scope."""
    path = db_path()
    return _cached(
        fn.__module__,
        fn.__qualname__,
        str(path),
        warehouse.data_version(path),
        scope(),
        args,
        tuple(sorted(kwargs.items())),
    )


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(
    module: str,
    name: str,
    path: str,
    version: str,
    viewer: Scope,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    """`version` is only part of the cache key: a finished ingest means a new entry."""
    fn = getattr(importlib.import_module(module), name)
    with scoped.reader(path, viewer, wait_seconds=15) as con:
        return fn(con, *args, **dict(kwargs))


def panel(name: str, filters: Filters, **options: Any) -> pl.DataFrame:
    """The frame of panel `name` (dashboard/panels.py) for these filters, cached: what
    `inward panel NAME` prints for the same filters. Filters the panel ignores are
    cleared first, so changing them does not recompute it."""
    spec = panels.get(name)
    return call(_panel, name, filters.only(spec.applies), config(), tuple(sorted(options.items())))


def _panel(
    con: Any, name: str, filters: Filters, cfg: Config, options: tuple[tuple[str, Any], ...]
) -> pl.DataFrame:
    return panels.get(name).compute(con, filters, cfg, **dict(options))
