"""Inline SVG charts for the self-contained reports: no script, no font file, no request."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

Fmt = str | Callable[[float], str]

PALETTE = ("#1f5f8b", "#7fa7c9", "#c9822b", "#6b8e23", "#8b3a62")


def _esc(text: object) -> str:
    return html.escape(str(text))


def _f(fmt: Fmt, value: float) -> str:
    return fmt(value) if callable(fmt) else fmt.format(value)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{_esc(title)}">'
    ]


def _gridlines(
    parts: list[str],
    left: int,
    right: int,
    top_pad: int,
    plot_h: float,
    top: float,
    fmt: Fmt,
    unit: str = "",
) -> None:
    """Five horizontal gridlines from 0 to ``top`` with their values on the left."""
    for k in range(5):
        y = top_pad + plot_h * (1 - k / 4)
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e3e3"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="10" '
            f'text-anchor="end">{_esc(_f(fmt, top * k / 4))}{_esc(unit)}</text>'
        )


def _legend(parts: list[str], names: Sequence[str], left: int, height: int) -> None:
    x = left
    for j, name in enumerate(names):
        parts.append(
            f'<rect x="{x}" y="{height - 11}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{x + 14}" y="{height - 2}" '
            f'font-size="11">{_esc(name)}</text>'
        )
        x += 24 + 7 * len(name)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    fmt: Fmt = "{:,.0f}",
    width: int = 720,
    height: int = 240,
    title: str = "",
) -> str:
    """Vertical stacked bars, one bar per label, one stack layer per series."""
    n = len(labels)
    if n == 0:
        return ""
    totals = [sum(max(s[1][i], 0.0) for s in series) for i in range(n)]
    top = max(totals) or 1.0
    left, bottom, top_pad = 64, 34, 14
    plot_h = height - bottom - top_pad
    slot = (width - left - 10) / n
    bar_w = max(4.0, slot * 0.7)
    parts = _open(width, height, title)
    _gridlines(parts, left, width - 10, top_pad, plot_h, top, fmt)
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(top_pad + plot_h)
        for j, (_, values) in enumerate(series):
            v = max(values[i], 0.0)
            h = plot_h * v / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{_esc(label)}: '
                f"{_esc(_f(fmt, values[i]))}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 18}" font-size="10" '
            f'text-anchor="middle">{_esc(label)}</text>'
        )
    _legend(parts, [name for name, _ in series], left, height)
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    rows: Sequence[tuple[str, float | None]],
    target: float | None = None,
    max_value: float | None = None,
    fmt: Fmt = "{:,.1f}",
    unit: str = "",
    target_label: str = "",
    width: int = 720,
    title: str = "",
) -> str:
    """Horizontal bars with an optional target line (e.g. loyalty against 92 %)."""
    if not rows:
        return ""
    row_h, left, right = 24, 240, 90
    height = row_h * len(rows) + 26
    values = [v for _, v in rows if v is not None]
    top = max_value or max([*values, target or 0.0, 1e-9])
    plot_w = width - left - right
    parts = _open(width, height, title)
    for i, (label, value) in enumerate(rows):
        y = 6 + i * row_h
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{_esc(label if len(label) <= 32 else label[:31] + '…')}</text>"
        )
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 14}" font-size="11" fill="#777">-</text>')
            continue
        w = plot_w * max(value, 0.0) / top
        below = target is not None and value < target
        color = "#c9822b" if below else PALETTE[0]
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{color}"/><text x="{left + w + 6:.1f}" y="{y + 15}" font-size="11">'
            f"{_esc(_f(fmt, value))}{_esc(unit)}</text>"
        )
    if target is not None:
        x = left + plot_w * target / top
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 18}" '
            f'stroke="#a40000" stroke-dasharray="4 3"/><text x="{x:.1f}" '
            f'y="{height - 4}" font-size="11" text-anchor="middle" fill="#a40000">'
            f"{_esc(target_label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Fmt = "{:,.1f}",
    unit: str = "",
    width: int = 720,
    height: int = 200,
    title: str = "",
) -> str:
    """Lines over the labels (months); gaps where a value is missing."""
    n = len(labels)
    if n == 0:
        return ""
    values = [v for _, s in series for v in s if v is not None]
    top = max([*values, 1e-9]) * 1.1
    left, bottom, top_pad = 48, 34, 10
    plot_h = height - bottom - top_pad
    step = (width - left - 20) / max(n - 1, 1)
    parts = _open(width, height, title)
    _gridlines(parts, left, width - 20, top_pad, plot_h, top, fmt, unit)
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{left + step * i:.1f}" y="{height - 18}" font-size="10" '
            f'text-anchor="middle">{_esc(label)}</text>'
        )
    for j, (_, s) in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        pts = [
            (left + step * i, top_pad + plot_h * (1 - v / top))
            for i, v in enumerate(s)
            if v is not None
        ]
        if pts:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                + '"/>'
            )
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in pts]
    _legend(parts, [name for name, _ in series], left, height)
    parts.append("</svg>")
    return "".join(parts)
