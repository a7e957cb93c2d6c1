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

What a fresh session costs (benchmarks/page_render.py): a page misses its cache a
dozen times on a new warehouse version, and opening a scoped reader costs 15–60 ms,
so the misses of one script run share one reader (`one_reader_per_run`, closed
when the run ends, so the lock is never held between reruns). Cache keys hash the
frozen `Config`, `Filters` and `Scope` by their repr: Streamlit's default hashing
walks a dataclass through `asdict` (12 ms for a Config) on every call, hits too.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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


_RUN = threading.local()  # Streamlit runs each session's script in its own thread


@contextmanager
def one_reader_per_run() -> Iterator[None]:
    """Within this block (main.py wraps the page in it) cache misses share one scoped
    reader per (warehouse version, scope), closed when the block ends."""
    _RUN.readers = {}
    try:
        with ExitStack() as stack:
            _RUN.stack = stack
            yield
    finally:
        _RUN.readers = None


def release_readers() -> None:
    """Close the run's readers now: a write from this run (an upload's ingest, in a
    child process) needs the file's lock. Later misses of the run open a new one."""
    if getattr(_RUN, "readers", None):
        _RUN.readers = {}
        _RUN.stack.close()


def _reader(path: str, version: str, viewer: Scope) -> Any:
    """The run's reader for this version and scope (a context manager either way)."""
    readers = getattr(_RUN, "readers", None)
    if readers is None:  # outside a page run: a reader of its own
        return scoped.reader(path, viewer, wait_seconds=15)
    key = (path, version, viewer)
    if key not in readers:
        readers[key] = _RUN.stack.enter_context(scoped.reader(path, viewer, wait_seconds=15))
    return _Borrowed(readers[key])


class _Borrowed:
    """The run's open reader, lent to one call and left open for the next."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def __enter__(self) -> Any:
        return self.con

    def __exit__(self, *exc: object) -> None:
        return None


@st.cache_data(
    max_entries=512,
    show_spinner=False,
    hash_funcs={Config: repr, Filters: repr, Scope: repr},
)
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
    with _reader(path, version, viewer) as con:
        return fn(con, *args, **dict(kwargs))


def figure(build: Callable[..., T], *args: Any) -> T:
    """`build(*args)` (a `dashboard.figures` function), built once per distinct input.

    Plotly spends 0.1–0.3 s validating each figure it builds, more than everything
    else in a rerun that hits the data caches. A figure is only read afterwards
    (`st.plotly_chart` serialises a copy), so one object serves every session; its
    inputs are the frames drawn, so new data means a new figure."""
    return _figure(build.__module__, build.__qualname__, args)


@st.cache_resource(max_entries=256, show_spinner=False)
def _figure(module: str, name: str, args: tuple[Any, ...]) -> Any:
    return getattr(importlib.import_module(module), name)(*args)


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
