"""Excel workbooks (XLSX/XLSM): one sheet, chosen by rule, staged as text."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import polars as pl

from dashboard.ingest.staged import (
    RefusedFile,
    Staged,
    stage_frame,
)

# A workbook is a zip of XML: 6.5 MB on disk can unpack to 1.9 GB that the reader
# holds in memory. Real exports this large are CSV's job (streamed, not held).
MAX_XLSX_UNPACKED = 512 << 20
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet that Excel itself allows, header included


def _names(names: list[str], most: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _choose_sheet(path: Path) -> tuple[str, list[str]]:
    """The sheet to load, and notes naming every other sheet that holds data.

    Rule: the first visible sheet with a header of two or more columns and data rows
    (else the first such sheet without rows, else the first visible one). Hidden sheets
    (often an older copy, or lookups) are loaded only when no visible sheet has data.
    A workbook is one file, so one sheet is loaded: the others are named, never dropped
    without a word.
    """
    import fastexcel

    reader = fastexcel.read_excel(path)
    if len(reader.sheet_names) == 1:  # nothing to choose: do not parse the sheet twice
        return reader.sheet_names[0], []
    visible: list[str] = []
    shaped: list[tuple[bool, bool, int, str]] = []  # (hidden, no rows, position, name)
    for position, name in enumerate(reader.sheet_names):
        sheet = reader.load_sheet(name, n_rows=1)
        hidden = sheet.visible != "visible"
        if not hidden:
            visible.append(name)
        if sheet.width >= 2:
            shaped.append((hidden, sheet.height == 0, position, name))
    # min() ranks by the rule, then by workbook order
    chosen = min(shaped)[3] if shaped else (visible or reader.sheet_names)[0]
    notes = []
    if len(reader.sheet_names) > 1:
        notes.append(f"sheet {chosen!r} loaded (of {len(reader.sheet_names)})")
    rest = [n for _, empty, _, n in shaped if n != chosen and not empty]
    if others := [n for n in rest if n in visible]:
        notes.append(
            f"other sheets with data not loaded: {_names(others)} (save each as its own "
            "file to load it)"
        )
    if hidden := [n for n in rest if n not in visible]:
        notes.append(f"hidden sheets not loaded: {_names(hidden)}")
    return chosen, notes


def stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path.name} is empty (0 bytes)")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise RefusedFile(f"{path.name} could not be read as an Excel workbook: {exc}") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise RefusedFile(
            f"{path.name} unpacks to {unpacked / (1 << 20):,.0f} MB of XML, over the "
            f"{MAX_XLSX_UNPACKED >> 20} MB an Excel file may hold here; export it as CSV"
        )
    try:
        sheet, notes = _choose_sheet(path)
        frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
    except Exception as exc:  # fastexcel raises many types for broken workbooks
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RefusedFile(f"{path.name} could not be read as an Excel workbook: {first}") from exc
    if frame.height >= EXCEL_MAX_ROWS:
        raise RefusedFile(
            f"{path.name}: sheet {sheet!r} has {frame.height:,} rows, more than Excel allows "
            f"({EXCEL_MAX_ROWS:,}); this is not an Excel export, export it as CSV"
        )
    staged = stage_frame(con, frame, table)
    staged.notes.extend(notes)
    return staged
