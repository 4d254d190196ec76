"""`forecasts sync | add | list | show | due`: questions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from forecasts.cli._common import (
    complete_question_id,
    console,
    db_session,
    echo,
    fmt_value,
    parse_date,
    print_json,
    runtime,
    sync_summary,
    tsv_option,
    wide_option,
)
from forecasts.errors import BadInput

if TYPE_CHECKING:
    from rich.console import Console

    from forecasts.views import QuestionPage
from forecasts.tables import STATUS_STYLES, Cell, CellValue, Column, render

STATUS_HELP = "One of upcoming, open, closed, overdue, pending, disputed, resolved, annulled."


def sync(
    path: Path = typer.Argument(Path("questions.yaml"), help="Questions file."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change; write nothing."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Change criteria, type, options or range of questions that have forecasts (records a revision).",
    ),
) -> None:
    """Upsert questions from a YAML file by id and apply the resolutions it carries."""
    from forecasts.domain.setup import sync_file

    report = sync_file(runtime(), path, force=force, dry_run=dry_run)
    prefix = "Would sync" if dry_run else "Synced"
    echo(f"{prefix} {path}: {sync_summary(report)}.")
    for label, ids in (
        ("added", report.added),
        ("updated", report.updated),
        ("resolved", report.resolved),
        ("corrected", report.corrected),
    ):
        if ids:
            echo(f"  {label}: {', '.join(ids)}")


def _ask(value: Any, label: str, option: str) -> Any:
    """Prompt for a missing required value, but only when a person is at a terminal."""
    if value is not None:
        return value
    if sys.stdin.isatty():
        return typer.prompt(label)
    raise BadInput(f"missing {option}; give it on the command line")


def add(
    id: str | None = typer.Option(None, "--id", help="Slug, e.g. engines-2027."),
    title: str | None = typer.Option(None, "--title", help="The question, e.g. 'Will ...?'."),
    closes: str | None = typer.Option(
        None, "--closes", metavar="DATE", help="Last day to forecast (UTC)."
    ),
    resolve_by: str | None = typer.Option(
        None, "--resolve-by", metavar="DATE", help="Day it must be resolved by."
    ),
    criteria: str | None = typer.Option(None, "--criteria", help="How it resolves."),
    type: str = typer.Option("binary", "--type", help="binary, choice or numeric."),
    option: list[str] = typer.Option(
        [], "--option", metavar="NAME", help="A choice option (repeat)."
    ),
    min: float | None = typer.Option(None, "--min", help="Numeric range minimum."),
    max: float | None = typer.Option(None, "--max", help="Numeric range maximum."),
    unit: str | None = typer.Option(None, "--unit", help="Numeric unit."),
    opens: str | None = typer.Option(
        None, "--opens", metavar="DATE", help="First day to forecast [default: today]."
    ),
    source: list[str] = typer.Option([], "--source", metavar="URL", help="A source URL (repeat)."),
    tag: list[str] = typer.Option([], "--tag", metavar="TAG", help="A tag (repeat)."),
    query: str | None = typer.Option(None, "--query", metavar="Q", help="News query."),
) -> None:
    """Add a question. Prompts for missing required values when run at a terminal."""
    from forecasts import clock
    from forecasts.domain.questions import add_question
    from forecasts.domain.schemas import QuestionSpec, validated

    data: dict[str, Any] = {
        "id": _ask(id, "Id (slug)", "--id"),
        "title": _ask(title, "Title", "--title"),
        "closes": _ask(closes, "Closes (YYYY-MM-DD)", "--closes"),
        "resolve_by": _ask(resolve_by, "Resolve by (YYYY-MM-DD)", "--resolve-by"),
        "criteria": _ask(criteria, "Resolution criteria", "--criteria"),
        "type": type,
        "opens": opens or clock.today().isoformat(),
        # --source takes URLs only: a bare word would otherwise be stored as a name.
        "sources": [{"url": url} for url in source],
        "tags": list(tag),
        "news": query,
    }
    if option:
        data["options"] = list(option)
    for key, val in (("min", min), ("max", max), ("unit", unit)):
        if val is not None:
            data[key] = val
    spec = validated(QuestionSpec, data)
    with db_session(write=True) as session:
        q = add_question(session, spec=spec)
        echo(f"Added {q.id}: {q.title} (opens {q.opens}, closes {q.closes}).")


def _columns(*, due: bool = False) -> list[Column]:
    """The columns of `list` (and, with ``due``, of `due`: the day it must be resolved by
    instead of the closing day). In a narrow terminal `list` keeps the crowd and the paper
    longest (they are what it lists), `due` the day a question must be resolved by."""
    return [
        Column("id"),
        Column("status", styles=STATUS_STYLES),
        Column("type", wide_only=True),
        Column("opens", wide_only=True),
        Column("closes", priority=3, wide_only=due),
        Column("resolve_by", header="resolve by", priority=1, wide_only=not due),
        Column("forecasters", header="n", justify="right", wide_only=True),
        Column("crowd", priority=1 if not due else 2),
        Column("paper", priority=1 if not due else 2),
        Column("outcome", priority=2),
        Column("tags", wide_only=True),
        Column("title", elastic=True, min_width=20),
    ]


def _row(r: dict[str, Any]) -> list[CellValue]:
    from forecasts.report.text import compact_value

    res = r["resolution"]
    return [
        r["id"],
        r["status"],
        r["type"],
        r["opens"],
        r["closes"],
        r["resolve_by"],
        str(r["forecasters"]),
        Cell(compact_value(r["crowd"]), fmt_value(r["crowd"])),
        Cell(compact_value(r["paper"]), fmt_value(r["paper"])),
        res["outcome"] if res else "",
        ",".join(r["tags"]),
        r["title"],
    ]


def _table(
    rows: list[dict[str, Any]], *, due: bool = False, wide: bool = False, tsv: bool = False
) -> None:
    render(console(), _columns(due=due), [_row(r) for r in rows], wide=wide, tsv=tsv)


def list_(
    status: str | None = typer.Option(None, "--status", help=STATUS_HELP),
    tag: str | None = typer.Option(None, "--tag", help="Only questions with this tag."),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="State at the end of this UTC day."
    ),
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """List questions with status, crowd and paper forecasts.

    The table fits the terminal (80 columns when piped): a numeric forecast shows as its
    median and p10-p90 interval, long titles end in an ellipsis. --wide shows every column
    and full values; --tsv is for scripts."""
    from forecasts.domain.questions import list_questions

    day = parse_date(as_of, "--as-of")
    with db_session() as session:
        rows = list_questions(session, status=status, tag=tag, as_of=day)
    if as_json:
        print_json(rows)
    elif not rows:
        echo("No questions match.")
    else:
        _table(rows, wide=wide, tsv=tsv)


def due(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="State at the end of this UTC day."
    ),
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Questions awaiting resolution: closed, overdue, pending or disputed."""
    from forecasts.domain.questions import due_questions

    day = parse_date(as_of, "--as-of")
    with db_session() as session:
        rows = due_questions(session, as_of=day)
    if as_json:
        print_json(rows)
    elif not rows:
        echo("Nothing is awaiting resolution.")
    else:
        _table(rows, due=True, wide=wide, tsv=tsv)


def show(
    id: str = typer.Argument(..., help="Question id.", autocompletion=complete_question_id),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Show one question: status, criteria, forecasts, news and resolutions.

    A page: the status and dates in words, the criteria and the paper's claim, the crowd
    and the paper, the forecast history (the crowd over time as a sparkline), the latest
    matched news, the resolution history and reviewers' proposals."""
    from forecasts.views import question_page

    with db_session() as session:
        page = question_page(session, question_id=id)
    if as_json:
        print_json(page.to_dict())
        return
    show_page(page, console())


def show_page(page: QuestionPage, out: Console) -> None:
    """The question page, section by section; user text is never read as markup."""
    d = page.detail
    _header(d, out)
    _section(out, "Criteria", d["criteria"])
    if d["fine_print"]:
        _section(out, "Fine print", d["fine_print"])
    if d["claim"]:
        _section(
            out,
            f"The paper's claim ({d['claim']['section']})",
            f"\u201c{d['claim']['quote']}\u201d",
        )
    if d["sources"]:
        out.print()
        out.print("Sources", style="bold")
        for src in d["sources"]:
            name, url = src.get("name"), src.get("url")
            _wrapped(out, " ".join(x for x in (name, url and f"<{url}>") if x), indent=2)
    _forecasts(d, out)
    _news(page, out)
    _resolutions(d, out)
    _proposals(d, out)
    if d["revisions"]:
        _section(
            out,
            "Revisions",
            "\n".join(
                f"{_when(r['changed_at'])}  {', '.join(r['changes'])} ({r['reason']})"
                for r in d["revisions"]
            ),
        )


def _header(d: dict[str, Any], out: Console) -> None:
    from rich.text import Text

    from forecasts.report.text import compact_value, plural

    kind = d["type"]
    if kind == "choice":
        kind += f": {', '.join(d['options'])}"
    elif kind == "numeric":
        kind += f", {d['min']:g} to {d['max']:g} {d['unit'] or ''}".rstrip()
    out.print(Text.assemble((d["id"], "bold"), f"  ({kind})"))
    _wrapped(out, d["title"], indent=0)
    out.print()
    status = d["status"]
    out.print(
        Text.assemble(
            ("Status  ", "bold"), (status, STATUS_STYLES.get(status, "")), f": {_status_words(d)}"
        )
    )
    out.print(Text.assemble(("Dates   ", "bold"), _dates(d)))
    if d["tags"]:
        out.print(Text.assemble(("Tags    ", "bold"), ", ".join(d["tags"])))
    n = d["forecasters"]
    crowd = compact_value(d["crowd"]) if d["crowd"] is not None else "no forecasts yet"
    who = f" from {plural(n, 'forecaster')}" if n else ""
    out.print(
        Text.assemble(
            ("Crowd   ", "bold"), f"{crowd}{who}", ("   Paper  ", "bold"), compact_value(d["paper"])
        )
    )


def _status_words(d: dict[str, Any]) -> str:
    """The status in words, with the day that matters next."""
    from forecasts.report.text import days_in_words

    days, status = d["days_until"], d["status"]
    res = d["resolution"]
    if status == "upcoming":
        return f"opens {days_in_words(days['opens'])} ({d['opens']})"
    if status == "open":
        return f"closes {days_in_words(days['closes'])} ({d['closes']})"
    if status in ("closed", "overdue"):
        return f"awaiting resolution, due {days_in_words(days['resolve_by'])} ({d['resolve_by']})"
    if status in ("pending", "disputed"):
        open_ = [p for p in d["proposals"] if p["state"] == "open" and not p["correction"]]
        said = "; ".join(f"{p['by']} proposed {p['outcome']}" for p in open_)
        what = "reviewers disagree" if status == "disputed" else "waiting for the review quorum"
        return f"{what} ({said})" if said else what
    assert res is not None
    outcome = "" if status == "annulled" else f"{res['outcome']} "
    return f"{outcome}on {res['resolved_on']}"


def _dates(d: dict[str, Any]) -> str:
    return f"opens {d['opens']} · closes {d['closes']} · resolve by {d['resolve_by']}"


def _section(out: Console, title: str, body: str) -> None:
    """A bold title, then the body reflowed to the width, indented by two."""
    out.print()
    out.print(title, style="bold", markup=False)
    _wrapped(out, body, indent=2)


def _wrapped(out: Console, text: str, *, indent: int) -> None:
    from forecasts.tables import print_wrapped

    print_wrapped(out, text, indent=indent, paragraphs=True)


def _when(iso: str) -> str:
    """A JSON timestamp as people read it: 2027-03-20 12:00."""
    return iso[:16].replace("T", " ")


def _forecasts(d: dict[str, Any], out: Console) -> None:
    forecasts = d["forecasts"]
    if not forecasts:
        return
    out.print()
    out.print("Forecast history", style="bold")
    for label, spark, last in _crowd_lines(d):
        out.print(f"  {label}{spark}  {last}", markup=False)
    from forecasts.report.text import compact_value
    from forecasts.tables import table_lines

    columns = [
        Column("made_at", header="made"),
        Column("by"),
        Column("value"),
        Column("note", elastic=True, min_width=12, priority=1),
    ]
    rows: list[list[CellValue]] = [
        [
            _when(f["made_at"]),
            f["by"],
            Cell(compact_value(f["value"]), fmt_value(f["value"])),
            f["note"] or "",
        ]
        for f in forecasts
    ]
    for line in table_lines(columns, rows, width=out.width - 2, wide=False):
        out.print("  ", line, sep="", soft_wrap=True)


def _crowd_lines(d: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The crowd over time as sparklines: (label, line, latest value) per series; one
    series for a binary or numeric question (its median), one per option for a choice."""
    from forecasts.report.text import compact_value, sparkline

    history = d["crowd_history"]
    if not history:
        return []
    values = [h["crowd"] for h in history]
    if d["type"] == "binary":
        return [("crowd ", sparkline(values), compact_value(values[-1]))]
    if d["type"] == "numeric":
        medians = [v.get("p50") for v in values]
        return [
            ("crowd median ", sparkline(medians, d["min"], d["max"]), compact_value(values[-1]))
        ]
    width = max(len(o) for o in d["options"])
    return [
        (f"{o:<{width}} ", sparkline([v.get(o) for v in values]), compact_value(values[-1].get(o)))
        for o in d["options"]
    ]


def _news(page: QuestionPage, out: Console) -> None:
    if not page.news:
        return
    out.print()
    more = (
        f"; all of them: forecasts news list {page.detail['id']}"
        if page.news_total > len(page.news)
        else ""
    )
    out.print(
        f"Latest news ({len(page.news)} of {page.news_total}{more})", style="bold", markup=False
    )
    columns = [
        Column("published"),
        Column("source", priority=1),
        Column("flag", header="", priority=2),
        Column("title", elastic=True, min_width=20),
    ]
    rows: list[list[CellValue]] = [
        [
            (a.published or a.fetched_at).strftime("%Y-%m-%d"),
            a.source,
            "possible resolution" if a.possible_resolution else "",
            a.title,
        ]
        for a in page.news
    ]
    from forecasts.tables import table_lines

    for line in table_lines(columns, rows, width=out.width - 2, wide=False):
        out.print("  ", line, sep="", soft_wrap=True)


def _resolutions(d: dict[str, Any], out: Console) -> None:
    if not d["resolutions"]:
        return
    out.print()
    out.print("Resolution history", style="bold")
    for r in d["resolutions"]:
        flag = " [superseded]" if r["superseded"] else ""
        why = f" (correction: {r['correction_reason']})" if r["correction_reason"] else ""
        by = " and ".join(", ".join(r["reviewers"]).rsplit(", ", 1))
        out.print(f"  {r['resolved_on']}  {r['outcome']} by {by}{flag}{why}", markup=False)
        for url in r["evidence"]:
            out.print(f"    evidence: {url}", markup=False, soft_wrap=True)
        if r["note"]:
            out.print("    note:")
            _wrapped(out, r["note"], indent=6)


def _proposals(d: dict[str, Any], out: Console) -> None:
    if not d["proposals"]:
        return
    lines = []
    for p in d["proposals"]:
        what = f"correct to {p['outcome']}" if p["correction"] else p["outcome"]
        why = f" ({p['correction_reason']})" if p["correction_reason"] else ""
        lines.append(f"{_when(p['proposed_at'])}  {p['by']}: {what}{why} [{p['state']}]")
        lines += [f"  evidence: {u}" for u in p["evidence"]]
    _section(out, "Review (proposals)", "\n".join(lines))
