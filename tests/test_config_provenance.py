"""Where each setting came from, and `forecasts config` showing it with secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import make_cli
from forecasts.config import Origin, effective_config, load_settings, mask_secrets
from termhelp import as_pipe, as_terminal, plain

TOML = """
[database]
busy_timeout = 10

[news]
feeds = [{name = "wire", url = "https://user:feedpass@feeds.example.org/rss"}]

[mail]
transport = "smtp"

[mail.smtp]
host = "smtp.example.org"
user = "bot"
password_env = "BOT_SMTP_PASSWORD"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "forecasts.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_each_value_remembers_its_layer(config_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("FORECASTS_DATABASE_URL", "postgresql://bob:pw@db.example.org/f")
    s = load_settings()
    where = str(config_file.name)
    assert s.origin("database.url") == Origin("environment", "FORECASTS_DATABASE_URL")
    assert s.origin("database.busy_timeout") == Origin("file", where)
    assert s.origin("mail.smtp.host") == Origin("file", where)
    assert s.origin("mail.smtp.port") == Origin("default")
    assert s.origin("news.feeds") == Origin("file", where)
    assert s.origin("news.gdelt") == Origin("default")
    assert s.origin("config_file") == Origin("default")  # found in the working folder
    s = load_settings(database_url="sqlite:///x.db", config=config_file)
    assert s.origin("database.url") == Origin("option", "database_url")  # beats the variable
    assert s.origin("config_file") == Origin("option", "config")
    monkeypatch.setenv("FORECASTS_CONFIG", str(config_file))
    assert load_settings().origin("config_file") == Origin("environment", "FORECASTS_CONFIG")


def test_without_a_file_everything_is_a_default(tmp_path: Path) -> None:
    s = load_settings()
    assert s.config_file is None
    assert {e.origin for e in effective_config(s)} == {Origin("default")}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql+psycopg://bob:s3cr%40t@db:5432/f", "postgresql+psycopg://bob:***@db:5432/f"),
        ("postgresql://bob:p@ss@host/db", "postgresql://bob:***@host/db"),
        ("postgresql://bob@host/db", "postgresql://bob@host/db"),
        ("sqlite:///forecasts.db", "sqlite:///forecasts.db"),
        (
            "https://feeds.example.org:8080/rss?to=a@b.org",
            "https://feeds.example.org:8080/rss?to=a@b.org",
        ),
    ],
)
def test_passwords_in_urls_are_masked(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_effective_config_masks_secrets_and_says_whether_the_password_is_set(
    config_file: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FORECASTS_DATABASE_URL", "postgresql://bob:dbpass@db.example.org/f")
    entries = {e.key: e for e in effective_config(load_settings())}
    assert entries["database.url"].value == "postgresql://bob:***@db.example.org/f"
    assert entries["news.feeds"].value == [
        {"name": "wire", "url": "https://user:***@feeds.example.org/rss", "timezone": None}
    ]
    pw = entries["mail.smtp.password_env"]
    assert (pw.value, pw.note) == ("BOT_SMTP_PASSWORD", "not set")
    monkeypatch.setenv("BOT_SMTP_PASSWORD", "hunter2")
    pw = {e.key: e for e in effective_config(load_settings())}["mail.smtp.password_env"]
    assert (pw.value, pw.note) == ("BOT_SMTP_PASSWORD", "set")


def test_config_command_never_prints_a_secret(config_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("FORECASTS_DATABASE_URL", "postgresql://bob:dbpass@db.example.org/f")
    monkeypatch.setenv("BOT_SMTP_PASSWORD", "hunter2")
    cli = make_cli(None)
    for args in (("config",), ("config", "--json"), ("config", "--wide"), ("config", "--tsv")):
        for mode in (as_pipe, as_terminal):
            mode(monkeypatch)
            out = cli(*args).output
            for secret in ("dbpass", "hunter2", "feedpass"):
                assert secret not in out, (args, mode.__name__, secret)


def test_config_json_lists_every_setting_with_its_source(config_file: Path, monkeypatch) -> None:
    r = make_cli("sqlite:///other.db")("config", "--json")
    assert r.exit_code == 0, r.output
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    assert rows["database.url"] == {
        "key": "database.url",
        "value": "sqlite:///other.db",
        "source": "option",
        "where": "database_url",
        "note": None,
    }
    assert (rows["mail.smtp.host"]["source"], rows["mail.smtp.host"]["where"]) == (
        "file",
        "forecasts.toml",
    )
    assert rows["review.quorum"]["source"] == "default"
    assert rows["mail.smtp.password_env"]["note"] == "not set"


def test_config_text_at_a_terminal_and_piped(config_file: Path, monkeypatch) -> None:
    cli = make_cli("sqlite:///other.db")
    as_terminal(monkeypatch, 100)
    lines = plain(cli("config").stdout).splitlines()
    assert lines[0] == "Config file: forecasts.toml (found in the working folder)."
    assert lines[2].split() == ["key", "value", "from"]
    by_key = {line.split()[0]: line for line in lines[3:]}
    assert by_key["database.url"].split() == [
        "database.url",
        "sqlite:///other.db",
        "option",
        "--db",
    ]
    assert by_key["mail.smtp.password_env"].split()[1:] == [
        "BOT_SMTP_PASSWORD", "(not", "set)", "file",
    ]  # fmt: skip
    assert by_key["news.feeds"].split()[1:3] == ["1:", "wire"]
    as_pipe(monkeypatch)
    piped = cli("config").stdout
    assert "\x1b" not in piped
    assert piped.splitlines()[2].split() == ["key", "value", "from"]
    lines = cli("config", "--tsv").stdout.splitlines()
    assert lines[0] == "key\tvalue\tsource"
    assert "database.busy_timeout\t10.0\tfile" in lines
