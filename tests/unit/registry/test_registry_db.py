"""Engine settings: pool recycling, pre-ping, SQLite threads; schema bootstrap."""
import pytest

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


def test_ensure_schema_creates_then_leaves_alone(tmp_path, caplog):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    assert not db.has_tables(engine)
    db.ensure_schema(engine)
    assert db.has_tables(engine) and db.current_revision(engine) == db.head_revision()
    db.ensure_schema(engine)
    assert "run glance-manage db_sync" not in caplog.text
    engine.dispose()
