"""Logging: console and a rotating file, with secrets scrubbed from every line."""

import logging
import logging.handlers
import re
import threading
from collections.abc import Iterable
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(
        r"((?:access_token|refresh_token|client_secret|password|\w*cpf|\w*cnpj)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+",
        re.IGNORECASE,
    ),
]


def register_secrets(values: Iterable[str]) -> None:
    """Add values that must never appear in a log line."""
    fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
    if fresh - _secrets:
        with _secrets_lock:
            _secrets.update(fresh)


def redact(text: str) -> str:
    """Replace known secrets and token-looking values with ***."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


class RedactingFilter(logging.Filter):
    """Scrub secrets from the formatted message and any traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure_logging(
    log_dir: Path | None,
    level: int = logging.INFO,
    console_level: int = logging.INFO,
) -> None:
    """Log to the console (stderr) and, when given a folder, to a rotating file."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_dashboard", False):
            root.removeHandler(handler)
            handler.close()

    console = logging.StreamHandler()
    console.setLevel(console_level)
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_dir / "dashboard.log",
                maxBytes=2_000_000,
                backupCount=5,
                encoding="utf-8",
            )
        )
        (log_dir / "dashboard.log").chmod(0o600)  # a file left by an older version
    for handler in handlers:
        handler._dashboard = True
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)

    logging.getLogger("waitress.queue").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
