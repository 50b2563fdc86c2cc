"""glance-api's registry client keeps its connections alive and shares them between
threads (as many as calls ran at once, not one per thread), and a registry restart
between two calls costs the caller no error."""
import os
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


def connections_to(port):
    """How many established TCP connections this process has open to ``port``."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01" and fields[9] in mine:
                    count += 1
    return count


def test_threads_that_call_in_turn_share_one_connection(registry):
    # As glance-api's pool threads do: they stay alive between their calls.
    before = connections_to(registry.port)
    client = RegistryClient("127.0.0.1", registry.port)
    made = client.create({"name": "kept", "status": "queued"})
    names, done = [], threading.Event()

    def call(turn, next_turn):
        turn.wait()
        names.append(client.get(made["id"])["name"])
        next_turn.set()
        done.wait()

    turns = [threading.Event() for _ in range(6)]
    threads = [threading.Thread(target=call, args=(turns[n], turns[n + 1])) for n in range(5)]
    for thread in threads:
        thread.start()
    turns[0].set()
    assert turns[5].wait(30)
    assert names == ["kept"] * 5
    assert connections_to(registry.port) - before == 1      # not one per live thread
    done.set()
    for thread in threads:
        thread.join()
    client.close()
    assert connections_to(registry.port) == before


def test_calls_at_once_each_get_a_connection_and_all_are_kept(registry):
    before = connections_to(registry.port)
    client = RegistryClient("127.0.0.1", registry.port)
    made = client.create({"name": "busy", "status": "queued"})
    # The four calls start together.
    start = threading.Barrier(4)
    names = []

    def call():
        start.wait()
        names.append(client.get(made["id"])["name"])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert names == ["busy"] * 4
    opened = connections_to(registry.port) - before
    assert 1 <= opened <= 4 and client.idle_connections() == opened
    for _ in range(10):
        assert client.get(made["id"])["name"] == "busy"
    assert connections_to(registry.port) - before == opened     # reused, none added
    client.close()


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
