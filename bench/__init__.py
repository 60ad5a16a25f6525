"""Benchmarks run on demand (`python -m bench [name ...]`), each printing a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """A plain-text table: a title, column headings and rows of already formatted cells."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        widths = [
            max(len(str(cell)) for cell in column)
            for column in zip(self.columns, *self.rows, strict=True)
        ]

        def line(cells: Sequence[str]) -> str:
            return " | ".join(
                str(cell).rjust(width) for cell, width in zip(cells, widths, strict=True)
            )

        rule = "-+-".join("-" * width for width in widths)
        body = [line(self.columns), rule, *(line(row) for row in self.rows)]
        return "\n".join([self.title, "", *body, "", *self.notes])
