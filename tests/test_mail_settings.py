"""`[mail]`, `[mail.smtp]` and `[review]` in forecasts.toml: exactly the documented keys,
checked at load, and no password anywhere in the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasts.config import Settings, load_settings
from forecasts.errors import BadInput

# Verbatim from the issue and docs/configuration.md: other docs and tests rely on these.
DOCUMENTED = """\
[mail]
transport = "maildir"            # "maildir" (default) or "smtp"
maildir = "outbox"               # folder, relative to the working folder; created with owner-only permissions
sender = "forecasts <forecasts@localhost>"
timeout = 30                     # seconds, per SMTP operation

[mail.smtp]
host = "localhost"
port = 587
security = "starttls"            # "none", "starttls" or "tls"
user = ""                        # empty: no AUTH
password_env = "FORECASTS_SMTP_PASSWORD"   # the password is read from this environment variable, never from the file

[review]
quorum = 1
reprompt_days = 7
require_evidence = false
"""


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "forecasts.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config=path)


def test_the_documented_keys_are_the_defaults(tmp_path):
    assert load(tmp_path, DOCUMENTED).model_dump(exclude={"config_file"}) == Settings().model_dump(
        exclude={"config_file"}
    )
    mail = Settings().mail
    assert (mail.transport, mail.maildir, mail.timeout) == ("maildir", "outbox", 30.0)
    assert mail.sender_address.addr_spec == "forecasts@localhost"
    assert mail.maildir_path() == tmp_path / "outbox"  # the working folder (tests chdir)
    assert (mail.smtp.port, mail.smtp.security, mail.smtp.user) == (587, "starttls", "")
    review = Settings().review
    assert (review.quorum, review.reprompt_days, review.require_evidence) == (1, 7, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[mail]\ntransport = "pigeon"', "mail.transport: Input should be 'maildir' or 'smtp'"),
        ('[mail]\nsender = "nobody"', "mail.sender: 'nobody' is not an email address"),
        ("[mail]\ntimeout = 0", "mail.timeout: Input should be greater than 0"),
        ('[mail]\npassword = "x"', "mail.password: Extra inputs are not permitted"),
        ('[mail.smtp]\npassword = "x"', "mail.smtp.password: Extra inputs are not permitted"),
        (
            '[mail.smtp]\nsecurity = "ssl"',
            "mail.smtp.security: Input should be 'none', 'starttls' or 'tls'",
        ),
        ("[mail.smtp]\nport = 0", "mail.smtp.port: Input should be greater than or equal to 1"),
        (
            '[mail.smtp]\nuser = "me"\nsecurity = "none"',
            "mail.smtp: user is set but security is none: the password would "
            "cross the network in clear; use starttls or tls",
        ),
        (
            '[mail.smtp]\npassword_env = "MY PASSWORD"',
            "mail.smtp.password_env: 'MY PASSWORD' is not an environment variable name",
        ),
        ("[review]\nquorum = 0", "review.quorum: Input should be greater than or equal to 1"),
        ("[review]\nreprompt = 3", "review.reprompt: Extra inputs are not permitted"),
    ],
)
def test_bad_mail_and_review_settings_are_named(tmp_path, text, message):
    with pytest.raises(BadInput) as e:
        load(tmp_path, text)
    assert message in str(e.value)


def test_the_password_is_read_from_the_environment_only_when_asked(tmp_path, monkeypatch):
    settings = load(tmp_path, '[mail.smtp]\nuser = "mailer"\npassword_env = "MY_SMTP_PW"\n')
    assert settings.mail.smtp.password() is None
    monkeypatch.setenv("MY_SMTP_PW", "hunter2-secret")
    assert settings.mail.smtp.password() == "hunter2-secret"
    assert "hunter2-secret" not in settings.model_dump_json()
    assert "hunter2-secret" not in repr(settings)
