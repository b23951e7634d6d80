"""The printed form of the figures: Markdown-style tables (rich), ready to paste into a document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.common import Section

__all__ = ["console", "number", "print_section", "print_verdicts"]

_WIDTH = 160
console = Console(width=None if Console().is_terminal else _WIDTH, highlight=False)


def number(value: Any) -> str:  # noqa: ANN401 - any figure a measurement produced
    """A figure with as many digits as its size deserves."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 10 else 2
    return f"{value:,.{digits}f}"


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=title, box=box.MARKDOWN, title_justify="left", pad_edge=False)
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _verdict_rows(sections: Sequence[Section]) -> list[list[str]]:
    marks = {True: "met", False: "NOT met", None: "-"}
    return [
        [f"{section.number}. {v.name}", v.shown, v.target, marks[v.met]]
        for section in sections
        for v in section.verdicts
    ]


def print_section(section: Section) -> None:
    """One measurement: its table, verdicts, phases, profile and notes."""
    rows = [
        [line.label, *(number(line.figures.get(c)) for c in section.columns)]
        for line in section.lines
    ]
    console.print()
    console.print(_table(f"{section.number}. {section.title}", ("", *section.columns), rows))
    console.print(_table("", ("target", "value", "wanted", ""), _verdict_rows([section])))
    for key, headers in (
        ("phases", ("phase", "seconds")),
        ("client_cpu_ms", ("part", "CPU ms/req")),
    ):
        values = section.extra.get(key)
        if values:
            console.print(
                _table(key.replace("_", " "), headers, [[k, number(v)] for k, v in values.items()])
            )
    for extra in section.extra.get("tables", ()):
        rows = [[row[0], *(number(v) for v in row[1:])] for row in extra["rows"]]
        console.print(_table(extra["title"], extra["headers"], rows))
    profile = section.extra.get("profile")
    if profile:
        _print_profile(profile)
    for note in section.notes:
        console.print(f"- {note}", soft_wrap=True)


def _print_profile(profile: dict[str, Any]) -> None:
    rows = [
        [
            f"{item['function']}",
            item["where"],
            f"{item['self_pct']:.1f}",
            f"{item['total_pct']:.1f}",
        ]
        for item in profile["top"]
    ]
    title = f"profile: {profile['what']}"
    if profile.get("roles"):
        shares = [[name, f"{pct:.1f}"] for name, pct in profile["roles"].items()]
        console.print(_table(title, ("samples by part of the run", "%"), shares))
        title = "top functions by self time (% of samples)"
    console.print(_table(title, ("function", "where", "self %", "total %"), rows))
    if profile.get("top_ours"):
        ours = [
            [item["function"], item["where"], f"{item['total_pct']:.1f}"]
            for item in profile["top_ours"]
        ]
        title = "project functions by total time, callees included (% of samples)"
        console.print(_table(title, ("function", "where", "total %"), ours))
    for key in ("cpu_ms_per_request_profiled",):
        if key in profile:
            console.print(f"- {key.replace('_', ' ')}: {profile[key]:.2f}")


def print_verdicts(sections: Sequence[Section]) -> None:
    """Every figure against its target, all measurements together."""
    console.print()
    console.print(
        _table("Targets", ("measurement", "value", "target", ""), _verdict_rows(sections))
    )
