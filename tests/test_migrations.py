"""The Alembic migrations agree with the models, and upgrading keeps every row."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from freezegun import freeze_time

from conftest import make_cli
from forecasts.store import db


def test_migrations_match_the_models(db_url):
    engine = db.get_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.load_models())
    assert diff == []


def test_every_model_table_is_created_by_the_migrations(db_url):
    engine = db.get_engine(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in db.load_models().sorted_tables} <= tables
    assert "alembic_version" in tables


def test_db_current_after_init_is_head(empty_db_url):
    cli = make_cli(empty_db_url)
    assert cli("init").exit_code == 0
    r = cli("db", "current")
    assert (r.exit_code, r.stdout) == (0, f"{db.head_revision()} (up to date)\n")
    assert db.current_revision(db.get_engine(empty_db_url)) == db.head_revision()


T0 = dt.datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _fill_0001(conn: sa.Connection) -> None:
    """Rows in every table of revision 0001, written with 0001's own columns."""
    meta = sa.MetaData()
    meta.reflect(conn)
    t = meta.tables
    conn.execute(
        t["person"].insert(),
        [
            {
                "handle": "paper",
                "name": "The paper",
                "email": None,
                "roles": ["forecaster"],
                "digest": False,
                "created_at": T0,
            },
            {
                "handle": "ann",
                "name": "Ann",
                "email": "ann@example.org",
                "roles": ["forecaster", "reviewer"],
                "digest": True,
                "created_at": T0,
            },
        ],
    )
    conn.execute(
        t["question"].insert(),
        [
            {
                "id": "q1",
                "title": "Q one?",
                "type": "choice",
                "options": ["A", "B"],
                "unit": None,
                "range_min": None,
                "range_max": None,
                "criteria": "c",
                "fine_print": "fp",
                "sources": [{"url": "https://example.org"}],
                "opens": dt.date(2027, 3, 1),
                "closes": dt.date(2027, 3, 31),
                "resolve_by": dt.date(2027, 4, 30),
                "tags": ["x"],
                "claim_section": "S",
                "claim_quote": "Q",
                "news_query": "n",
                "resolution_terms": ["t"],
                "reviewers": ["ann"],
                "created_at": T0,
                "updated_at": T0,
            },
        ],
    )
    conn.execute(
        t["forecast"].insert(),
        [
            {
                "id": 1,
                "question_id": "q1",
                "person": "ann",
                "value": {"A": 0.25, "B": 0.75},
                "made_at": T0,
                "recorded_at": T0,
                "note": "n",
            },
            {
                "id": 2,
                "question_id": "q1",
                "person": "paper",
                "value": {"A": 0.5, "B": 0.5},
                "made_at": T0,
                "recorded_at": T0,
                "note": None,
            },
        ],
    )
    conn.execute(
        t["question_revision"].insert(),
        [
            {
                "id": 1,
                "question_id": "q1",
                "changed_at": T0,
                "changes": {"criteria": ["a", "c"]},
                "reason": "sync",
                "forced": False,
            }
        ],
    )
    conn.execute(
        t["resolution"].insert(),
        [
            {
                "id": 1,
                "question_id": "q1",
                "outcome": "A",
                "resolved_on": dt.date(2027, 4, 1),
                "by": "ann",
                "evidence": ["https://example.org/e"],
                "note": None,
                "correction_reason": None,
                "recorded_at": T0,
            }
        ],
    )


CORE = ("person", "question", "forecast", "question_revision", "resolution")


def _core_rows(engine: sa.Engine) -> dict[str, list[dict]]:
    # Read through the models' column types, so values come back as the app sees them;
    # only the columns the database has (an old revision lacks the newer ones).
    meta = db.load_models()
    out = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name in CORE:
            table = meta.tables[name]
            present = {c["name"] for c in inspector.get_columns(name)}
            cols = [c for c in table.columns if c.name in present]
            order = list(table.primary_key.columns)
            out[name] = [
                dict(r) for r in conn.execute(sa.select(*cols).order_by(*order)).mappings()
            ]
    return out


def test_upgrade_from_0001_with_data_keeps_every_row(empty_db_url):
    engine = db.get_engine(empty_db_url)
    assert db.upgrade(engine, "0001") == (None, "0001")
    with engine.begin() as conn:
        _fill_0001(conn)
    before = _core_rows(engine)
    assert [len(before[n]) for n in CORE] == [2, 1, 2, 1, 1]
    assert before["forecast"][0]["made_at"] == T0

    assert db.upgrade(engine) == ("0001", db.head_revision())
    db.dispose_engines()  # a fresh connection sees the upgraded schema from scratch
    engine = db.get_engine(empty_db_url)
    after = _core_rows(engine)
    # 0003 adds the reviewers of each resolution: the one reviewer who made it.
    assert [r.pop("reviewers") for r in after["resolution"]] == [["ann"]]
    assert after == before

    # And the app reads the upgraded data.
    cli = make_cli(empty_db_url)
    with freeze_time("2030-01-01"):
        r = cli("show", "q1", "--json")
    assert r.exit_code == 0, r.output
    assert '"made_at": "2027-03-01T09:30:15.123456Z"' in r.stdout


def test_head_constant_matches_the_migration_scripts():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(db.alembic_config()).get_heads()
    assert heads == [db.head_revision()], "update forecasts.store.migrations.HEAD"
