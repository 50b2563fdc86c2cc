"""Migrated registry databases, copied from one template per pytest run.

``glance-manage db_sync`` from nothing takes about half a second on SQLite and
seconds on MariaDB or PostgreSQL; copying its result takes a fraction of that.  The
first process of the run (xdist worker) that needs a template builds it under a lock
in a directory of the run (:func:`once`); the others wait for it and reuse it.  The
pytest process that started the run removes them at its end (:func:`remove`, from
``conftest.py``).  Tests of the migrations themselves keep migrating empty databases
(``contract/registry_migrations.py``).
"""
import fcntl
import os
import shutil
import sqlite3
import tempfile
import uuid

# Set by the pytest process that starts the run, before it starts the xdist workers,
# which inherit it; unique per run, so nothing a crashed run left is ever reused.
RUN_VARIABLE = "GLANCE_TEST_RUN"


def start_run():
    """Called by the process that starts the run (a pytest run inside another gets its own)."""
    os.environ[RUN_VARIABLE] = uuid.uuid4().hex[:12]


def run_id():
    return os.environ.setdefault(RUN_VARIABLE, uuid.uuid4().hex[:12])


def run_dir():
    return os.path.join(tempfile.gettempdir(), "glance-templates-" + run_id())


def once(name, build):
    """Call ``build()`` once per run for ``name``, whichever process asks first; the
    others wait until it is done.  A build that failed (or a process that died in it)
    is started again by the next one that asks: only success writes ``name.done``."""
    os.makedirs(run_dir(), exist_ok=True)
    done = os.path.join(run_dir(), name + ".done")
    with open(os.path.join(run_dir(), name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(done):
            build()
            open(done, "w").close()


def asked(name):
    """Has a process of this run called :func:`once` for ``name`` (whatever came of it)?"""
    return os.path.exists(os.path.join(run_dir(), name + ".lock"))


def remove():
    """Delete this run's template files (the database templates are dropped first,
    by their owners)."""
    shutil.rmtree(run_dir(), ignore_errors=True)


def sqlite_template():
    """The path of this run's migrated SQLite database; do not write to it."""
    path = os.path.join(run_dir(), "registry.db")

    def build():
        from glance.registry import db
        if os.path.exists(path):
            os.remove(path)         # half of a build that died
        engine = db.make_engine(f"sqlite:///{path}")
        try:
            db.db_sync(engine)
        finally:
            engine.dispose()        # the last connection checkpoints the WAL into the file

    once("sqlite", build)
    return path


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
