"""Ingest uploaded files through the same code path as the CLI, in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def ingest_uploads(files: Sequence[Any], db: Path) -> tuple[bool, list[str]]:
    """Save uploads to a temp folder and run `inward ingest --json` on them.

    Returns whether every file loaded (or was unchanged) and one line per file.
    """
    with tempfile.TemporaryDirectory(prefix="inward-upload-") as tmp:
        paths = []
        for f in files:
            path = Path(tmp) / Path(f.name).name
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
