"""Alembic environment of the intake.

At start the app runs ``intake.db.upgrade_schema``, which passes its open connection in
``config.attributes["connection"]``. Developers writing a new migration run, from the
project folder (``[tool.alembic]`` in pyproject.toml says where the scripts are):

    DATABASE_URL=sqlite:///instance/intake.sqlite3 .venv/bin/alembic revision --autogenerate -m "what changes"
"""

from __future__ import annotations

import os

from alembic import context

from intake.db import Base, make_engine
from intake.settings import default_database_url

target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(os.environ.get("DATABASE_URL") or default_database_url("instance"))
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()
