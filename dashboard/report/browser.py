"""One headless Chromium per report: the app's Plotly figures to SVG (kaleido) and the
finished HTML to PDF (the DevTools `Page.printToPDF`), with no network.

Chromium's cold start is most of the cost (4–5 s, ANCHORS "Static reports"), so
`Chromium()` launches it in a background thread at once: the browser warms up
while DuckDB computes the numbers, and the charts (~0.3 s each) and the PDF
(~0.5 s) then reuse it. kaleido finds Debian's /usr/bin/chromium by itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import plotly.graph_objects as go

T = TypeVar("T")
TIMEOUT_S = 120.0
# printToPDF paper in inches, used only when the page's CSS names no size
PAPER_INCHES = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}


class BrowserError(RuntimeError):
    """Chromium could not be started or failed to draw."""


class Chromium:
    """A kaleido browser on its own event-loop thread; close() stops it."""

    def __init__(self) -> None:
        self._ready: Future[Any] = Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()

    async def _main(self) -> None:
        try:
            import kaleido  # heavy: only on the report's path, never at app start-up

            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            # mathjax=False: kaleido would otherwise load MathJax from a CDN
            async with kaleido.Kaleido(n=1, mathjax=False, timeout=TIMEOUT_S) as k:
                self._ready.set_result(k)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                raise

    def _call(self, job: Callable[[Any], Awaitable[T]]) -> T:
        try:
            k = self._ready.result(timeout=TIMEOUT_S)
        except Exception as exc:
            raise BrowserError(
                f"could not start Chromium for the report ({type(exc).__name__}: {exc}); "
                "install it (apt-get install chromium), or use --no-charts for an HTML report"
            ) from exc
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(job(k), self._loop).result(timeout=TIMEOUT_S)

    def svgs(self, figures: list[go.Figure]) -> list[str]:
        """Each figure as an SVG document, at its layout's width and height."""

        async def job(k: Any) -> list[str]:
            out = []
            for fig in figures:
                opts = {"format": "svg", "width": fig.layout.width, "height": fig.layout.height}
                out.append((await k.calc_fig(fig, opts=opts)).decode("utf-8"))
            return out

        return self._call(job) if figures else []

    def pdf(self, html: str, paper: str = "a4") -> bytes:
        """`html` printed to PDF; the page's own `@page` size and margins win."""
        width, height = PAPER_INCHES[paper]

        async def job(k: Any) -> bytes:
            tab = await k.create_tab("about:blank")
            try:
                tree = await tab.send_command("Page.getFrameTree")
                frame = tree["result"]["frameTree"]["frame"]["id"]
                _check(
                    await tab.send_command(
                        "Page.setDocumentContent", params={"frameId": frame, "html": html}
                    )
                )
                printed = _check(
                    await tab.send_command(
                        "Page.printToPDF",
                        params={
                            "printBackground": True,
                            "preferCSSPageSize": True,
                            "paperWidth": width,
                            "paperHeight": height,
                        },
                    )
                )
                return base64.b64decode(printed["result"]["data"])
            finally:
                await k.close_tab(tab.target_id)

        return self._call(job)

    def close(self) -> None:
        """Stop the browser (safe to call twice, or after a failed start)."""
        with contextlib.suppress(Exception):  # one that never started has nothing to stop
            self._ready.result(timeout=TIMEOUT_S)  # one still starting is stopped once up
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check(response: dict[str, Any]) -> dict[str, Any]:
    if "error" in response:
        raise BrowserError(f"Chromium refused the page: {response['error']}")
    return response
