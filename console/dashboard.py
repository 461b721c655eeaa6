"""The dashboard's figures, every one computed from the event store, and its SLA chart.

The figures come from complaint_events and its projection; the chart is drawn server-side as SVG (no script, no
chart library).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import asyncpg

from domain.money import format_yuan

# Per case: its category and filing week (Shanghai), whether any clock was breached, and whether its
# resolve clock ended (met) - a case still running with no breach is neither met nor breached yet.
_SLA_BY_WEEK = """
WITH filed AS (
    SELECT complaint_id, payload->>'category' AS category,
           to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-"W"IW') AS week
    FROM complaint_events WHERE type = 'ComplaintFiled'
), ends AS (
    SELECT complaint_id,
           bool_or(type = 'SlaBreached') AS breached,
           bool_or(type = 'SlaClockStopped' AND payload->>'clock' = 'resolve') AS resolved_in_time
    FROM complaint_events WHERE type IN ('SlaBreached', 'SlaClockStopped') GROUP BY complaint_id
)
SELECT f.week, f.category,
       count(*) FILTER (WHERE e.breached) AS breached,
       count(*) FILTER (WHERE NOT coalesce(e.breached, false) AND coalesce(e.resolved_in_time, false)) AS met
FROM filed f LEFT JOIN ends e USING (complaint_id)
GROUP BY f.week, f.category ORDER BY f.week, f.category
"""

# Time to resolve: filing to the first resolution (a reopened case keeps its first).
_RESOLVE_SECONDS = """
SELECT extract(epoch FROM min(r.occurred_at) - min(f.occurred_at))::float8 AS seconds
FROM complaint_events f JOIN complaint_events r USING (complaint_id)
WHERE f.type = 'ComplaintFiled' AND r.type = 'ComplaintResolved'
GROUP BY complaint_id
"""

_OPEN_BY_STATUS = """
SELECT status, count(*) AS n FROM complaints WHERE status IS DISTINCT FROM 'closed' GROUP BY status ORDER BY status
"""

# Money that really moved: an applied adjustment that took effect (a repeat of the same is not money).
_MONEY_BY_KIND = """
SELECT payload->>'kind' AS kind, count(*) AS n, sum((payload->>'amount_fen')::bigint)::bigint AS fen
FROM complaint_events WHERE type = 'AdjustmentApplied' AND (payload->>'effective')::boolean
GROUP BY kind ORDER BY kind
"""


@dataclass(frozen=True)
class SlaWeek:
    week: str
    category: str
    met: int
    breached: int


@dataclass(frozen=True)
class Figures:
    sla: list[SlaWeek]
    resolved_cases: int
    mean_resolve: str | None  # "2 h 5 min"
    p90_resolve: str | None
    open_by_status: dict[str, int]
    money_by_kind: list[tuple[str, int, str]]  # kind, how many, yuan


async def figures(pool: asyncpg.Pool) -> Figures:
    """The dashboard's figures, read from the project database."""
    async with pool.acquire() as conn:
        sla = [SlaWeek(r["week"], r["category"], r["met"], r["breached"]) for r in await conn.fetch(_SLA_BY_WEEK)]
        seconds = sorted(r["seconds"] for r in await conn.fetch(_RESOLVE_SECONDS))
        by_status = {r["status"] or "unknown": r["n"] for r in await conn.fetch(_OPEN_BY_STATUS)}
        money = [(r["kind"], r["n"], format_yuan(r["fen"])) for r in await conn.fetch(_MONEY_BY_KIND)]
    return Figures(
        sla=sla,
        resolved_cases=len(seconds),
        mean_resolve=span(sum(seconds) / len(seconds)) if seconds else None,
        p90_resolve=span(nearest_rank(seconds, 90)) if seconds else None,
        open_by_status=by_status,
        money_by_kind=money,
    )


def span(seconds: float) -> str:
    """A duration the way a supervisor says it: '3 d 4 h', '2 h 5 min', '40 s'."""
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def nearest_rank(ordered: list[float], percent: int) -> float:
    """The nearest-rank percentile of an ascending list: the smallest value with `percent`% at or below it."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


ROW_HEIGHT = 22
LABEL_WIDTH = 260
BAR_WIDTH = 360


def sla_chart(rows: list[SlaWeek]) -> str:
    """Met and breached cases per week and category as horizontal stacked bars, as SVG.

    The counts are written beside the bars: the colours only repeat what the words say.
    """
    if not rows:
        return '<p>No case has met or breached its deadline yet.</p>'
    most = max(r.met + r.breached for r in rows) or 1
    height = ROW_HEIGHT * len(rows) + 30
    parts = [
        f'<svg role="img" aria-labelledby="sla-chart-title" width="{LABEL_WIDTH + BAR_WIDTH + 140}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="sla-chart-title">SLA compliance by week and category: met and breached cases</title>',
    ]
    for i, row in enumerate(rows):
        y = i * ROW_HEIGHT + 4
        met_w = BAR_WIDTH * row.met / most
        breached_w = BAR_WIDTH * row.breached / most
        parts += [
            f'<text x="0" y="{y + 14}" font-size="12">{escape(row.week)} {escape(row.category)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{met_w:.1f}" height="16" class="met"/>',
            f'<rect x="{LABEL_WIDTH + met_w:.1f}" y="{y}" width="{breached_w:.1f}" height="16" class="breached"/>',
            f'<text x="{LABEL_WIDTH + met_w + breached_w + 6:.1f}" y="{y + 14}" font-size="12">'
            f'{row.met} met, {row.breached} breached</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
