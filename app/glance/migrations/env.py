"""Alembic environment: runs on the connection glance.registry.db hands over.

``glance-manage`` never puts the database URL into the Alembic config (it may
hold a password, and configparser would choke on ``%``); it passes an open
connection in ``config.attributes["connection"]``.
"""
from alembic import context
from sqlalchemy import create_engine

# Their tables are on Base too.
from glance.registry import metadef_models, task_models  # noqa: F401
from glance.registry.models import Base

config = context.config


def run(connection):
    context.configure(connection=connection, target_metadata=Base.metadata,
                      compare_type=True, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    with engine.begin() as conn:
        run(conn)
