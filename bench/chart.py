"""A small SVG line chart on log-log axes, written by hand (no plotting library to install)."""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 130, 40, 50
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def log_log_lines(
    series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str, y_label: str
) -> str:
    """One line per series of (x, y) points, both axes in powers of ten."""
    points = [point for values in series.values() for point in values]
    if not points:
        return _svg([f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}">no data</text>'])
    x_low, x_high = _decades(point[0] for point in points)
    y_low, y_high = _decades(point[1] for point in points)

    def x_at(value: float) -> float:
        share = (math.log10(value) - x_low) / (x_high - x_low)
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def y_at(value: float) -> float:
        share = (math.log10(value) - y_low) / (y_high - y_low)
        return HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-weight="bold">'
        f"{escape(title)}</text>",
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>',
    ]
    for power in range(x_low, x_high + 1):
        x = x_at(10**power)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{_label(power)}</text>"
        )
    for power in range(y_low, y_high + 1):
        y = y_at(10**power)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{_label(power)}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x_at(x):.1f},{y_at(y):.1f}" for x, y in sorted(values))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in values:
            parts.append(
                f'<circle cx="{x_at(x):.1f}" cy="{y_at(y):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)}: {y:,.1f} at {x:,.0f}</title></circle>"
            )
        last_x, last_y = max(values)
        parts.append(
            f'<text x="{x_at(last_x) + 8:.1f}" y="{y_at(last_y) + 4:.1f}" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    return _svg(parts)


def _decades(values: object) -> tuple[int, int]:
    logs = [math.log10(value) for value in values if value > 0]  # type: ignore[attr-defined]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    return low, max(high, low + 1)


def _label(power: int) -> str:
    value = 10.0**power
    return f"{value:,.0f}" if power >= 0 else f"{value:g}"


def _svg(parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">\n'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>\n{body}\n</svg>\n'
    )
