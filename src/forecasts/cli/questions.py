"""`forecasts sync | add | list | show | due`: questions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from forecasts.cli._common import (
    console,
    db_session,
    echo,
    fmt_value,
    parse_date,
    print_json,
    runtime,
    sync_summary,
)
from forecasts.errors import BadInput
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
    instead of the closing day)."""
    return [
        Column("id"),
        Column("status", styles=STATUS_STYLES),
        Column("type", wide_only=True),
        Column("opens", wide_only=True),
        Column("closes", priority=1, wide_only=due),
        Column("resolve_by", header="resolve by", priority=1, wide_only=not due),
        Column("forecasters", header="n", justify="right", wide_only=True),
        Column("crowd", priority=2),
        Column("paper", priority=3),
        Column("outcome", priority=2),
        Column("tags", wide_only=True),
        Column("title", elastic=True, min_width=24),
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


def _table(rows: list[dict[str, Any]], *, due: bool = False, wide: bool = False) -> None:
    render(console(), _columns(due=due), [_row(r) for r in rows], wide=wide)


WIDE_HELP = "Every column, full values (at a terminal; piped output always has them)."


def list_(
    status: str | None = typer.Option(None, "--status", help=STATUS_HELP),
    tag: str | None = typer.Option(None, "--tag", help="Only questions with this tag."),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="State at the end of this UTC day."
    ),
    wide: bool = typer.Option(False, "--wide", help=WIDE_HELP),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """List questions with status, crowd and paper forecasts.

    At a terminal the table fits its width (a numeric forecast shows as its median and
    p10-p90 interval); piped, it is tab-separated with every column."""
    from forecasts.domain.questions import list_questions

    day = parse_date(as_of, "--as-of")
    with db_session() as session:
        rows = list_questions(session, status=status, tag=tag, as_of=day)
    if as_json:
        print_json(rows)
    elif not rows:
        echo("No questions match.")
    else:
        _table(rows, wide=wide)


def due(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="State at the end of this UTC day."
    ),
    wide: bool = typer.Option(False, "--wide", help=WIDE_HELP),
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
        _table(rows, due=True, wide=wide)


def show(
    id: str = typer.Argument(..., help="Question id."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Show one question: criteria, claim, forecasts and resolution history."""
    from forecasts.domain.questions import question_detail

    with db_session() as session:
        d = question_detail(session, question_id=id)
    if as_json:
        print_json(d)
        return
    _show_text(d)


def _show_text(d: dict[str, Any]) -> None:
    lines = [f"{d['id']}: {d['title']}", f"  type: {d['type']}"]
    if d["options"]:
        lines.append(f"  options: {', '.join(d['options'])}")
    if d["type"] == "numeric":
        lines.append(f"  range: {d['min']:g} to {d['max']:g} {d['unit'] or ''}".rstrip())
    lines += [
        f"  status: {d['status']}",
        f"  opens {d['opens']}, closes {d['closes']}, resolve by {d['resolve_by']}",
        f"  tags: {', '.join(d['tags']) or '-'}",
        f"  crowd: {fmt_value(d['crowd'])} ({d['forecasters']} forecaster{'' if d['forecasters'] == 1 else 's'}); "
        f"paper: {fmt_value(d['paper'])}",
        "",
        "Criteria:",
        *("  " + x for x in d["criteria"].splitlines()),
    ]
    if d["fine_print"]:
        lines += ["Fine print:", *("  " + x for x in d["fine_print"].splitlines())]
    if d["claim"]:
        lines += ["Claim:", f"  {d['claim']['section']}: \u201c{d['claim']['quote']}\u201d"]
    if d["sources"]:
        lines.append("Sources:")
        lines += [
            "  " + " ".join(x for x in (s.get("name"), s.get("url") and f"<{s['url']}>") if x)
            for s in d["sources"]
        ]
    if d["forecasts"]:
        lines.append("Forecasts:")
        for f in d["forecasts"]:
            note = f"  ({f['note']})" if f["note"] else ""
            lines.append(f"  {f['made_at']}  {f['by']}: {fmt_value(f['value'])}{note}")
    if d["resolutions"]:
        lines.append("Resolutions:")
        for r in d["resolutions"]:
            flag = " [superseded]" if r["superseded"] else ""
            why = f" (correction: {r['correction_reason']})" if r["correction_reason"] else ""
            by = " and ".join(", ".join(r["reviewers"]).rsplit(", ", 1))
            lines.append(f"  {r['resolved_on']}  {r['outcome']} by {by}{flag}{why}")
            lines += [f"    evidence: {u}" for u in r["evidence"]]
            if r["note"]:
                lines += ["    note: " + x for x in r["note"].splitlines()]
    if d["proposals"]:
        lines.append("Proposals:")
        for p in d["proposals"]:
            what = f"correct to {p['outcome']}" if p["correction"] else p["outcome"]
            why = f" ({p['correction_reason']})" if p["correction_reason"] else ""
            lines.append(f"  {p['proposed_at']}  {p['by']}: {what}{why} [{p['state']}]")
            lines += [f"    evidence: {u}" for u in p["evidence"]]
    if d["revisions"]:
        lines.append("Revisions:")
        lines += [
            f"  {r['changed_at']}  {', '.join(r['changes'])} ({r['reason']})"
            for r in d["revisions"]
        ]
    echo("\n".join(lines))
