"""Alembic migrations, shipped inside the package. Run through `forecasts db upgrade`."""
