"""The CPU and memory chart of a device, drawn on the server as inline SVG: no chart library,
no script, nothing fetched from elsewhere (portals behind firewalls have no CDN either).

``usage_points`` turns DeviceSample rows into (time, CPU %, memory used %) points;
``usage_chart`` draws them over a fixed window as polylines on a 0-100 % grid. Samples are
averaged per pixel column when there are more than the chart is wide, and a line breaks where
the device was silent (``gap``) instead of drawing a straight line across the outage.
"""

import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28  # margins around the plot area
MAX_POINTS = WIDTH - LEFT - RIGHT  # at most one point per pixel column
SERIES = (("cpu", "#337ab7"), ("memory", "#5cb85c"))


def memory_used_percent(total, free):
    """(total - free) / total as a percentage, or None when the sample does not say."""
    if not total or free is None or total <= 0:
        return None
    return max(0.0, min(100.0, 100.0 * (total - free) / total))


def _percent(value):
    return None if value is None else max(0.0, min(100.0, float(value)))


def usage_points(samples):
    """[(taken_on, cpu %, memory used %)] of samples with any figure, oldest first."""
    points = []
    for s in samples:
        cpu = _percent(s.cpu_usage)
        memory = memory_used_percent(s.memory_total, s.memory_free)
        if cpu is not None or memory is not None:
            points.append((s.taken_on, cpu, memory))
    points.sort(key=lambda p: p[0])
    return points


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _downsample(points, start, span):
    """At most MAX_POINTS points: the mean of each pixel column's samples."""
    if len(points) <= MAX_POINTS:
        return points
    columns = {}
    for point in points:
        offset = (point[0] - start).total_seconds()
        columns.setdefault(min(MAX_POINTS - 1, int(offset / span * MAX_POINTS)), []).append(point)
    out = []
    for _column, group in sorted(columns.items()):
        seconds = _mean([(p[0] - start).total_seconds() for p in group])
        out.append((start + datetime.timedelta(seconds=seconds),
                    _mean([p[1] for p in group]), _mean([p[2] for p in group])))
    return out


def _segments(points, index, gap):
    """Runs of consecutive points with a value at ``index``, broken where samples are more
    than ``gap`` apart."""
    runs, run, last = [], [], None
    for point in points:
        value = point[index]
        if value is None or (last is not None and point[0] - last > gap):
            if run:
                runs.append(run)
            run = []
        if value is not None:
            run.append((point[0], value))
        last = point[0]
    if run:
        runs.append(run)
    return runs


def _ticks(start, end):
    """Time ticks: every 4 hours over a day or less, every day over longer windows."""
    span = end - start
    step = datetime.timedelta(hours=4) if span <= datetime.timedelta(days=1) else (
        datetime.timedelta(days=1))
    label = "%H:%M" if step < datetime.timedelta(days=1) else "%m-%d"
    first = start.replace(minute=0, second=0, microsecond=0)
    if step >= datetime.timedelta(days=1):
        first = first.replace(hour=0)
    else:
        first = first.replace(hour=first.hour - first.hour % 4)
    ticks, tick = [], first
    while tick <= end:
        if tick >= start:
            ticks.append((tick, tick.strftime(label)))
        tick += step
    return ticks


def usage_chart(points, start, end, labels, gap=datetime.timedelta(minutes=35)):
    """The SVG (Markup) of ``points`` between ``start`` and ``end``.

    ``labels``: translated texts {"title", "cpu", "memory"}; ``gap``: samples further apart
    than this are not joined by a line.
    """
    span = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when):
        return LEFT + plot_w * min(max((when - start).total_seconds() / span, 0.0), 1.0)

    def y(percent):
        return TOP + plot_h * (1 - percent / 100.0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ymcs-usage-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-label="{escape(labels["title"])}" style="max-width:{WIDTH}px;font-size:11px">',
        f"<title>{escape(labels['title'])}</title>",
    ]
    for percent in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(percent):.1f}" '
                     f'y2="{y(percent):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(percent) + 4:.1f}" text-anchor="end" '
                     f'fill="#777">{percent}%</text>')
    for when, text in _ticks(start, end):
        parts.append(f'<line x1="{x(when):.1f}" x2="{x(when):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="#f0f0f0"/>')
        parts.append(f'<text x="{x(when):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle" fill="#777">{escape(text)}</text>')
    points = _downsample([p for p in points if start <= p[0] <= end], start, span)
    for index, (name, colour) in enumerate(SERIES, start=1):
        for run in _segments(points, index, gap):
            if len(run) == 1:  # a lone sample: a dot, since a one-point line draws nothing
                when, value = run[0]
                parts.append(f'<circle class="ymcs-{name}" cx="{x(when):.1f}" '
                             f'cy="{y(value):.1f}" r="2.5" fill="{colour}"/>')
                continue
            coords = " ".join(f"{x(w):.1f},{y(v):.1f}" for w, v in run)
            parts.append(f'<polyline class="ymcs-{name}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.5" points="{coords}">'
                         f"<title>{escape(labels[name])}</title></polyline>")
    parts.append("</svg>")
    return Markup("".join(parts))
