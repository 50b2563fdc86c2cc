"""Throwaway MariaDB and PostgreSQL databases for the registry tests.

Each test module (or test) gets its own database (``glance_test_<random>``), dropped
at the end.  A server that does not answer is started once; if it still
does not answer the tests are skipped, or fail when GLANCE_TEST_REQUIRE_ALL=1.
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


def throwaway_database(kind):
    """Create a fresh database; yields its SQLAlchemy URL, drops it afterwards."""
    spec = SERVERS[kind]
    if not _listening(spec["port"]):
        _start(kind)
    if not _listening(spec["port"]):
        _unavailable(kind, "nothing listens on port %d" % spec["port"])
    name = "glance_test_" + secrets.token_hex(4)
    try:
        admin = sa.create_engine(spec["admin"], future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(spec["create"].format(db=name)))
    except sa.exc.SQLAlchemyError as exc:
        _unavailable(kind, str(exc).splitlines()[0])
    try:
        yield spec["url"].format(db=name)
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": name})
            conn.execute(sa.text(spec["drop"].format(db=name)))
        admin.dispose()
