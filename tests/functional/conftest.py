"""Real glance-registry and glance-api processes for the functional tests.

* ``registry_server``: one glance-registry on a fresh SQLite file per module.
* ``start_api(**options)``: start a glance-api talking to that registry;
  options go into its configuration file (e.g. ``default_store="swift"``,
  ``delayed_delete="true"``), ``sections={name: {key: value}}`` into more sections.  Each gets its own filesystem data directory
  unless ``filesystem_store_datadir`` is given; ``server.datadir`` names it.
* ``api_server``: one glance-api with the defaults, shared by the module.
* ``api``: a small requests wrapper around ``api_server``.
* ``keystone_server`` and ``keystone_glance`` are in ``tests/conftest.py``: every tier
  shares the one Keystone of the run.
"""
import os

import pytest
import requests

from servers import Server, sqlite_registry


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory):
    server = sqlite_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def start_api(registry_server, tmp_path_factory):
    started = []

    def start(sections=None, **options):
        tmp = tmp_path_factory.mktemp("api")
        values = {"registry_host": "127.0.0.1", "registry_port": registry_server.port,
                  "filesystem_store_datadir": str(tmp / "images"), **options}
        server = Server("glance-api", tmp, values, sections=sections).start()
        server.datadir = values["filesystem_store_datadir"]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def api_server(start_api):
    return start_api()


class Api:
    """``requests`` calls against one glance-api, with the v1 prefix."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.session = requests.Session()

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, **kw)

    def create(self, data=None, chunked=False, **meta):
        """POST an image; ``meta`` keys become x-image-meta-* headers."""
        headers = {}
        for key, value in meta.items():
            if key == "properties":
                headers.update({f"x-image-meta-property-{k}": str(v) for k, v in value.items()})
            else:
                headers[f"x-image-meta-{key}"] = str(value)
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
            if chunked:
                payload = data
                data = (payload[i:i + 65536] for i in range(0, len(payload), 65536))
        return self.request("POST", "/v1/images", data=data, headers=headers)

    def head(self, image_id):
        return self.request("HEAD", f"/v1/images/{image_id}")

    def status(self, image_id):
        return self.head(image_id).headers.get("x-image-meta-status")

    def files(self):
        """Every file in the data directory, hidden temporary files included."""
        datadir = self.server.datadir
        return sorted(os.listdir(datadir)) if os.path.isdir(datadir) else []


@pytest.fixture(scope="module")
def api(api_server):
    return Api(api_server)


@pytest.fixture(scope="module")
def api_for():
    """``api_for(server)`` wraps another glance-api (from ``start_api``) like ``api``."""
    return Api
