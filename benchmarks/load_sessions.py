"""Benchmark: N concurrent app sessions over Streamlit's own websocket (issue 17).

    uv run python benchmarks/load_sessions.py [--tickets 20000] [--db PATH] [--sessions 5 10 20]
        [--rounds 3] [--page ""]

1. Builds a demo warehouse the way `inward demo` does (vendor exports through the
   normal ingest path), unless --db names one that exists (reused, not rebuilt).
2. Starts a real `inward serve` on a free port (headless, 127.0.0.1).
3. For each N: N clients connect to `/_stcore/stream` at once, each asks for one run
   of the page (a `rerun_script` BackMsg, what a browser sends on load) and waits for
   its `script_finished` ForwardMsg. Reported per N, best round of --rounds: median,
   p95 and slowest time to a finished page, how many sessions failed (an exception
   element, a dropped socket, no finish within --timeout), and the server's RSS.
   The baseline is one session alone, measured in the same run: the ratio says
   what concurrency costs on this machine, whatever else the machine is doing.
Bounded: at most max(--sessions) sockets, each with --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.config import Config  # noqa: E402
from dashboard.demo import write_demo  # noqa: E402
from dashboard.ingest import ingest_paths  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(db: Path, tickets: int) -> None:
    files = write_demo(db.parent / "exports", seed=17, tickets=tickets)
    results = ingest_paths(db, files.all(), Config())
    refused = [r.summary() for r in results if r.status == "refused"]
    if refused:
        raise SystemExit("demo ingest refused: " + "; ".join(refused))


def rss_mb(pid: int) -> float:
    """Resident memory of the server (`inward serve` execs Streamlit: one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


Outcome = tuple[float | None, str, int]  # seconds (None: failed), why, elements drawn


async def one_session(url: str, page: str, timeout: float) -> Outcome:
    """Seconds to a finished page, or None and why not; and how many elements it drew
    (a page that finishes with almost nothing drawn did not really render)."""
    start = time.perf_counter()
    elements = 0
    try:
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
            msg = BackMsg()
            msg.rerun_script.query_string = ""
            msg.rerun_script.page_name = page
            await ws.send(msg.SerializeToString())
            async with asyncio.timeout(timeout):
                while True:
                    fwd = ForwardMsg()
                    fwd.ParseFromString(await ws.recv())
                    if fwd.HasField("delta"):
                        elements += 1
                        if fwd.delta.new_element.HasField("exception"):
                            why = "exception: " + fwd.delta.new_element.exception.message
                            return None, why, elements
                    if fwd.HasField("script_finished"):
                        if fwd.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                            return None, f"finished with status {fwd.script_finished}", elements
                        return time.perf_counter() - start, "", elements
    except TimeoutError:
        return None, f"no finished page within {timeout:.0f} s", elements
    except (OSError, websockets.WebSocketException) as exc:
        return None, f"{type(exc).__name__}: {exc}", elements


async def wave(url: str, n: int, page: str, timeout: float) -> list[Outcome]:
    return await asyncio.gather(*(one_session(url, page, timeout) for _ in range(n)))


def summarise(results: list[Outcome]) -> dict[str, float | int | str]:
    ok = sorted(t for t, _, _ in results if t is not None)
    errors = [why for t, why, _ in results if t is None]
    p95 = ok[min(len(ok) - 1, round(0.95 * (len(ok) - 1)))] if ok else float("nan")
    return {
        "median": statistics.median(ok) if ok else float("nan"),
        "p95": p95,
        "max": ok[-1] if ok else float("nan"),
        "failed": len(errors),
        "why": errors[0] if errors else "",
        "elements": min(n for _, _, n in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--sessions", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--page", default="", help="page url path; default the Overview")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="inward-load-") as tmp:
        db = args.db or Path(tmp) / "inward.duckdb"
        if not db.is_file():
            t0 = time.perf_counter()
            build(db, args.tickets)
            print(
                f"built a {args.tickets:,}-ticket demo warehouse "
                f"in {time.perf_counter() - t0:.0f} s"
            )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health"):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("inward serve did not start") from None
                    time.sleep(0.3)
            url = f"ws://127.0.0.1:{port}/_stcore/stream"
            asyncio.run(wave(url, 1, args.page, args.timeout))  # warm: imports, first caches
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)\n")
            print(
                "| sessions | median s | p95 s | slowest s | failed | median / alone | "
                "fewest elements drawn | server RSS MB |"
            )
            print("|---|---|---|---|---|---|---|---|")
            alone = None
            for n in [1, *args.sessions]:
                rounds = [
                    summarise(asyncio.run(wave(url, n, args.page, args.timeout)))
                    for _ in range(args.rounds)
                ]
                best = min(rounds, key=lambda r: (r["failed"], r["median"]))
                alone = alone or best["median"]
                print(
                    f"| {n} | {best['median']:.2f} | {best['p95']:.2f} | {best['max']:.2f} | "
                    f"{best['failed']}{' (' + str(best['why']) + ')' if best['why'] else ''} | "
                    f"{best['median'] / alone:.1f}x | {best['elements']} | "
                    f"{rss_mb(server.pid):,.0f} |",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
