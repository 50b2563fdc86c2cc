"""Ways to reach a registry for the contract suite: in process or over HTTP.

Both give the :class:`glance.registry.client.RegistryClient` interface plus
``raw(method, path, ...) -> (status, json)`` and ``wipe()``.
"""
import json

import requests
from sqlalchemy import text

from glance import config
from glance.registry import client as rc
from glance.registry import create_app, db
import template_db
from servers import Server


METADEF_TABLES = ("metadef_tags", "metadef_properties", "metadef_objects",
                  "metadef_namespace_resource_types", "metadef_namespaces")


def wipe(engine):
    """Empty the registry tables between tests (the schema and the seeded resource types stay)."""
    with engine.begin() as conn:
        for table in ("tasks", "image_tags", "image_members", "image_properties", "images",
                      *METADEF_TABLES):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM metadef_resource_types WHERE protected = :f"),
                     {"f": False})


class HTTPRegistry(rc.RegistryClient):
    """The real client, against a live glance-registry process."""

    def __init__(self, url, engine):
        host, port = url.rsplit("/", 1)[1].rsplit(":", 1)
        super().__init__(host, int(port), timeout=30)
        self.url, self.engine = url, engine

    def raw(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = requests.request(method, self.url + path, data=data,
                                    headers=headers or {}, timeout=30)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def wipe(self):
        wipe(self.engine)


# The contract's tenants publish their own images: its list, filter and paging tests
# need public images of several owners. Publishing is admin-only by default; that rule
# is tested in tests/unit/registry/test_publicize.py and tests/security/.
CONTRACT_OPTIONS = {"allow_owner_publicize": True}


def live_registry(workdir, url):
    """Yield ``(server, engine)``: a glance-registry process on database ``url``
    (with :data:`CONTRACT_OPTIONS`) and an engine on the same database, for wiping it;
    stop both afterwards."""
    server = Server("glance-registry", workdir,
                    {"sql_connection": url, **CONTRACT_OPTIONS}).start()
    engine = db.make_engine(url)
    yield server, engine
    engine.dispose()
    assert server.stop() == 0


def wiped_registry(server, engine):
    """An :class:`HTTPRegistry` on a live ``server`` whose tables were just emptied."""
    client = HTTPRegistry(server.url, engine)
    client.wipe()
    return client


def migrated_engine(url="sqlite://"):
    """An engine on ``url``, its schema brought to the newest revision as
    ``glance-manage db_sync`` does: the only database a registry serves."""
    engine = db.make_engine(url)
    if url == "sqlite://":
        template_db.fill_memory_engine(engine)     # db_sync's result, copied
    else:
        db.db_sync(engine)
    return engine


def in_memory_app(**options):
    """Yield a registry app on its own in-memory SQLite database (``options`` change its
    configuration); its engine is disposed of afterwards.  For ``yield from`` in a fixture."""
    conf = config.load_config("glance-registry").replace(sql_connection="sqlite://", **options)
    engine = migrated_engine()
    yield create_app(conf, engine=engine)
    engine.dispose()


class InProcessRegistry(rc.RegistryClient):
    """The client's methods, sent through Flask's test client (no sockets)."""

    concurrent = False      # one in-memory SQLite connection: no requests at once

    def __init__(self, app, engine=None):
        super().__init__("127.0.0.1", 9191)
        self.test_client = app.test_client()
        self.engine = engine or app.extensions["glance_registry"].engine

    @classmethod
    def in_memory(cls, **options):
        """A glance-registry app on a fresh in-memory SQLite database (``engine.dispose()``
        it afterwards).  :param options: glance-registry options, as text."""
        from glance.config import load_config
        from glance.registry import create_app
        conf = load_config("glance-registry", None, {**options, "sql_connection": "sqlite://"})
        engine = migrated_engine()
        return cls(create_app(conf, engine=engine), engine)

    def _request(self, method, path, *, body=None, params=None, headers=None):
        response = self.test_client.open(path, method=method, query_string=params,
                                         json=body, headers=headers or {})
        payload = response.get_json(silent=True)
        if response.status_code >= 400:
            message = (payload or {}).get("error", {}).get("message", "")
            raise rc.error_for(response.status_code, message)
        return payload

    def raw(self, method, path, body=None, headers=None):
        kwargs = {"data": body} if isinstance(body, (str, bytes)) else {"json": body}
        response = self.test_client.open(path, method=method, headers=headers or {}, **kwargs)
        return response.status_code, response.get_json(silent=True)

    def wipe(self):
        wipe(self.engine)
