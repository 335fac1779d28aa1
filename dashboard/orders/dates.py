"""The store's calendar: America/Sao_Paulo days over UTC storage."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STORE_TIMEZONE = ZoneInfo("America/Sao_Paulo")


def local_day(moment: datetime) -> date:
    """Return the São Paulo calendar day of a UTC moment."""
    return moment.astimezone(STORE_TIMEZONE).date()


def day_start(day: date) -> datetime:
    """Return the UTC moment a São Paulo day begins."""
    return datetime.combine(day, time(), tzinfo=STORE_TIMEZONE).astimezone(UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC range [start, end) of a São Paulo day."""
    return day_start(day), day_start(day + timedelta(days=1))
