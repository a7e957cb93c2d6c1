"""`inward demo`, `inward ingest`, `inward serve`: data into the warehouse, and the app
over it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dashboard import warehouse
from dashboard.cli.common import (
    Failure,
    err,
    warn_about_config,
)
from dashboard.config import check_zone, load_config

APP = Path(__file__).parent.parent / "app" / "main.py"


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard.demo import write_demo
    from dashboard.ingest import ingest_paths

    config = load_config(args.config)
    db = warehouse.db_path(args.db)
    t0 = time.perf_counter()
    files = write_demo(args.out, seed=args.seed, tickets=args.tickets)
    err(f"demo exports written to {args.out}/ in {time.perf_counter() - t0:.1f} s")
    results = ingest_paths(db, files.all(), config, progress=lambda r: err(r.summary()), say=err)
    if any(r.status == "refused" for r in results):
        raise Failure("a demo file was refused; see the lines above")
    err(f"warehouse ready: {db} ({time.perf_counter() - t0:.1f} s)")
    if args.no_serve:
        return 0
    return _serve(db, args.port, args.config, args.address)


def cmd_ingest(args: argparse.Namespace) -> int:
    from dashboard.ingest import expand, ingest_paths

    config = load_config(args.config)
    if args.timezone is not None:  # checked before any file is read
        check_zone("--timezone", args.timezone)
    db = warehouse.db_path(args.db)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise Failure(f"no such file or folder: {missing[0]}")
    if not expand(args.paths):
        raise Failure(f"no supported files in {', '.join(args.paths)}")
    report: Callable[[object], None] | None = (
        None if args.json else (lambda r: print(r.summary(), flush=True))
    )  # type: ignore[attr-defined]
    results = ingest_paths(
        db,
        args.paths,
        config,
        kind=args.kind,
        fmt=args.fmt,
        timezone=args.timezone,
        progress=report,
        say=err,
    )
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=1))
    if db.is_file():
        warn_about_config(db, config)
    return 1 if any(r.status == "refused" for r in results) else 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _serve(db: Path, port: int, config: str | None, address: str = "127.0.0.1") -> int:
    """Run the app; only on this machine unless `address` says otherwise (and then say
    what that means when nobody has to sign in)."""
    from dashboard import derive

    settings = load_config(config)  # fail fast on a bad config
    if address not in LOOPBACK and settings.access.mode == "open":
        err(
            f'warning: listening on {address} with [access] mode = "open": anyone who can '
            "reach this port sees every page and can run every analyst query (ids "
            'pseudonymised). Set mode = "login" in inward.toml to require sign-in.'
        )
    if Path(db).is_file():
        warehouse.ensure_current(db)  # the app only reads: bring an old file up to date first
        derive.ensure_derived(db, settings)  # finish a pending refresh, apply the as_of
    env = dict(os.environ, INWARD_DB=str(Path(db).resolve()))
    if config:
        env["INWARD_CONFIG"] = str(Path(config).resolve())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        # a short message in the browser, never a traceback (details go to the console)
        "--client.showErrorDetails",
        "none",
    ]
    host = "localhost" if address in LOOPBACK else address
    err(f"Inward is starting on http://{host}:{port} (Ctrl+C to stop)")
    if os.name == "posix":
        # Become the server: a SIGTERM from a process manager (or a test) then reaches
        # Streamlit itself, where a child process would outlive its parent and keep
        # the port and the warehouse's read handles.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(warehouse.db_path(args.db), args.port, args.config, args.address)
