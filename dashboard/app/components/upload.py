"""Ingest uploaded files through the same code path as the CLI, in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
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


def ingest_uploads(
    files: Sequence[Any], db: Path, on_phase: Callable[[str], None] | None = None
) -> tuple[bool, list[str]]:
    """Save uploads to a temp folder and run `inward ingest --json` on them.

    Returns whether every file loaded (or was unchanged) and one line per file.
    `on_phase` gets the phase lines a long ingest prints (stderr, as they come), so
    the page can show what is being done instead of a spinner that says nothing.
    """
    with (
        tempfile.TemporaryDirectory(prefix=UPLOAD_MARK) as tmp,
        tempfile.TemporaryFile("w+") as stdout,  # a file, not a pipe: nothing to drain
    ):
        paths = []
        for i, f in enumerate(files):
            path = upload_path(Path(tmp), i, f.name)
            path.write_bytes(f.getvalue())
            paths.append(str(path))
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "ingest", *paths, "--db", str(db), "--json"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        said = []
        for line in proc.stderr:
            said.append(line)
            if on_phase is not None:
                on_phase(line.strip())
        proc.wait(timeout=3600)
        stdout.seek(0)
        out = stdout.read()
    try:
        rows = json.loads(out or "[]")
    except json.JSONDecodeError:
        rows = []
    if not rows:
        return False, ["".join(said).strip() or "ingest failed"]
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
