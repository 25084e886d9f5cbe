"""Charts as SVG drawn on the server: no script, no outside network, the same in every language
and on paper. Pure: the caller passes translated labels and a number formatter.

Colours come from classes (``dashboard.css``), so the strict CSP needs no inline style, and
the print stylesheet can turn them into shades that survive a black-and-white printer.
Each chart is a figure with a title and a description; the page shows its numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

from review_app.dashboard.figures import Week, week_of

Fmt = Callable[[float], str]

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


def _svg(ident: str, title: str, desc: str, body: list[str],
         height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _t(x: float, y: float, text: str, cls: str = "", anchor: str = "start") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">'
            f'{escape(text)}</text>')


def _scale(value: float) -> tuple[float, float]:
    """A round axis top at or above ``value`` and its step (1, 2, 2.5 or 5 x 10^n, whole
    numbers only: the axes count requirements), about four steps."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, step if step >= 10 or step == int(step) else math.ceil(step))
    return step * math.ceil(value / step), step


def _y_axis(top_value: float, step: float, fmt: Fmt, plot_h: float) -> list[str]:
    parts = []
    for i in range(round(top_value / step) + 1):
        value = step * i
        y = TOP + plot_h - plot_h * value / top_value
        parts.append(f'<line class="c-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/>')
        parts.append(_t(LEFT - 6, y + 4, fmt(value), "c-axis", "end"))
    return parts


@dataclass(frozen=True)
class BurnupLabels:
    title: str
    desc: str
    total: str
    approved: str
    projection: str
    deadline: str
    today: str


def burnup(ident: str, series: Sequence[Week], total: int, *, today: date,
           pace: float, deadline: date | None, labels: BurnupLabels, fmt: Fmt,
           day_fmt: Callable[[date], str]) -> Markup:
    """Approved (net) so far, week by week, against the total; the pace projected forward to
    the deadline (or a few weeks when there is none), and the deadline drawn as a line."""
    start = series[0].start if series else week_of(today)
    horizon = today + timedelta(weeks=4)
    if deadline is not None:
        horizon = max(horizon, deadline + timedelta(days=7))
    horizon = min(horizon, today + timedelta(weeks=52))
    span = max((horizon - start).days, 7)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value, step_value = _scale(max(total, 1))

    def x(day: date) -> float:
        return LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * min(value, top_value) / top_value

    body = _y_axis(top_value, step_value, fmt, plot_h)
    # Month-ish ticks: every few weeks, labelled with the week's Monday.
    step = max(1, (span // 7) // 6)
    tick = start
    while tick <= horizon:
        body.append(f'<line class="c-tick" x1="{x(tick):.1f}" x2="{x(tick):.1f}" '
                    f'y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}"/>')
        body.append(_t(x(tick), TOP + plot_h + 18, day_fmt(tick), "c-axis", "middle"))
        tick += timedelta(weeks=step)
    body.append(f'<line class="c-total" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(total):.1f}" '
                f'y2="{y(total):.1f}"/>')
    body.append(_t(WIDTH - RIGHT - 4, y(total) - 6, f"{labels.total}: {fmt(total)}",
                   "c-label", "end"))
    if series:
        points = [(x(start), y(series[0].cumulative - series[0].approved
                               + series[0].reopened))]
        points += [(x(min(w.start + timedelta(days=7), today)), y(w.cumulative))
                   for w in series]
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        area = (f"{points[0][0]:.1f},{y(0):.1f} " + line
                + f" {points[-1][0]:.1f},{y(0):.1f}")
        body.append(f'<polygon class="c-approved-area" points="{area}"/>')
        body.append(f'<polyline class="c-approved-line" points="{line}"/>')
        now = series[-1].cumulative
        body.append(f'<circle class="c-approved-dot" cx="{points[-1][0]:.1f}" '
                    f'cy="{points[-1][1]:.1f}" r="4"/>')
        body.append(_t(points[-1][0] - 6, points[-1][1] - 8,
                       f"{labels.approved}: {fmt(now)}", "c-label c-strong", "end"))
        end = deadline if deadline is not None and deadline > today else horizon
        if pace > 0 and now < total and end > today:
            projected = min(total, now + pace * (end - today).days)
            reach = today + timedelta(days=(projected - now) / pace)
            body.append(f'<line class="c-projection" x1="{x(today):.1f}" y1="{y(now):.1f}" '
                        f'x2="{x(reach):.1f}" y2="{y(projected):.1f}"/>')
            body.append(_t(x(reach), y(projected) + 16, labels.projection, "c-label c-muted",
                           "end"))
    body.append(f'<line class="c-today" x1="{x(today):.1f}" x2="{x(today):.1f}" y1="{TOP}" '
                f'y2="{TOP + plot_h}"/>')
    if deadline is not None and start <= deadline <= horizon:
        body.append(f'<line class="c-deadline" x1="{x(deadline):.1f}" x2="{x(deadline):.1f}" '
                    f'y1="{TOP}" y2="{TOP + plot_h}"/>')
        # Label on the side with room: to the left when the line is in the right half.
        left = x(deadline) > LEFT + plot_w / 2
        body.append(_t(x(deadline) + (-4 if left else 4), TOP + 28,
                       f"{labels.deadline}: {day_fmt(deadline)}", "c-label c-deadline-label",
                       "end" if left else "start"))
    return _svg(ident, labels.title, labels.desc, body)


def weekly_bars(ident: str, series: Sequence[Week], *, title: str, desc: str,
                names: dict[str, str], fmt: Fmt, day_fmt: Callable[[date], str]) -> Markup:
    """Proposed, approved and returned per week, side by side, with a legend."""
    kinds = ("proposed", "approved", "returned")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 22
    top_value, step_value = _scale(max([getattr(w, k) for w in series for k in kinds] or [1]))
    body = _y_axis(top_value, step_value, fmt, plot_h)
    slot = plot_w / max(len(series), 1)
    bar = min(slot * 0.8 / 3, 18)
    label_every = max(1, len(series) // 8)
    for i, w in enumerate(series):
        x0 = LEFT + slot * i + (slot - 3 * bar) / 2
        for j, kind in enumerate(kinds):
            value = getattr(w, kind)
            h = plot_h * value / top_value
            body.append(f'<rect class="c-bar s-{kind}" x="{x0 + j * bar:.1f}" '
                        f'y="{TOP + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}">'
                        f'<title>{escape(day_fmt(w.start))} · {escape(names[kind])}: '
                        f'{escape(fmt(value))}</title></rect>')
        if i % label_every == 0:
            body.append(_t(LEFT + slot * i + slot / 2, TOP + plot_h + 16, day_fmt(w.start),
                           "c-axis", "middle"))
    lx = LEFT
    for kind in kinds:
        body.append(f'<rect class="s-{kind}" x="{lx}" y="{HEIGHT - 16}" width="12" '
                    'height="12"/>')
        body.append(_t(lx + 16, HEIGHT - 6, names[kind], "c-legend"))
        lx += 24 + 9 * len(names[kind])
    return _svg(ident, title, desc, body)


def split_bar(ident: str, parts: Sequence[tuple[str, str, int]], *, title: str, desc: str,
              fmt: Fmt, pct: Callable[[float], str]) -> Markup:
    """One bar, 100% wide, cut into ``(css class, label, count)`` parts, with a legend."""
    total = sum(n for _c, _l, n in parts) or 1
    height = 96
    width = WIDTH - 2 * 8
    body, x0 = [], 8.0
    for cls, label, n in parts:
        w = width * n / total
        if w > 0:
            body.append(f'<rect class="s-{cls}" x="{x0:.1f}" y="8" width="{w:.1f}" '
                        f'height="36"><title>{escape(label)}: {escape(fmt(n))}</title></rect>')
            if w > 56:
                body.append(_t(x0 + w / 2, 31, pct(n / total) + "%", "c-on-bar", "middle"))
        x0 += w
    lx, ly = 8, 66
    for cls, label, n in parts:
        text = f"{label}: {fmt(n)}"
        span = 28 + 7.2 * len(text)
        if lx + span > WIDTH:
            lx, ly = 8, ly + 20
        body.append(f'<rect class="s-{cls}" x="{lx}" y="{ly - 10}" width="12" height="12"/>')
        body.append(_t(lx + 16, ly, text, "c-legend"))
        lx += span
    return _svg(ident, title, desc, body, height=height + (ly - 66))
