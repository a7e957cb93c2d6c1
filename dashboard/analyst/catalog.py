"""Where analyst queries live and which there are: the folder, the parse cache keyed by
(mtime, size) so an edited file shows without a restart, discovery and lookup by name."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.analyst.header import parse_query_text
from dashboard.analyst.sandbox import QueryError, QueryUsageError
from dashboard.analyst.spec import FILE_MAX_BYTES, QuerySpec, QuerySpecError, query_name
from dashboard.config import resolve_path

if TYPE_CHECKING:  # plotly is imported lazily: the CLI never draws
    pass


SHIPPED_QUERIES = Path(__file__).resolve().parents[2] / "queries"


def queries_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The analyst query folder: explicit, else $INWARD_QUERIES, else ./queries, else shipped.

    The shipped folder (next to the package in a source checkout) is the
    fallback so `inward query` works from any directory in development.
    """
    local = Path("queries")
    return resolve_path(explicit, "INWARD_QUERIES", local if local.is_dir() else SHIPPED_QUERIES)


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
        if query_name(err.path, root_path) == wanted:
            raise err
    known = ", ".join(s.name for s in specs) or "none"
    raise QueryUsageError(f"no query named {name!r} in {root_path} (known: {known})")
