"""The end-to-end harness: the sandbox and the real CLI, each as a process."""

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from dashboard.sandbox import DEMO_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CATALOG = ROOT / "dashboard" / "demo" / "sample_catalog.csv"
NEVER_SENT = (
    "handling_time",
    "manufacture_time",
    "warranty_time",
    "warranty_message",
    "ncm",
    "isbn",
    "nbm",
    "cest",
)
CLI_TIMEOUT = 90
WAIT_TIMEOUT = 30
POLL_SECONDS = 0.05
STORE_DOMAIN = "https://loja-teste.com.br"
# Variables of the test process that must not leak into the CLI processes.
CLEARED_ENV = (
    "DASHBOARD_DATA_DIR",
    "PLUGGTO_CLIENT_ID",
    "PLUGGTO_CLIENT_SECRET",
    "PLUGGTO_API_USER",
    "PLUGGTO_API_SECRET",
    "STORE_DOMAIN",
    "PLUGGTO_CONNECT_TIMEOUT",
    "PLUGGTO_READ_TIMEOUT",
)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_TIMEOUT) -> None:
    """Poll an outside process's state until a condition holds, or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(POLL_SECONDS)


class SandboxProcess:
    """`python -m dashboard.sandbox --port 0` and its /_sandbox control endpoints."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.session = requests.Session()

    def start(self) -> None:
        """Start the process and read the URL it prints once listening."""
        command = [sys.executable, "-m", "dashboard.sandbox", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--log-level", "WARNING"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("SANDBOX_URL="):
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.partition("=")[2]

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it hangs)."""
        self.session.close()
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process.stdout.close()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a control endpoint and return its JSON answer."""
        response = self.session.request(
            method, f"{self.url}/_sandbox{path}", json=body, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "/reset")

    def faults(self, **plan: Any) -> None:
        """Add fault rules or change latency (POST /_sandbox/faults)."""
        self.control("POST", "/faults", plan)

    def calls(self, since: int = 0) -> list[dict]:
        """Return the API calls from index ``since`` on, token calls excluded."""
        found = self.control("GET", f"/calls?since={since}")["calls"]
        return [call for call in found if not call["oauth"]]

    def call_count(self) -> int:
        """Return how many API calls (token calls included) were logged."""
        return self.control("GET", "/calls?since=999999999")["count"]

    def products(self) -> list[dict]:
        return self.control("GET", "/products")["products"]

    def seed_products(self, bodies: list[dict]) -> None:
        self.control("POST", "/products", {"products": bodies})

    def skus(self) -> dict[str, list[dict]]:
        """Map every SKU on the sandbox (variations too) to the items holding it."""
        found: dict[str, list[dict]] = {}
        for product in self.products():
            found.setdefault(product["sku"], []).append(product)
            for variation in product.get("variations") or []:
                found.setdefault(variation["sku"], []).append(variation)
        return found

    def orders(self) -> list[dict]:
        return self.control("GET", "/orders")["orders"]

    def order(self, order_id: str) -> dict:
        return next(order for order in self.orders() if order["id"] == order_id)

    def create_orders(
        self, count: int, status: str, sku: str, quantity: int = 1
    ) -> list[dict]:
        """Create orders as a marketplace would, each with one line."""
        body = {"count": count, "status": status}
        body["items"] = [{"sku": sku, "quantity": quantity}]
        return self.control("POST", "/orders", body)["orders"]

    def set_status(self, order_id: str, status: str) -> None:
        self.control("POST", f"/orders/{order_id}/status", {"status": status})


@dataclass
class StoreCli:
    """The real `run.py` on one data folder, pointed at the sandbox."""

    data_dir: Path
    api_url: str
    env_extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env.update(
            PLUGGTO_API_URL=self.api_url,
            PLUGGTO_CLIENT_ID=DEMO_CREDENTIALS["client_id"],
            PLUGGTO_CLIENT_SECRET=DEMO_CREDENTIALS["client_secret"],
            PLUGGTO_API_USER=DEMO_CREDENTIALS["username"],
            PLUGGTO_API_SECRET=DEMO_CREDENTIALS["password"],
            STORE_DOMAIN=STORE_DOMAIN,
        )
        env.update(self.env_extra)
        return env

    def command(self, *args: str) -> list[str]:
        run_py = str(ROOT / "run.py")
        return [sys.executable, run_py, "--data-dir", str(self.data_dir), *args]

    def start(self, *args: str) -> subprocess.Popen:
        """Start a command without waiting for it."""
        return subprocess.Popen(
            self.command(*args),
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a command to its end."""
        return subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )

    def run_all(self, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess]:
        """Run several commands at the same time and wait for all of them."""
        started = [self.start(*args) for args in commands]
        return [finish(process) for process in started]

    def orders(self) -> list[dict]:
        """Return `orders --json`."""
        return json.loads(self.run("orders", "--json").stdout)

    def status(self) -> dict:
        """Return `status --json`."""
        return json.loads(self.run("status", "--json").stdout)

    def orders_and_stock(self) -> tuple[list[dict], dict[str, int]]:
        """Read `orders --json` and the stock (`export-catalog`) at once."""
        target = self.data_dir.parent / f"{self.data_dir.name}-export.csv"
        listed, exported = self.run_all(
            ("orders", "--json"), ("export-catalog", str(target))
        )
        assert exported.returncode == 0, exported.stderr
        stock = {row["sku"]: int(row["quantity"]) for row in read_catalog(target)}
        return json.loads(listed.stdout), stock

    def sql(self, statement: str) -> None:
        """Change the database directly, as time passing would."""
        with sqlite3.connect(self.data_dir / "dashboard.db") as connection:
            connection.execute(statement)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    """Wait for a started command and collect its output."""
    stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def copy_store(source: Path, target: Path) -> Path:
    """Copy a data folder that no process has open."""
    shutil.copytree(source, target)
    return target


def sale_price(row: dict[str, str]) -> Decimal:
    """Return the price a buyer pays today for a catalog row (promotion window)."""
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()
    start = row["special_price_start"] or "0000-00-00"
    end = row["special_price_end"] or "9999-99-99"
    if row["special_price"] and start <= today <= end:
        return Decimal(row["special_price"])
    return Decimal(row["price"])


def sample_stock() -> dict[str, int]:
    """Return the stock of every SKU of the sample catalog."""
    return {row["sku"]: int(row["quantity"]) for row in read_catalog()}


def read_catalog(path: Path = SAMPLE_CATALOG) -> list[dict[str, str]]:
    """Read the sample catalog (``,``) or an export (``;``, as Excel pt-BR)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        delimiter = ";" if ";" in handle.readline() else ","
        handle.seek(0)
        return list(csv.DictReader(handle, delimiter=delimiter))


def write_catalog(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def edited_catalog(path: Path, changes: dict[str, dict[str, str]]) -> Path:
    """Write the sample catalog with some cells changed, keyed by SKU."""
    rows = read_catalog()
    for row in rows:
        row.update(changes.get(row["sku"], {}))
    return write_catalog(path, rows)


def sent_skus(calls: list[dict], method: str = "PUT") -> Iterator[str]:
    """Yield the SKU in the body of every accepted call of a method."""
    for call in calls:
        if call["method"] == method and 200 <= call["status"] < 300:
            yield (call["json"] or {}).get("sku")
