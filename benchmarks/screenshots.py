"""Screenshots of every page of the app, and the README's picture.

    uv run python benchmarks/screenshots.py --out /tmp/shots/demo               # the demo
    uv run python benchmarks/screenshots.py --db real.duckdb --out /tmp/shots/real
    uv run python benchmarks/screenshots.py --readme                            # docs/overview.png

Why a script: a page is reviewed as a new user sees it, in a real browser on a real
`inward serve` (what Streamlit draws is not what the test harness sees), and the
README picture must be retaken the same way whenever the Overview changes. It lives
beside page_render.py because it drives the same server and browser.

Every page listed in the sidebar (built-in and analyst query pages) is opened in a
fresh session, shot whole once its script has finished and its charts have drawn,
with the mouse parked off every widget so no tooltip covers anything. `--readme`
shoots the Overview (run it on the default demo) the same way, whole: its first
screen and the by-team table under it, at 1440 px wide.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from page_render import (
    CHROMIUM,
    ROOT,
    WATCH,
    demo,
    finished,
    inward_serve,
    screenshot,
    serving,
)

FIRST_SCREEN = {"width": 1440, "height": 1000}


def nav_paths(pg) -> list[str]:
    """URL paths of the sidebar's pages, in their order ('' for the default page)."""
    hrefs = pg.eval_on_selector_all(
        '[data-testid="stSidebarNavLink"]', "links => links.map(a => a.getAttribute('href'))"
    )
    return [h.rstrip("/").rsplit("/", 1)[-1] if h.rstrip("/").count("/") > 2 else "" for h in hrefs]


def shoot(url: str, out: Path | None, readme: Path | None) -> list[Path]:
    """Every page to `out`, and/or the Overview to `readme` (whole pages)."""
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )

        def opened(path: str):
            ctx = browser.new_context(viewport=FIRST_SCREEN)
            ctx.add_init_script(WATCH)
            pg = ctx.new_page()
            pg.goto(f"{url}/{path}")
            finished(pg, 0.0)
            pg.mouse.move(FIRST_SCREEN["width"] - 10, 5)  # no hover tooltip
            pg.wait_for_timeout(2000)  # charts draw after the script finished
            return ctx, pg

        ctx, pg = opened("")
        paths = nav_paths(pg)
        if readme is not None:
            screenshot(pg, readme)  # whole: a first screen alone cut the by-team table
            saved.append(readme)
        ctx.close()
        for path in paths if out is not None else []:
            out.mkdir(parents=True, exist_ok=True)
            ctx, pg = opened(path)
            target = out / f"{path or 'overview'}.png"
            screenshot(pg, target)
            saved.append(target)
            ctx.close()
        browser.close()
    return saved


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="warehouse to serve (default: the 50k demo)")
    ap.add_argument("--out", type=Path, help="folder for one whole-page PNG per page")
    ap.add_argument(
        "--readme", action="store_true", help="retake docs/overview.png (shoot it on the demo)"
    )
    args = ap.parse_args()
    if not (args.out or args.readme):
        ap.error("say where: --out DIR and/or --readme")
    db = args.db or demo(50_000)
    with serving(inward_serve(db)) as url:
        readme = ROOT / "docs" / "overview.png" if args.readme else None
        for path in shoot(url, args.out, readme):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
