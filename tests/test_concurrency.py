"""Several processes writing at once lose nothing: on SQLite this proves WAL, the busy
timeout and BEGIN IMMEDIATE writers; on PostgreSQL, plain transactions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

WRITERS = 4
PER_WRITER = 500

WRITER = textwrap.dedent(
    """
    import sys
    from forecasts.store import db
    from forecasts.domain.forecasting import record_forecast

    url, handle, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    engine = db.get_engine(url)
    for i in range(n):
        with db.session_scope(engine, write=True) as session:
            record_forecast(session, question_id="concurrency", person=handle,
                            value=f"{0.01 + (i % 98) / 100:.2f}")
    print("ok", handle)
    """
)


def _feed(n: int) -> str:
    items = "".join(
        f"<item><title>China buys Russian AL-31F engines, report {i}</title>"
        f"<link>https://news.example.org/a/{i}?utm_source=x</link>"
        f"<description>Aircraft engine deliveries continue ({i}).</description></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )


@pytest.mark.slow
def test_four_processes_record_2000_forecasts_during_a_news_pull(db_url, cli, httpserver, tmp_path):
    """A local feed server answers slowly, so the pull overlaps the writers."""
    import time

    def slow_feed(request):  # type: ignore[no-untyped-def]
        from werkzeug import Response

        time.sleep(0.5)
        return Response(_feed(300), content_type="application/rss+xml")

    for i in range(6):
        httpserver.expect_request(f"/feed{i}.xml").respond_with_handler(slow_feed)
    feeds = ", ".join(
        f'{{ name = "f{i}", url = "{httpserver.url_for(f"/feed{i}.xml")}" }}' for i in range(6)
    )
    config = tmp_path / "news.toml"
    config.write_text(f"[news]\ngdelt = false\nconcurrency = 2\nfeeds = [{feeds}]\n")

    assert cli("people", "add", "w0").exit_code == 0
    for i in range(1, WRITERS):
        assert cli("people", "add", f"w{i}").exit_code == 0
    r = cli(
        "add", "--id", "concurrency", "--query", '("AL-31F" OR engines)', "--title", "Does the database keep up?",
        "--opens", "2020-01-01", "--closes", "2099-12-31", "--resolve-by", "2099-12-31",
        "--criteria", "Yes if every forecast is stored.",
    )  # fmt: skip
    assert r.exit_code == 0, r.output

    puller = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forecasts",
            "--db",
            db_url,
            "--config",
            str(config),
            "news",
            "pull",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, f"w{i}", str(PER_WRITER)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert err == "", err[-2000:]
        assert out.startswith("ok")

    out, err = puller.communicate(timeout=300)
    assert puller.returncode == 0, out + err

    import sqlalchemy as sa

    from forecasts.store import db
    from forecasts.store.models import Forecast

    with db.session_scope(db.get_engine(db_url)) as session:
        counts = dict(
            session.execute(
                sa.select(Forecast.person, sa.func.count()).group_by(Forecast.person)
            ).all()
        )
        articles = session.execute(sa.text("SELECT count(*) FROM article")).scalar_one()
    assert counts == {f"w{i}": PER_WRITER for i in range(WRITERS)}
    assert articles == 300  # six feeds carry the same 300 articles: stored once each
