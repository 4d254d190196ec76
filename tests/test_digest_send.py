"""Sending the digest: once per reader and week whoever asks (the outbox key
``digest:<week>:<handle>``), to the Maildir by default, and through a real SMTP server
(aiosmtpd) as multipart/alternative with text and, for a reader with a calibration, a
multipart/related HTML part whose every ``cid:`` resolves to the inline PNG."""

from __future__ import annotations

import json
import mailbox
import re
from email.message import EmailMessage

import pytest
from freezegun import freeze_time

import digest_world
from digest_world import SEND_AT, WEEK, ok
from mailhelp import Recorder, Server, smtp_config

HANDLES = ("alice", "bob", "carol", "dmitri", "erin")


@pytest.fixture
def world(cli, db_url, tmp_path):
    digest_world.build(cli, db_url, tmp_path)
    return cli


def outbox(cli) -> list[dict]:
    return json.loads(ok(cli("outbox", "--json")).stdout)


def test_sending_twice_sends_each_digest_once(world, tmp_path):
    with freeze_time(SEND_AT):
        first = ok(world("digest", "--send"))
    assert first.stdout.splitlines()[1].startswith("Queued alice <alice@example.org>: ")
    assert first.stdout.endswith("Outbox: 5 sent, 0 queued for retry, 0 failed.\n")
    rows = outbox(world)
    assert sorted(r["key"] for r in rows) == [f"digest:{WEEK}:{h}" for h in HANDLES]
    assert {r["status"] for r in rows} == {"sent"}
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert len(box) == 5

    # Again, later that day and the next: nothing is queued or sent twice.
    for when in (SEND_AT, "2027-06-22 09:00"):
        with freeze_time(when):
            again = ok(world("digest", "--send"))
        assert again.stdout.splitlines()[1:] == [
            *(
                line.replace("Queued", "Already queued", 1)
                for line in first.stdout.splitlines()[1:-1]
            ),
            "Outbox: 0 sent, 0 queued for retry, 0 failed.",
        ]
    assert len(outbox(world)) == 5 and len(mailbox.Maildir(tmp_path / "outbox")) == 5

    # One reader asked for by name is still sent once; the next week is a new digest.
    with freeze_time("2027-06-22 09:00"):
        one = ok(world("digest", "--send", "--to", "alice"))
    assert one.stdout.splitlines()[1].startswith("Already queued alice <alice@example.org>:")
    with freeze_time("2027-06-28 09:00"):
        ok(world("digest", "--send", "--to", "alice"))
    assert [r["key"] for r in outbox(world)][-1] == "digest:2027-W25:alice"


def _tree(part: EmailMessage) -> object:
    """The MIME tree as nested (content type, [children]) or a content type."""
    if part.is_multipart():
        return (part.get_content_type(), [_tree(p) for p in part.iter_parts()])
    return part.get_content_type()


def test_the_digest_through_a_real_smtp_server(world, tmp_path):
    handler = Recorder()
    server = Server(handler).start()
    cfg = smtp_config(tmp_path, server.port)
    cfg.write_text(cfg.read_text() + digest_world.CONFIG)  # the world's quorum and zone
    try:
        with freeze_time(SEND_AT):
            r = world("--config", str(cfg), "digest", "--send")
    finally:
        server.stop()
    assert r.exit_code == 0, r.output
    assert r.stdout.endswith("Outbox: 5 sent, 0 queued for retry, 0 failed.\n")
    got = {m.rcpt_tos[0]: m.message for m in handler.received}
    assert sorted(got) == [f"{h}@example.org" for h in HANDLES]

    alice = got["alice@example.org"]
    assert alice["Subject"] == (
        "Forecasts, week 24 of 2027: 2 to resolve, 4 closing soon, 1 resolved, news on 3 questions"
    )
    assert alice["To"] == "Alice <alice@example.org>"
    assert _tree(alice) == (
        "multipart/alternative",
        ["text/plain", ("multipart/related", ["text/html", "image/png"])],
    )
    text_part, related = alice.iter_parts()
    html_part, png_part = related.iter_parts()
    html = html_part.get_content().replace("\r\n", "\n")
    png = png_part.get_content()
    # Every cid: in the HTML names a part of the related part, and the image is one.
    cids = re.findall(r"""["']cid:([^"']+)["']""", html)
    ids = {p["Content-ID"].strip("<>") for p in related.iter_parts() if p["Content-ID"]}
    assert cids == ["reliability@forecasts"] and set(cids) <= ids
    assert png_part["Content-ID"] == "<reliability@forecasts>"
    assert png_part.get_content_disposition() == "inline"
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 2_000 < len(png) <= 60_000
    # What the sections say, in both parts.
    text = text_part.get_content().replace("\r\n", "\n")
    for heading in ("Needs your resolution", "Closing soon", "News this week",
                    "Forecast movement", "Resolved this week", "Your calibration"):  # fmt: skip
        assert f"\n{heading.upper()}\n" in text
        assert f">{heading}</h2>" in html
    for both in (
        "forecasts resolve pla-in-russian-strategic-exercise-2027 yes --by alice --evidence URL",
        "Example: PLA units arrive in Russia for the strategic command-staff exercise",
        "https://example.org/news/0",
        "eu-annex-iv-china-entities-2027",
    ):
        assert both in text and both in html
    assert 'href="https://example.org/news/0"' in html
    assert "width:100%; max-width:640px" in html and "<link" not in html
    assert "<script" not in html and "<style" not in html

    # erin has no calibration: no chart, so no related part.
    erin = got["erin@example.org"]
    assert _tree(erin) == ("multipart/alternative", ["text/plain", "text/html"])
    assert "cid:" not in erin.get_body(("html",)).get_content()

    # The outbox has each as sent, with the Message-ID the key gives it.
    rows = {row["key"]: row for row in outbox(world)}
    assert rows[f"digest:{WEEK}:alice"]["message_id"] == alice["Message-ID"]
    assert {row["status"] for row in rows.values()} == {"sent"}
