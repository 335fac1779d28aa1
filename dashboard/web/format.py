"""pt-BR presentation of money, numbers and times (stored in UTC)."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal

LOCALE = "pt_BR"
TIMEZONE = ZoneInfo("America/Sao_Paulo")


def brl(value: Decimal | float | int | None) -> str:
    """Format an amount as ``R$ 1.299,90``."""
    if value is None:
        return "—"
    return format_currency(Decimal(value), "BRL", locale=LOCALE).replace("\xa0", " ")


def number(value: int | float | Decimal | None) -> str:
    """Format a number with Brazilian separators (``32.951``)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=LOCALE)


def local(value: datetime | None) -> datetime | None:
    """Return a UTC datetime in America/Sao_Paulo."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TIMEZONE)


def when(value: datetime | None, with_seconds: bool = False) -> str:
    """Format a UTC datetime as ``03/12/2026 17:05`` in São Paulo time."""
    if value is None:
        return "—"
    pattern = "dd/MM/yyyy HH:mm:ss" if with_seconds else "dd/MM/yyyy HH:mm"
    return format_datetime(local(value), pattern, locale=LOCALE)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago (or in how long) a UTC datetime is: ``há 3 minutos``."""
    if value is None:
        return "nunca"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - (now or datetime.now(UTC))
    if abs(delta.total_seconds()) < 45:
        return "agora"
    return format_timedelta(delta, add_direction=True, locale=LOCALE)


def duration(seconds: float | None) -> str:
    """Format a duration as ``2 min 05 s`` or ``0,4 s``."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, secs = divmod(int(round(seconds)), 60)
    if not minutes:
        return f"{secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


FILTERS = {
    "brl": brl,
    "number": number,
    "when": when,
    "ago": ago,
    "duration": duration,
}
