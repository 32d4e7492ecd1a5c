"""Charts drawn on the hall as inline SVG (the fleet's queue depth, the figures' rates by month):
no script, nothing from a CDN, and nothing the strict CSP forbids (presentation attributes, no ``style``)."""

from __future__ import annotations

from markupsafe import Markup, escape

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


# -- the figures page: one rate by month against the plan's target ---------------------------------

RATE_W, RATE_H, RATE_PAD = 460, 240, 44
GREEN, RED, GREY = "#1d6b34", "#a4161a", "#9aa3ad"


def rate_chart(chart_id: str, title: str, months: list[str], values: list[float | None],
               target: float | None) -> Markup:
    """Bars of a share (0..1) per month; the target as a dashed line; a bar that meets the
    target is green, one below it red, a month with no applications an empty grey frame."""
    inner_w, inner_h = RATE_W - 2 * RATE_PAD, RATE_H - 2 * RATE_PAD
    slot = inner_w / max(1, len(months))
    bar = min(48.0, slot * 0.6)

    def y(share: float) -> float:
        return RATE_H - RATE_PAD - max(0.0, min(1.0, share)) * inner_h

    parts = [f'<rect x="0" y="0" width="{RATE_W}" height="{RATE_H}" fill="#ffffff" stroke="#d0d7de"/>',
             f'<text x="8" y="22" font-size="15" font-weight="bold" fill="#1a1a1a">'
             f'{escape(title)}</text>',
             f'<line x1="{RATE_PAD}" y1="{RATE_H - RATE_PAD}" x2="{RATE_W - RATE_PAD}" '
             f'y2="{RATE_H - RATE_PAD}" stroke="#888"/>',
             f'<text x="{RATE_PAD - 6}" y="{y(1.0) + 4:.1f}" font-size="12" fill="#555" '
             f'text-anchor="end">100%</text>',
             f'<text x="{RATE_PAD - 6}" y="{y(0.0) + 4:.1f}" font-size="12" fill="#555" '
             f'text-anchor="end">0</text>']
    for index, (month, value) in enumerate(zip(months, values, strict=True)):
        x = RATE_PAD + slot * index + (slot - bar) / 2
        label_x = x + bar / 2
        if value is None:
            parts.append(f'<rect x="{x:.1f}" y="{y(1.0):.1f}" width="{bar:.1f}" height="{inner_h:.1f}" '
                         f'fill="none" stroke="{GREY}" stroke-dasharray="3 3"/>')
            text = "—"
        else:
            colour = GREEN if target is None or value >= target else RED
            parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                         f'height="{y(0.0) - y(value):.1f}" fill="{colour}"/>')
            text = f"{value * 100:.1f}%"
        parts.append(f'<text x="{label_x:.1f}" y="{max(36.0, y(value or 0.0) - 6):.1f}" font-size="15" '
                     f'fill="#1a1a1a" text-anchor="middle">{text}</text>')
        parts.append(f'<text x="{label_x:.1f}" y="{RATE_H - RATE_PAD + 19}" font-size="14" fill="#333" '
                     f'text-anchor="middle">{escape(month)}</text>')
    if target is not None:  # the dashed line, and its key in the top right corner (clear of the bars)
        parts.append(f'<line x1="{RATE_PAD}" y1="{y(target):.1f}" x2="{RATE_W - RATE_PAD}" '
                     f'y2="{y(target):.1f}" stroke="#0b4f8a" stroke-width="2" stroke-dasharray="8 5"/>')
        parts.append(f'<line x1="{RATE_W - 150}" y1="17" x2="{RATE_W - 122}" y2="17" stroke="#0b4f8a" '
                     f'stroke-width="2" stroke-dasharray="8 5"/>')
        parts.append(f'<text x="{RATE_W - 8}" y="22" font-size="14" fill="#0b4f8a" '
                     f'text-anchor="end">目标 target {target * 100:.0f}%</text>')
    return Markup(f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {RATE_W} {RATE_H}" '
                  f'width="{RATE_W}" height="{RATE_H}" role="img" aria-label="{escape(title)}">'
                  f'{"".join(parts)}</svg>')
