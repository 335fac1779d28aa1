"""Lint and format are part of the test command: a finding fails the run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["dashboard", "tests", "run.py", "bench"]


def ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TARGETS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_ruff_finds_nothing():
    result = ruff("check", "--no-cache")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = ruff("format", "--check", "--no-cache")

    assert result.returncode == 0, result.stdout + result.stderr
