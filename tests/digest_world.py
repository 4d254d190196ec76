"""A team's week on the shipped questions.yaml, for the digest tests and the screenshot in
docs/digest.md: people, forecasts, proposals and resolutions made through the real CLI
under a frozen clock, and matched articles stored through the news store.

The week is 2027-W24 (Monday 14 to Sunday 20 June 2027) in Europe/Berlin; the digest is
sent on Monday 21 June. Everything that happens in it is made up for the example: the
articles' URLs are on example.org and their titles say "example".
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from conftest import REPO

WEEK = "2027-W24"
SEND_AT = "2027-06-21 06:30"  # UTC: Monday 08:30 in Berlin
CONFIG = '[review]\nquorum = 2\n\n[schedule]\ntimezone = "Europe/Berlin"\n'

#: (handle, roles) of the team; everyone has an email address at example.org.
TEAM = (("alice", ("--reviewer",)), ("bob", ("--reviewer",)), ("erin", ("--reviewer",)),
        ("carol", ()), ("dmitri", ()))  # fmt: skip

# The retrospective questions' outcomes are in questions.yaml; alice's and bob's forecasts
# on them are "imported history" (backdated into their 2022 window), so they have a
# calibration. (alice, bob) per question:
RETRO_FORECASTS = {
    "retro-china-share-of-russian-arms-exports-2021-25": (0.75, 0.9),
    "retro-china-global-arms-export-share-2021-25": (0.6, 0.8),
    "retro-china-above-russia-arms-exports-2021-25": (0.35, 0.2),
    "retro-pla-in-russian-strategic-exercise-2022-23": (0.55, 0.4),
    "retro-joint-air-patrols-yearly-2023-25": (0.8, 0.9),
    "retro-joint-naval-patrols-yearly-2023-25": (0.7, 0.85),
    "retro-cr929-russia-leaves-2022-25": (0.4, 0.2),
    "retro-ahl-joint-work-confirmed-2022-26": (0.45, 0.6),
    "retro-missile-defence-cooperation-2022-26": (0.65, 0.75),
    "retro-ilrs-intergovernmental-agreement-2022-26": (0.3, 0.5),
    "retro-china-russia-trade-200bn-2023-24": (0.85, 0.95),
}


def build(cli: Callable[..., Any], db_url: str, tmp_path: Path, *, evil: bool = False) -> None:
    """The whole world, in order. ``evil`` adds an article whose title holds a script
    and whose link is ``javascript:``."""
    (tmp_path / "forecasts.toml").write_text(CONFIG, encoding="utf-8")
    shutil.copy(REPO / "questions.yaml", tmp_path / "questions.yaml")
    with freeze_time("2026-12-01 09:00"):
        ok(cli("init"))
        for handle, roles in TEAM:
            ok(cli("people", "add", handle, "--name", handle.title(),
                   "--email", f"{handle}@example.org", *roles))  # fmt: skip
        for qid, by in RETRO_FORECASTS.items():
            for handle, p in zip(("alice", "bob"), by, strict=True):
                ok(cli("predict", qid, str(p), "--by", handle, "--at", "2022-07-01T09:00:00Z"))
    early = {  # January 2027: everyone's first look
        "pla-in-russian-strategic-exercise-2027": {"alice": 0.6, "bob": 0.7, "carol": 0.65},
        "eu-annex-iv-china-entities-2027": {"alice": 0.8, "bob": 0.75, "carol": 0.6, "dmitri": 0.7},
        "joint-patrols-2027-below-2025": {"alice": 0.4, "carol": 0.5, "dmitri": 0.45},
        "china-russia-trade-2027": {"bob": "p10=215,p50=245,p90=280"},
        "engines-new-contract-2028": {"alice": 0.3, "carol": 0.25, "dmitri": 0.35},
        "china-above-russia-arms-exports-2027": {"alice": 0.2, "bob": 0.3, "carol": 0.35},
    }
    with freeze_time("2027-01-15 10:00"):
        for qid, by in early.items():
            for handle, value in by.items():
                ok(cli("predict", qid, str(value), "--by", handle))
    with freeze_time("2027-06-15 08:00"):  # in the week: the crowd moves
        ok(cli("predict", "engines-new-contract-2028", "0.55", "--by", "carol"))
        ok(cli("predict", "engines-new-contract-2028", "0.6", "--by", "dmitri"))
        ok(cli("predict", "china-above-russia-arms-exports-2027", "0.55", "--by", "bob"))
        ok(cli("predict", "eu-annex-iv-china-entities-2027", "0.9", "--by", "dmitri"))
    with freeze_time("2027-06-16 15:00"):  # resolved by two reviewers (quorum 2)
        for who in ("alice", "bob"):
            ok(cli("resolve", "eu-annex-iv-china-entities-2027", "yes", "--by", who,
                   "--evidence", "https://example.org/eu-annex-iv", "--on", "2027-06-16"))  # fmt: skip
    with freeze_time("2027-06-17 11:00"):  # a pending proposal, and a dispute
        ok(cli("resolve", "pla-in-russian-strategic-exercise-2027", "yes", "--by", "bob",
               "--evidence", "https://example.org/exercise"))  # fmt: skip
        ok(cli("resolve", "joint-patrols-2027-below-2025", "yes", "--by", "bob",
               "--evidence", "https://example.org/patrols-1"))  # fmt: skip
        ok(cli("resolve", "joint-patrols-2027-below-2025", "no", "--by", "erin",
               "--evidence", "https://example.org/patrols-2"))  # fmt: skip
    add_articles(db_url, evil=evil)


ARTICLES = (
    # (question, title, source, published, score, possible resolution)
    ("pla-in-russian-strategic-exercise-2027",
     "Example: PLA units arrive in Russia for the strategic command-staff exercise",
     "Example Wire", "2027-06-16T07:30:00", 3.2, True),
    ("pla-in-russian-strategic-exercise-2027",
     "Example: Moscow lists foreign contingents invited to its autumn exercise",
     "Example Daily", "2027-06-15T12:00:00", 1.9, False),
    ("engines-new-contract-2028",
     "Example: Rostec and Chinese buyers discuss AL-31F engine support",
     "Example Aviation", "2027-06-17T09:10:00", 2.4, False),
    ("engines-new-contract-2028",
     "Example: China's WS-10 engine output grows, analysts say",
     "Example Defence", "2027-06-18T16:00:00", 1.1, False),
    ("china-above-russia-arms-exports-2027",
     "Example: Chinese arms makers sign deals at a Gulf defence fair",
     "Example Wire", "2027-06-19T10:00:00", 2.0, False),
)  # fmt: skip
EVIL = ("engines-new-contract-2028", '<script>alert("digest")</script> Engines & "quotes"',
        "Evil <b>Source</b>", "2027-06-18T08:00:00", 5.0, False)  # fmt: skip
EVIL_URL = "javascript:alert(document.cookie)"
#: A title far too long, with a line break that tries to start a line of its own.
LONG = ("china-above-russia-arms-exports-2027", "Example: a very long title " + "x" * 3000
        + "\nforecasts resolve china-above-russia-arms-exports-2027 yes", "Example Wire",
        "2027-06-17T08:00:00", 0.3, False)  # fmt: skip


def add_articles(db_url: str, *, evil: bool = False) -> None:
    """Articles published in the week, matched to questions, through the news store."""
    from forecasts.news.store import NewArticle, NewMatch, insert_matches, upsert_articles
    from forecasts.runtime import Runtime

    rows = list(ARTICLES) + ([EVIL, LONG] if evil else [])
    runtime = Runtime(database_url=db_url)
    with freeze_time("2027-06-20 12:00"), runtime.session(write=True) as s:
        for i, (qid, title, source, published, score, flagged) in enumerate(rows):
            url = EVIL_URL if title == EVIL[1] else f"https://example.org/news/{i}"
            when = dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC)
            [(aid, _)] = upsert_articles(s, articles=[NewArticle(url, title, None, source, when)])
            insert_matches(
                s,
                matches=[
                    NewMatch(aid, qid, score, ["example"], ["took part"] if flagged else [],
                             flagged)
                ],
            )  # fmt: skip


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result
