"""The outbox: a key is queued once and sent once, whoever asks; failures are kept with
their error and retried with backoff; a crash mid-send neither strands nor doubles a
message (Maildir); two deliverers at once never send the same message."""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import os
import stat
import threading
import time
from collections import Counter

import pytest
from freezegun import freeze_time

from forecasts.mail import outbox
from forecasts.mail.message import address, build_message
from forecasts.mail.settings import parse_address
from forecasts.mail.transport import MaildirTransport, SendError, maildir_name
from forecasts.runtime import Runtime

UTC = dt.UTC


def message(to: str = "ann@example.org", subject: str = "Hello"):
    return build_message(
        sender=parse_address("forecasts <forecasts@example.org>"),
        to=[address(to)],
        subject=subject,
        text=f"{subject}\n",
        html=f"<p>{subject}</p>",
    )


@pytest.fixture
def rt(db_url):
    runtime = Runtime(database_url=db_url)
    yield runtime
    runtime.close()


def queue(rt, *items: tuple[str, str]) -> list[bool]:
    with rt.session(write=True) as s:
        return [outbox.enqueue(s, key=key, message=message(subject=subj)) for key, subj in items]


def rows(rt) -> dict[str, outbox.OutboxEntry]:
    with rt.session() as s:
        return {e.key: e for e in outbox.list_outbox(s)}


def maildir_files(tmp_path) -> list[str]:
    return sorted(os.listdir(tmp_path / "outbox" / "new"))


class Failing:
    """A transport that fails every send (a protocol corner case: a mock is fine)."""

    def __init__(self, *, permanent: bool = False, connection: bool = False) -> None:
        self.calls: list[str] = []
        self.permanent, self.connection = permanent, connection

    def send(self, data, *, key, sender, recipients):  # type: ignore[no-untyped-def]
        self.calls.append(key)
        raise SendError(
            f"smtp test:25: failure {len(self.calls)}",
            permanent=self.permanent,
            connection=self.connection,
        )

    def close(self) -> None:
        pass


def test_a_key_is_queued_once_and_sent_once_whoever_asks(rt, tmp_path):
    assert queue(rt, ("prompt:2027-04-02:ann", "First")) == [True]
    assert queue(rt, ("prompt:2027-04-02:ann", "Second")) == [False]
    report = outbox.deliver(rt)
    assert (report.sent, report.deferred, report.failed) == (["prompt:2027-04-02:ann"], [], [])
    assert queue(rt, ("prompt:2027-04-02:ann", "Third")) == [False]
    assert outbox.deliver(rt).attempted == 0
    assert outbox.retry(rt).attempted == 0
    (only,) = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert only["Subject"] == "First"
    entry = rows(rt)["prompt:2027-04-02:ann"]
    assert (entry.status, entry.attempts, entry.subject) == ("sent", 1, "First")
    assert (
        only["Message-ID"]
        == entry.message_id
        == outbox.message_id("prompt:2027-04-02:ann", "example.org")
    )


def test_the_maildir_is_real_and_owner_only(rt, tmp_path):
    queue(rt, ("k1", "One"), ("k2", "Two"))
    assert outbox.deliver(rt).sent == ["k1", "k2"]
    folder = tmp_path / "outbox"
    for path in (folder, folder / "tmp", folder / "new", folder / "cur"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert maildir_files(tmp_path) == sorted([maildir_name("k1"), maildir_name("k2")])
    for name in maildir_files(tmp_path):
        assert stat.S_IMODE((folder / "new" / name).stat().st_mode) == 0o600
    assert os.listdir(folder / "tmp") == []
    got = {m["Subject"]: m for m in mailbox.Maildir(folder, create=False)}
    assert set(got) == {"One", "Two"}
    assert got["One"].get_content_type() == "multipart/alternative"


def test_a_crash_after_writing_the_file_neither_strands_nor_doubles_it(rt, tmp_path):
    queue(rt, ("k1", "One"))
    lease = outbox.claim_lease(rt.settings.mail)
    with freeze_time("2027-04-02 10:00:00"):
        # A run claims the message and delivers it, then dies before recording it.
        claim = outbox._claim_next(rt, lease, set())
        assert claim is not None
        transport = MaildirTransport(tmp_path / "outbox")
        assert transport.send(claim.data, key="k1", sender="f@x", recipients=["a@x"]) == "sent"
        assert rows(rt)["k1"].status == "sending"
        # While its claim holds, no one else touches it.
        assert outbox.deliver(rt).attempted == 0
    with freeze_time(dt.datetime(2027, 4, 2, 10, tzinfo=UTC) + lease + dt.timedelta(seconds=1)):
        report = outbox.deliver(rt)
    assert (report.sent, report.already_delivered) == ([], ["k1"])
    assert maildir_files(tmp_path) == [maildir_name("k1")]
    entry = rows(rt)["k1"]
    assert (entry.status, entry.attempts) == ("sent", 2)
    # A reader that moved it to cur/ still counts as delivered.
    md = mailbox.Maildir(tmp_path / "outbox", create=False)
    for key in list(md.iterkeys()):
        msg = md[key]
        msg.set_subdir("cur")
        msg.add_flag("S")
        md[key] = msg
    assert maildir_files(tmp_path) == []
    assert (
        MaildirTransport(tmp_path / "outbox").send(
            claim.data, key="k1", sender="f@x", recipients=["a@x"]
        )
        == "already delivered"
    )


def test_failures_back_off_then_give_up_and_retry_sends(rt, tmp_path):
    queue(rt, ("k1", "One"))
    failing = Failing()
    t0 = dt.datetime(2027, 4, 2, 10, tzinfo=UTC)
    waits = []
    with freeze_time(t0) as frozen:
        for n in range(1, outbox.MAX_ATTEMPTS + 1):
            report = outbox.deliver(rt, transport=failing)
            entry = rows(rt)["k1"]
            assert entry.attempts == n
            assert entry.last_error is not None and entry.last_error.startswith(
                f"smtp test:25: failure {n}"
            )
            if n < outbox.MAX_ATTEMPTS:
                assert entry.status == "queued" and report.deferred == [("k1", entry.last_error)]
                assert entry.next_attempt_at is not None
                waits.append(entry.next_attempt_at - dt.datetime.now(UTC))
                # Not due before its time...
                assert outbox.deliver(rt, transport=failing).attempted == 0
                frozen.move_to(entry.next_attempt_at)
            else:
                assert entry.status == "failed"
                assert entry.last_error.endswith(f"(gave up after {n} attempts)")
                assert report.failed == [("k1", entry.last_error)]
    minutes = [w.total_seconds() / 60 for w in waits]
    assert minutes == [5, 10, 20, 40, 80, 160, 320, 360, 360]
    # A failed message waits for a person: the next run leaves it alone...
    assert outbox.deliver(rt, transport=failing).attempted == 0
    # ...and `outbox retry` sends it.
    report = outbox.retry(rt)
    assert report.sent == ["k1"]
    assert rows(rt)["k1"].status == "sent"
    assert len(failing.calls) == outbox.MAX_ATTEMPTS


def test_a_permanent_refusal_fails_at_once(rt):
    queue(rt, ("k1", "One"), ("k2", "Two"))
    failing = Failing(permanent=True)
    report = outbox.deliver(rt, transport=failing)
    assert [k for k, _ in report.failed] == ["k1", "k2"]
    assert {e.status for e in rows(rt).values()} == {"failed"}


def test_a_transport_that_is_down_is_tried_once_per_run(rt):
    queue(rt, ("k1", "One"), ("k2", "Two"), ("k3", "Three"))
    failing = Failing(connection=True)
    report = outbox.deliver(rt, transport=failing)
    assert failing.calls == ["k1"]
    assert [k for k, _ in report.deferred] == ["k1", "k2", "k3"]
    entries = rows(rt)
    assert {e.last_error for e in entries.values()} == {"smtp test:25: failure 1"}
    assert {e.status for e in entries.values()} == {"queued"}


def test_a_maildir_that_is_a_file_keeps_the_message_queued(rt, tmp_path):
    (tmp_path / "outbox").write_text("not a folder")
    queue(rt, ("k1", "One"))
    report = outbox.deliver(rt)
    assert report.deferred == [
        ("k1", f"maildir {tmp_path / 'outbox'} is not a folder; set [mail] maildir to a folder")
    ]
    assert rows(rt)["k1"].status == "queued"


class Counting(MaildirTransport):
    def __init__(self, path, calls: Counter) -> None:
        super().__init__(path)
        self.calls = calls

    def send(self, data, *, key, sender, recipients):  # type: ignore[no-untyped-def]
        self.calls[key] += 1
        time.sleep(0.01)  # long enough for the other deliverer to look at the same rows
        return super().send(data, key=key, sender=sender, recipients=recipients)


def test_two_deliverers_at_once_send_each_message_once(db_url, tmp_path):
    rt = Runtime(database_url=db_url)
    keys = [f"k{i:02d}" for i in range(30)]
    queue(rt, *((k, k) for k in keys))
    calls: Counter = Counter()
    reports = []
    errors = []

    def run() -> None:
        own = Runtime(database_url=db_url)
        try:
            reports.append(outbox.deliver(own, transport=Counting(tmp_path / "outbox", calls)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(calls) == keys and set(calls.values()) == {1}
    assert sorted(k for r in reports for k in r.sent) == keys
    assert all(r.sent for r in reports), "both deliverers should have taken a share"
    assert len(maildir_files(tmp_path)) == 30
    assert {e.status for e in rows(rt).values()} == {"sent"}


def test_an_empty_outbox(cli):
    r = cli("outbox")
    assert (r.exit_code, r.stdout) == (0, "The outbox is empty.\n")
    r = cli("outbox", "--json")
    assert (r.exit_code, json.loads(r.stdout)) == (0, [])
    r = cli("outbox", "retry")
    assert (r.exit_code, r.stdout) == (0, "Outbox: 0 sent, 0 queued for retry, 0 failed.\n")


def test_outbox_json_shows_every_field(db_url, cli, rt):
    with freeze_time("2027-04-02 10:00:00"):
        queue(rt, ("prompt:2027-04-02:ann", "One"), ("prompt:2027-04-02:bob", "Two"))
        outbox.deliver(rt, transport=Failing(), limit=1)
        r = cli("outbox", "--json")
    assert r.exit_code == 0
    first, second = json.loads(r.stdout)
    assert first == {
        "key": "prompt:2027-04-02:ann",
        "to": ["ann@example.org"],
        "subject": "One",
        "status": "queued",
        "attempts": 1,
        "last_error": "smtp test:25: failure 1",
        "next_attempt_at": "2027-04-02T10:05:00Z",
        "created_at": "2027-04-02T10:00:00Z",
        "sent_at": None,
        "message_id": outbox.message_id("prompt:2027-04-02:ann", "example.org"),
    }
    assert (second["status"], second["attempts"], second["last_error"]) == ("queued", 0, None)
    with freeze_time("2027-04-02 10:00:00"):
        text = cli("outbox").stdout
    assert "prompt:2027-04-02:ann" in text and "smtp test:25: failure 1" in text
