"""Alembic environment. Used programmatically (see forecasts.store.db) with a live connection,
or from the alembic CLI with ``-x url=...`` for generating new revisions."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from forecasts.store.db import load_models, normalize_url

target_metadata = load_models()
config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or "sqlite:///forecasts.db"
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `forecasts db upgrade`")
run_migrations_online()
