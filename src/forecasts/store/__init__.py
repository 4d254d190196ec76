"""Persistence: engines and sessions, column types, tables and their Alembic migrations."""
