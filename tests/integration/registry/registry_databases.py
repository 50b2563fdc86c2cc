"""Throwaway MariaDB and PostgreSQL databases for the registry tests.

Each test module (or test) gets its own database (``glance_test_<random>``), dropped
at the end: empty (:func:`throwaway_database`, for the migration tests) or a copy of
a template migrated once per pytest run (:func:`template_copy`), which costs a fraction
of running every migration again.  A server that does not answer is started once; if
it still does not answer the tests are skipped, or fail when GLANCE_TEST_REQUIRE_ALL=1.
"""
import glob
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest
import sqlalchemy as sa

import template_db

SERVERS = {
    "mariadb": {
        "port": 3306,
        "admin": "mysql+pymysql://root@127.0.0.1:3306/",
        "url": "mysql+pymysql://root@127.0.0.1:3306/{db}?charset=utf8mb4",
        "create": "CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        "drop": "DROP DATABASE IF EXISTS {db}",
    },
    "postgresql": {
        "port": 5432,
        "admin": "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        "url": "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
        "create": "CREATE DATABASE {db}",
        "drop": "DROP DATABASE IF EXISTS {db}",
    },
}


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _start(kind):
    if kind == "mariadb":
        try:   # mariadbd wants its socket directory, which tmpfs /run loses
            os.makedirs("/run/mysqld", exist_ok=True)
            shutil.chown("/run/mysqld", "mysql", "mysql")
        except (OSError, LookupError):
            pass
        cmd = ["start-stop-daemon", "--start", "--oknodo", "--background",
               "--exec", "/usr/sbin/mariadbd", "--", "--user=mysql"]
    else:
        versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
        if not versions:
            return
        cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    try:
        subprocess.run(cmd, check=False, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _listening(SERVERS[kind]["port"]):
        time.sleep(0.5)


def _unavailable(kind, why):
    message = f"{kind} is not available on 127.0.0.1: {why}"
    if os.environ.get("GLANCE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _admin(kind):
    """An autocommit engine on ``kind``'s server (starting it if need be)."""
    spec = SERVERS[kind]
    if not _listening(spec["port"]):
        _start(kind)
    if not _listening(spec["port"]):
        _unavailable(kind, "nothing listens on port %d" % spec["port"])
    return sa.create_engine(spec["admin"], future=True, isolation_level="AUTOCOMMIT")


def _create(kind, admin, statement):
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(statement))
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        _unavailable(kind, str(exc).splitlines()[0])


def _drop(kind, admin, name):
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": name})
        conn.execute(sa.text(SERVERS[kind]["drop"].format(db=name)))


def throwaway_database(kind):
    """Create a fresh, empty database; yields its SQLAlchemy URL, drops it afterwards."""
    spec = SERVERS[kind]
    admin = _admin(kind)
    name = "glance_test_" + secrets.token_hex(4)
    _create(kind, admin, spec["create"].format(db=name))
    try:
        yield spec["url"].format(db=name)
    finally:
        _drop(kind, admin, name)
        admin.dispose()


def _template(kind, admin):
    """The name of this run's migrated database on ``kind``'s server, built by the
    first process of the run that asks (:func:`template_db.once`)."""
    name = "glance_tmpl_" + template_db.run_id()

    def build():
        from glance.registry import db
        _drop(kind, admin, name)            # half of a build that died
        _create(kind, admin, SERVERS[kind]["create"].format(db=name))
        engine = db.make_engine(SERVERS[kind]["url"].format(db=name))
        try:
            db.db_sync(engine)
        finally:
            engine.dispose()        # PostgreSQL copies only a template nobody is on

    template_db.once(kind, build)
    return name


def template_copy(kind):
    """Create a migrated database; yields its SQLAlchemy URL, drops it afterwards."""
    spec = SERVERS[kind]
    admin = _admin(kind)
    template = _template(kind, admin)
    name = "glance_test_" + secrets.token_hex(4)
    if kind == "postgresql":
        _create(kind, admin, f"CREATE DATABASE {name} TEMPLATE {template}")
    else:
        _create(kind, admin, spec["create"].format(db=name))
        _copy_mariadb_tables(spec["url"].format(db=name), template)
    try:
        yield spec["url"].format(db=name)
    finally:
        _drop(kind, admin, name)
        admin.dispose()


def drop_templates():
    """Drop this run's templates; called once, by the pytest process that started the
    run, when it ends.  Starts no server: a template exists only on one that answered."""
    for kind, spec in SERVERS.items():
        if template_db.asked(kind) and _listening(spec["port"]):
            admin = sa.create_engine(spec["admin"], future=True, isolation_level="AUTOCOMMIT")
            try:
                _drop(kind, admin, "glance_tmpl_" + template_db.run_id())
            finally:
                admin.dispose()


def _copy_mariadb_tables(url, template):
    """Copy every table of ``template`` into the database of ``url``, rows included (the
    alembic revision, the seeded resource types).  ``SHOW CREATE TABLE`` rather than
    ``CREATE TABLE ... LIKE``, which leaves out the foreign keys."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")     # tables in any order
            tables = conn.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :db"),
                {"db": template}).scalars().all()
            for table in tables:
                ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE `{template}`.`{table}`").one()[1]
                conn.exec_driver_sql(ddl)      # unqualified names: made in this database
                conn.exec_driver_sql(f"INSERT INTO `{table}` SELECT * FROM `{template}`.`{table}`")
    finally:
        engine.dispose()
