"""Uploaded catalog files kept between the preview and the apply.

They live in ``<DATA_DIR>/uploads`` (private to the user) under a random
token, with a small JSON note of the original name and options, and are
deleted after the apply or after a day.
"""

import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dashboard.catalog.spreadsheet import format_of
from dashboard.storage import make_private_dir

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Upload:
    """A stored upload: where it is and what the merchant chose."""

    token: str
    path: Path
    name: str
    replace: bool


def folder(data_dir: Path) -> Path:
    """Return the private uploads folder, creating it if needed."""
    return make_private_dir(Path(data_dir) / "uploads")


def save(data_dir: Path, stream: IO[bytes], name: str, replace: bool) -> Upload:
    """Store an uploaded file; raise SheetError for an unsupported format."""
    kind = format_of(name)
    purge(data_dir)
    token = secrets.token_hex(16)
    base = folder(data_dir)
    path = base / f"{token}.{kind}"
    with path.open("wb") as handle:
        while chunk := stream.read(1 << 20):
            handle.write(chunk)
    path.chmod(0o600)
    note = {"name": Path(name).name[:200], "replace": replace, "kind": kind}
    (base / f"{token}.json").write_text(json.dumps(note), encoding="utf-8")
    return Upload(token, path, note["name"], replace)


def find(data_dir: Path, token: str) -> Upload | None:
    """Return a stored upload by token, or None (unknown, expired, bad token)."""
    if not TOKEN.match(token or ""):
        return None
    base = Path(data_dir) / "uploads"
    try:
        note = json.loads((base / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = base / f"{token}.{note.get('kind')}"
    if not path.is_file():
        return None
    return Upload(token, path, str(note.get("name")), bool(note.get("replace")))


def discard(upload: Upload) -> None:
    """Delete an upload and its note."""
    for path in (upload.path, upload.path.with_suffix(".json")):
        path.unlink(missing_ok=True)


def purge(data_dir: Path, now: float | None = None) -> int:
    """Delete uploads older than a day; return how many files went."""
    base = Path(data_dir) / "uploads"
    if not base.is_dir():
        return 0
    limit = (now or time.time()) - MAX_AGE_SECONDS
    removed = 0
    for path in base.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        logger.info("Removed %d old uploaded file(s)", removed)
    return removed
