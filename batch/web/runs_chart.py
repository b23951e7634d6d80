"""The Runs page's chart: rows per outcome per run over 30 days, as server-drawn SVG geometry.

No chart library and no script: the bars are computed here and drawn by the template as
`<rect>`s, so the chart works without JavaScript and is as accessible as its `<title>`,
`<desc>` and the table beside it make it. A night with a spike in Fix or Retry stands out as a
tall band of its colour; each segment's tooltip (`<title>`) gives the run and the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch.web.runs_data import OUTCOMES

if TYPE_CHECKING:
    from batch.web.runs_data import RunLine

__all__ = ["WIDTH", "Chart", "chart_of"]

WIDTH, HEIGHT = 760, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 36
_MAX_BAR = 28
_GAP = 0.25  # of a bar's slot


@dataclass(frozen=True, slots=True)
class Segment:
    """One outcome's part of a bar."""

    outcome: str
    count: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    """One run: its slot on the x axis, its label, its stacked outcomes."""

    run_id: str
    x: float
    width: float
    label: str  # day and time, local
    show_label: bool
    total: int
    segments: list[Segment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Chart:
    """What the template draws: bars, the y axis's ticks, and the largest run."""

    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value)
    peak: int
    trouble: Bar | None = None  # the run with the most rows in Fix and Retry, if any has some
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    base: int = HEIGHT - _BOTTOM


def _nice_top(peak: int) -> int:
    """A round number at or above `peak` for the axis (1, 2, 5 times a power of ten)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= step * factor:
                return step * factor
        step *= 10


def chart_of(lines: list[RunLine]) -> Chart:
    """The chart of `lines` (oldest first): one stacked bar per run."""
    peak = max((line.total for line in lines), default=0)
    top = _nice_top(max(peak, 1))
    plot_width, plot_height = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_width / max(len(lines), 1)
    width = min(_MAX_BAR, slot * (1 - _GAP))
    every = max(1, round(len(lines) / 8))  # at most about 8 labels under the axis
    bars = []
    for index, line in enumerate(lines):
        x = _LEFT + index * slot + (slot - width) / 2
        base = float(HEIGHT - _BOTTOM)
        segments = []
        for outcome in OUTCOMES:
            count = line.counts.get(outcome, 0)
            if count:
                height = plot_height * count / top
                base -= height
                segments.append(Segment(outcome, count, round(base, 2), round(height, 2)))
        label = line.started.strftime("%d/%m %H:%M")
        bars.append(
            Bar(line.run_id, round(x, 2), round(width, 2), label, index % every == 0, line.total)
        )
        bars[-1].segments.extend(segments)
    ticks = [
        (round(HEIGHT - _BOTTOM - plot_height * v / top, 2), v) for v in sorted({0, top // 2, top})
    ]
    worst = max(bars, key=_troubled, default=None)
    return Chart(bars, ticks, peak, worst if worst is not None and _troubled(worst) else None)


def _troubled(bar: Bar) -> int:
    """Rows of a bar that need a person or another night: Fix and Retry."""
    return sum(segment.count for segment in bar.segments if segment.outcome in {"fix", "retry"})
