"""`forecasts news ...` end to end: the real CLI, a real database, feeds and a GDELT
look-alike on 127.0.0.1 (configured through forecasts.toml)."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from forecasts.store import db
from forecasts.store.models import Question

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>
<item><title>J-36 makes first flight</title><link>/news/j36</link><description>Chengdu</description>
<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Russia hypersonic test</title><link>/news/hyper</link><description>Avangard</description>
<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Old hypersonic story from China</title><link>/news/old</link><description>x</description>
<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def add_questions(db_url: str) -> None:
    with db.session_scope(db.get_engine(db_url), write=True) as s:
        for qid, query, terms in [
            ("j36-flight", '"J-36"', ["first flight"]),
            ("hypersonic", "hypersonic (russia OR china)", []),
        ]:
            s.add(
                Question(
                    id=qid, title=qid, type="binary", criteria="c", opens=dt.date(2026, 1, 1),
                    closes=dt.date(2027, 1, 1), resolve_by=dt.date(2027, 2, 1),
                    news_query=query, resolution_terms=terms,
                )
            )  # fmt: skip


def write_config(tmp_path: Path, **news: Any) -> None:
    lines = ["[news]"]
    for k, v in news.items():
        lines.append(
            f"{k} = {json.dumps(v)}" if not isinstance(v, list) else f"{k} = {_toml_list(v)}"
        )
    (tmp_path / "forecasts.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_list(v: list[Any]) -> str:
    items = []
    for x in v:
        if isinstance(x, dict):
            items.append("{ " + ", ".join(f"{k} = {json.dumps(y)}" for k, y in x.items()) + " }")
        else:
            items.append(json.dumps(x))
    return "[" + ", ".join(items) + "]"


@pytest.fixture
def served(httpserver: HTTPServer, tmp_path: Path, db_url: str) -> HTTPServer:
    add_questions(db_url)
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml"
    )

    def gdelt(req: Request) -> Response:
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/gdelt").respond_with_handler(gdelt)
    write_config(
        tmp_path,
        gdelt_url=httpserver.url_for("/gdelt"),
        gdelt_min_interval=0,
        feeds=[{"name": "local", "url": httpserver.url_for("/feed.xml")}],
    )
    return httpserver


def _timestamps(obj: Any) -> list[str]:
    """Every value of a key that holds a timestamp, anywhere in a JSON document."""
    keys = {"published", "fetched_at", "matched_at", "last_attempt", "last_success"}
    keys.add("next_allowed_at")
    if isinstance(obj, list):
        return [t for x in obj for t in _timestamps(x)]
    if isinstance(obj, dict):
        return [
            t
            for k, v in obj.items()
            for t in ([v] if k in keys and v is not None else _timestamps(v))
        ]
    return []


# The feed's items are dated 2 to 26 Nov 2026: a pull before then would drop them as
# future-dated, so the clock is fixed a little after.
@freeze_time("2026-11-28 12:00:00", tick=True, real_asyncio=True)
def test_pull_list_sources_mark(served: HTTPServer, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("news", "pull")
    assert r.exit_code == 0, r.output
    assert "local" in r.stdout and "gdelt" in r.stdout
    assert (
        "Summary: sources 2 ok, 0 failed; articles 3 new, 0 seen; matches 3 new (1 possible resolution)."
        in r.stdout
    )

    r = cli("news", "list", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["url"] for row in rows] == [
        served.url_for(p) for p in ("/news/j36", "/news/hyper", "/news/old")
    ]
    for row in rows:
        assert {"id", "title", "url", "source", "published", "questions", "score"} <= set(row)
    assert rows[0]["questions"] == ["j36-flight"] and rows[0]["possible_resolution"] is True
    assert rows[0]["published"] == "2026-11-26T10:00:00Z" and rows[0]["source"] == "local"
    stamps = _timestamps(rows)
    assert len(stamps) == 3 * 3  # published, fetched_at and one matched_at per article
    assert all(t.endswith("Z") and "+00:00" not in t for t in stamps)

    r = cli("news", "list", "hypersonic", "--since", "2026-11-20", "--json")
    assert [row["url"] for row in json.loads(r.stdout)] == [served.url_for("/news/hyper")]

    r = cli("news", "list")
    assert (
        r.exit_code == 0
        and "J-36 makes first flight" in r.stdout
        and "POSSIBLE RESOLUTION" in r.stdout
    )

    r = cli("news", "sources", "--json")
    src = {row["name"]: row for row in json.loads(r.stdout)}
    assert src["local"]["status"] == "ok" and src["local"]["last_items"] == 3
    assert src["local"]["last_attempt"].startswith("2026-11-28T12:00")
    stamps = _timestamps(list(src.values()))
    assert len(stamps) == 4 and all(t.endswith("Z") for t in stamps)
    assert src["gdelt"]["status"] == "ok" and src["gdelt"]["error"] is None
    r = cli("news", "sources")
    assert r.exit_code == 0 and "local" in r.stdout

    hyper_id = rows[1]["id"]
    r = cli("news", "mark", str(hyper_id), "--irrelevant")
    assert r.exit_code == 0 and "irrelevant" in r.stdout
    assert cli("news", "list", "hypersonic", "--json").stdout.count('"id"') == 1
    # a second pull brings the same items back: nothing new, still hidden
    r = cli("news", "pull")
    assert r.exit_code == 0 and "articles 0 new, 3 seen; matches 0 new" in r.stdout
    ids = [row["id"] for row in json.loads(cli("news", "list", "--json").stdout)]
    assert hyper_id not in ids

    r = cli("news", "mark", str(hyper_id), "--relevant", "--question", "j36-flight")
    assert r.exit_code == 0
    rows = json.loads(cli("news", "list", "j36-flight", "--json").stdout)
    assert hyper_id in [row["id"] for row in rows]


def test_bad_input_exits_2(served: HTTPServer, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("news", "pull").exit_code == 0
    for args in [
        ("news", "mark", "999", "--irrelevant"),
        ("news", "mark", "1", "--irrelevant", "--relevant"),
        ("news", "mark", "1"),
        ("news", "mark", "1", "--relevant", "--question", "nope"),
        ("news", "mark", "abc", "--relevant"),
        ("news", "list", "nope"),
        ("news", "list", "--since", "yesterday"),
        ("news", "pull", "--question", "nope"),
        ("news", "pull", "--source", "nope"),
    ]:
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
    r = cli("news", "mark", "999", "--irrelevant")
    assert r.stderr.startswith("Error: no article with id 999")
    r = cli("news", "pull", "--source", "nope")
    assert "--source: no news source named 'nope' (sources: gdelt, local)" in r.stderr


def test_linking_an_unmatched_article_needs_a_question(
    served: HTTPServer, cli, db_url: str
) -> None:  # type: ignore[no-untyped-def]
    from forecasts.news.models import Article

    with db.session_scope(db.get_engine(db_url), write=True) as s:
        a = Article(url="https://x.example/1", title="Unmatched", source="local")
        s.add(a)
        s.flush()
        aid = a.id
    r = cli("news", "mark", str(aid), "--relevant")
    assert r.exit_code == 2
    assert r.stderr.startswith(
        f"Error: --question: article {aid} matches no question; name the question to link it to"
    )
    assert cli("news", "mark", str(aid), "--relevant", "--question", "hypersonic").exit_code == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_all_sources_failing_exits_1(tmp_path: Path, db_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    add_questions(db_url)
    port = _closed_port()
    write_config(
        tmp_path,
        gdelt_url=f"http://127.0.0.1:{port}/gdelt",
        feeds=[{"name": "down", "url": f"http://127.0.0.1:{port}/feed"}],
    )
    r = cli("news", "pull")
    assert r.exit_code == 1
    assert "failed" in r.stdout and "cannot connect" in r.stdout
    assert "Summary: sources 0 ok, 2 failed" in r.stdout
    assert "Error: all 2 news sources failed" in r.stderr
    r = cli("news", "sources", "--json")
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["down"]["failures"] == 1 and rows["down"]["next_allowed_at"]
    assert rows["down"]["error"].startswith("cannot connect")
    # Backing off now: nothing is due, which is not a failure.
    r = cli("news", "pull")
    assert r.exit_code == 0 and "backing off" in r.stdout


def test_empty_config_means_no_sources(tmp_path: Path, db_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    write_config(tmp_path, gdelt=False, feeds=[])
    r = cli("news", "pull")
    assert r.exit_code == 0 and "sources 0 ok, 0 failed" in r.stdout
    assert cli("news", "sources", "--json").stdout.strip() == "[]"
    assert cli("news", "list").stdout == "No articles yet. Run `forecasts news pull`.\n"


def test_default_sources_listed_without_fetching(db_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("news", "sources", "--json").stdout)
    assert rows[0]["name"] == "gdelt" and rows[0]["status"] == "never fetched"
    assert {r["kind"] for r in rows} == {"gdelt", "feed"}


def test_a_source_backing_off_is_shown_as_backing_off(tmp_path: Path, db_url: str, cli) -> None:  # type: ignore[no-untyped-def]
    """docs/news.md: each source's line says ok, not modified, failed, backing off or skipped."""
    port = _closed_port()
    write_config(
        tmp_path, gdelt=False, feeds=[{"name": "down", "url": f"http://127.0.0.1:{port}/f"}]
    )
    assert cli("news", "pull").exit_code == 1
    r = cli("news", "pull")
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("down")]
    assert line.startswith("down  backing off   until ")
    assert "UTC; last error: cannot connect" in line
