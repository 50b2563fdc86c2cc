"""Migration checks shared by the SQLite, MariaDB and PostgreSQL tests."""
import datetime
import os
import subprocess
import sys

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from glance.registry import db
from glance.registry.models import Base
from servers import APP, write_conf


def manage(tmp_path, url, *words):
    """Run ``glance-manage`` as a process; returns the CompletedProcess."""
    conf = write_conf(os.path.join(tmp_path, "glance-registry.conf"), {"sql_connection": url})
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", "glance.cmd.manage", "--config-file", conf,
                           *words], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


# On PostgreSQL the migration builds these indexes with NULLS FIRST (the
# registry's NULL order); the models, shared by every database, cannot say so.
NULLS_FIRST = {"ix_images_updated_at", "ix_images_name", "ix_images_size",
               "ix_images_disk_format", "ix_images_container_format"}


def schema_drift(engine):
    """Differences between the migrated database and the models (empty when equal)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    if engine.dialect.name == "postgresql":
        diffs = [d for d in diffs if not (d[0] in ("add_index", "remove_index")
                                          and d[1].name in NULLS_FIRST)]
    return diffs


def check_sync_from_empty_and_again(tmp_path, url):
    first = manage(tmp_path, url, "db_sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Database is at revision {db.head_revision()}"
    again = manage(tmp_path, url, "db_sync")
    assert again.returncode == 0, again.stderr
    version = manage(tmp_path, url, "db_version")
    assert (version.returncode, version.stdout.strip()) == (0, db.head_revision())
    engine = db.make_engine(url)
    try:
        assert schema_drift(engine) == []
    finally:
        engine.dispose()


def check_sync_keeps_images_of_unversioned_database(url):
    """A database made by create_all (no alembic) and holding data is adopted."""
    engine = db.make_engine(url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO images (id, name, status, is_public, min_disk, min_ram, protected,"
                " size, created_at, deleted) VALUES ('11111111-2222-3333-4444-555555555555',"
                " 'kept', 'active', :t, 0, 0, :f, :size, :now, :f)"),
                {"t": True, "f": False, "size": 6 * 2 ** 30,
                 "now": datetime.datetime(2011, 9, 22)})
        assert db.current_revision(engine) is None
        assert db.db_sync(engine) == db.head_revision()
        assert db.db_sync(engine) == db.head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name, size FROM images")).all() == \
                [("kept", 6 * 2 ** 30)]
    finally:
        engine.dispose()


def check_downgrade_and_upgrade(url):
    engine = db.make_engine(url)
    try:
        db.db_sync(engine)
        with engine.begin() as conn:
            command.downgrade(db._alembic_config(conn), "base")
        assert not db.has_tables(engine)
        db.db_sync(engine)
        assert db.has_tables(engine) and schema_drift(engine) == []
    finally:
        engine.dispose()
