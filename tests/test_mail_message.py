"""Building messages: text + HTML alternatives, inline images, headers that data cannot
break, untrusted text escaped and capped, only http(s) links."""

from __future__ import annotations

import email
import email.policy

import pytest

from forecasts.mail.message import (
    POLICY,
    InlineImage,
    address,
    build_message,
    oneline,
    render,
)
from forecasts.mail.settings import parse_address

SENDER = parse_address("forecasts <forecasts@example.org>")


def reparsed(msg):
    """The message as a receiver parses it from the bytes we would send."""
    return email.message_from_bytes(msg.as_bytes(policy=POLICY), policy=email.policy.default)


def test_a_message_is_text_and_html_alternatives_in_seven_bit():
    msg = build_message(
        sender=SENDER,
        to=[address("ann@example.org", "Ann Lee")],
        subject="Résumé of the week",
        text="Hello — plain ünïcode\n",
        html="<p>Hello — <b>ünïcode</b></p>\n",
    )
    raw = msg.as_bytes(policy=POLICY)
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\n")) <= 78
    got = reparsed(msg)
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert got.get_body(("plain",)).get_content() == "Hello — plain ünïcode\n"
    assert got.get_body(("html",)).get_content() == "<p>Hello — <b>ünïcode</b></p>\n"
    assert got["Subject"] == "Résumé of the week"
    assert got["To"] == "Ann Lee <ann@example.org>"
    assert got["From"] == "forecasts <forecasts@example.org>"


@pytest.mark.parametrize(
    "evil",
    [
        "Hi\nBcc: evil@example.org",
        "Hi\r\nBcc: evil@example.org",
        "Hi\rBcc: evil@example.org",
        "Hi\u2028Bcc: evil@example.org",
        "Hi\x85Bcc: evil@example.org",
        "Hi\n\nbody injected",
    ],
)
def test_a_line_break_in_data_cannot_add_a_header(evil):
    msg = build_message(
        sender=SENDER,
        to=[address("ann@example.org", evil)],
        subject=evil,
        text="t",
        html="<p>h</p>",
        headers={"X-Question": evil},
    )
    got = reparsed(msg)
    assert got["Bcc"] is None
    assert (
        got.get_all("To") == [got["To"]] and got["To"].addresses[0].addr_spec == "ann@example.org"
    )
    assert "\n" not in got["Subject"] and got["Subject"].startswith("Hi ")
    assert got["X-Question"].startswith("Hi ")
    assert got.get_body(("plain",)).get_content() == "t\n"


def test_an_address_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        parse_address("ann@example.org\nBcc: x@example.org")
    with pytest.raises(ValueError, match="not an email address"):
        parse_address("ann")


def test_a_long_subject_is_capped():
    msg = build_message(
        sender=SENDER, to=[address("a@example.org")], subject="x" * 500, text="t", html="h"
    )
    assert len(reparsed(msg)["Subject"]) == 200


def test_oneline_folds_control_characters_and_caps_with_an_ellipsis():
    assert oneline("a\n\tb\x00c\u2029 d") == "a b c d"
    assert oneline("abcdef", 4) == "abc\u2026"
    assert oneline(None) == ""


def test_inline_images_make_the_html_related():
    png = b"\x89PNG\r\n\x1a\nfake"
    msg = build_message(
        sender=SENDER,
        to=[address("a@example.org")],
        subject="Digest",
        text="See the chart.\n",
        html='<p><img src="cid:chart@forecasts" alt="chart"></p>\n',
        images=[InlineImage(cid="chart@forecasts", data=png, filename="chart.png")],
    )
    got = reparsed(msg)
    assert got.get_content_type() == "multipart/alternative"
    text, related = got.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert 'src="cid:chart@forecasts"' in html.get_content()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<chart@forecasts>"
    assert image.get_content() == png
    assert got.get_body(("html",)).get_content() == html.get_content()


def test_a_content_id_must_be_safe():
    with pytest.raises(ValueError, match="not a content id"):
        InlineImage(cid="chart>\r\nX: y", data=b"")


PROMPT_CONTEXT = {
    "handle": "ann",
    "name": "Ann <b>",
    "more": 0,
    "day": "2027-04-02",
    "reprompt_days": 7,
    "quorum": 1,
    "require_evidence": False,
    "questions": [
        {
            "id": "q1",
            "title": "Will <script>alert(1)</script> happen?",
            "reason": "closed",
            "reason_label": "closed",
            "why": "closed on 2027-03-31",
            "closes": "2027-03-31",
            "resolve_by": "2027-04-30",
            "crowd": "70%",
            "paper": "85%",
            "criteria": "Yes if <b>so</b> & more.",
            "fine_print": "Only official reports.",
            "proposals": [],
            "news_heading": "News since it closed",
            "articles": [
                {
                    "title": "<img src=x onerror=alert(1)>\nforecasts resolve q1 no --by ann",
                    "source": "wire",
                    "date": "2027-04-01",
                    "url": "javascript:alert(1)",
                    "flagged": False,
                },
                {
                    "title": "Engine contract signed",
                    "source": "wire",
                    "date": "2027-04-01",
                    "url": "https://news.example.org/a?x=1&y=2",
                    "flagged": True,
                },
            ],
            "commands": ["forecasts resolve q1 yes --by ann --evidence URL"],
        }
    ],
}


def test_templates_escape_html_and_link_only_http_urls():
    body = render("prompt", PROMPT_CONTEXT)
    html, text = body.html, body.text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html and "javascript:" not in text
    assert '<a href="https://news.example.org/a?x=1&amp;y=2">Engine contract signed</a>' in html
    assert "Yes if &lt;b&gt;so&lt;/b&gt; &amp; more." in html
    assert "<details" in html and "Fine print" in html
    # The text part is not HTML-escaped, and an article title cannot start a line of its
    # own (a fake command on a line by itself).
    assert "Yes if <b>so</b> & more." in text
    assert "https://news.example.org/a?x=1&y=2" in text
    assert "\n     forecasts resolve q1 yes --by ann --evidence URL\n" in text
    assert not any(line.strip().startswith("forecasts resolve q1 no") for line in text.splitlines())
