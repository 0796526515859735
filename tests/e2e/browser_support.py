"""Driving the dashboard in a real browser: Debian's Chromium through Playwright.

Nothing is downloaded: Playwright's Python package talks to /usr/bin/chromium (installed by
`scripts/test-servers.sh`), and axe-core comes from node_modules (`make install`).
Screenshots go to test-artifacts/screenshots/ (kept by CI as artefacts, looked at by people).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from e2e_support import ROOT
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = os.environ.get("FEEDSYNC_CHROMIUM", "/usr/bin/chromium")
# As the machine's own probe starts it: no sandbox as root, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
KEY_ITEM = "feedsync.apiKey"  # dashboard/src/api.js
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `bash scripts/test-servers.sh`")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class PageWatch:
    """What a page did that it must not: requests to another origin, errors in its console."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []

    def attach(self, context: BrowserContext) -> None:
        def on_request(request: Any) -> None:
            url = request.url
            if url.startswith(("data:", "blob:", "about:")):
                return
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                self.foreign_requests.append(url)

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        context.on("request", on_request)
        context.on("console", on_console)


@contextmanager
def dashboard_page(
    browser: Browser, base_url: str, api_key: str | None, viewport: dict[str, int] = DESKTOP
) -> Iterator[tuple[Page, PageWatch]]:
    """A fresh browser context on the dashboard; signed in when ``api_key`` is given (the key
    put in sessionStorage before the page's own scripts run, as signing in leaves it)."""
    context = browser.new_context(viewport=viewport, base_url=base_url)
    if api_key is not None:
        context.add_init_script(
            f"window.sessionStorage.setItem({json.dumps(KEY_ITEM)}, {json.dumps(api_key)});"
        )
    watch = PageWatch(base_url.rstrip("/"))
    watch.attach(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page, watch
    finally:
        context.close()


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA rules on the page as it is now; serious and critical only."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `make install`")
    # Evaluated over the DevTools protocol, which the page's CSP (script-src 'self') allows.
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
