"""glance-api's registry client keeps one connection per thread alive, and a
registry restart between two calls costs the caller no error."""
import threading

import pytest

from glance.errors import ServiceUnavailable
from glance.registry.client import RegistryClient, query
from servers import sqlite_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    server = sqlite_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


def test_calls_of_one_thread_share_one_connection(registry):
    client = RegistryClient("127.0.0.1", registry.port)
    made = client.create({"name": "kept", "status": "queued"})
    client.get(made["id"])
    first = client._local.kept.conn.sock
    for _ in range(5):
        assert client.get(made["id"])["name"] == "kept"
    assert client._local.kept.conn.sock is first
    other = []
    thread = threading.Thread(target=lambda: other.append(
        (client.get(made["id"])["name"], client._local.kept.conn.sock)))
    thread.start()
    thread.join()
    assert other[0][0] == "kept" and other[0][1] is not first


def test_a_registry_restart_between_calls_is_no_error(registry):
    client = RegistryClient("127.0.0.1", registry.port)
    made = client.create({"name": "restarted", "status": "queued"})
    assert client.get(made["id"])["name"] == "restarted"
    registry.stop()
    with pytest.raises(ServiceUnavailable, match="^Registry unavailable: "):
        client.get(made["id"])
    registry.start()
    assert client.get(made["id"])["name"] == "restarted"
    registry.stop()
    registry.start()                    # the kept connection is now a dead one
    assert client.update(made["id"], {"name": "renamed"})["name"] == "renamed"
    assert client.get(made["id"])["name"] == "renamed"


def test_query_strings_are_encoded_as_requests_did():
    assert query(None) == "" and query({}) == ""
    assert query({"limit": 5, "marker": None}) == "?limit=5"
    assert query([("property-a", "x y"), ("tag", "t/1")]) == "?property-a=x+y&tag=t%2F1"
    assert query({"tag": ["a", "b"], "name": "é"}) == "?tag=a&tag=b&name=%C3%A9"
