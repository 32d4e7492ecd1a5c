"""A queue-depth chart drawn on the hall as inline SVG: no script, nothing from a CDN, and
nothing the strict CSP forbids (presentation attributes, no ``style``)."""

from __future__ import annotations

from markupsafe import Markup

from hall.timeutil import iso, to_datetime

WIDTH, HEIGHT, PAD = 640, 160, 36
BLUE = "#1a73e8"


def queue_chart(points: list[tuple[float, int]]) -> Markup:
    if not points:
        return Markup('<p class="empty">还没有心跳 No heartbeats yet</p>')
    t0, t1 = points[0][0], points[-1][0]
    top = max(1, max(depth for _t, depth in points))
    span = max(1.0, t1 - t0)

    def x(t: float) -> float:
        return PAD + (t - t0) / span * (WIDTH - 2 * PAD)

    def y(depth: int) -> float:
        return HEIGHT - PAD - depth / top * (HEIGHT - 2 * PAD)

    line = " ".join(f"{x(t):.1f},{y(d):.1f}" for t, d in points)
    dots = "".join(f'<circle cx="{x(t):.1f}" cy="{y(d):.1f}" r="2.5" fill="{BLUE}"/>'
                   for t, d in points[-50:])
    first, last = (iso(to_datetime(t))[5:16].replace("T", " ") for t in (t0, t1))
    return Markup(
        f'<svg class="chart" id="queue-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="queue depth">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff" stroke="#d0d7de"/>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
        f'<text x="4" y="{PAD + 4}" font-size="11" fill="#555">{top}</text>'
        f'<text x="4" y="{HEIGHT - PAD + 4}" font-size="11" fill="#555">0</text>'
        f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="11" fill="#555">{first}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="11" fill="#555" '
        f'text-anchor="end">{last} UTC</text>'
        f'<polyline points="{line}" fill="none" stroke="{BLUE}" stroke-width="2"/>{dots}</svg>'
    )
