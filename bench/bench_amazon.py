"""Benchmark the Amazon connector against its double: requests per minimum for a big write.

    .venv/bin/python bench/bench_amazon.py [--sizes 100000] [--slow 3]

For each size: seed the double with that many listings, plan a price and quantity change
for every one with Amazon's capabilities (``domain.plan.build_plan``, as the match step
does) and apply every batch through the connector, as the update step does.

The minimum per feed is: createFeedDocument, the upload, createFeed, one getFeed that
sees it finished, getFeedDocument and the processing report's download (6), plus one
token exchange per run. Target <= 1.10.

Nothing waits for real: the double and the connector share a virtual clock that moves
only when the connector sleeps (a status poll's backoff, a usage plan's wait), so the
feeds' processing time and the specs' rates (createFeed 0.0083/s, burst 15) hold as on
Amazon while the run takes seconds. ``--slow`` also runs with the double processing
feeds that many times slower than the connector's first-look estimate, to show what
extra polls cost. ``AmazonDouble.scale_rates`` would make every usage plan faster
instead (not needed with the virtual clock).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT / "local"))

from feedsync.domain.plan import build_plan  # noqa: E402
from feedsync.domain.reconcile import Outcome  # noqa: E402
from feedsync.platforms.amazon.connector import AmazonConnector  # noqa: E402
from feedsync.platforms.amazon.endpoints import listing_id  # noqa: E402
from feedsync_local.amazon_double import AmazonDouble, VirtualClock  # noqa: E402

PER_FEED = 6


def run(n: int, label: str, slow: float, refuse_every: int) -> None:
    clock = VirtualClock()
    with AmazonDouble(clock=clock) as double:
        skus = [f"AMZ-{i:07d}" for i in range(n)]
        double.seed({"sku": s, "price": 1000, "quantity": 5} for s in skus)
        estimate = AmazonConnector.feed_s_per_message
        double.state.feed_s_per_message = estimate * slow
        double.state.feed_min_s = AmazonConnector.polling.first_s * slow
        for s in skus[::refuse_every] if refuse_every else ():
            double.reject_sku(s, "The price is below the minimum allowed", "8572")
        connector = AmazonConnector(
            double.endpoint,
            client_id=double.client_id,
            client_secret=double.client_secret,
            refresh_token=double.refresh_token,
            seller_id=double.seller_id,
            marketplace_id=double.marketplace_id,
            token_url=double.token_url,
            allow_private=True,
            sleep=clock.sleep,
            clock=clock,
        )
        caps = connector.capabilities
        outcomes: list[Outcome] = []
        refs: dict[int, str] = {}
        for row, sku in enumerate(skus):
            ident = listing_id(sku)
            refs[ident] = sku
            changes = (("price", 1000, 1100 + row % 50), ("stock", 5, 8))
            outcomes.append((row + 2, sku, "changed", ident, ident, changes, ""))
        plan = list(build_plan(outcomes, caps, refs=refs))
        batches = [batch for shard in plan for batch in shard]
        double.reset_log()
        started = time.perf_counter()
        tally = {"ok": 0, "failed": 0}
        for b, batch in enumerate(batches):
            for ok, _ in connector.apply(batch["op"], batch["items"], batch_key=f"bench-{b}"):
                tally["ok" if ok else "failed"] += 1
        secs = time.perf_counter() - started
        log = double.requests_log()
        sent = len(log)
        minimum = PER_FEED * len(batches) + 1
        polls = sum(1 for _, what, _ in log if what == "getFeed")
        throttled = sum(1 for _, _, status in log if status == 429)
        print(
            f"  amazon      {n:>7,} listings, {label:<30} requests {sent:>5} / minimum "
            f"{minimum:>5} = {sent / minimum:.3f}  ({len(batches)} feeds, {polls} status "
            f"polls, {throttled} x 429, {tally['ok']} ok, {tally['failed']} refused, "
            f"{clock.slept / 60:.0f} virtual min, {secs:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--slow", type=float, default=3.0)
    args = parser.parse_args()
    print("amazon connector benchmark: requests sent / minimum (6 per feed + 1 token)")
    for n in (int(s) for s in args.sizes.split(",")):
        run(n, "price+stock", 1.0, 0)
        run(n, "1 refused per 1,000", 1.0, 1000)
        run(n, f"feeds {args.slow:g}x slower than guessed", args.slow, 0)


if __name__ == "__main__":
    main()
