"""How pages get numbers: cached calls of metric functions on short-lived read-only
connections.

Why this shape (DESIGN.md concurrency facts): a DuckDB file has one writer or many
readers across processes, so the app never keeps a connection open — each call
opens read-only (~10 ms), runs, closes — and `inward ingest` can take the write
lock between reruns. Results are cached per (function, arguments, warehouse
version), where the version is the file's mtime/size: a finished ingest changes
it, so the next rerun shows the new rows without restarting the app.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from dashboard import warehouse
from dashboard.config import Config, load_config

T = TypeVar("T")


def db_path() -> Path:
    """The warehouse this app serves (set by `inward serve` through $INWARD_DB)."""
    return warehouse.db_path(None).resolve()


@st.cache_resource(show_spinner=False)
def config() -> Config:
    """Config is read once per server process (restart to apply a changed inward.toml)."""
    return load_config(None)


def has_data() -> bool:
    """Whether the warehouse exists and holds any ticket (for empty states)."""
    path = db_path()
    if not path.is_file():
        return False
    return bool(call(_ticket_count))


def _ticket_count(con: Any) -> int:
    return con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(con, *args, **kwargs)` on a fresh read-only connection, cached by warehouse
    version."""
    path = db_path()
    return _cached(
        fn.__module__,
        fn.__qualname__,
        str(path),
        warehouse.data_version(path),
        args,
        tuple(sorted(kwargs.items())),
    )


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(
    module: str,
    name: str,
    path: str,
    version: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    """`version` is only part of the cache key: a finished ingest means a new entry."""
    fn = getattr(importlib.import_module(module), name)
    with warehouse.reader(path, wait_seconds=15) as con:
        return fn(con, *args, **dict(kwargs))
