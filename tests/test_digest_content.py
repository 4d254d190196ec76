"""What each reader's digest says, on the shipped questions after a made-up week
(tests/digest_world.py): every section, the numbers taken from the report, untrusted
text escaped, a reader with nothing to resolve, a reader with nothing at all, and the
command's errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from freezegun import freeze_time

import digest_world
from digest_world import SEND_AT, WEEK, ok
from forecasts.report.text import fmt


@pytest.fixture
def world(cli, db_url, tmp_path):
    digest_world.build(cli, db_url, tmp_path)
    return cli


def preview(cli, tmp_path: Path, handle: str, *args: str) -> tuple[str, str]:
    """``handle``'s digest of the week as (text, HTML), through ``--preview``."""
    with freeze_time(SEND_AT):
        r = cli("digest", "--preview", f"{handle}.html", "--to", handle, *args)
    assert r.exit_code == 0, r.output
    return (tmp_path / f"{handle}.txt").read_text(), (tmp_path / f"{handle}.html").read_text()


def section(text: str, heading: str) -> str:
    """One section of the text part, up to the next heading (or the signature)."""
    body = text.split(f"\n{heading.upper()}\n", 1)[1]
    return re.split(r"\n\n\n[A-Z ]+\n-+\n|\n--\n", body, maxsplit=1)[0]


def test_a_dry_run_says_who_would_get_what(world, tmp_path):
    with freeze_time(SEND_AT):
        r = world("digest")
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        "Digest for 2027-W24: 2027-06-14 to 2027-06-20 (Europe/Berlin).\n"
        "Would send alice <alice@example.org>: 2 to resolve, 4 closing soon, news on 3 "
        "questions, 2 crowd moves, 1 resolved, calibration\n"
        "Would send bob <bob@example.org>: 1 to resolve, 4 closing soon, news on 2 questions, "
        "2 crowd moves, 1 resolved, calibration\n"
        "Would send carol <carol@example.org>: 4 closing soon, news on 3 questions, 2 crowd "
        "moves, 1 resolved, calibration\n"
        "Would send dmitri <dmitri@example.org>: 4 closing soon, news on 1 question, 2 crowd "
        "moves, 1 resolved, calibration\n"
        "Would send erin <erin@example.org>: 1 to resolve, 4 closing soon, 2 crowd moves, "
        "1 resolved\n"
    )
    assert json.loads(world("outbox", "--json").stdout) == []  # nothing queued
    assert not (tmp_path / "outbox").exists()
    with freeze_time(SEND_AT):
        data = json.loads(ok(world("digest", "--json", "--to", "erin")).stdout)
    assert data == {
        "week": WEEK,
        "zone": "Europe/Berlin",
        "first_day": "2027-06-14",
        "last_day": "2027-06-20",
        "mode": "dry run",
        "digests": [
            {
                "handle": "erin",
                "email": "erin@example.org",
                "key": f"digest:{WEEK}:erin",
                "subject": "Forecasts, week 24 of 2027: 1 to resolve, 4 closing soon, 1 resolved",
                "sections": {"resolve": 1, "closing": 4, "moves": 2, "resolved": 1},
                "queued": None,
            }
        ],
        "nothing": [],
        "written": [],
        "delivery": None,
    }


def test_every_section_of_alice_s_digest(world, tmp_path):
    text, html = preview(world, tmp_path, "alice")
    headings = re.findall(r"\n\n\n([A-Z ]+)\n-+\n", text)
    assert headings == [
        "NEEDS YOUR RESOLUTION",
        "CLOSING SOON",
        "NEWS THIS WEEK",
        "FORECAST MOVEMENT",
        "RESOLVED THIS WEEK",
        "YOUR CALIBRATION",
    ]
    for h in ("Needs your resolution", "Closing soon", "News this week", "Forecast movement",
              "Resolved this week", "Your calibration"):  # fmt: skip
        assert f">{h}</h2>" in html

    resolve = section(text, "Needs your resolution")
    # Disputed first (every reviewer is asked), then pending (alice is the one asked).
    assert resolve.index("[DISPUTED]") < resolve.index("[PENDING]")
    assert "bob proposed yes; erin proposed no" in resolve
    for command in (
        "forecasts resolve joint-patrols-2027-below-2025 yes --by alice --evidence URL",
        "forecasts resolve joint-patrols-2027-below-2025 no --by alice --evidence URL",
        "forecasts resolve pla-in-russian-strategic-exercise-2027 yes --by alice --evidence URL",
    ):
        assert f"    {command}\n" in resolve
        assert command in html
    assert "pla-in-russian-strategic-exercise-2027 no" not in resolve  # only what was proposed

    closing = section(text, "Closing soon")
    # Open, closing by 4 July (14 days after the week), alice never forecast them.
    assert re.findall(r"\n  ([a-z0-9-]+), closes (\S+)", closing) == [
        ("china-russia-trade-2027", "2027-06-30"),
        ("china-share-of-russian-imports-2027", "2027-06-30"),
        ("joint-air-patrols-count-2027", "2027-06-30"),
        ("joint-naval-patrols-count-2027", "2027-06-30"),
    ]
    assert "Crowd 245 (p10 215, p90 280); paper 260.53 (p10 222.09, p90 298.98)" in closing
    assert "Crowd no forecasts yet; paper Zero 30%; One 35%; Two or more 35%" in closing
    # alice forecast these in January (over 30 days ago) but they close later.
    assert "engines-new-contract-2028" not in closing

    news = section(text, "News this week")
    titles = re.findall(r"\n  - (.+)", news)
    assert titles == [
        "Example: PLA units arrive in Russia for the strategic command-staff exercise "
        "[POSSIBLE RESOLUTION]",
        "Example: Moscow lists foreign contingents invited to its autumn exercise",
        "Example: Rostec and Chinese buyers discuss AL-31F engine support",
        "Example: China's WS-10 engine output grows, analysts say",
        "Example: Chinese arms makers sign deals at a Gulf defence fair",
    ]  # by question (the one with a possible resolution first), then by score
    assert "https://example.org/news/0" in news
    assert html.count(">possible resolution</span>") == 1

    moves = section(text, "Forecast movement")
    assert "engines-new-contract-2028: crowd 30% -> 55% (+25 points); yours 30%" in moves
    assert "eu-annex-iv-china-entities-2027: crowd 70% -> 80% (+10 points); yours 80%" in moves

    resolved = section(text, "Resolved this week")
    assert "eu-annex-iv-china-entities-2027: resolved yes on 2027-06-16\n" in resolved
    assert "  You   80%, Brier 0.080\n" in resolved
    assert "  Crowd 80%, Brier 0.080\n" in resolved
    assert "  Paper 70%, Brier 0.180\n" in resolved

    # "Your calibration" is the report's numbers, as `forecasts report` gives them for
    # the week's last UTC day.
    report = json.loads(world("report", "--json", "--as-of", "2027-06-20").stdout)
    me = next(e for e in report["forecasters"] if e["forecaster"] == "alice")
    calibration = section(text, "Your calibration")
    assert (
        f"Your Brier: {fmt(me['brier'])} on {me['questions']} resolved questions; the crowd's: "
        f"{fmt(report['crowd']['brier'])} on {report['crowd']['questions']}." in calibration
    )
    assert (
        f"Relative to the crowd without you: {fmt(me['relative_brier'], 'signed')}" in calibration
    )
    rows = re.findall(r"\n  (\d+%-\d+%) +(\d+) +(\d+%) +(\d+%)", calibration)
    expected = [
        (f"{b['low']:.0%}-{b['high']:.0%}", str(b["n"]), fmt(b["mean_forecast"], "pct"),
         fmt(b["observed"], "pct"))
        for b in me["calibration"]
        if b["n"]
    ]  # fmt: skip
    assert rows == expected and sum(int(n) for _, n, _, _ in rows) == me["counts"]["binary"]
    paper = report["paper"]
    assert (
        f"The paper: {paper['came_true']} of {paper['predictions']} resolved predictions came "
        f"true (retrospective {paper['retrospective']['came_true']} of "
        f"{paper['retrospective']['predictions']}, live {paper['live']['came_true']} of "
        f"{paper['live']['predictions']}); Brier {fmt(paper['brier'])}" in calibration
    )
    assert 'src="data:image/png;base64,' in html  # the preview inlines the chart


def test_readers_without_a_forecast_on_a_question_see_none(world, tmp_path):
    text, _ = preview(world, tmp_path, "erin")
    resolved = section(text, "Resolved this week")
    assert "  You   none\n" in resolved and "  Paper 70%, Brier 0.180\n" in resolved
    assert "YOUR CALIBRATION" not in text  # erin has no resolved forecast
    assert "NEWS THIS WEEK" not in text  # nothing on the question she is asked about


def test_untrusted_titles_are_escaped_and_only_http_links_are_links(cli, db_url, tmp_path):
    digest_world.build(cli, db_url, tmp_path, evil=True)
    text, html = preview(cli, tmp_path, "alice")
    title, source = digest_world.EVIL[1], digest_world.EVIL[2]
    assert "<script" not in html.lower() and "<b>Source" not in html
    assert (
        "&lt;script&gt;alert(&#34;digest&#34;)&lt;/script&gt; Engines &amp; &#34;quotes&#34;"
        in html
    )
    assert "Evil &lt;b&gt;Source&lt;/b&gt;" in html
    # No link for it: its URL is javascript:, which reaches neither part.
    assert "javascript" not in html.lower() and "javascript" not in text.lower()
    escaped = html[html.index("&lt;script&gt;") - 200 : html.index("&lt;script&gt;")]
    assert "<a " not in escaped.rsplit("<td", 1)[1]
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://example.org/") for h in hrefs)
    # The text part is plain text: the title as it is, on one line.
    assert f"  - {title}\n    {source}, 2027-06-18\n" in text
    # A long title is cut (with an ellipsis) and its line break folded: it cannot add a
    # line that looks like a command.
    long_line = next(line for line in text.splitlines() if "a very long title" in line)
    assert len(long_line) == len("  - ") + 200 and long_line.endswith("x\u2026")
    assert "\nforecasts resolve china-above" not in text
    (cut,) = re.findall(r"Example: a very long title x+\u2026", html)
    assert len(cut) == 200


def test_a_reviewer_with_nothing_to_resolve(cli, tmp_path):
    """rita reviews, but the only question due is assigned to ann: her digest has no
    'Needs your resolution', and still has the rest."""
    for handle in ("ann", "rita"):
        ok(cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org"))
    (tmp_path / "q.yaml").write_text(
        "questions:\n"
        "  - {id: due-q, title: 'Closed and due?', criteria: 'Yes if so.', opens: 2027-01-01,"
        " closes: 2027-03-31, resolve_by: 2027-05-31, reviewers: [ann]}\n"
        "  - {id: soon-q, title: 'Closing soon?', criteria: 'Yes if so.', opens: 2027-01-01,"
        " closes: 2027-04-09, resolve_by: 2027-05-31}\n"
    )
    ok(cli("sync", "q.yaml"))
    with freeze_time("2027-04-05 07:00"):  # Monday: week 2027-W13 (29 March - 4 April)
        ok(cli("digest", "--preview", "ann.html", "--to", "ann"))
        r = ok(cli("digest", "--preview", "rita.html", "--to", "rita"))
        dry = ok(cli("digest"))
    assert r.stdout.startswith("Digest for 2027-W13: 2027-03-29 to 2027-04-04 (UTC).\n")
    rita = (tmp_path / "rita.txt").read_text()
    assert (
        "NEEDS YOUR RESOLUTION" not in rita
        and "Needs your resolution" not in (tmp_path / "rita.html").read_text()
    )
    assert "forecasts resolve" not in rita
    assert "soon-q, closes 2027-04-09" in section(rita, "Closing soon")
    ann = (tmp_path / "ann.txt").read_text()
    assert "[DUE] Closed and due?" in section(ann, "Needs your resolution")
    assert "    forecasts resolve due-q yes --by ann --evidence URL\n" in ann
    assert dry.stdout.splitlines()[1:] == [
        "Would send ann <ann@example.org>: 1 to resolve, 1 closing soon",
        "Would send rita <rita@example.org>: 1 closing soon",
    ]


def test_a_week_with_nothing_for_a_reader_sends_them_nothing(world, tmp_path):
    """In 2026-W40 the live questions were not open yet and nothing was resolved: only
    alice and bob, who have a calibration (their forecasts on the retrospective
    questions), get a digest."""
    with freeze_time(SEND_AT):
        r = world("digest", "--week", "2026-W40")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1:] == [
        "Would send alice <alice@example.org>: calibration",
        "Would send bob <bob@example.org>: calibration",
        "Nothing this week for carol, dmitri, erin.",
    ]
    # A preview still shows what such a reader would get: nothing.
    text, html = preview(world, tmp_path, "carol", "--week", "2026-W40")
    assert "Nothing needed you this week." in text and "Nothing needed you this week." in html
    assert "<h2" not in html


def test_the_run_for_the_scheduler(world, db_url):
    """The scheduler calls send_digests(runtime, week=None, send=True) and logs
    summary_line()."""
    from forecasts.digest import send_digests
    from forecasts.runtime import Runtime

    with freeze_time(SEND_AT):
        run = send_digests(Runtime(database_url=db_url), week=None, send=True)
        again = send_digests(Runtime(database_url=db_url))
    assert run.summary_line() == (
        f"digest {WEEK} (Europe/Berlin): 5 queued, 0 already queued, 0 with nothing this "
        "week; outbox: 5 sent, 0 queued for retry, 0 failed"
    )
    assert again.summary_line() == (
        f"digest {WEEK} (Europe/Berlin): 0 queued, 5 already queued, 0 with nothing this "
        "week; outbox: 0 sent, 0 queued for retry, 0 failed"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--send", "--preview", "x.html"),
         "Error: --preview: a preview sends nothing; ask for one or the other\n"),
        (("--to", "nobody"),
         "Error: --to: no person with handle 'nobody'; add them with `forecasts people add "
         "nobody`\n"),
        (("--to", "paper"),
         "Error: --to: paper has no email address, so gets no digest; give them one first\n"),
        (("--week", "2027-W99"), "Error: --week: 2027 has no week 99\n"),
        (("--week", "24"), "Error: --week: '24' is not an ISO week; use YYYY-Www, e.g. "
                           "2026-W48\n"),
        (("--week", "2027-W26"), "Error: --week: week 2027-W26 has not ended yet: it ends "
                                 "2027-07-05 00:00 Europe/Berlin; the last full week is "
                                 "2027-W24\n"),
        (("--preview", "no/such/dir/x.html"),
         "Error: --preview: cannot write the file to no/such/dir/x.html: directory "
         "no/such/dir does not exist\n"),
        (("--preview", "x.txt"),
         "Error: --preview: x.txt would be both the HTML and the text file; give a name "
         "ending in .html\n"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(world, tmp_path, args, error):
    with freeze_time(SEND_AT):
        r = world("digest", "--send", *args) if "--to" in args else world("digest", *args)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", error)
    assert json.loads(world("outbox", "--json").stdout) == []
    assert not list(tmp_path.glob("x.*")) and not (tmp_path / "outbox").exists()


def test_a_reader_with_the_digest_off_gets_none(world, tmp_path):
    ok(world("people", "set", "carol", "--no-digest"))
    with freeze_time(SEND_AT):
        r = world("digest", "--to", "carol")
        listed = ok(world("digest"))
    assert (r.exit_code, r.stderr) == (
        2, "Error: --to: carol has the digest turned off; turn it on first\n"
    )  # fmt: skip
    assert "carol" not in listed.stdout
