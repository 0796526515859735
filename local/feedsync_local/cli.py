"""`feedsync demo` and `feedsync serve`: the whole product on one machine."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from feedsync.models import COUNT_NAMES
from feedsync_local.admin_cli import main as admin_main
from feedsync_local.amazon_double import AmazonDouble
from feedsync_local.environment import LocalEnvironment
from feedsync_local.loopback import confine_to_loopback
from feedsync_local.merchant_cli import Api, ApiError, Context, follow
from feedsync_local.merchant_cli import main as merchant_main
from feedsync_local.sample import catalog_products, supplier_csv
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.stack import ROOT
from feedsync_local.woo_double import WooCommerceDouble

SAMPLE = ROOT / "samples" / "acme_stock.csv"


def _sample_text(products: list[dict[str, Any]]) -> str:
    """The bundled supplier file (the generator's, when the repository has none)."""
    return SAMPLE.read_text(encoding="utf-8") if SAMPLE.exists() else supplier_csv(products)


def _quota(text: str) -> tuple[int, float]:
    try:
        requests_, seconds = text.split("/")
        return int(requests_), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError("expected REQUESTS/SECONDS, e.g. 150/30") from None


def demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as served:
        products = catalog_products()
        Path(served, "acme_stock.csv").write_text(_sample_text(products), encoding="utf-8")
        print("feedsync demo: starting the local stack (moto + Step Functions + sandbox store)")
        with LocalEnvironment(files_dir=Path(served)) as env:
            assert env.api is not None and env.files is not None
            store_hash, token = env.sandbox.create_store()
            env.sandbox.seed(store_hash, products)
            variants = sum(len(p["variants"]) for p in products)
            print(f"  sandbox store  {env.sandbox.api_url(store_hash)} ({variants} variants)")
            print(f"  REST API       {env.api.url}")
            print(f"  supplier file  {env.files.url}/acme_stock.csv")
            client = Api(env.api.url, env.api_key)
            store = client.call(
                "POST",
                "/stores",
                {
                    "name": "Demo store",
                    "platform": "bigcommerce",
                    "api_url": env.sandbox.api_url(store_hash),
                    "credentials": {"access_token": token},
                },
            )
            print(f"store {store['store_id']}: importing the catalog", end="", flush=True)
            while store["status"] == "setting_up":
                time.sleep(0.2)
                print(".", end="", flush=True)
                store = client.call("GET", f"/stores/{store['store_id']}")
            print(f" {store['status']} ({store['variant_count']} variants)")
            if store["status"] != "ready":
                print(f"catalog import failed: {store.get('error')}")
                return 1
            profile = client.call(
                "POST",
                "/profiles",
                {
                    "name": "Acme stock",
                    "store_id": store["store_id"],
                    "source": {"type": "url", "url": f"{env.files.url}/acme_stock.csv"},
                    "format": {"type": "csv"},
                    "mapping": {"sku": "SKU", "barcode": "UPC", "price": "Price", "stock": "Qty"},
                    "match_by": "sku",
                    "fields": ["price", "stock"],
                    "mode": "partial",
                },
            )
            print(f"profile {profile['profile_id']} ({profile['name']}): Start")
            started = client.call("POST", f"/profiles/{profile['profile_id']}/runs", {})
            run = follow(Context(client, as_json=False), started["run_id"])
            log_text = client.call("GET", f"/runs/{run['run_id']}/log")
            log_path = out_dir / f"{run['run_id']}.log.csv"
            log_path.write_text(log_text, encoding="utf-8")
            _summary(run, log_path, env.stack.bucket)
            return 0 if run["status"] == "succeeded" else 1


def _summary(run: dict[str, Any], log_path: Path, bucket: str) -> None:
    counts = run["counts"]
    print(f"run {run['run_id']}: {run['status'].upper()}")
    if run.get("error"):
        print(f"  reason: {run['error']}")
    for name in COUNT_NAMES:
        print(f"  {name.replace('_', ' '):<11} {counts.get(name, 0):>7}")
    print(f"  log         {log_path}")
    print(f"              (also GET /runs/{run['run_id']}/log; in S3 under s3://{bucket}/runs/)")


def serve(args: argparse.Namespace) -> int:
    if args.loopback_only:
        confine_to_loopback()
    # The demo's supplier file on loopback, and a sandbox store seeded with its catalog, so
    # the README's first commands work as written (an empty store refused them all).
    served = Path(tempfile.mkdtemp(prefix="feedsync-serve-"))
    products = catalog_products()
    (served / "acme_stock.csv").write_text(_sample_text(products), encoding="utf-8")
    env = LocalEnvironment(
        api_port=args.port,
        sandbox_port=args.sandbox_port,
        quota=args.sandbox_quota,
        files_dir=served,
        files_port=args.files_port,
    )
    env.start()
    assert env.api is not None and env.files is not None
    demo_hash, demo_token = env.sandbox.create_store()
    env.sandbox.seed(demo_hash, products)
    store_hash, token = env.sandbox.create_store()  # an empty one, for scripts and tests
    # Small Shopify and WooCommerce shops to point stores at (SKUs SHOP-*, S-* and V-*-*).
    shopify = ShopifyDouble().start()
    shopify.seed_catalog(20, 3, sku_prefix="SHOP")
    woo = WooCommerceDouble().start()
    woo.seed_catalog(simple=20, variable=5, variations_each=3)
    woo_key, woo_secret = woo.credentials
    # A small Amazon seller account (SKUs AMZ-*), processing reports and feeds in seconds.
    amazon = AmazonDouble().start()
    amazon.seed(
        {"sku": f"AMZ-{n:03d}", "name": f"Amazon item {n}", "price": 1000 + n * 50, "quantity": n}
        for n in range(1, 21)
    )
    info: dict[str, Any] = {
        "api_url": env.api.url,
        "api_key": env.api_key,
        "aws_endpoint": env.stack.endpoint,
        "demo_user": {"email": env.demo_email, "password": env.demo_password},
        "sandbox": {"api_url": env.sandbox.api_url(store_hash), "access_token": token},
        "demo": {
            "api_url": env.sandbox.api_url(demo_hash),
            "access_token": demo_token,
            "feed_url": f"{env.files.url}/acme_stock.csv",
            "variants": sum(len(p["variants"]) for p in products),
        },
        "shopify": {"api_url": shopify.shop_url, "access_token": shopify.access_token},
        "woocommerce": {
            "api_url": woo.site_url,
            "consumer_key": woo_key,
            "consumer_secret": woo_secret,
        },
        "amazon": amazon.info(),
    }
    _wait_ready(info)
    print(f"dashboard        {info['api_url']}/  (sign in with the API key, or as the demo user)")
    print(f"feedsync API     {info['api_url']}  (OpenAPI: {info['api_url']}/openapi.json)")
    print(f"API key          {info['api_key']}  (the demo workspace's owner key 'default')")
    print(f"demo user        {env.demo_email}  password {env.demo_password}  (owner)")
    print(f"AWS endpoint     {info['aws_endpoint']}  (AWS_ENDPOINT_URL=... feedsync admin --local)")
    demo = info["demo"]
    print(f"demo store       {demo['api_url']}  ({demo['variants']:,} variants)")
    print(f"demo token       {demo['access_token']}")
    print(f"supplier file    {demo['feed_url']}  (the demo store's feed)")
    print(f"sandbox store    {info['sandbox']['api_url']}  (empty)")
    print(f"sandbox token    {token}")
    print(f"Shopify double   {shopify.shop_url}  (token {shopify.access_token})")
    print(f"WooCommerce      {woo.site_url}  (key {woo_key}, secret {woo_secret})")
    print(f"Amazon double    {amazon.endpoint}  (seller {amazon.seller_id}, see the info file)")
    print("Ctrl-C to stop.", flush=True)
    if args.info_file:
        Path(args.info_file).write_text(json.dumps(info, indent=2), encoding="utf-8")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    shopify.stop()
    woo.stop()
    amazon.stop()
    env.stop()
    shutil.rmtree(served, ignore_errors=True)
    return 0


def _wait_ready(info: dict[str, Any]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            api = requests.get(f"{info['api_url']}/openapi.json", timeout=5)
            sandbox = requests.get(
                f"{info['sandbox']['api_url']}/catalog/products?limit=1",
                headers={"X-Auth-Token": info["sandbox"]["access_token"]},
                timeout=5,
            )
            if api.ok and sandbox.ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the local stack did not come up within 30 s")
        time.sleep(0.2)


LOCAL_COMMANDS = ("demo", "serve")


def main(argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else argv
    if args_given[:1] == ["admin"]:
        return admin_main(args_given[1:])  # the operator's tenants commands
    if args_given and args_given[0] not in (*LOCAL_COMMANDS, "-h", "--help"):
        return merchant_main(args_given)  # stores, profiles, run, runs, log, upload
    parser = argparse.ArgumentParser(
        prog="feedsync",
        epilog="Against an API (FEEDSYNC_API_URL, FEEDSYNC_API_KEY): feedsync stores | "
        "profiles | run | runs | log | upload (feedsync stores --help, ...). The operator, "
        "with AWS credentials: feedsync admin tenants ... (feedsync admin --help)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run one sync of the bundled sample feed, locally")
    p_demo.add_argument("--out", default=".feedsync/demo", help="where to write the run log")
    p_demo.set_defaults(func=demo)
    p_serve = sub.add_parser("serve", help="run the local stack until Ctrl-C")
    p_serve.add_argument("--port", type=int, default=8080)
    p_serve.add_argument("--sandbox-port", type=int, default=8081)
    p_serve.add_argument("--sandbox-quota", type=_quota, default=(150, 30.0))
    p_serve.add_argument(
        "--files-port", type=int, default=9000, help="the supplier file's port (0: any free one)"
    )
    p_serve.add_argument("--info-file")
    p_serve.add_argument(
        "--loopback-only",
        action="store_true",
        help="connect to and look up nothing but loopback (for fuzzing the API)",
    )
    p_serve.set_defaults(func=serve)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ApiError as exc:  # the local API refused the demo's request: say so, exit 2
        exc.show()
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
