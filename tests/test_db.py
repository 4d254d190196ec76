"""The database: SQLite tuning, where the URL comes from, init, `db current | upgrade`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import PG_URL, make_cli
from forecasts.store import db

HEAD = db.head_revision()

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="about SQLite")


# ---------------------------------------------------------------- SQLite pragmas


@sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(db_url):
    engine = db.get_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@sqlite_only
def test_the_busy_timeout_comes_from_the_config(tmp_path, db_url):
    (tmp_path / "forecasts.toml").write_text(
        f'[database]\nurl = "{db_url}"\nbusy_timeout = 2.5\n', encoding="utf-8"
    )
    from forecasts.cli import _common

    cli = make_cli(None)
    assert cli("people", "list", "--json").exit_code == 0
    with _common.runtime().engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500


@sqlite_only
def test_foreign_keys_are_enforced(db_url):
    import sqlalchemy as sa

    engine = db.get_engine(db_url)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO forecast (question_id, person, value, made_at, recorded_at) "
            "VALUES ('nope', 'nobody', '0.5', '2027-01-01 00:00:00', '2027-01-01 00:00:00')"
        )


@sqlite_only
def test_the_file_stays_in_wal_mode_for_other_readers(tmp_path):
    cli = make_cli(f"sqlite:///{tmp_path / 'x.db'}")
    assert cli("init").exit_code == 0
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


# ---------------------------------------------------------------- where the URL comes from


def _init_reports(cli) -> str:
    r = cli("init")
    assert (r.exit_code, r.stderr) == (0, ""), r.output
    return r.stdout


def test_default_database_is_forecasts_db_in_the_working_directory(tmp_path):
    out = _init_reports(make_cli(None))
    assert out == f"Created database sqlite:///forecasts.db (schema {HEAD}).\n"
    assert (tmp_path / "forecasts.db").is_file()


def test_precedence_db_option_then_env_then_toml_then_default(tmp_path, monkeypatch):
    (tmp_path / "forecasts.toml").write_text(
        '[database]\nurl = "sqlite:///toml.db"\n', encoding="utf-8"
    )
    assert _init_reports(make_cli(None)).startswith("Created database sqlite:///toml.db ")

    monkeypatch.setenv("FORECASTS_DATABASE_URL", "sqlite:///env.db")
    assert _init_reports(make_cli(None)).startswith("Created database sqlite:///env.db ")

    assert _init_reports(make_cli("sqlite:///cli.db")).startswith(
        "Created database sqlite:///cli.db "
    )
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["cli.db", "env.db", "toml.db"]


def test_config_file_from_option_or_environment(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "a.toml").write_text('[database]\nurl = "sqlite:///a.db"\n', encoding="utf-8")
    (conf / "b.toml").write_text('[database]\nurl = "sqlite:///b.db"\n', encoding="utf-8")
    (tmp_path / "forecasts.toml").write_text(
        '[database]\nurl = "sqlite:///default.db"\n', encoding="utf-8"
    )
    monkeypatch.setenv("FORECASTS_CONFIG", str(conf / "b.toml"))
    assert _init_reports(make_cli(None)).startswith("Created database sqlite:///b.db ")
    cli = make_cli(None)
    r = cli("--config", str(conf / "a.toml"), "init")
    assert r.stdout.startswith("Created database sqlite:///a.db ")
    assert not (tmp_path / "default.db").exists()


def test_missing_or_invalid_config_is_a_one_line_error(tmp_path, monkeypatch):
    cli = make_cli(None)
    r = cli("--config", "nope.toml", "list")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --config: config file nope.toml not found\n",
    )
    (tmp_path / "forecasts.toml").write_text("[database\n", encoding="utf-8")
    r = cli("list")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: forecasts.toml: invalid TOML: ")
    assert r.stderr.count("\n") == 1
    (tmp_path / "forecasts.toml").write_text("[database]\nport = 5\n", encoding="utf-8")
    r = cli("list")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: forecasts.toml: database.port: Extra inputs")
    monkeypatch.setenv("FORECASTS_CONFIG", "missing.toml")
    r = cli("list")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: config file missing.toml (from FORECASTS_CONFIG) not found\n",
    )


def test_a_password_in_the_url_is_never_printed(tmp_path):
    cli = make_cli("postgresql://user:s3cret@127.0.0.1:1/nowhere")
    r = cli("list")
    assert r.exit_code != 0
    assert "s3cret" not in r.output
    assert "Traceback" not in r.output
    assert r.stderr.startswith("Error: ")


# ---------------------------------------------------------------- init and db commands


def test_init_creates_then_reports_up_to_date(empty_db_url):
    cli = make_cli(empty_db_url)
    url = db.safe_url(empty_db_url)
    r = cli("init")
    assert (r.exit_code, r.stdout) == (0, f"Created database {url} (schema {HEAD}).\n")
    r = cli("init")
    assert (r.exit_code, r.stdout) == (0, f"Database {url} is up to date (schema {HEAD}).\n")
    people = cli("people", "list", "--json")
    assert '"handle": "paper"' in people.stdout


def test_init_syncs_questions_yaml_when_present(empty_db_url, tmp_path):
    (tmp_path / "questions.yaml").write_text(
        "questions:\n  - id: q1\n    title: Q?\n    criteria: c\n    opens: 2027-01-01\n"
        "    closes: 2027-02-01\n    resolve_by: 2027-03-01\n",
        encoding="utf-8",
    )
    cli = make_cli(empty_db_url)
    r = cli("init")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == "Synced questions.yaml: 1 added, 0 updated, 0 unchanged."
    assert cli("show", "q1").exit_code == 0


def test_init_with_a_missing_questions_file_writes_nothing(empty_db_url):
    cli = make_cli(empty_db_url)
    r = cli("init", "--questions", "nope.yaml")
    assert (r.exit_code, r.stderr) == (2, "Error: nope.yaml: file not found\n")
    r = cli("db", "current")
    assert r.exit_code == 1
    assert r.stdout.startswith("not initialised")


def test_db_current_and_upgrade(empty_db_url):
    cli = make_cli(empty_db_url)
    url = db.safe_url(empty_db_url)
    r = cli("db", "current")
    assert (r.exit_code, r.stdout) == (
        1,
        f"not initialised (this version's schema is {HEAD}); run `forecasts init`\n",
    )
    r = cli("db", "upgrade")
    assert (r.exit_code, r.stdout) == (0, f"Upgraded database {url} from schema empty to {HEAD}.\n")
    r = cli("db", "current")
    assert (r.exit_code, r.stdout) == (0, f"{HEAD} (up to date)\n")
    r = cli("db", "upgrade")
    assert (r.exit_code, r.stdout) == (0, f"Database {url} is up to date (schema {HEAD}).\n")


@pytest.mark.skipif(HEAD == "0001", reason="needs a revision after 0001")
def test_a_database_behind_head_is_refused_until_upgraded(empty_db_url):
    db.upgrade(db.get_engine(empty_db_url), "0001")
    cli = make_cli(empty_db_url)
    url = db.safe_url(empty_db_url)
    r = cli("db", "current")
    assert (r.exit_code, r.stdout) == (0, f"0001 (behind {HEAD}; run `forecasts db upgrade`)\n")
    r = cli("list")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: database schema is at 0001 but this version needs {HEAD}; "
        "run `forecasts db upgrade`\n",
    )
    r = cli("db", "upgrade")
    assert (r.exit_code, r.stdout) == (0, f"Upgraded database {url} from schema 0001 to {HEAD}.\n")
    assert cli("list").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("show", "q1"),
        ("due",),
        ("people", "list"),
        ("people", "add", "ann"),
        ("predict", "q1", "0.5", "--by", "ann"),
        ("resolve", "q1", "yes", "--by", "ann"),
        ("sync",),
        ("export",),
    ],
)
def test_commands_on_an_uninitialised_database_say_to_run_init(empty_db_url, tmp_path, args):
    (tmp_path / "questions.yaml").write_text("questions: []\n", encoding="utf-8")
    cli = make_cli(empty_db_url)
    r = cli(*args)
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert r.stdout == ""
    assert r.stderr == (
        f"Error: database {db.safe_url(empty_db_url)} is not initialised; run `forecasts init`\n"
    )


@sqlite_only
def test_a_missing_directory_is_a_one_line_error(tmp_path):
    cli = make_cli(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    r = cli("list")
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert r.stderr.startswith("Error: database error (sqlite:///")
    assert r.stderr.count("\n") == 1


def test_unusable_database_urls(tmp_path: Path):
    r = make_cli("nonsense")("list")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: cannot use database URL ")
    r = make_cli("mysql://u@localhost/x")("list")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ")
    assert "Traceback" not in r.output


@sqlite_only
@pytest.mark.parametrize("command", [("list",), ("init",), ("db", "current")])
def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path, command):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    r = make_cli(f"sqlite:///{path}")(*command)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == (
        f"Error: database error (sqlite:///{path}): {path} is not a SQLite database; "
        "check the database URL (--db, FORECASTS_DATABASE_URL or [database] url)\n"
    )
    assert path.read_text(encoding="utf-8").startswith("these are my notes")


@sqlite_only
def test_a_directory_as_the_database_names_the_problem(tmp_path):
    r = make_cli(f"sqlite:///{tmp_path}")("list")
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: database error (sqlite:///{tmp_path}): {tmp_path} is a directory; "
        f"give a file, e.g. sqlite:///{tmp_path / 'forecasts.db'}\n"
    )


@sqlite_only
def test_a_missing_directory_names_it(tmp_path):
    r = make_cli(f"sqlite:///{tmp_path / 'no' / 'dir.db'}")("init")
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: database error (sqlite:///{tmp_path / 'no' / 'dir.db'}): "
        f"directory {tmp_path / 'no'} does not exist; create it or choose another path\n"
    )
    assert not (tmp_path / "no").exists()


@sqlite_only
def test_a_read_only_database_says_what_to_make_writable(tmp_path):
    # Root ignores file modes, so the driver's message is fed in directly.
    engine = db.get_engine(f"sqlite:///{tmp_path / 'ro.db'}")
    msg = db._explain(Exception("attempt to write a readonly database"), engine)
    assert msg == (
        f"database error (sqlite:///{tmp_path / 'ro.db'}): attempt to write a readonly "
        f"database; make {tmp_path / 'ro.db'} and its directory writable "
        "(SQLite in WAL mode writes beside the file, even to read)"
    )


@sqlite_only
def test_db_current_on_a_missing_file_does_not_create_it(tmp_path):
    r = make_cli(f"sqlite:///{tmp_path / 'typo.db'}")("db", "current")
    assert r.exit_code == 1
    assert r.stdout.startswith("not initialised")
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("url", ["nonsense", "forecasts.db", "postgresql://u:secret@host:port/db"])
def test_a_malformed_database_url_is_one_line_with_an_example(url):
    r = make_cli(url)("list")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: cannot use database URL ")
    assert r.stderr.endswith(
        "; use e.g. sqlite:///forecasts.db or postgresql://user:password@host/dbname\n"
    )
    assert r.stderr.count("\n") == 1
    assert "secret" not in r.stderr
