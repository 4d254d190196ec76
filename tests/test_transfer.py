"""`forecasts export` and `forecasts import`: a lossless round trip, and the CSV shape."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from pytest_httpserver import HTTPServer

from conftest import PG_URL, isolated, make_cli
from forecasts.store import db

QUESTIONS = """\
questions:
  - id: bin-q
    title: Will it happen?
    criteria: Yes if it happens.
    fine_print: Only official reports count.
    sources: ["https://example.org/src", "Jane's", {name: SIPRI, url: "https://sipri.org"}]
    claim: {section: "2. Engines", quote: "It will happen."}
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
    tags: [engines, russia]
    paper_forecast: 0.85
    news: engine AND (china OR russia)
    resolution_terms: [contract, "delivery"]
    reviewers: [rev]
  - id: choice-q
    title: Which one?
    type: choice
    options: [Alpha, Beta, Gamma]
    criteria: The one reported.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
    paper_forecast: {Alpha: 0.6, Beta: 0.3, Gamma: 0.1}
  - id: num-q
    title: How many?
    type: numeric
    min: -5.5
    max: 1000
    unit: units
    criteria: The number reported.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
"""


# Dated in the past whatever the clock says: a pull drops dates in the future.
NEWS_ITEMS = (
    ("Russia ships engine to China", "/a/1", "Wed, 04 Nov 2026 10:00:00 GMT"),
    ("Engine deal: China and Russia sign contract", "/a/2", "Thu, 05 Nov 2026 11:30:00 GMT"),
    ("Weather in Moscow", "/a/3", "Thu, 05 Nov 2026 12:00:00 GMT"),
)


def news_server(items=NEWS_ITEMS) -> HTTPServer:
    """A feed and a search feed on 127.0.0.1, so news rows are real pull results."""
    server = HTTPServer(host="127.0.0.1")
    body = "".join(
        f"<item><title>{title}</title><link>{server.url_for(path)}</link>"
        f"<pubDate>{when}</pubDate></item>"
        for title, path, when in items
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{body}</channel></rss>'
    )
    server.expect_request("/feed").respond_with_data(feed, content_type="application/rss+xml")
    server.expect_request("/search").respond_with_data(feed, content_type="application/rss+xml")
    server.start()
    return server


def news_config(folder: Path, server: HTTPServer, feeds: tuple[str, ...] = ("wire",)) -> str:
    """A forecasts.toml with no GDELT, the given feeds and one search feed."""
    path = folder / "news.toml"
    lines = ["[news]", "gdelt = false", "feeds = ["]
    lines += [f'  {{name = "{n}", url = "{server.url_for("/feed")}?{n}"}},' for n in feeds]
    lines += ["]", f'search_feeds = ["{server.url_for("/search")}?q={{query}}"]']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def pull_news(cli, folder: Path, server: HTTPServer, feeds: tuple[str, ...] = ("wire",)) -> None:
    r = cli("--config", news_config(folder, server, feeds), "news", "pull")
    assert r.exit_code == 0, r.output


def populate(cli, folder: Path) -> None:
    """Every kind of row: questions of each type, people, forecasts (backdated, choice,
    numeric, with microseconds), resolutions with a superseded one, a revision, and news
    (sources, per-question source state, articles, matches, a reviewer's mark)."""
    # Not ./questions.yaml: `init` of the fresh database would sync that.
    qfile = folder / "questions.yaml"
    qfile.write_text(QUESTIONS, encoding="utf-8")
    with freeze_time("2027-03-02 08:15:30.123456"):
        assert cli("init", "--questions", str(qfile)).exit_code == 0
        for args in (
            ("ann", "--name", "Ann Lee", "--email", "ann@example.org"),
            ("bob", "--no-digest"),
            ("rev", "--reviewer", "--name", "Rev Iewer"),
        ):
            assert cli("people", "add", *args).exit_code == 0
    with freeze_time("2027-03-05 23:59:59.999999"):
        for args in (
            ("bin-q", "0.7", "--by", "ann", "--note", "first – with ünïcode"),
            ("bin-q", "1:3", "--by", "bob", "--at", "2027-03-01T00:00:00.000001"),
            ("choice-q", "Alpha=0.2,Beta=0.5,Gamma=0.3", "--by", "ann"),
            ("choice-q", "alpha=1:3,beta=50%,gamma=0.25", "--by", "bob"),
            ("num-q", "p10=-5.5,p50=3.25,p90=999.999", "--by", "ann"),
            ("num-q", "p25=1,p50=2,p75=4", "--by", "bob"),
        ):
            r = cli("predict", *args)
            assert r.exit_code == 0, r.output
    with freeze_time("2027-03-06 10:00:00.5"):
        assert cli("predict", "bin-q", "0.123456789", "--by", "ann").exit_code == 0
        # A forced change of options records a revision.
        four = QUESTIONS.replace("[Alpha, Beta, Gamma]", "[Alpha, Beta, Gamma, Delta]")
        four = four.replace("Gamma: 0.1}", "Gamma: 0.05, Delta: 0.05}")
        qfile.write_text(four, encoding="utf-8")
        r = cli("sync", str(qfile), "--force")
        assert r.exit_code == 0, r.output
    server = news_server()
    try:
        pull_news(cli, folder, server)
    finally:
        server.stop()
    r = cli("news", "mark", "1", "--irrelevant")
    assert r.exit_code == 0, r.output
    with freeze_time("2027-04-02 12:00:00.000042"):
        r = cli(
            "resolve", "bin-q", "yes", "--by", "rev", "--on", "2027-03-31",
            "--evidence", "https://example.org/e1", "--note", "reported",
        )  # fmt: skip
        assert r.exit_code == 0
        r = cli("resolve", "choice-q", "annul", "--by", "rev")
        assert r.exit_code == 0
        r = cli("resolve", "num-q", "17.5", "--by", "rev")
        assert r.exit_code == 0
    with freeze_time("2027-04-03 09:00:00"):
        r = cli(
            "resolve", "bin-q", "no", "--by", "rev", "--correct", "--reason", "retracted",
            "--evidence", "https://example.org/e2", "--evidence", "https://example.org/e3",
        )  # fmt: skip
        assert r.exit_code == 0
    # Review: a second reviewer proposes a correction under a quorum of 2, and the first
    # is prompted to confirm it (a proposal, a prompt logged, a message in the outbox).
    review = review_config(folder)
    with freeze_time("2027-04-04 09:00:00.25"):
        assert cli("people", "set", "rev", "--email", "rev@example.org").exit_code == 0
        assert (
            cli("people", "add", "rae", "--reviewer", "--email", "rae@example.org").exit_code == 0
        )
        r = cli("--config", review, "resolve", "num-q", "18", "--by", "rae", "--correct",
                "--reason", "recounted")  # fmt: skip
        assert r.exit_code == 0, r.output
    with freeze_time("2027-04-05 06:00:00"):
        r = cli("--config", review, "prompts")
        assert r.exit_code == 0 and "Outbox: 1 sent" in r.stdout, r.output


def review_config(folder: Path) -> str:
    path = folder / "review.toml"
    path.write_text(
        f'[review]\nquorum = 2\n[mail]\nmaildir = "{folder / "outbox"}"\n', encoding="utf-8"
    )
    return str(path)


@pytest.fixture(scope="module")
def populated_template(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Populated once per module (the setup is ~25 commands and a news pull). Every test
    only reads it (or is refused an import into it and checks nothing changed): on
    SQLite each gets a copy of the file anyway; on PostgreSQL they share one schema."""
    folder = tmp_path_factory.mktemp("populated")
    with isolated(folder):
        populate(make_cli(module_db_url), folder)
    db.dispose_engines()  # close every connection: the WAL is checkpointed into the file
    return module_db_url if PG_URL else module_db_url.removeprefix("sqlite:///")


@pytest.fixture
def source_url(populated_template: str, tmp_path: Path) -> str:
    if PG_URL:
        return populated_template
    path = tmp_path / "source.db"
    shutil.copy(populated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def populated(source_url: str):
    return make_cli(source_url)


def export(cli, *args: str) -> str:
    r = cli("export", *args)
    assert (r.exit_code, r.stderr) == (0, ""), r.output
    return r.stdout


def without_time(text: str) -> dict:
    data = json.loads(text)
    data.pop("exported_at")
    return data


def rows(url: str) -> dict[str, list[dict]]:
    """Every row of every table, as the database returns them (typed values)."""
    engine = db.get_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in db.load_models().sorted_tables:
            order = list(table.primary_key.columns)
            out[table.name] = [
                dict(r) for r in conn.execute(sa.select(table).order_by(*order)).mappings()
            ]
    return out


@pytest.fixture
def fresh(empty_db_url):
    """An empty database, initialised as the docs say: `forecasts --db URL init`."""
    cli = make_cli(empty_db_url)
    assert cli("init").exit_code == 0
    return cli


def test_export_then_import_reproduces_every_row_exactly(
    populated, fresh, source_url, empty_db_url, tmp_path
):
    text = export(populated)
    path = tmp_path / "dump.json"
    path.write_text(text, encoding="utf-8")
    r = fresh("import", str(path))
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        f"Imported {path}: 3 article, 1 mail_outbox, 2 news_source, 5 person, 3 question, "
        "3 article_match, 10 forecast, 1 news_source_question, 1 question_revision, "
        "4 resolution, 1 review_prompt, 1 resolution_proposal.\n"
    )

    src, dst = rows(source_url), rows(empty_db_url)
    assert dst == src
    assert len(src["forecast"]) == 10
    # The news tables are really there, not empty on both sides.
    assert [s["name"] for s in dst["news_source"]] == ["wire", "search:127.0.0.1"]
    # (the search feed's answers count as matches: hence the third)
    assert [(m["question_id"], m["relevant"]) for m in dst["article_match"]] == [
        ("bin-q", False),
        ("bin-q", None),
        ("bin-q", None),
    ]
    assert dst["news_source_question"][0]["question_id"] == "bin-q"
    assert dst["article"][1]["published"].isoformat() == "2026-11-05T11:30:00+00:00"
    # The exact values survived, not just something that compares equal after export:
    f = {(x["question_id"], x["person"], x["made_at"].isoformat()): x for x in dst["forecast"]}
    bob = f[("bin-q", "bob", "2027-03-01T00:00:00.000001+00:00")]
    assert bob["value"] == 0.25
    assert bob["recorded_at"].isoformat() == "2027-03-05T23:59:59.999999+00:00"
    assert f[("num-q", "ann", "2027-03-05T23:59:59.999999+00:00")]["value"] == {
        "p10": -5.5,
        "p50": 3.25,
        "p90": 999.999,
    }
    assert [x["value"] for x in dst["forecast"] if x["person"] == "ann"][-1] == 0.123456789
    assert [(x["outcome"], x["correction_reason"]) for x in dst["resolution"]] == [
        ("yes", None),
        ("annulled", None),
        ("17.5", None),
        ("no", "retracted"),
    ]
    (rev,) = dst["question_revision"]
    assert rev["changes"] == {
        "options": [["Alpha", "Beta", "Gamma"], ["Alpha", "Beta", "Gamma", "Delta"]]
    }
    assert rev["forced"] is True
    people = {p["handle"]: p for p in dst["person"]}
    assert (people["bob"]["digest"], people["ann"]["email"]) == (False, "ann@example.org")
    q = {x["id"]: x for x in dst["question"]}
    assert q["num-q"]["range_min"] == -5.5
    assert q["bin-q"]["sources"] == [
        {"url": "https://example.org/src"},
        {"name": "Jane's"},
        {"name": "SIPRI", "url": "https://sipri.org"},
    ]

    # And the exports agree byte for byte apart from when they were made.
    assert without_time(export(fresh)) == without_time(text)
    with freeze_time("2030-01-01"):
        for qid in ("bin-q", "choice-q", "num-q"):
            assert json.loads(fresh("show", qid, "--json").stdout) == json.loads(
                populated("show", qid, "--json").stdout
            )


def test_after_import_new_rows_get_new_ids(populated, fresh, empty_db_url, tmp_path):
    """Every table with a generated id continues after the imported ids (on PostgreSQL the
    sequences must be moved past them)."""
    path = tmp_path / "dump.json"
    path.write_text(export(populated), encoding="utf-8")
    assert fresh("import", str(path)).exit_code == 0
    before = rows(empty_db_url)
    assert fresh("people", "add", "cy").exit_code == 0
    r = fresh(
        "add", "--id", "new-q", "--title", "New?", "--criteria", "c",
        "--opens", "2027-05-01", "--closes", "2027-05-31", "--resolve-by", "2027-06-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    with freeze_time("2027-05-02"):
        assert fresh("predict", "new-q", "0.5", "--by", "cy").exit_code == 0
        assert fresh("people", "add", "rita", "--reviewer").exit_code == 0
        assert fresh("resolve", "new-q", "yes", "--by", "rita").exit_code == 0
        r = fresh(
            "add", "--id", "news-q", "--title", "News?", "--criteria", "c", "--query", "weather",
            "--opens", "2027-05-01", "--closes", "2027-05-31", "--resolve-by", "2027-06-30",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    server = news_server((*NEWS_ITEMS, ("Engine news from China and Russia", "/a/4", "")))
    try:
        pull_news(fresh, tmp_path, server, feeds=("wire", "second-wire"))
    finally:
        server.stop()
    four = QUESTIONS.replace("[Alpha, Beta, Gamma]", "[Alpha, Beta, Gamma, Delta, Epsilon]")
    four = four.replace("Gamma: 0.1}", "Gamma: 0.04, Delta: 0.03, Epsilon: 0.03}")
    (tmp_path / "five.yaml").write_text(four, encoding="utf-8")
    assert fresh("sync", str(tmp_path / "five.yaml"), "--force").exit_code == 0
    review = review_config(tmp_path)
    with freeze_time("2027-06-02"):
        assert fresh("--config", review, "resolve", "news-q", "no", "--by", "rita").exit_code == 0
    with freeze_time("2027-06-03"):
        r = fresh("--config", review, "prompts")
        assert r.exit_code == 0 and "Outbox: 2 sent" in r.stdout, r.output

    after = rows(empty_db_url)
    for table, old in before.items():
        if table in ("person", "question", "alembic_version"):
            continue  # keyed by handle and id, not by a generated number
        if not db.load_models().tables[table].info.get("export", True):
            continue  # the scheduler's own state: not exported
        new = [row["id"] for row in after[table]][len(old) :]
        assert new, f"the test made no new {table} row"
        # Greater, not always max+1: PostgreSQL spends sequence values on upserts that
        # found the row already there.
        assert min(new) > max(row["id"] for row in old), table
    # 10 imported, 1 predicted, 1 paper forecast from the forced sync: no gaps
    assert [f["id"] for f in after["forecast"]] == list(range(1, 13))


def test_import_into_a_non_empty_database_is_refused(populated, tmp_path):
    path = tmp_path / "dump.json"
    path.write_text(export(populated), encoding="utf-8")
    before = without_time(export(populated))
    r = populated("import", str(path))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: the database is not empty (table article has rows); import into a new "
        "database with an empty schema (`forecasts db upgrade` first)\n"
    )
    assert without_time(export(populated)) == before


def test_import_into_an_uninitialised_database_points_at_db_upgrade_not_init(
    cli, empty_db_url, tmp_path
):
    """`init` would load ./questions.yaml and so make the database non-empty."""
    path = tmp_path / "dump.json"
    path.write_text(export(cli), encoding="utf-8")
    (tmp_path / "questions.yaml").write_text(QUESTIONS, encoding="utf-8")
    target = make_cli(empty_db_url)
    r = target("import", str(path))
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == (
        f"Error: database {db.safe_url(empty_db_url)} has no schema yet; create it with "
        "`forecasts db upgrade` (not `init`, which loads questions.yaml), "
        "then import\n"
    )
    assert target("db", "upgrade").exit_code == 0
    assert target("import", str(path)).exit_code == 0


def test_import_into_a_database_with_only_a_question_is_refused(cli, fresh, tmp_path):
    """Any row at all makes the database non-empty (the paper forecaster aside)."""
    path = tmp_path / "dump.json"
    path.write_text(export(cli), encoding="utf-8")
    r = fresh(
        "add", "--id", "q1", "--title", "Q?", "--criteria", "c",
        "--opens", "2027-05-01", "--closes", "2027-05-31", "--resolve-by", "2027-06-30",
    )  # fmt: skip
    assert r.exit_code == 0
    r = fresh("import", str(path))
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: the database is not empty (table question has rows)")


def test_an_empty_export_imports_as_nothing(cli, fresh, tmp_path):
    path = tmp_path / "dump.json"
    path.write_text(export(cli), encoding="utf-8")
    r = fresh("import", str(path))
    assert (r.exit_code, r.stdout) == (0, f"Imported {path}: 1 person.\n")


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d.update(version=2), "Error: unsupported export version 2\n"),
        (lambda d: d.update(format="other"), "Error: not a forecasts export"),
        (lambda d: d.update(tables=[]), "Error: export has no tables\n"),
        (
            lambda d: d["tables"].update(gizmo=[]),
            "Error: export has tables this version does not know (gizmo); upgrade forecasts\n",
        ),
        (lambda d: d["tables"].update(question=3), "Error: table question: expected a list"),
        (
            lambda d: d["tables"]["forecast"][0].update(made_at="yesterday"),
            "Error: table forecast: malformed row: ",
        ),
        (
            lambda d: d["tables"]["forecast"][0].update(person="ghost"),
            "Error: table forecast: ",
        ),
        (
            lambda d: d["tables"]["person"][0].update(digest="yes"),
            "Error: table person: Not a boolean value: 'yes'\n",
        ),
        (
            lambda d: d["tables"]["question"][0].update(range_min="abc"),
            "Error: table question: ",
        ),
        (lambda d: d["tables"]["question"].append(3), "Error: table question: malformed row: "),
    ],
)
def test_a_broken_export_is_refused_and_nothing_is_imported(
    populated, fresh, empty_db_url, tmp_path, mutate, error
):
    data = json.loads(export(populated))
    mutate(data)
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = rows(empty_db_url)
    r = fresh("import", str(path))
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(error)
    assert r.stderr.count("\n") == 1
    assert rows(empty_db_url) == before


def test_export_to_a_file(populated, tmp_path):
    out = tmp_path / "sub" / "x.json"
    r = populated("export", "--out", str(out))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: --out: cannot write {out}")
    out = tmp_path / "x.json"
    r = populated("export", "--out", str(out))
    assert (r.exit_code, r.stdout) == (0, f"Exported to {out}.\n")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["format"], data["version"], data["schema"]) == (
        "forecasts-export",
        1,
        db.head_revision(),
    )
    assert not (tmp_path / "x.json.tmp").exists()


def test_csv_export_is_one_row_per_forecast(populated):
    text = export(populated, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == (
        "question_id,question_type,person,made_at,recorded_at,p_yes,value,note,outcome,resolved_on"
    )
    assert len(table) == 10
    by = {(r["question_id"], r["person"], r["made_at"]): r for r in table}
    assert by[("bin-q", "bob", "2027-03-01T00:00:00.000001+00:00")] == {
        "question_id": "bin-q",
        "question_type": "binary",
        "person": "bob",
        "made_at": "2027-03-01T00:00:00.000001+00:00",
        "recorded_at": "2027-03-05T23:59:59.999999+00:00",
        "p_yes": "0.25",
        "value": "0.25",
        "note": "",
        "outcome": "no",
        "resolved_on": "2027-03-31",
    }
    ann_choice = by[("choice-q", "ann", "2027-03-05T23:59:59.999999+00:00")]
    assert (ann_choice["p_yes"], ann_choice["outcome"]) == ("", "annulled")
    assert json.loads(ann_choice["value"]) == {"Alpha": 0.2, "Beta": 0.5, "Gamma": 0.3}
    ann_note = by[("bin-q", "ann", "2027-03-05T23:59:59.999999+00:00")]["note"]
    assert ann_note == "first – with ünïcode"
    # Ordered by question, then when made.
    keys = [(r["question_id"], r["made_at"]) for r in table]
    assert keys == sorted(keys)
