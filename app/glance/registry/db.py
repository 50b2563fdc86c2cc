"""Engine, sessions and schema management of the registry database."""
import logging
import os

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from glance.config import ConfigError, mask_url_password

LOG = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "migrations")
# The tables of the first revision: a database holding them is a registry's.
TABLES = ("images", "image_properties", "image_members")


def make_engine(url, idle_timeout=3600):
    """Create the engine for ``url`` (``sql_connection``).

    Connections the server dropped are replaced transparently:
    ``pool_pre_ping`` tests each one on checkout and ``pool_recycle`` retires
    it after ``idle_timeout`` seconds.

    :raises ConfigError: the URL is malformed or its driver is missing.
    """
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"Invalid sql_connection {mask_url_password(url)!r}") from None
    kwargs = {"future": True, "pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        # Flask serves from several threads; SQLite waits for locks instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool   # one shared in-memory database
    else:
        kwargs["pool_recycle"] = idle_timeout if idle_timeout > 0 else -1
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (ImportError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise ConfigError(f"Cannot use sql_connection {mask_url_password(url)!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers go on while a request writes; not possible in memory.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def session_factory(engine):
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def _alembic_config(connection):
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["connection"] = connection
    return cfg


def head_revision():
    from alembic.script import ScriptDirectory
    cfg = _alembic_config(None)
    return ScriptDirectory.from_config(cfg).get_current_head()


def _revision_on(connection):
    from alembic.runtime.migration import MigrationContext
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine):
    """The revision the database is at, or None if it was never migrated."""
    with engine.connect() as conn:
        return _revision_on(conn)


def has_tables(bind):
    """Whether the registry tables exist (``bind``: an engine or a connection)."""
    names = set(sa.inspect(bind).get_table_names())
    return all(name in names for name in TABLES)


def db_sync(engine):
    """Bring the schema to the newest revision; safe to run again.

    A database made by an older ``create_all`` (tables but no alembic
    version) is stamped at the revision its tables match, then upgraded.

    :returns: the revision the database is now at.
    """
    from alembic import command
    with engine.begin() as conn:
        cfg = _alembic_config(conn)
        if _revision_on(conn) is None and has_tables(conn):
            revision = _unversioned_revision(conn)
            LOG.info("Database has tables but no version; stamping revision %s", revision)
            command.stamp(cfg, revision)
        command.upgrade(cfg, "head")
    return current_revision(engine)


def _unversioned_revision(conn):
    """The revision whose schema an unversioned database's tables have."""
    tables = sa.inspect(conn).get_table_names()
    columns = {c["name"] for c in sa.inspect(conn).get_columns("images")}
    if "location_metadata" in columns:
        return "0008"
    if "copies" in columns:
        return "0007"
    if "fast_checksum" in columns:
        return "0006"
    if "tasks" in tables:
        return "0004"
    if "metadef_namespaces" in tables:
        return "0003"
    return "0002" if "visibility" in columns else "0001"


class SchemaError(ConfigError):
    """The database is not at the schema this glance serves: ``glance-manage db_sync``'s job."""


def check_schema(engine):
    """Refuse a database whose schema is not the newest revision.

    glance-registry never creates or upgrades the schema itself: the migration is
    ``glance-manage db_sync`` (glance-registry-migrate.service, ``make run``,
    glance-control), run before it starts.

    :raises SchemaError: no schema (never migrated), an older revision, or one this
        glance does not know (written by a newer glance); the message names the command.
    """
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)    # a look, not a migration: no alembic chatter
    try:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError
        current = current_revision(engine)
        script = ScriptDirectory.from_config(_alembic_config(None))
        head = script.get_current_head()
    finally:
        alembic_log.setLevel(level)
    if current == head:
        return
    if current is None:
        state = ("has the tables of an older glance but no schema revision" if has_tables(engine)
                 else "has no glance schema")
        raise SchemaError(f"The database {state}: run glance-manage db_sync before glance-registry")
    try:
        script.get_revision(current)
    except CommandError:
        raise SchemaError(f"The database schema is at revision {current}, unknown to this glance "
                          f"(newest {head}): a newer glance's glance-manage db_sync wrote it") from None
    raise SchemaError(f"The database schema is at revision {current}, this glance needs {head}: "
                      "run glance-manage db_sync before glance-registry")
