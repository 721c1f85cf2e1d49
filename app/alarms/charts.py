"""The alarm page's charts, drawn on the server as inline SVG like the device chart
(app/device_ops/charts.py): alarms per day by severity (stacked bars) and the top types
(horizontal bars). No chart library, no script."""

import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28
COLOURS = {"critical": "#d9534f", "major": "#f0ad4e", "minor": "#5bc0de"}
ORDER = ("minor", "major", "critical")  # drawn bottom to top


def per_day_chart(start, counts, days, labels):
    """Stacked bars: counts {(date, severity): n} for ``days`` days from ``start``."""
    totals = [sum(counts.get((start + datetime.timedelta(days=i), s), 0) for s in ORDER)
              for i in range(days)]
    top = max(totals + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar = plot_w / days
    parts = [f'<svg class="ymcs-alarm-chart" id="alarms-per-day" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="{escape(labels["title"])}" style="max-width:100%">',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
             'stroke="#999"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 10}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>']
    for i in range(days):
        day = start + datetime.timedelta(days=i)
        y = TOP + plot_h
        for severity in ORDER:
            n = counts.get((day, severity), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(f'<rect x="{LEFT + i * bar + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                         f'height="{h:.1f}" fill="{COLOURS[severity]}" data-severity="{severity}"'
                         f' data-day="{day.isoformat()}"><title>{day.isoformat()} '
                         f'{escape(labels[severity])}: {n}</title></rect>')
        if i % 5 == 0 or i == days - 1:
            parts.append(f'<text x="{LEFT + (i + 0.5) * bar:.1f}" y="{HEIGHT - 10}" '
                         f'text-anchor="middle" font-size="10">{day:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def top_types_chart(rows, labels):
    """Horizontal bars: rows [(name, severity, n)] most frequent first."""
    if not rows:
        return Markup("")
    line = 22
    height = TOP + line * len(rows) + 8
    name_w, plot_w = 260, WIDTH - 260 - RIGHT - 40
    top = max(n for _name, _s, n in rows)
    parts = [f'<svg class="ymcs-alarm-chart" id="alarm-top-types" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-label="{escape(labels["top"])}" style="max-width:100%">']
    for i, (name, severity, n) in enumerate(rows):
        y = TOP + i * line
        w = max(1.0, plot_w * n / top)
        parts.append(f'<text x="{name_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
                     f'{escape(name)}</text><rect x="{name_w}" y="{y + 3}" width="{w:.1f}" '
                     f'height="{line - 6}" fill="{COLOURS.get(severity, "#999")}"/>'
                     f'<text x="{name_w + w + 4:.1f}" y="{y + 14}" font-size="12">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
