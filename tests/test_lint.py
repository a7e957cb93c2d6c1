"""Code style is part of the suite: `ruff check` clean and `ruff format` applied (config in
pyproject), so a diff never mixes reformatting with a change."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ["dashboard", "tests", "benchmarks"]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff is not installed (it is in the dev group: uv sync)")
    return subprocess.run([exe, *args, *TREES], cwd=ROOT, capture_output=True, text=True)


def test_ruff_clean() -> None:
    proc = ruff("check")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_formatted() -> None:
    proc = ruff("format", "--check")
    assert proc.returncode == 0, f"run `uv run ruff format .`:\n{proc.stdout[-4000:]}"
