"""Ingest: exports (CSV, Parquet, JSON, XLSX; generic or vendor layouts) → canonical tables.

`ingest_paths` is the one entry point used by the CLI, the demo and the Data
page uploader, so every file goes through the same checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from dashboard.config import Config
from dashboard.ingest.load import IngestResult, ingest_file
from dashboard.ingest.read import SUPPORTED
from dashboard.memory import memory_cap
from dashboard.progress import Say

__all__ = ["IngestResult", "expand", "ingest_paths"]


class Found(NamedTuple):
    path: Path
    folder: Path | None  # the folder it was found in; None when the file was named itself


def expand(paths: Iterable[str | Path]) -> list[Found]:
    """Files as given, and every supported file (recursively, sorted) in given folders.

    Within a folder, reference data (org, people) is loaded before tickets and
    surveys so requester departments can be filled from it. The folder goes with
    each file so a symbolic link out of it is refused rather than followed.
    """
    out: list[Found] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                Found(f, p)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED and not f.name.startswith(".")
            )
        else:
            out.append(Found(p, None))
    return out


def ingest_paths(
    db: str | Path,
    paths: Iterable[str | Path],
    config: Config,
    kind: str | None = None,
    fmt: str = "auto",
    timezone: str | None = None,
    progress: Callable[[IngestResult], None] | None = None,
    say: Say | None = None,
) -> list[IngestResult]:
    """Ingest files one transaction each, then refresh derived tables once — also when
    nothing was loaded but an earlier run died before its refresh (see `derive`).

    `[survey_questions]` reaches the survey adapters' `prepare` hooks through a
    context variable (see `survey_questions.configured`), so the adapter interface
    stays `prepare(con, staged)`.

    `progress` gets each file's result; `say` the phase lines of long work (each
    file's steps, then the refresh's; see `progress.Phases`).
    """
    from dashboard import derive, warehouse
    from dashboard.ingest.survey_questions import configured

    results = []
    with configured(config.survey_questions), warehouse.writer(db) as con:
        for path, folder in expand(paths):
            r = ingest_file(
                con,
                path,
                folder=folder,
                kind=kind,
                fmt=fmt,
                timezone=timezone or config.timezone,
                mapping=config.mapping,
                say=say,
            )
            results.append(r)
            if progress:
                progress(r)
        # also when every file was unchanged: an earlier run may have died before this
        if any(r.status == "loaded" for r in results) or derive.needs_refresh(con, config):
            with memory_cap(con):  # the same cap as each file's load: RSS stays bounded
                derive.refresh(con, config, say=say)
    return results
