"""Start the real sandbox and dashboard as processes, for the browser tests."""

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT = 30
ENV_NAMES = (
    "DASHBOARD_DATA_DIR",
    "PLUGGTO_API_URL",
    "PLUGGTO_CLIENT_ID",
    "PLUGGTO_CLIENT_SECRET",
    "PLUGGTO_API_USER",
    "PLUGGTO_API_SECRET",
    "STORE_DOMAIN",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """Return this environment without the dashboard's variables, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(extra)
    return env


def stop(process: subprocess.Popen, timeout: float = 10) -> tuple[int | None, float]:
    """Send SIGTERM; return the exit code (None if killed) and seconds taken."""
    if process.poll() is not None:
        return process.returncode, 0.0
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        code = None
    return code, time.monotonic() - started


@dataclass
class Sandbox:
    """The local Plugg.to, as a process."""

    process: subprocess.Popen
    url: str = ""

    @classmethod
    def launch(cls, log: Path) -> "Sandbox":
        """Start the process without waiting for it (see wait_for_url)."""
        with log.open("w") as errors:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "-m", "dashboard.sandbox", "--port", "0"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=clean_env(),
            )
        return cls(process)

    def wait_for_url(self) -> str:
        if not self.url:
            self.url = _read_url(self.process)
        return self.url

    def control(self, path: str, body: dict | None = None) -> dict:
        response = requests.post(f"{self.url}/_sandbox/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        stop(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read_url(process: subprocess.Popen) -> str:
    """Read SANDBOX_URL=... from the sandbox's first lines, with a bound."""
    deadline = time.monotonic() + START_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("SANDBOX_URL="):
                return line.strip().partition("=")[2]
    process.kill()
    raise RuntimeError("the sandbox did not print its URL")


@dataclass
class Dashboard:
    """The real dashboard server (run.py), as a process."""

    data_dir: Path
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen | None = None
    options: tuple[str, ...] = ()  # global options, such as --demo

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "run.py", "--data-dir", str(self.data_dir), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "run.py",
            "--data-dir",
            str(self.data_dir),
            *self.options,
        ]
        with self.log.open("a") as errors:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dashboard exited: see {self.log}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)  # polling a starting process, not waiting on work
        raise RuntimeError("the dashboard did not answer in time")

    def stop(self) -> tuple[int | None, float]:
        if self.process is None:
            return 0, 0.0
        return stop(self.process)
