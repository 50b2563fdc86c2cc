"""Connections the database server dropped are replaced without an error to the client."""
import sqlalchemy as sa

from registry_databases import SERVERS
from servers import Server


def drop_connections(url):
    """Kill every server-side connection to the database of ``url``, like a restart."""
    name = sa.engine.make_url(url).database
    kind = "postgresql" if url.startswith("postgresql") else "mariadb"
    admin = sa.create_engine(SERVERS[kind]["admin"], future=True, isolation_level="AUTOCOMMIT")
    killed = 0
    with admin.connect() as conn:
        if kind == "postgresql":
            killed = len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": name}).all())
        else:
            for (pid,) in conn.execute(sa.text(
                    "SELECT id FROM information_schema.processlist WHERE db = :db"),
                    {"db": name}).all():
                conn.execute(sa.text(f"KILL {int(pid)}"))
                killed += 1
    admin.dispose()
    return killed


def test_dropped_connections_are_recovered(database_url, tmp_path):
    server = Server("glance-registry", tmp_path,
                    {"sql_connection": database_url, "sql_idle_timeout": 3600,
                     "server_threads": 2}).start()
    try:
        for _ in range(4):     # warm the pool
            assert server.get("/images").status_code == 200
        assert drop_connections(database_url) >= 1
        for _ in range(6):
            response = server.get("/images/detail")
            assert response.status_code == 200, response.text
    finally:
        assert server.stop() == 0
