"""Engine settings: pool recycling, pre-ping, SQLite threads; the schema check at start."""
import pytest
import sqlalchemy as sa
from alembic import command

from glance.config import ConfigError
from glance.registry import db


def test_idle_timeout_becomes_pool_recycle():
    engine = db.make_engine("postgresql+psycopg2://u:p@127.0.0.1:1/x", idle_timeout=17)
    assert engine.pool._recycle == 17 and engine.pool._pre_ping
    engine.dispose()


def test_sqlite_file_engine_allows_threads(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert engine.pool._pre_ping
    engine.dispose()


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://h/db"])
def test_bad_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match="sql_connection"):
        db.make_engine(url)


def _tables(engine):
    return sorted(sa.inspect(engine).get_table_names())


def test_check_schema_refuses_an_empty_database_and_creates_nothing(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    with pytest.raises(db.SchemaError, match="^The database has no glance schema: "
                                             "run glance-manage db_sync before glance-registry$"):
        db.check_schema(engine)
    assert _tables(engine) == []
    engine.dispose()


def test_check_schema_refuses_an_older_revision_and_leaves_it(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), "0001")
    with pytest.raises(db.SchemaError, match=f"at revision 0001, this glance needs "
                                             f"{db.head_revision()}: run glance-manage db_sync"):
        db.check_schema(engine)
    assert db.current_revision(engine) == "0001"
    engine.dispose()


def test_check_schema_refuses_tables_without_a_revision(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    db.db_sync(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    with pytest.raises(db.SchemaError, match="tables of an older glance but no schema revision: "
                                             "run glance-manage db_sync"):
        db.check_schema(engine)
    engine.dispose()


def test_check_schema_refuses_an_unknown_revision(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    db.db_sync(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(db.SchemaError, match="at revision 9999, unknown to this glance .*"
                                             "glance-manage db_sync"):
        db.check_schema(engine)
    engine.dispose()


def test_check_schema_accepts_the_newest_revision(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    assert db.db_sync(engine) == db.head_revision()
    db.check_schema(engine)
    engine.dispose()
