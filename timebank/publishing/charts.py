"""Bar charts as self-contained SVG, drawn at publish time.

The public site then needs no chart library, no script and no request to anywhere else:
each chart is a string in the published file's ``charts`` table. A suppressed figure
(None) is drawn as an empty, hatched bar labelled "suppressed" rather than as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 36, 64


def bar_chart(rows: Sequence[tuple[str, float | int | None]], *, title: str, unit: str) -> str:
    """An SVG bar chart of ``(label, value)`` rows."""
    values = [v for _, v in rows if v is not None]
    top = max(values, default=0) or 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(rows), 1)
    bar = max(step * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="timebank-chart">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="2" height="6" fill="#bbb"/></pattern></defs>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}" stroke="#444"/>',
    ]
    for fraction in (0.5, 1.0):
        y = TOP + inner_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{_number(top * fraction)}</text>'
        )
    every = max(1, len(rows) // 12)
    for i, (label, value) in enumerate(rows):
        x = LEFT + i * step + (step - bar) / 2
        if value is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP}" width="{bar:.1f}" height="{inner_h}" fill="url(#hatch)">'
                f"<title>{escape(str(label))}: suppressed</title></rect>"
            )
        else:
            h = inner_h * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + inner_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="#2a7ab0"><title>{escape(str(label))}: {_number(value)} {escape(unit)}</title></rect>'
            )
        if len(rows) <= 8:  # few bars: labels flat, on two lines
            words = str(label).split()
            half = (len(words) + 1) // 2
            for line, text in enumerate((" ".join(words[:half]), " ".join(words[half:]))):
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{TOP + inner_h + 16 + 13 * line}" font-size="11" '
                    f'fill="#333" text-anchor="middle">{escape(text)}</text>'
                )
        elif i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + inner_h + 16}" font-size="11" fill="#333" '
                f'text-anchor="end" transform="rotate(-40 {x + bar / 2:.1f} {TOP + inner_h + 16})">'
                f"{escape(str(label))}</text>"
            )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" font-size="11" text-anchor="end" fill="#555">'
        f"{escape(unit)}; hatched bars are suppressed to protect members</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.1f}"
