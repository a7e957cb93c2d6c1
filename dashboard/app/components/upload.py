"""Ingest uploaded files through the same code path as the CLI, in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.metrics.loads import UPLOAD_MARK


def upload_path(folder: Path, position: int, name: str) -> Path:
    """Where upload number `position` is saved: its own subfolder, so two uploads with
    the same name are two files (not the second overwriting the first), under its own
    base name (mapping globs and detection read it) made safe: no directories, no
    control characters, and `..`, `.` or an empty name replaced."""
    base = "".join("_" if ord(ch) < 32 or ch == "\x7f" else ch for ch in Path(name).name)
    if base.strip(". ") == "":
        base = f"upload-{position + 1}"
    sub = folder / str(position)
    sub.mkdir()
    return sub / base


def ingest_uploads(files: Sequence[Any], db: Path) -> tuple[bool, list[str]]:
    """Save uploads to a temp folder and run `inward ingest --json` on them.

    Returns whether every file loaded (or was unchanged) and one line per file.
    """
    with tempfile.TemporaryDirectory(prefix=UPLOAD_MARK) as tmp:
        paths = []
        for i, f in enumerate(files):
            path = upload_path(Path(tmp), i, f.name)
            path.write_bytes(f.getvalue())
            paths.append(str(path))
        proc = subprocess.run(
            [sys.executable, "-m", "dashboard", "ingest", *paths, "--db", str(db), "--json"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    try:
        rows = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        rows = []
    if not rows:
        return False, [proc.stderr.strip() or "ingest failed"]
    lines = []
    for r in rows:
        name = Path(r["source_file"]).name
        if r["status"] == "loaded":
            lines.append(
                f"✅ {name}: {r['rows_loaded']:,} of {r['rows_read']:,} rows loaded as "
                f"{r['kind']} ({r['format']}), {r['rows_rejected']:,} rejected"
            )
        else:
            lines.append(
                f"{'➖' if r['status'] == 'unchanged' else '❌'} {name}: "
                f"{r['status']} — {r['message']}"
            )
    return all(r["status"] != "refused" for r in rows), lines
