"""The dashboard's home page with many profiles, in headless Chromium on the local stack.

    .venv/bin/python bench/bench_dashboard.py [--profiles 500] [--repeats 5]

Starts the local stack in-process (moto, the handlers, the REST API stand-in serving
dashboard/dist, a sandbox store), gives a tenant a plan that allows ``--profiles``
profiles on one store, then opens the home page ``--repeats`` times in Debian's Chromium
(Playwright) and prints:

* API calls on the first load (GET /me, once per page load, then the list), and per refresh:
  the page's requests to API paths (all but the page and /assets/*). A refresh is forced by
  hiding and showing the tab (the page asks nothing while hidden, and refreshes when shown):
  target 1 (one GET /profiles).
* time to render: navigation start to ``--profiles`` tiles in the DOM (performance.now()
  in the page, whose origin is the navigation's start), median and spread of the repeats.

Exits 1 if a refresh made more than one API call or a tile is missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # browser_support: Chromium as the tests start it

from browser_support import KEY_ITEM, launch  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from feedsync.core import api  # noqa: E402
from feedsync.models import CreateStore, Plan, ProfileSettings, TenantSettings  # noqa: E402
from feedsync.wiring import deps  # noqa: E402
from feedsync_local.environment import LocalEnvironment  # noqa: E402

TENANT = "t-dashboard-bench"
DIST = ROOT / "dashboard" / "dist" / "index.html"
LIMITS = """\
What this measures: the page's own cost (one list call, rendering N tiles) in one headless
Chromium on this machine, and the local API's answer time for N profiles (moto's DynamoDB
in this process). A deployed API answers from Lambda and DynamoDB over the network, so the
list call's time differs; the call count does not."""


def setup(env: LocalEnvironment, profiles: int) -> str:
    """A tenant allowed ``profiles`` profiles on one sandbox store; returns its API key."""
    d = deps()
    key = env.new_tenant(TENANT)
    d.repo.put_tenant_settings(TenantSettings(tenant_id=TENANT, plan=Plan(max_profiles=profiles)))
    store_hash, token = env.sandbox.create_store()
    env.sandbox.seed(
        store_hash,
        [{"name": "Item", "type": "physical", "weight": 1, "sku": "B-1", "price": 10.0,
          "inventory_level": 3}],
    )  # fmt: skip
    store = api.create_store(
        d,
        TENANT,
        CreateStore.model_validate(
            {"name": "bench store", "platform": "bigcommerce",
             "api_url": env.sandbox.api_url(store_hash), "credentials": {"access_token": token}}
        ),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while (got := d.repo.get_store(TENANT, store.store_id)) and got.status == "setting_up":
        if time.monotonic() > deadline:
            raise SystemExit("the bench store's catalog import did not finish in 60 s")
        time.sleep(0.1)
    for n in range(profiles):
        api.create_profile(
            d,
            TENANT,
            ProfileSettings.model_validate(
                {"name": f"Supplier {n:04d}", "store_id": store.store_id,
                 "source": {"type": "url", "url": f"https://supplier.example/feed-{n}.csv"},
                 "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
                 "schedule": {"type": "manual"}}
            ),
        )  # fmt: skip
    return key


def is_api(url: str) -> bool:
    path = urlsplit(url).path
    return path != "/" and path != "/index.html" and not path.startswith("/assets/")


def set_hidden(page: Page, hidden: bool) -> None:
    """As the browser does when the tab is hidden or shown again."""
    page.evaluate(
        "(hidden) => { Object.defineProperty(document, 'hidden',"
        " {configurable: true, get: () => hidden});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def measure(browser: Browser, base_url: str, key: str, profiles: int) -> dict[str, Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.add_init_script(f"sessionStorage.setItem({json.dumps(KEY_ITEM)}, {json.dumps(key)})")
    page = context.new_page()
    calls: list[str] = []
    page.on(
        "request",
        lambda r: calls.append(f"{r.method} {urlsplit(r.url).path}") if is_api(r.url) else None,
    )
    try:
        page.goto("/")
        page.wait_for_function(
            "(n) => document.querySelectorAll('li.tile').length >= n",
            arg=profiles,
            polling="raf",
            timeout=120_000,
        )
        render_ms = float(page.evaluate("performance.now()"))
        # When the list call's answer had arrived (resource timing, same origin): the rest of
        # render_ms is the page's own work.
        answered_ms = float(
            page.evaluate(
                "() => Math.min(...performance.getEntriesByType('resource')"
                ".filter((e) => new URL(e.name).pathname === '/profiles')"
                ".map((e) => e.responseEnd))"
            )
        )
        tiles = int(page.evaluate("document.querySelectorAll('li.tile').length"))
        page.wait_for_timeout(500)  # the once-only look-ups the first answer asked for
        first_load = list(calls)

        calls.clear()
        set_hidden(page, True)
        page.wait_for_timeout(1000)
        while_hidden = list(calls)
        with page.expect_response(lambda r: urlsplit(r.url).path == "/profiles"):
            set_hidden(page, False)
        page.wait_for_timeout(1000)
        refresh = list(calls)
    finally:
        context.close()
    return {"render_ms": render_ms, "answered_ms": answered_ms, "tiles": tiles,
            "first_load": first_load, "while_hidden": while_hidden,
            "refresh": refresh}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not DIST.exists():
        raise SystemExit(f"{DIST} is missing: run `make dashboard` first")
    print(
        f"Dashboard home page: {args.profiles:,} profiles, "
        f"{args.repeats} loads in headless Chromium"
    )
    with LocalEnvironment(run_scheduler=False) as env:
        assert env.api is not None
        started = time.monotonic()
        key = setup(env, args.profiles)
        print(f"  {args.profiles:,} profiles created in {time.monotonic() - started:.1f} s")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                runs = [
                    measure(browser, env.api.url, key, args.profiles) for _ in range(args.repeats)
                ]
            finally:
                browser.close()
    renders = [r["render_ms"] for r in runs]
    first = runs[0]["first_load"]
    refresh_calls = [len(r["refresh"]) for r in runs]
    print(f"  API calls on the first load: {len(first)} ({', '.join(first)})")
    print(f"  API calls while the tab was hidden: {max(len(r['while_hidden']) for r in runs)}")
    print(
        f"  API calls per refresh: {max(refresh_calls)} ({', '.join(runs[0]['refresh'])}; target 1)"
    )
    print(
        f"  time to render {args.profiles:,} tiles (navigation start -> tiles in the DOM): "
        f"median {statistics.median(renders):,.0f} ms "
        f"(min {min(renders):,.0f}, max {max(renders):,.0f})"
    )
    answered = [r["answered_ms"] for r in runs]
    own = [r["render_ms"] - r["answered_ms"] for r in runs]
    print(
        f"    of which GET /profiles answered at median {statistics.median(answered):,.0f} ms; "
        f"the page's own work after it: median {statistics.median(own):,.0f} ms"
    )
    print("  " + LIMITS.replace("\n", "\n  "))
    ok = all(r["tiles"] == args.profiles for r in runs) and max(refresh_calls) == 1
    ok = ok and all(not r["while_hidden"] for r in runs)
    if not ok:
        print(
            "FAILED: a refresh made more than one API call, the page asked while hidden, "
            "or tiles are missing"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
