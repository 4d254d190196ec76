"""Alembic migrations, shipped inside the package. Run through `forecasts db upgrade`."""

#: The newest revision in versions/. Update it with every new migration; a test checks it.
HEAD = "0005"
