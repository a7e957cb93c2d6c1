"""Derived data after faults: a writer killed with SIGKILL right after a file commits,
and a write error (a full disk) during the refresh.

The kill is real: a child process ingests the demo files and kills itself (SIGKILL,
no cleanup, no atexit) from the progress callback, which runs right after the last
file's transaction committed and before anything is derived from it. The next
command of any kind must then complete the derived data, so every reader sees the
same numbers as after an undisturbed ingest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dashboard import cli
from dashboard.config import Config
from dashboard.ingest import ingest_paths

ROOT = Path(__file__).resolve().parents[1]

KILL_AFTER_LAST_COMMIT = """
import os, signal, sys
from pathlib import Path
from dashboard.config import Config
from dashboard.ingest import ingest_paths
files = [Path(p) for p in sys.argv[2:]]
def progress(r):
    if Path(r.source_file) == files[-1].resolve():
        os.kill(os.getpid(), signal.SIGKILL)
ingest_paths(sys.argv[1], files, Config(), progress=progress)
"""

DERIVED = """
SELECT
  (SELECT count(*) FROM tickets WHERE first_response_at IS NOT NULL
     AND first_response_business_minutes IS NULL),
  (SELECT count(*) FROM tickets WHERE derived_key IS NULL),
  (SELECT count(*) FROM tickets WHERE resolution_due_at IS NOT NULL),
  (SELECT count(*) FROM requester_engagement),
  (SELECT coalesce(sum(hash(e)), 0)::VARCHAR FROM requester_engagement e),
  (SELECT coalesce(sum(hash(t.ticket_id, t.requester_department, t.requester_type,
     t.first_response_business_minutes, t.resolution_business_minutes,
     t.first_response_due_at, t.resolution_due_at)), 0)::VARCHAR FROM tickets t)
"""


def derived(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(DERIVED).fetchall()[0]
    finally:
        con.close()


def copy_db(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy(wal, dst.with_name(dst.name + ".wal"))
    return dst


@pytest.fixture(scope="module")
def crashed(demo_wh, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose writer was SIGKILLed right after the last file committed."""
    db = tmp_path_factory.mktemp("crash") / "crashed.duckdb"
    files = [str(p) for p in demo_wh.files.all()]
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_LAST_COMMIT, str(db), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    return db


def test_rerun_after_a_kill_completes_the_derived_data(demo_wh, crashed, tmp_path) -> None:
    db = copy_db(crashed, tmp_path / "w.duckdb")
    results = ingest_paths(db, demo_wh.files.all(), Config())
    assert {r.status for r in results} == {"unchanged"}  # same files: nothing reloaded
    assert derived(db) == derived(demo_wh.db)


def test_a_reading_command_after_a_kill_completes_the_derived_data(
    demo_wh, crashed, tmp_path, capsys
) -> None:
    db = copy_db(crashed, tmp_path / "w.duckdb")
    assert cli.main(["metrics", "--db", str(db), "--format", "json"]) == 0
    after_kill = capsys.readouterr().out
    assert derived(db) == derived(demo_wh.db)
    assert cli.main(["metrics", "--db", str(demo_wh.db), "--format", "json"]) == 0
    assert after_kill == capsys.readouterr().out


WRITE_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write returns EFBIG instead
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from dashboard import cli
sys.exit(cli.main(sys.argv[2:]))
"""


def ingest_on_a_full_disk(
    demo_wh, tmp_path: Path
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """A copy of the demo warehouse whose refresh must rewrite every ticket, and a
    one-ticket file ingested into it by a process whose writes stop at 30,000 bytes:
    (warehouse, file, the process)."""
    db = copy_db(demo_wh.db, tmp_path / "w.duckdb")
    con = duckdb.connect(str(db))
    con.execute("UPDATE tickets SET derived_key = NULL")  # the refresh rewrites every ticket
    con.close()
    new = tmp_path / "one.csv"
    new.write_text("Ticket ID,Team,Priority,Status,Created\nX1,IT,high,open,2024-01-02 10:00\n")
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_LIMITED, "30000", "ingest", str(new), "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return db, new, proc


def test_a_write_error_during_the_refresh_is_the_message(demo_wh, tmp_path) -> None:
    """A full disk, stood in for by a file-size limit (no root needed): the write error
    must be what the user reads, not the failed ROLLBACK that followed it."""
    _, _, proc = ingest_on_a_full_disk(demo_wh, tmp_path)
    said = proc.stdout + proc.stderr  # the file's summary line, or the command's error
    assert proc.returncode == 1
    assert "File too large" in said, said
    assert "cannot rollback" not in said and "Traceback" not in said


def test_after_a_full_disk_the_next_command_completes_the_derived_data(
    demo_wh, tmp_path, capsys
) -> None:
    """Space freed again, any next command finishes what the full disk interrupted:
    the same derived data as a warehouse that never ran out of space."""
    db, new, proc = ingest_on_a_full_disk(demo_wh, tmp_path)
    assert proc.returncode == 1 and "File too large" in proc.stdout + proc.stderr
    reference = copy_db(demo_wh.db, tmp_path / "ref.duckdb")
    ingest_paths(reference, [new], Config())
    assert cli.main(["ingest", str(new), "--db", str(db)]) == 0
    assert derived(db) == derived(reference)
    assert derived(db)[1] == 0  # no ticket left without its derived columns
