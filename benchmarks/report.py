"""Benchmark: `inward report` end to end on a realistic warehouse, next to its parts.

    uv run python benchmarks/report.py [--tickets 2000000] [--db PATH] [--runs 3]

1. Builds a demo warehouse of N tickets the way `inward demo` does (vendor exports,
   surveys, outcomes, people; the normal ingest path with the engagement model),
   unless --db names one that already exists (it is then reused, not rebuilt).
2. Times, best of --runs, each on a fresh read-only connection:
   - `inward metrics --by team` for the report period (baseline: one summary scan);
   - the report's numbers alone (`content.build`: every metric call it makes);
   - Chromium start, one small chart, stop (kaleido): the fixed cost of charts and PDF;
   - the whole PDF report and the whole HTML report (`report.generate`), where the
     browser starts while DuckDB computes.
Target (issue 18): the PDF in ≤ 10 s at 2M tickets.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import report, warehouse  # noqa: E402
from dashboard.config import Config  # noqa: E402
from dashboard.filters import Filters  # noqa: E402
from dashboard.metrics import response_times as rt  # noqa: E402
from dashboard.report import content  # noqa: E402
from dashboard.report.browser import Chromium  # noqa: E402


def best(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def build(db: Path, tickets: int) -> None:
    from dashboard.demo import write_demo
    from dashboard.ingest import ingest_paths

    with tempfile.TemporaryDirectory(prefix="inward-bench-report-") as tmp:
        t0 = time.perf_counter()
        files = write_demo(Path(tmp) / "exports", seed=7, tickets=tickets)
        results = ingest_paths(db, files.all(), Config())
        assert all(r.status == "loaded" for r in results), [r.message for r in results]
        print(f"built {db} with ~{tickets:,} tickets in {time.perf_counter() - t0:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=2_000_000)
    ap.add_argument("--db", type=Path, help="warehouse to use (built there when missing)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    config = Config()
    with tempfile.TemporaryDirectory(prefix="inward-bench-report-") as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if not db.is_file():
            build(db, args.tickets)
        with warehouse.reader(db) as con:
            n = con.sql("SELECT count(*) FROM tickets").fetchall()[0][0]
            period = content.default_filters(con, Filters())
        print(f"{n:,} tickets; report period {period.date_from} to {period.date_to}")

        def on_reader(fn: Callable[..., object]) -> Callable[[], object]:
            def run() -> object:
                with warehouse.reader(db) as con:
                    return fn(con)

            return run

        def chromium() -> None:
            with Chromium() as b:
                b.svgs([go.Figure(go.Bar(y=[1, 2]), layout={"width": 300, "height": 200})])

        rows = [
            (
                "inward metrics --by team (baseline)",
                on_reader(lambda c: rt.summary(c, period, ["service_team"])),
            ),
            (
                "report numbers (content.build)",
                on_reader(lambda c: content.build(c, config, period)),
            ),
            ("Chromium start + one chart + stop", chromium),
            (
                "report PDF (generate)",
                on_reader(lambda c: report.generate(c, config, period, "pdf")),
            ),
            (
                "report HTML with charts",
                on_reader(lambda c: report.generate(c, config, period, "html")),
            ),
            (
                "report HTML, no charts",
                on_reader(lambda c: report.generate(c, config, period, "html", charts=False)),
            ),
        ]
        results = {}
        for label, fn in rows:
            results[label] = best(args.runs, fn)
            print(f"{label:<40} {results[label]:7.2f} s (best of {args.runs})", flush=True)
        base = results[rows[0][0]]
        pdf = results["report PDF (generate)"]
        print(
            f"PDF report = {pdf / base:.1f}x the metrics baseline; target <= 10 s: "
            f"{'met' if pdf <= 10 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
