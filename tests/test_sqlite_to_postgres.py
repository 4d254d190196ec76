"""The documented migration path (docs/deploy.md): export from SQLite, import into
PostgreSQL, and get every row back exactly."""

from __future__ import annotations

import json

from freezegun import freeze_time

from conftest import make_cli, requires_postgres


def _fill(cli) -> None:  # type: ignore[no-untyped-def]
    with freeze_time("2027-01-05 08:30:00.123456"):
        assert (
            cli(
                "people", "add", "alice", "--name", "Alice Ng", "--email", "a@example.org"
            ).exit_code
            == 0
        )
        assert cli("people", "add", "rev", "--reviewer", "--no-digest").exit_code == 0
        for args in (
            ["--id", "b-1", "--title", "Binary?", "--tag", "engines"],
            ["--id", "c-1", "--title", "Choice?", "--type", "choice", "--option", "Russia", "--option", "France", "--option", "Other"],
            ["--id", "n-1", "--title", "Numeric?", "--type", "numeric", "--min", "0", "--max", "30", "--unit", "%"],
        ):  # fmt: skip
            r = cli("add", *args, "--opens", "2027-01-01", "--closes", "2027-03-31",
                    "--resolve-by", "2027-06-30", "--criteria", "Per SIPRI.",
                    "--source", "https://www.sipri.org/databases/armstransfers")  # fmt: skip
            assert r.exit_code == 0, r.output
        assert (
            cli("predict", "b-1", "0.65", "--by", "alice", "--note", "naïve — ünïcode").exit_code
            == 0
        )
        assert (
            cli("predict", "c-1", "Russia=0.5,France=0.2,Other=0.3", "--by", "alice").exit_code == 0
        )
        assert cli("predict", "n-1", "p10=3.5,p50=5.6,p90=7", "--by", "alice").exit_code == 0
    with freeze_time("2027-02-01 10:00:00.000001"):
        assert (
            cli("predict", "b-1", "7:3", "--by", "alice", "--at", "2027-01-20T12:00:00").exit_code
            == 0
        )
        assert (
            cli(
                "resolve", "b-1", "yes", "--by", "rev", "--evidence", "https://example.org/a"
            ).exit_code
            == 0
        )
        assert (
            cli("resolve", "b-1", "no", "--by", "rev", "--correct", "--reason", "misread").exit_code
            == 0
        )


@requires_postgres
def test_export_from_sqlite_imports_exactly_into_postgres(tmp_path, db_url, empty_db_url):
    from forecasts.store import db

    assert db_url.startswith("postgresql")
    sqlite_url = f"sqlite:///{tmp_path / 'team.db'}"
    lite = make_cli(sqlite_url)
    assert lite("init").exit_code == 0
    _fill(lite)
    dump = tmp_path / "dump.json"
    assert lite("export", "--out", str(dump)).exit_code == 0

    pg = make_cli(db_url)
    r = pg("import", str(dump))
    assert r.exit_code == 0, r.output

    again = tmp_path / "again.json"
    assert pg("export", "--out", str(again)).exit_code == 0
    a, b = json.loads(dump.read_text()), json.loads(again.read_text())
    assert a["tables"] == b["tables"]
    assert sum(len(rows) for rows in a["tables"].values()) >= 10

    # Sequences moved past the imported ids: a new row gets a fresh id, no collision.
    import datetime as dt

    from forecasts.store.models import Forecast

    imported_max = max(row["id"] for row in a["tables"]["forecast"])
    with db.session_scope(db.get_engine(db_url), write=True) as session:
        f = Forecast(question_id="b-1", person="alice", value=0.5,
                     made_at=dt.datetime(2027, 1, 2, tzinfo=dt.UTC))  # fmt: skip
        session.add(f)
        session.flush()
        assert f.id == imported_max + 1
