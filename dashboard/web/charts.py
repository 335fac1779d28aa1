"""Small bar charts computed on the server and drawn as inline SVG.

The geometry is worked out here; ``partials/_chart.html`` only draws the
shapes, so the chart needs no script, no CDN and works offline.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.sync import RUN_FAILED, RUN_PARTIAL, JobRun
from dashboard.web.format import LOCALE, TIMEZONE, local

DAYS = 7
WIDTH = 420
HEIGHT = 190
TOP = 22  # room for the value above the tallest bar
BOTTOM = 40  # room for two lines of day labels
SIDE = 6
BAR_SHARE = 0.62  # of each day's slot
FAILED_STATUSES = (RUN_FAILED, RUN_PARTIAL)


@dataclass(frozen=True)
class Segment:
    """One coloured rectangle of a bar."""

    y: float
    height: float
    css: str


@dataclass(frozen=True)
class Bar:
    """One day of a chart: its segments, labels and tooltip."""

    x: float
    width: float
    center: float
    segments: tuple[Segment, ...]
    value_label: str
    value_y: float
    day_label: str
    weekday_label: str
    title: str


@dataclass(frozen=True)
class BarChart:
    """Everything the template needs to draw one chart."""

    chart_id: str
    title: str
    summary: str
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]


def last_days(now: datetime, days: int = DAYS) -> list[date]:
    """Return the last ``days`` dates in São Paulo, oldest first, today last."""
    today = local(now).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def day_start_utc(day: date) -> datetime:
    """Return when a São Paulo calendar day starts, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=TIMEZONE)


def runs_per_day(days: list[date]) -> tuple[dict[date, int], dict[date, int]]:
    """Count runs, and runs that ended with failures, per São Paulo day."""
    rows = db.session.execute(
        select(JobRun.started_at, JobRun.status).where(
            JobRun.started_at >= day_start_utc(days[0])
        )
    )
    runs = dict.fromkeys(days, 0)
    failed = dict.fromkeys(days, 0)
    for started_at, status in rows:
        day = local(started_at).date()
        if day not in runs:
            continue
        runs[day] += 1
        if status in FAILED_STATUSES:
            failed[day] += 1
    return runs, failed


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def stacked_chart(
    chart_id: str,
    title: str,
    days: list[date],
    series: list[tuple[str, str, dict[date, int]]],
    describe,
) -> BarChart:
    """Lay out one bar per day with the series stacked bottom to top.

    ``series`` holds (legend text, css class, values per day); ``describe``
    turns a day's values into its tooltip text.
    """
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = HEIGHT - BOTTOM
    slot = (WIDTH - 2 * SIDE) / len(days)
    peak = max(sum(values[day] for _, _, values in series) for day in days)
    scale = plot_height / peak if peak else 0

    bars = []
    for index, day in enumerate(days):
        values = [values[day] for _, _, values in series]
        bars.append(_bar(index, day, slot, baseline, scale, series, values, describe))
    total = sum(sum(values.values()) for _, _, values in series)
    return BarChart(
        chart_id=chart_id,
        title=title,
        summary=f"{title}: {total} nos últimos {len(days)} dias.",
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        bars=tuple(bars),
        legend=tuple((text, css) for text, css, _ in series),
    )


def _bar(index, day, slot, baseline, scale, series, values, describe) -> Bar:
    x = SIDE + index * slot + slot * (1 - BAR_SHARE) / 2
    segments = []
    top = baseline
    for (_, css, _), value in zip(series, values, strict=True):
        height = value * scale
        if height:
            top -= height
            segments.append(Segment(round(top, 1), round(height, 1), css))
    return Bar(
        x=round(x, 1),
        width=round(slot * BAR_SHARE, 1),
        center=round(SIDE + index * slot + slot / 2, 1),
        segments=tuple(segments),
        value_label=str(values[0] if len(values) == 1 else sum(values)),
        value_y=round(top - 5, 1),
        day_label=day.strftime("%d/%m"),
        weekday_label=format_date(day, "EEE", locale=LOCALE).rstrip("."),
        title=f"{day.strftime('%d/%m')}: {describe(*values)}",
    )


def activity_charts(now: datetime, orders_per_day: dict[date, int]) -> list[BarChart]:
    """Build the overview's two charts: runs with failures, orders imported."""
    days = last_days(now)
    runs, failed = runs_per_day(days)
    clean = {day: runs[day] - failed[day] for day in days}
    orders = {day: orders_per_day.get(day, 0) for day in days}

    def describe_runs(ok: int, bad: int) -> str:
        return (
            f"{_plural(ok + bad, 'execução', 'execuções')}, "
            f"{_plural(bad, 'com falha', 'com falha')}"
        )

    def describe_orders(count: int) -> str:
        return _plural(count, "pedido importado", "pedidos importados")

    return [
        stacked_chart(
            "chart-runs",
            "Execuções por dia",
            days,
            [("Sem falha", "bar-ok", clean), ("Com falha", "bar-failed", failed)],
            describe_runs,
        ),
        stacked_chart(
            "chart-orders",
            "Pedidos importados por dia",
            days,
            [("Pedidos", "bar-orders", orders)],
            describe_orders,
        ),
    ]
