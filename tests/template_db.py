"""Migrated SQLite registry databases, copied from one template per test process.

``glance-manage db_sync`` from nothing takes about half a second; copying its result
takes milliseconds.  The template is migrated once per process (per xdist worker) the
first time a test needs a database.  Tests of the migrations themselves keep migrating
empty databases (``contract/registry_migrations.py``).
"""
import atexit
import os
import shutil
import sqlite3
import tempfile

_template = None


def sqlite_template():
    """The path of this process's migrated SQLite database; do not write to it."""
    global _template
    if _template is None:
        from glance.registry import db
        folder = tempfile.mkdtemp(prefix="glance-template-")
        atexit.register(shutil.rmtree, folder, True)
        path = os.path.join(folder, "registry.db")
        engine = db.make_engine(f"sqlite:///{path}")
        try:
            db.db_sync(engine)
        finally:
            engine.dispose()        # the last connection checkpoints the WAL into the file
        _template = path
    return _template


def copy_sqlite(path):
    """Make ``path`` (which must not exist) a migrated registry database."""
    shutil.copyfile(sqlite_template(), path)


def fill_memory_engine(engine):
    """Copy the template into ``engine``'s in-memory database (one shared connection)."""
    template = sqlite3.connect(sqlite_template())
    raw = engine.raw_connection()
    try:
        template.backup(raw.driver_connection)
    finally:
        raw.close()
        template.close()
