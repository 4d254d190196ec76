"""`forecasts news ...`: pull, list and review news for questions.

Nothing heavy (httpx, feedparser, sqlmodel, numpy) is imported at module level.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from forecasts.cli._common import (
    complete_question_id,
    console,
    db_session,
    echo,
    err_console,
    get_settings,
    parse_date,
    print_json,
    progress_bar,
    runtime,
    tsv_option,
    wide_option,
)

app = typer.Typer(help="Pull news for every question, list it and mark it.", no_args_is_help=True)


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("pull")
def pull_(
    question: str | None = typer.Option(
        None, "--question", help="Query GDELT and search feeds for this question only."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Fetch only this source (by name), even if it is backing off."
    ),
) -> None:
    """Pull news from GDELT and RSS/Atom feeds, match it to questions, store it.

    Exits 0 if any source succeeded (or nothing was due), 1 if every source failed.
    """
    from forecasts.errors import ForecastsError
    from forecasts.news.pull import pull

    settings = get_settings().news
    with progress_bar("news") as progress:
        summary = pull(
            runtime().session,
            settings=settings,
            question_id=question,
            source=source,
            progress=progress,
        )
    err = err_console()
    for w in summary.warnings:
        err.print(f"warning: {w}", markup=False)
    from forecasts.tables import print_hanging

    out = console()
    width = max((len(s.name) for s in summary.sources), default=0)
    for s in summary.sources:
        if s.status == "failed":
            detail = s.error or "failed"
            if s.next_allowed_at:
                detail += f" (next try after {_when(s.next_allowed_at)} UTC)"
        elif s.status == "deferred":
            detail = f"until {_when(s.next_allowed_at)} UTC"
            if s.error:
                detail += f"; last error: {s.error}"
        elif s.status == "skipped":
            detail = s.error or ""
        else:
            detail = f"{s.items} items, {s.new} new"
            if s.kind != "feed":
                detail += f", {s.requests} requests"
            if s.error:
                detail += f"; {s.error}"
        status = _STATUS_LABEL.get(s.status, s.status)
        print_hanging(out, f"{s.name:<{width}}  {status:<12}  ", detail)
    echo(f"Summary: {summary.line()}.")
    if summary.all_failed:
        raise ForecastsError(
            f"all {summary.sources_failed} news sources failed; see `forecasts news sources`"
        )


# As docs/news.md names them: ok, not modified, failed, backing off, skipped.
_STATUS_LABEL = {"not_modified": "not modified", "deferred": "backing off"}


@app.command("list")
def list_(
    question: str | None = typer.Argument(
        None, metavar="ID", help="Only this question's news.", autocompletion=complete_question_id
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="Only articles published (or fetched) on or after DATE.",
    ),
    limit: int = typer.Option(50, "--limit", min=0, help="At most this many articles (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Matched articles, newest first, with their questions and scores."""
    from forecasts import clock
    from forecasts.news.store import count_articles, list_articles

    day = parse_date(since, "--since")
    with db_session() as session:
        rows = list_articles(
            session,
            question_id=question,
            since=clock.start_of_day(day) if day else None,
            limit=limit or None,
        )
        stored = count_articles(session) if not rows and not as_json else 0
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        echo(_none_matched(stored, question, day))
        return
    # One block per article (titles and URLs are long; a table would fold them).
    for r in rows:
        when = _when(r.published) if r.published else f"fetched {_when(r.fetched_at)}"
        flag = "  POSSIBLE RESOLUTION" if r.possible_resolution else ""
        echo(f"#{r.id}  {when}  {r.source}  score {r.score:.2f}{flag}")
        echo(f"    {r.title}")
        echo(f"    {r.url}")
        qs = ", ".join(
            f"{m.question_id} ({m.score:.2f}{', ' + '/'.join(m.terms) if m.terms else ''}"
            f"{', GDELT only' if m.gdelt_only else ''})"
            for m in r.matches
        )
        echo(f"    questions: {qs}")
        echo()


def _none_matched(stored: int, question: str | None, day: dt.date | None) -> str:
    """Why `news list` is empty: nothing pulled yet, or nothing that matched."""
    if not stored:
        return "No articles yet. Run `forecasts news pull`."
    articles = f"{stored:,} article{'s' if stored != 1 else ''} stored"
    scope = f" for {question}" if question else ""
    if day:
        return f"No matched articles{scope} since {day.isoformat()} ({articles})."
    whose = "its news query" if question else "a question's news query"
    return f"No matched articles{scope}: {articles}, none matched {whose}."


@app.command("sources")
def sources_(
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Each news source's last fetch, status, error and next allowed fetch."""
    from forecasts.news.plan import source_specs
    from forecasts.news.store import all_sources

    specs = source_specs(get_settings().news)
    with db_session() as session:
        stored = {s.name: s for s in all_sources(session)}
    rows: list[dict[str, Any]] = []
    for spec in specs:
        s = stored.pop(spec.name, None)
        rows.append(_source_row(spec.name, spec.kind, spec.url, s, configured=True))
    for name, s in sorted(stored.items()):
        rows.append(_source_row(name, s.kind, s.url, s, configured=False))
    if as_json:
        print_json(rows)
        return
    if not rows:
        echo("No news sources configured (see [news] in forecasts.toml).")
        return
    from forecasts.tables import Column, render

    columns = [
        Column("name"),
        Column("kind", priority=3),
        Column("status"),
        Column("last_fetch", header="last fetch", priority=1),
        Column("failures", justify="right", priority=2),
        Column("next_allowed", header="next allowed", priority=2),
        Column("error", wide_only=True),
        Column("url", wide_only=True),
    ]
    render(
        console(),
        columns,
        [
            [
                r["name"] + ("" if r["configured"] else " (not configured)"),
                r["kind"],
                r["status"],
                _iso_short(r["last_attempt"]),
                str(r["failures"]),
                _iso_short(r["next_allowed_at"]) or "now",
                r["error"] or "",
                r["url"],
            ]
            for r in rows
        ],
        wide=wide,
        tsv=tsv,
        notes=[f"error: {r['error']}" if r["error"] else None for r in rows],
    )


def _iso_short(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else ""


def _source_row(name: str, kind: str, url: str, s: Any, *, configured: bool) -> dict[str, Any]:
    from forecasts.clock import iso

    return {
        "name": name,
        "kind": kind,
        "url": url,
        "configured": configured,
        "status": s.status if s else "never fetched",
        "last_attempt": iso(s.last_attempt) if s else None,
        "last_success": iso(s.last_success) if s else None,
        "failures": s.failures if s else 0,
        "error": s.error if s else None,
        "next_allowed_at": iso(s.next_allowed_at) if s else None,
        "last_items": s.last_items if s else None,
        "last_new": s.last_new if s else None,
    }


@app.command("mark")
def mark_(
    article_id: int = typer.Argument(..., help="The article's id (see `forecasts news list`)."),
    irrelevant: bool = typer.Option(
        False, "--irrelevant", help="Hide this match for good (it never shows again)."
    ),
    relevant: bool = typer.Option(False, "--relevant", help="Confirm the match is relevant."),
    question: str | None = typer.Option(
        None, "--question", help="Only the match with this question (created if missing)."
    ),
) -> None:
    """Mark an article's match(es) irrelevant (hidden for good) or relevant."""
    from forecasts.errors import BadInput
    from forecasts.news.store import mark

    if irrelevant == relevant:
        raise BadInput("give exactly one of --irrelevant or --relevant")
    with db_session(write=True) as session:
        n = mark(session, article_id=article_id, relevant=relevant, question_id=question)
    what = "relevant" if relevant else "irrelevant (hidden)"
    target = f"for {question}" if question else f"for {n} question{'s' if n != 1 else ''}"
    echo(f"Marked article {article_id} {what} {target}.")
