"""Slow clients cannot take every worker of glance-api or glance-registry.

64 connections trickle header bytes or sit idle (more than the 16 worker
threads); a normal request still answers at once, and each slow connection
is closed with 408 once ``header_timeout`` has passed.  Figures:
``bench/bench_slowloris.py``.
"""
import socket
import time

import pytest
import requests

from servers import Server
from slowloris import SlowClients

TIMEOUTS = {"header_timeout": "4", "body_timeout": "3"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry")
    server = Server("glance-registry", tmp, {"sql_connection": f"sqlite:///{tmp}/r.sqlite",
                                             **TIMEOUTS}).start()
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def api(registry, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    server = Server("glance-api", tmp, {"registry_host": "127.0.0.1",
                                        "registry_port": registry.port,
                                        "filesystem_store_datadir": str(tmp / "images"),
                                        # max_connections counts per worker process
                                        "workers": "1", "max_connections": "80",
                                        **TIMEOUTS}).start()
    yield server
    assert server.stop() == 0


def check_survives_slow_clients(server, path):
    with SlowClients(server.port) as slow:
        time.sleep(1)
        began = time.monotonic()
        # On cheroot without the gate this waited for a worker: minutes.
        answer = requests.get(server.url + path, timeout=3)
        assert answer.status_code == 200
        assert time.monotonic() - began < 2
        assert slow.wait_closed(4 + 4)
    assert all(b"408 Request Timeout" in slow.answers[n] for n in range(0, 64, 2))
    assert max(slow.closed_after.values()) < 4 + 4


def test_api_answers_while_64_clients_are_slow(api):
    check_survives_slow_clients(api, "/v1/images")


def test_registry_answers_while_64_clients_are_slow(registry):
    check_survives_slow_clients(registry, "/images")


def test_stalled_upload_is_cut_after_body_timeout_and_killed(api, registry):
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=10)
    sock.sendall(b"POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                 b"Content-Type: application/octet-stream\r\nx-image-meta-name: stalled\r\n\r\n"
                 + b"a" * 1000)
    began = time.monotonic()
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"timed out" in answer
    assert 3 <= time.monotonic() - began < 3 + 3
    listed = requests.get(registry.url + "/images/detail", timeout=10,
                          params={"is_public": "none", "name": "stalled"}).json()["images"]
    # Lists hide killed images: the stalled one is not active, and not listed.
    assert listed == []


def test_api_answers_503_past_max_connections(api):
    idle = [socket.create_connection(("127.0.0.1", api.port), timeout=5) for _ in range(80)]
    try:
        extra = socket.create_connection(("127.0.0.1", api.port), timeout=5)
        answer = extra.recv(4096)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503") and b"Too many connections" in answer
    finally:
        for sock in idle:
            sock.close()
    # The slots are free again once those clients have gone.
    deadline = time.monotonic() + 5
    while True:
        try:
            assert requests.get(api.url + "/v1/images", timeout=3).status_code == 200
            break
        except (requests.ConnectionError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
