"""Catalog benchmark: import, push and re-sync 50,000 SKUs against the sandbox.

Run from the repository root (not part of the test run):

    python bench/catalog_bench.py [--skus 50000] [--latency-ms 20] [--changes 2000]
                                  [--concurrency 4] [--catalog FILE]

It starts the Plugg.to sandbox as a separate process with a fixed latency,
builds a synthetic catalog (simple products and products with 2-12
variations), imports it, pushes products, prices and stock, runs an
unchanged sync, then changes the stock of N SKUs and syncs again. For each
push it prints the requests, the wall time and the ratio
``wall / (requests x latency / concurrency)`` (1.0 = the configured
concurrency kept busy the whole time).
"""

import argparse
import csv
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import create_app  # noqa: E402
from dashboard import settings as settings_store  # noqa: E402
from dashboard.catalog.importer import apply_import  # noqa: E402
from dashboard.catalog.stock import adjust_stock  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.sandbox import DEMO_CREDENTIALS  # noqa: E402
from dashboard.storage import open_storage  # noqa: E402
from dashboard.sync.runner import run_job  # noqa: E402

HEADER = [
    "sku",
    "sku_parent",
    "name",
    "description",
    "brand",
    "ean",
    "price",
    "special_price",
    "quantity",
    "weight",
    "length",
    "width",
    "height",
    "link_image_1",
    "link_image_2",
    "attribute_name_1",
    "attribute_value_1",
    "attribute_name_2",
    "attribute_value_2",
    "full_category_tree_1",
    "full_category_tree_2",
    "full_category_tree_3",
]
SIZES = ["PP", "P", "M", "G", "GG", "XG"]
COLORS = ["Azul", "Preto", "Branco", "Verde", "Vermelho", "Cinza"]
JOBS = ("products", "prices", "stock")


def ean13(number: int) -> str:
    """Return a valid EAN-13 built from a number."""
    body = f"789{number % 10**9:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def write_catalog(path: Path, skus: int, seed: int = 7) -> tuple[int, int]:
    """Write a synthetic catalog; return (products, SKUs)."""
    rng = random.Random(seed)
    written = products = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < skus:
            products += 1
            left = skus - written
            family = rng.random() < 0.45 and left >= 3
            count = min(rng.randint(2, 12), left - 1) if family else 0
            written += _write_product(writer, rng, products, count) + 1
    return products, written


def _write_product(writer, rng: random.Random, number: int, variations: int) -> int:
    sku = f"P{number:06d}"
    price = rng.randint(1990, 99990) / 100
    special = round(price * 0.9, 2) if rng.random() < 0.2 else price
    name = f"Produto de teste {number}"
    writer.writerow(
        [
            sku,
            "",
            name,
            f"Descrição do produto {number}, com <b>detalhes</b>.",
            rng.choice(["Marca A", "Marca B", "Marca C"]),
            "" if variations else ean13(number * 100),
            f"{price:.2f}",
            f"{special:.2f}",
            rng.randint(0, 80),
            f"{rng.randint(100, 5000) / 1000:.3f}",
            rng.randint(5, 60),
            rng.randint(5, 40),
            rng.randint(1, 30),
            f"https://img.exemplo.com.br/{sku}-1.jpg",
            f"https://img.exemplo.com.br/{sku}-2.jpg",
            "",
            "",
            "",
            "",
            "Departamento",
            f"Categoria {number % 40}",
            f"Subcategoria {number % 300}",
        ]
    )
    for index in range(variations):
        color, size = COLORS[index // len(SIZES)], SIZES[index % len(SIZES)]
        writer.writerow(
            [
                f"{sku}-{index + 1:02d}",
                sku,
                f"{name} {color} {size}",
                "",
                "",
                ean13(number * 100 + index + 1),
                f"{price:.2f}",
                f"{special:.2f}",
                rng.randint(0, 30),
                "",
                "",
                "",
                "",
                f"https://img.exemplo.com.br/{sku}-{index + 1}.jpg",
                "",
                "Cor",
                color,
                "Tamanho",
                size,
                "",
                "",
                "",
            ]
        )
    return variations


def start_sandbox(latency_ms: float) -> tuple[subprocess.Popen, str]:
    """Start the sandbox process and return it with its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.sandbox",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stdout:
        match = re.match(r"SANDBOX_URL=(\S+)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("the sandbox did not start")


def api_calls(url: str) -> int:
    """Return how many API calls (token requests excluded) the sandbox saw."""
    data = requests.get(f"{url}/_sandbox/calls", params={"since": 0}, timeout=30)
    routes = data.json()["routes"]
    return sum(count for route, count in routes.items() if "oauth" not in route)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_jobs(url: str, latency_ms: float, concurrency: int, names=JOBS) -> dict:
    """Run jobs one after the other; return requests, wall time and ratio."""
    before = api_calls(url)
    started = time.perf_counter()
    for name in names:
        outcome = run_job(name, "bench")
        if outcome.status != "ok":
            print(f"  {name}: {outcome.status} {outcome.message}")
    wall = time.perf_counter() - started
    calls = api_calls(url) - before
    ideal = calls * latency_ms / 1000 / concurrency
    return {"requests": calls, "wall": wall, "ratio": wall / ideal if ideal else 0}


def report(title: str, figures: dict) -> None:
    print(
        f"{title}: {figures['requests']} requests, wall {figures['wall']:.2f} s, "
        f"ratio {figures['ratio']:.3f}"
    )


def change_stock(count: int, seed: int = 11) -> None:
    """Change the stock of ``count`` stock-holding SKUs, one order at a time."""
    from sqlalchemy import select

    from dashboard.models.sync import SyncItem

    keys = db.session.scalars(select(SyncItem.key).where(SyncItem.kind == "stock"))
    chosen = random.Random(seed).sample(list(keys), count)
    for sku in chosen:
        adjust_stock(sku, 5)
        db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--changes", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--catalog",
        type=Path,
        help="a real catalog in the Plugg.to layout instead of the synthetic one "
        "(e.g. ../shared/data/olist_catalog.csv)",
    )
    args = parser.parse_args()

    process, url = start_sandbox(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as folder:
            return bench(Path(folder), url, args)
    finally:
        process.terminate()
        process.wait(10)


def bench(folder: Path, url: str, args) -> int:
    if args.catalog:
        catalog = args.catalog
        print(f"Catalog: {catalog} ({catalog.stat().st_size:,} bytes)")
    else:
        catalog = folder / "catalog.csv"
        products, skus = write_catalog(catalog, args.skus)
        print(
            f"Catalog: {products} products, {skus} SKUs "
            f"({catalog.stat().st_size:,} bytes)"
        )

    app = create_app({"PLUGGTO_API_URL": url, "DATA_DIR": folder / "data"})
    open_storage(app)
    with app.app_context():
        credentials = dict(DEMO_CREDENTIALS)
        settings_store.save(
            {
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "api_user": credentials["username"],
                "api_secret": credentials["password"],
                "store_domain": "loja.exemplo.com.br",
                "concurrency": args.concurrency,
            }
        )

        started = time.perf_counter()
        result = apply_import(catalog)
        elapsed = time.perf_counter() - started
        print(f"Import: {elapsed:.2f} s — {result.summary()}")
        if not result.ok:
            print("\n".join(str(problem) for problem in result.problems[:20]))
            return 1

        report("First push", run_jobs(url, args.latency_ms, args.concurrency))

        started = time.perf_counter()
        unchanged = run_jobs(url, args.latency_ms, args.concurrency)
        print(
            f"Unchanged run: {time.perf_counter() - started:.2f} s, "
            f"{unchanged['requests']} requests"
        )

        change_stock(args.changes)
        stock = run_jobs(url, args.latency_ms, args.concurrency, names=("stock",))
        report(f"Stock change of {args.changes} SKUs", stock)
    print(f"Peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
