"""Tables that fit the terminal, and tab-separated text for scripts. The CLI's lists and
the report's terminal form use them, and ``print_wrapped`` for their prose.

A table fits the console's width: its terminal's, or 80 columns when piped (``$COLUMNS``
wins), so ``forecasts list | less`` reads like the terminal without its colours. Columns
give way by priority (0: never; higher numbers first), elastic columns (titles, names)
shrink with an ellipsis, and a cell may have a short form for the narrow table
(``261 (222–299)``) and a full one. ``wide`` keeps every column and every full value,
however wide that is.

``write_tsv`` (``--tsv``) writes the same rows tab-separated with a header line, full values
and no colour: ``forecasts list --tsv | cut -f1`` gives the ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Spaces between two columns.
GAP = 2
#: The narrowest an elastic column gets, however little room is left.
ELASTIC_FLOOR = 8
#: Cells that say nothing: a column of only these is left out of the narrow table.
EMPTY = ("", "-")
#: Each question status in colour (shown only at a colour terminal).
STATUS_STYLES = {
    "upcoming": "cyan",
    "open": "green",
    "closed": "yellow",
    "overdue": "bold red",
    "pending": "magenta",
    "disputed": "bold magenta",
    "resolved": "blue",
    "annulled": "dim",
}


@dataclass(frozen=True)
class Column:
    """One column. ``name`` heads the tab-separated output (one word); ``header`` the table.
    ``wide_only`` columns appear with ``--wide`` and in tab-separated output."""

    name: str
    priority: int = 0
    elastic: bool = False
    min_width: int = 16
    justify: Literal["left", "right"] = "left"
    wide_only: bool = False
    header: str | None = None
    #: Cell text -> rich style (e.g. a status and its colour).
    styles: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.name if self.header is None else self.header


@dataclass(frozen=True)
class Cell:
    """A value with a short form for the narrow table and a full one for ``--wide`` and
    pipes."""

    short: str
    full: str


CellValue = str | Cell


def _short(value: CellValue) -> str:
    return value.short if isinstance(value, Cell) else value


def _full(value: CellValue) -> str:
    return value.full if isinstance(value, Cell) else value


def fit(columns: Sequence[Column], natural: Sequence[int], width: int) -> dict[int, int]:
    """Which columns to show and how wide: ``{column index: width}``.

    Drop columns, least important first (the highest priority number; the rightmost among
    equals), until the fixed columns at their natural width and the elastic ones at their
    minimum fit in ``width``. Elastic columns then share the room left, none wider than it
    needs, below their minimum if they must (a very long id). Only when the columns that
    never give way leave less than ``ELASTIC_FLOOR`` is the table wider than ``width``.
    """
    kept = list(range(len(columns)))

    def need(cols: list[int]) -> int:
        return sum(
            min(natural[i], columns[i].min_width) if columns[i].elastic else natural[i]
            for i in cols
        ) + GAP * (len(cols) - 1)

    droppable = sorted(
        (i for i in kept if columns[i].priority > 0), key=lambda i: (-columns[i].priority, -i)
    )
    while need(kept) > width and droppable:
        kept.remove(droppable.pop(0))
    widths = {i: natural[i] for i in kept}
    elastic = sorted((i for i in kept if columns[i].elastic), key=lambda i: natural[i])
    room = width - sum(natural[i] for i in kept if not columns[i].elastic) - GAP * (len(kept) - 1)
    for n, i in enumerate(elastic):
        share = room // (len(elastic) - n)
        widths[i] = min(natural[i], max(share, ELASTIC_FLOOR))
        room -= widths[i]
    return widths


def render(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[CellValue]],
    *,
    wide: bool = False,
    tsv: bool = False,
    notes: Sequence[str | None] | None = None,
) -> None:
    """Print ``rows`` on ``console``: a fitted table, or tab-separated with ``tsv``.
    ``notes``: per row, long free text (an error) printed whole under it, wrapped and
    indented, instead of cut in a column (the narrow table only: ``wide`` and ``tsv`` have
    it in a ``wide_only`` column)."""
    if tsv:
        write_tsv(console, columns, rows)
    else:
        print_table(console, columns, rows, wide=wide, notes=None if wide else notes)


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[CellValue]],
    *,
    wide: bool = False,
    notes: Sequence[str | None] | None = None,
) -> None:
    """Print ``rows`` as a table fitted to the console's width, each row's note (if any)
    under it."""
    lines = table_lines(columns, rows, width=console.width, wide=wide)
    console.print(lines[0], soft_wrap=True)  # soft_wrap: a --wide line is never folded
    for n, line in enumerate(lines[1:]):
        console.print(line, soft_wrap=True)
        note = notes[n] if notes is not None else None
        if note:
            print_wrapped(console, note, indent=2)


def table_lines(
    columns: Sequence[Column], rows: Sequence[Sequence[CellValue]], *, width: int, wide: bool
) -> list[Text]:
    """The header and the rows as lines of styled text, fitted to ``width`` columns.

    Built from rich's ``Text`` (cell widths, ellipsis, styles) rather than its ``Table``,
    which pads the last column: these lines end where their text does."""
    from rich.cells import cell_len

    shown = [
        i
        for i, c in enumerate(columns)
        if wide or not (c.wide_only or (c.priority and all(_short(r[i]) in EMPTY for r in rows)))
    ]  # the narrow table leaves out a column with nothing in it (no outcomes, no crowd yet)
    cols = [columns[i] for i in shown]
    cells = [[_full(row[i]) if wide else _short(row[i]) for i in shown] for row in rows]
    natural = [
        max([cell_len(c.title), *(cell_len(r[j]) for r in cells)]) for j, c in enumerate(cols)
    ]
    widths = dict(enumerate(natural)) if wide else fit(cols, natural, width)
    header = [(cols[j].title, "bold") for j in widths]
    lines = [_line(header, cols, widths)]
    for r in cells:
        lines.append(_line([(r[j], cols[j].styles.get(r[j], "")) for j in widths], cols, widths))
    return lines


def _line(cells: list[tuple[str, str]], cols: Sequence[Column], widths: dict[int, int]) -> Text:
    from rich.text import Text

    line = Text(no_wrap=True, end="")
    last = len(cells) - 1
    for n, ((value, style), (j, width)) in enumerate(zip(cells, widths.items(), strict=True)):
        cell = Text(value, style=style)
        cell.truncate(width, overflow="ellipsis")
        room = width - cell.cell_len
        if cols[j].justify == "right":
            cell.pad_left(room)
        elif n < last:
            cell.pad_right(room)
        line.append_text(cell)
        if n < last:
            line.append(" " * GAP)
    line.rstrip()  # empty cells at the end leave no trailing spaces
    return line


def write_tsv(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[CellValue]]
) -> None:
    """Header and rows, tab-separated, full values; tabs and line breaks become spaces."""
    lines = ["\t".join(c.name for c in columns)]
    lines += ["\t".join(_clean(_full(v)) for v in row) for row in rows]
    console.file.write("\n".join(lines) + "\n")


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def print_wrapped(
    console: Console, text: str, *, indent: int = 0, style: str = "", paragraphs: bool = False
) -> None:
    """``text`` wrapped to the console's width, ``indent`` spaces in, with no trailing
    spaces (rich's own wrapping keeps them). With ``paragraphs``, hard line breaks are
    reflowed (``report.text.paragraphs``) and a list item's further lines hang under its
    text. Never read as markup."""
    import re

    from rich.text import Text

    from forecasts.report.text import paragraphs as reflow

    for para in reflow(text) if paragraphs else text.splitlines():
        item = re.match(r"(?:[-*•]|\d+[.)])\s", para) if paragraphs else None
        hang = len(item.group(0)) if item else 0
        width = max(20, console.width - indent - hang)
        for n, line in enumerate(Text(para, style=style).wrap(console, width) or [Text("")]):
            line.rstrip()
            console.print(" " * (indent + (hang if n else 0)), line, sep="", soft_wrap=True)


def print_hanging(console: Console, head: Text | str, body: str | Text) -> None:
    """``head`` then ``body`` (a label and its value, a check and what it found). At a
    terminal the body wraps at words to its width, further lines under its start; piped,
    each stays one line, for grep."""
    from rich.text import Text

    head_text = head if isinstance(head, Text) else Text(head)
    body_text = body if isinstance(body, Text) else Text(body)
    if not console.is_terminal:
        console.print(head_text, body_text, sep="", soft_wrap=True)
        return
    indent = head_text.cell_len
    for n, part in enumerate(
        body_text.wrap(console, max(20, console.width - indent)) or [Text("")]
    ):
        part.rstrip()
        console.print(head_text if n == 0 else " " * indent, part, sep="", soft_wrap=True)
