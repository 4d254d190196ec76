"""`forecasts doctor`: each check against the real thing (database, SMTP server, HTTP
server), and the command's lines and exit code."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from conftest import REPO, make_cli
from forecasts.config import load_settings
from forecasts.doctor import (
    check_database,
    check_mail,
    check_news,
    check_questions_file,
    diagnose,
)
from forecasts.runtime import Runtime
from mailhelp import HOST, Recorder, Server, free_port, self_signed, smtp_config


def _statuses(checks) -> list[tuple[str, str]]:
    return [(c.name, c.status) for c in checks]


def _check_lines(stdout: str) -> list[str]:
    """The command's lines, one per check: lines wrapped under the detail joined back."""
    out: list[str] = []
    for line in stdout.splitlines():
        if not line.strip():
            break
        if line.startswith(" "):
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


# ------------------------------------------------------------------------- database


def test_database_current(db_url: str) -> None:
    checks = check_database(Runtime(database_url=db_url))
    assert _statuses(checks) == [("database", "ok"), ("schema", "ok")]


def test_database_missing_says_init_and_creates_nothing(tmp_path: Path) -> None:
    (check,) = check_database(Runtime(database_url=f"sqlite:///{tmp_path / 'none.db'}"))
    assert (check.status, check.remedy) == ("fail", "run `forecasts init`")
    assert not (tmp_path / "none.db").exists()


def test_database_behind_says_upgrade_and_ahead_says_upgrade_forecasts(empty_db_url: str) -> None:
    import sqlalchemy as sa

    from forecasts.store import db

    engine = db.get_engine(empty_db_url)
    db.upgrade(engine, "0003")
    schema = check_database(Runtime(database_url=empty_db_url))[1]
    assert (schema.status, schema.remedy) == ("fail", "run `forecasts db upgrade`")
    assert schema.detail == f"revision 0003; this version needs {db.head_revision()}"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    schema = check_database(Runtime(database_url=empty_db_url))[1]
    assert schema.status == "fail" and "newer than this version knows" in schema.detail


def test_a_database_server_nobody_answers_fails_quickly() -> None:
    url = f"postgresql://nobody:secret@{HOST}:{free_port()}/nothing"
    (check,) = check_database(Runtime(database_url=url), timeout=1)
    assert check.status == "fail"
    assert "secret" not in check.detail
    assert "forecasts config" in (check.remedy or "")


def test_a_server_database_gets_a_connect_timeout() -> None:
    from forecasts.doctor import _with_connect_timeout

    url = "postgresql://u:p%40ss@db.example.org/f?options=-csearch_path%3Dt"
    assert _with_connect_timeout(url, 2.4) == (
        "postgresql+psycopg://u:p%40ss@db.example.org/f?connect_timeout=2&options=-csearch_path%3Dt"
    )
    assert _with_connect_timeout(url + "&connect_timeout=9", 2) == (
        "postgresql+psycopg://u:p%40ss@db.example.org/f?options=-csearch_path%3Dt&connect_timeout=9"
    )
    assert _with_connect_timeout("sqlite:///f.db", 2) == "sqlite:///f.db"


# ------------------------------------------------------------------- questions file


def test_questions_file_missing_invalid_behind_and_in_step(db_url: str, tmp_path: Path) -> None:
    rt = Runtime(database_url=db_url)
    path = tmp_path / "questions.yaml"
    assert check_questions_file(rt, path, db_ready=True).status == "warn"
    path.write_text("questions:\n  - id: Not An Id\n", encoding="utf-8")
    bad = check_questions_file(rt, path, db_ready=True)
    assert bad.status == "fail" and str(path) in bad.detail
    path.write_text((REPO / "questions.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    behind = check_questions_file(rt, path, db_ready=True)
    assert behind.status == "warn"
    assert "39 to add" in behind.detail and "11 resolutions to apply" in behind.detail
    assert behind.remedy is not None and "forecasts sync" in behind.remedy
    assert make_cli(db_url)("sync", str(path)).exit_code == 0
    in_step = check_questions_file(rt, path, db_ready=True)
    assert (in_step.status, in_step.detail) == (
        "ok",
        f"{path}: 39 questions, the database in step with it",
    )


# ----------------------------------------------------------------------------- mail


def test_maildir_writable_missing_and_not_a_folder(tmp_path: Path) -> None:
    mail = load_settings().mail
    check = check_mail(mail.model_copy(update={"maildir": str(tmp_path / "outbox")}))
    assert (check.status, check.detail) == (
        "ok",
        f"Maildir {tmp_path / 'outbox'} writable (created with the first message)",
    )
    assert not (tmp_path / "outbox").exists()  # the check creates nothing
    assert list(tmp_path.iterdir()) == []  # and leaves no probe behind
    (tmp_path / "afile").write_text("x")
    check = check_mail(mail.model_copy(update={"maildir": str(tmp_path / "afile")}))
    assert check.status == "fail" and "not a folder" in check.detail
    check = check_mail(mail.model_copy(update={"maildir": str(tmp_path / "afile" / "box")}))
    assert check.status == "fail" and "cannot write" in check.detail


def test_smtp_reachable_with_starttls_and_login(tmp_path: Path, monkeypatch) -> None:
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    monkeypatch.setenv("FORECASTS_SMTP_PASSWORD", "right horse")
    server = Server(Recorder(), mode="starttls", cert=cert, users={"mailer": "right horse"}).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="starttls", user="mailer")
        ok = check_mail(load_settings(config=cfg).mail, timeout=3)
        monkeypatch.setenv("FORECASTS_SMTP_PASSWORD", "wrong horse")
        refused = check_mail(load_settings(config=cfg).mail, timeout=3)
    finally:
        server.stop()
    assert (ok.status, ok.detail) == (
        "ok",
        f"smtp {HOST}:{server.port} (starttls) answers; login accepted as mailer",
    )
    assert refused.status == "fail"
    assert "authentication failed as 'mailer'" in refused.detail
    assert "wrong horse" not in refused.detail


def test_smtp_nobody_listening(tmp_path: Path) -> None:
    cfg = smtp_config(tmp_path, free_port())
    check = check_mail(load_settings(config=cfg).mail, timeout=2)
    assert check.status == "fail" and "connection refused" in check.detail


# ----------------------------------------------------------------------------- news


def _news(tmp_path: Path, feeds: list[tuple[str, str]], gdelt: str | None = None):
    lines = ["[news]", f"gdelt = {'true' if gdelt else 'false'}"]
    if gdelt:
        lines.append(f'gdelt_url = "{gdelt}"')
    lines.append("feeds = [" + ", ".join(f'{{name = "{n}", url = "{u}"}}' for n, u in feeds) + "]")
    path = tmp_path / "news.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings(config=path).news


@pytest.fixture
def threaded_server():
    server = HTTPServer(host=HOST, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_news_sources_each_checked_concurrently(
    threaded_server: HTTPServer, tmp_path: Path
) -> None:
    """Three sources answer only once all three are being asked at the same time (a
    barrier): checked one after another, each would wait in vain and fail."""
    import threading

    server = threaded_server
    together = threading.Barrier(3, timeout=3)

    def waits_for_the_others(_request):  # type: ignore[no-untyped-def]
        together.wait()
        return Response("<rss/>", content_type="application/rss+xml")

    server.expect_request("/ok.xml").respond_with_data("<rss/>")
    server.expect_request("/gone.xml").respond_with_data("no", status=404)
    for n in range(3):
        server.expect_request(f"/together{n}.xml").respond_with_handler(waits_for_the_others)
    server.expect_request("/gdelt").respond_with_json({"articles": []})
    feeds = [("ok", server.url_for("/ok.xml")), ("gone", server.url_for("/gone.xml"))]
    feeds += [(f"together{n}", server.url_for(f"/together{n}.xml")) for n in range(3)]
    feeds.append(("down", f"http://{HOST}:{free_port()}/rss"))
    checks = check_news(_news(tmp_path, feeds, gdelt=server.url_for("/gdelt")), timeout=5)
    assert _statuses(checks) == [
        ("news gdelt", "ok"),
        ("news ok", "ok"),
        ("news gone", "fail"),
        ("news together0", "ok"),
        ("news together1", "ok"),
        ("news together2", "ok"),
        ("news down", "fail"),
    ]
    assert "HTTP 404" in checks[2].detail and "cannot connect" in checks[6].detail
    gdelt_request = next(r for r, _ in server.log if r.path == "/gdelt")
    assert gdelt_request.args["query"] == "china" and gdelt_request.args["mode"] == "ArtList"


def test_a_source_slower_than_the_timeout_fails(httpserver: HTTPServer, tmp_path: Path) -> None:
    def slow(_request):  # type: ignore[no-untyped-def]
        time.sleep(2.0)
        return Response("<rss/>")

    httpserver.expect_request("/slow.xml").respond_with_handler(slow)
    (check,) = check_news(_news(tmp_path, [("slow", httpserver.url_for("/slow.xml"))]), timeout=0.5)
    assert check.status == "fail" and "timed out" in check.detail


def test_no_news_sources_is_a_warning(tmp_path: Path) -> None:
    (check,) = check_news(_news(tmp_path, []))
    assert check.status == "warn"


# ---------------------------------------------------------------------- the command


@pytest.fixture
def healthy(db_url: str, tmp_path: Path, httpserver: HTTPServer, monkeypatch) -> Path:
    """A config whose every check passes: a synced questions file, a Maildir, one feed."""
    httpserver.expect_request("/rss").respond_with_data("<rss/>")
    (tmp_path / "questions.yaml").write_text((REPO / "questions.yaml").read_text("utf-8"), "utf-8")
    assert make_cli(db_url)("sync").exit_code == 0
    cfg = tmp_path / "forecasts.toml"
    cfg.write_text(
        f'[news]\ngdelt = false\nfeeds = [{{name = "wire", url = "{httpserver.url_for("/rss")}"}}]\n',
        encoding="utf-8",
    )
    return cfg


def test_doctor_all_well_exits_0(healthy: Path, db_url: str) -> None:
    r = make_cli(db_url)("doctor")
    assert (r.exit_code, r.stderr) == (0, ""), r.output
    lines = _check_lines(r.stdout)
    assert [line.split()[:2] for line in lines] == [
        ["ok", "config"],
        ["ok", "database"],
        ["ok", "schema"],
        ["ok", "questions"],
        ["ok", "mail"],
        ["ok", "news"],
        ["warn", "scheduler"],  # none runs: a warning (jobs may run from cron)
        ["warn", "jobs"],  # none has run yet
    ]
    assert r.stdout.splitlines()[-1] == "No check failed; 2 of 8 want a look (warn)."


def test_doctor_a_failure_exits_1_with_its_remedy(healthy: Path, db_url: str) -> None:
    with healthy.open("a", encoding="utf-8") as f:
        f.write('[mail]\nmaildir = "questions.yaml/box"\n')  # under a file: not writable
    r = make_cli(db_url)("doctor")
    assert r.exit_code == 1
    mail = next(line for line in _check_lines(r.stdout) if line.split()[1] == "mail")
    assert mail.startswith("FAIL  mail ")
    assert mail.endswith("→ make the folder writable, or set [mail] maildir to one that is")
    assert r.stdout.splitlines()[-1] == "1 of 8 checks failed."
    data = json.loads(make_cli(db_url)("doctor", "--json").stdout)
    assert data["ok"] is False
    assert [c["status"] for c in data["checks"]] == [
        "ok", "ok", "ok", "ok", "fail", "ok", "warn", "warn",
    ]  # fmt: skip


def test_doctor_with_a_bad_config_stops_at_it(tmp_path: Path) -> None:
    (tmp_path / "forecasts.toml").write_text("[review]\nquorum = 0\n", encoding="utf-8")
    r = make_cli(None)("doctor")
    assert r.exit_code == 1
    assert r.stdout.startswith("FAIL  config  forecasts.toml: ")
    assert r.stdout.splitlines()[-1] == "1 of 1 checks failed."


def test_diagnose_runs_every_check_in_order(healthy: Path, db_url: str) -> None:
    names = [c.name for c in diagnose(Runtime(config=healthy, database_url=db_url)).checks]
    assert names == [
        "config", "database", "schema", "questions file", "mail", "news wire", "scheduler", "jobs",
    ]  # fmt: skip


# ------------------------------------------------------------------------ scheduler


def test_the_scheduler_s_lease_and_its_jobs_last_runs(db_url: str, tmp_path: Path) -> None:
    from forecasts.doctor import check_scheduler
    from forecasts.scheduler import lease, runs
    from schedhelp import write_config

    rt = Runtime(config=write_config(tmp_path), database_url=db_url)
    scheduler, jobs = check_scheduler(rt)
    assert (scheduler.status, jobs.status, jobs.detail) == ("warn", "warn", "no job has run yet")
    assert make_cli(db_url)("--config", str(rt.config), "run", "--once").exit_code == 0
    scheduler, jobs = check_scheduler(rt)
    assert jobs.status == "ok" and jobs.detail.startswith("the last run of each of 5 jobs")
    held = lease.acquire(rt)
    try:
        scheduler, _ = check_scheduler(rt)
    finally:
        lease.release(rt, held)
    assert scheduler.status == "ok" and f"(pid {held.me.pid})" in scheduler.detail
    run_id = runs.start(rt, "digest", process="test")
    runs.finish(rt, run_id, status="failed", summary=None, error="SMTP refused: 554 no")
    _, jobs = check_scheduler(rt)
    assert jobs.status == "fail"
    assert jobs.detail.startswith("digest failed just now") and jobs.detail.endswith(
        ": SMTP refused: 554 no"
    )
    assert jobs.remedy == "see `forecasts jobs` and the scheduler's log"
