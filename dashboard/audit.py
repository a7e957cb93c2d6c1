"""The audit trail: who signed in, who was refused, which page or query they opened.

A JSON-lines file beside the warehouse (`<warehouse>.audit.jsonl`, e.g.
`data/inward.duckdb.audit.jsonl`; `$INWARD_AUDIT_LOG` names another file), one
object per event:

    {"at": "2026-12-02T03:10:04.118Z", "event": "page", "who": "ann@example.com",
     "scope": "departments Sales · pseudonymised ids", "page": "overview"}

Events: `sign_in` (first page of a session), `denied` (signed in, but no grant),
`page` (a page opened; not every rerun of it), `query` (an analyst query run, with
its parameters), `cli` (a CLI command run with `--as-user`, with the command).

Why a file and not a warehouse table: the app only ever reads the warehouse (one
writer or many readers, DESIGN.md); an audit that needed the write lock would
block ingests or be lost while one runs. Each event is one `write` of one line on
a file opened for append, so concurrent sessions and processes never interleave
within a line. A trail that cannot be written is reported on stderr once, never
silently dropped, but it does not take the app down for its readers.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard.access import Scope

LOG_ENV = "INWARD_AUDIT_LOG"
EVENTS = ("sign_in", "denied", "page", "query", "cli")
_warned: set[Path] = set()
_lock = threading.Lock()


def log_path(db: str | os.PathLike[str]) -> Path:
    """The trail of warehouse `db`: $INWARD_AUDIT_LOG, else beside the warehouse."""
    env = os.environ.get(LOG_ENV)
    return Path(env) if env else Path(str(db) + ".audit.jsonl")


def record(
    db: str | os.PathLike[str],
    event: str,
    who: str | None,
    scope: Scope | None = None,
    **details: Any,
) -> None:
    """Append one event (see the module docstring for the fields)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    entry: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": event,
        "who": who or "",
    }
    if scope is not None:
        entry["scope"] = scope.describe()
    entry.update({k: v for k, v in details.items() if v is not None})
    line = (json.dumps(entry, default=str, ensure_ascii=False) + "\n").encode()
    path = log_path(db)
    try:
        with _lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        if path not in _warned:
            _warned.add(path)
            print(f"inward: cannot write the audit trail {path}: {exc}", file=sys.stderr)


def read(db: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event recorded so far, oldest first (for tests and a quick look)."""
    path = log_path(db)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
