"""Prompts sent through a real SMTP server (aiosmtpd on localhost): plain, STARTTLS with
AUTH, TLS; the server stopping mid-run loses nothing and, restarted, gets every message
exactly once; the password never shows."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest

from mailhelp import HOST, Recorder, Server, parts, self_signed, smtp_config

DAY = "2027-04-02"  # --as-of: the questions below closed on 2027-03-31


@pytest.fixture
def world(cli):
    """Two closed questions, one assigned to ann, one to the rotation; three reviewers."""
    for qid, extra in (("engines-q", ["--criteria", "Yes if a contract is signed."]),
                       ("patrol-q", ["--criteria", "Yes if a patrol is announced."])):  # fmt: skip
        r = cli(
            "add", "--id", qid, "--title", f"Will {qid} happen?", *extra,
            "--opens", "2027-01-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    for handle in ("ann", "bob", "cy"):
        r = cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org")
        assert r.exit_code == 0, r.output
    return cli


def outbox(cli) -> list[dict]:
    r = cli("outbox", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_prompts_arrive_through_a_plain_smtp_server(world, tmp_path):
    handler = Recorder()
    server = Server(handler).start()
    try:
        cfg = smtp_config(tmp_path, server.port)
        r = world("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert "Outbox: " in r.stdout and " sent, 0 queued for retry, 0 failed." in r.stdout
    got = {m.rcpt_tos[0]: m for m in handler.received}
    # Each question goes to one reviewer (no assignment: the stable rotation), and each
    # reviewer with questions gets one message.
    assert len(handler.received) == len(got) >= 1
    listed = {}
    for rcpt, m in got.items():
        assert m.mail_from == "forecasts@example.org"
        assert m.message["From"] == "forecasts <forecasts@example.org>"
        assert m.message["To"] == rcpt
        assert m.message.get_content_type() == "multipart/alternative"
        text, html = parts(m.message)
        handle = rcpt.split("@")[0]
        for qid in ("engines-q", "patrol-q"):
            if f"{qid}:" in text:
                listed[qid] = handle
                command = f"forecasts resolve {qid} yes --by {handle} --evidence URL"
                assert command in text
                assert command in html
                assert f"Will {qid} happen?" in html
        assert "closed on 2027-03-31; to be resolved by 2027-04-30" in text
    assert set(listed) == {"engines-q", "patrol-q"}
    one = next(iter(got.values())).message
    n = sum(1 for h in listed.values() if h == one["To"].split("@")[0])
    assert one["Subject"] == (
        f"Resolve: Will {next(q for q, h in listed.items() if h == one['To'].split('@')[0])} happen?"
        if n == 1
        else "2 questions to resolve: Will engines-q happen? and 1 more"
    )
    rows = outbox(world)
    assert {row["status"] for row in rows} == {"sent"}
    assert {row["message_id"] for row in rows} == {m.message["Message-ID"] for m in got.values()}
    assert {row["key"] for row in rows} == {f"prompt:{DAY}:{h}" for h in set(listed.values())}


def test_starttls_with_auth_over_a_self_signed_certificate(world, tmp_path, monkeypatch):
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test's own certificate
    monkeypatch.setenv("FORECASTS_SMTP_PASSWORD", "correct horse battery")
    handler = Recorder()
    server = Server(
        handler, mode="starttls", cert=cert, users={"mailer": "correct horse battery"}
    ).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="starttls", user="mailer")
        r = world("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert handler.received
    for m in handler.received:
        assert (m.tls, m.authenticated_as) == (True, "mailer")
        text, html = parts(m.message)
        assert "forecasts resolve " in text and "--evidence URL" in html
    assert {row["status"] for row in outbox(world)} == {"sent"}


def test_tls_from_the_first_byte(world, tmp_path, monkeypatch):
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    handler = Recorder()
    server = Server(handler, mode="tls", cert=cert).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="tls")
        r = world("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert handler.received and all(m.tls for m in handler.received)


def test_a_certificate_nobody_trusts_is_refused(world, tmp_path):
    cert = self_signed(tmp_path)  # and SSL_CERT_FILE not set: the client must not trust it
    handler = Recorder()
    server = Server(handler, mode="starttls", cert=cert).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="starttls")
        r = world("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert handler.received == []
    rows = outbox(world)
    assert {row["status"] for row in rows} == {"queued"}
    assert all("CERTIFICATE_VERIFY_FAILED" in row["last_error"] for row in rows)


def test_a_failed_login_never_shows_the_password(world, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    password = "Wrong-Pa55word-7781"
    monkeypatch.setenv("FORECASTS_SMTP_PASSWORD", password)
    handler = Recorder()
    server = Server(handler, mode="starttls", cert=cert, users={"mailer": "right"}).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="starttls", user="mailer")
        r = world("--config", cfg, "prompts", "--as-of", DAY)
        retry = world("--config", cfg, "outbox", "retry")
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert retry.exit_code == 1
    assert retry.stderr.endswith("Error: nothing could be sent; see `forecasts outbox`\n")
    assert handler.received == []
    rows = outbox(world)
    assert {row["status"] for row in rows} == {"queued"}
    for row in rows:
        assert row["last_error"] == (
            f"smtp {HOST}:{server.port}: authentication failed as 'mailer': "
            "535 5.7.8 bad password ***"
        )
    listing = world("outbox")
    # Our logs (and smtplib's), not the test server's own ("mail.log"), which saw it.
    logs = "\n".join(rec.getMessage() for rec in caplog.records if rec.name != "mail.log")
    everything = (
        r.output + retry.output + json.dumps(rows) + listing.output + logs
        + world("--config", cfg, "prompts", "--as-of", DAY, "--json").output
    )  # fmt: skip
    assert password not in everything
    import base64

    assert base64.b64encode(password.encode()).decode() not in everything


def test_a_missing_password_variable_is_named_and_nothing_is_lost(world, tmp_path):
    handler = Recorder()
    cert = self_signed(tmp_path)
    server = Server(handler, mode="starttls", cert=cert, users={"mailer": "x"}).start()
    try:
        cfg = smtp_config(tmp_path, server.port, security="starttls", user="mailer")
        r = world("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    rows = outbox(world)
    assert rows and {row["status"] for row in rows} == {"queued"}
    assert rows[0]["last_error"] == (
        f"smtp {HOST}:{server.port}: [mail.smtp] user is set but the environment variable "
        "FORECASTS_SMTP_PASSWORD (the password) is not"
    )


def test_the_server_stopping_mid_run_loses_nothing_and_a_restart_sends_each_once(cli, tmp_path):
    # Five reviewers, each assigned one closed question: five prompts.
    handles = [f"rev{i}" for i in range(5)]
    for handle in handles:
        assert (
            cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org").exit_code
            == 0
        )
    qfile = tmp_path / "q.yaml"
    qfile.write_text(
        "questions:\n"
        + "".join(
            f"  - {{id: q{i}, title: 'Question {i}?', criteria: 'Yes if {i}.', opens: 2027-01-01,"
            f" closes: 2027-03-31, resolve_by: 2027-04-30, reviewers: [{h}]}}\n"
            for i, h in enumerate(handles)
        ),
        encoding="utf-8",
    )
    assert cli("sync", str(qfile)).exit_code == 0

    first = Recorder(refuse_after=2)
    server = Server(first).start()
    first.on_refuse = server.stop  # the server shuts down after two messages
    cfg = smtp_config(tmp_path, server.port)
    try:
        r = cli("--config", cfg, "prompts", "--as-of", DAY)
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert "Outbox: 2 sent, 3 queued for retry, 0 failed." in r.stdout
    rows = {row["key"]: row for row in outbox(cli)}
    assert len(rows) == 5
    queued = [row for row in rows.values() if row["status"] == "queued"]
    assert len(queued) == 3
    for row in queued:
        assert row["attempts"] == 1
        assert row["last_error"].startswith(f"smtp {HOST}:{server.port}: ")
        assert row["next_attempt_at"] > row["created_at"]  # backed off
    listing = cli("outbox")
    assert listing.stdout.count("queued") == 3
    assert queued[0]["last_error"][:40] in listing.stdout.replace("\n", "")

    # Still down: a retry fails again, and still nothing is lost.
    r = cli("--config", cfg, "outbox", "retry")
    assert r.exit_code == 1
    assert "0 sent, 3 queued for retry, 0 failed" in r.stdout
    assert "connection refused" in r.stderr

    # Back up on the same port: everything arrives, each message exactly once.
    second = Recorder()
    server = Server(second, port=server.port).start()
    try:
        r = cli("--config", cfg, "outbox", "retry")
        again = cli("--config", cfg, "prompts", "--as-of", DAY)  # same day: nothing new
        retry_again = cli("--config", cfg, "outbox", "retry")
    finally:
        server.stop()
    assert (r.exit_code, r.stdout) == (0, "Outbox: 3 sent, 0 queued for retry, 0 failed.\n")
    assert again.exit_code == 0 and "(already queued today)" in again.stdout
    assert retry_again.stdout == "Outbox: 0 sent, 0 queued for retry, 0 failed.\n"
    arrived = [m.message for m in first.received + second.received]
    assert len(arrived) == 5
    assert Counter(m["Message-ID"] for m in arrived).most_common(1)[0][1] == 1
    assert sorted(m["To"] for m in arrived) == sorted(f"{h}@example.org" for h in handles)
    final = outbox(cli)
    assert {row["status"] for row in final} == {"sent"}
    assert {row["message_id"] for row in final} == {m["Message-ID"] for m in arrived}


def test_a_recipient_refused_for_good_is_failed_until_retried(world, tmp_path):
    handler = Recorder(refuse_rcpt={"ann@example.org", "bob@example.org", "cy@example.org"})
    server = Server(handler).start()
    try:
        cfg = smtp_config(tmp_path, server.port)
        r = world("--config", cfg, "prompts", "--as-of", DAY)
        rows = outbox(world)
        assert rows and {row["status"] for row in rows} == {"failed"}
        assert "refused (550 5.1.1 no such user here)" in rows[0]["last_error"]
        # The next run does not try a failed message again; `outbox retry` does.
        handler.refuse_rcpt.clear()
        r2 = world("--config", cfg, "prompts", "--as-of", DAY)
        assert "Outbox: 0 sent, 0 queued for retry, 0 failed." in r2.stdout
        r3 = world("--config", cfg, "outbox", "retry")
    finally:
        server.stop()
    assert r.exit_code == 0 and "failed" in r.stdout
    assert r3.exit_code == 0 and r3.stdout.startswith(f"Outbox: {len(rows)} sent")
    assert len(handler.received) == len(rows)
