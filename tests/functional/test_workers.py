"""Worker processes: the parent listens and supervises, the workers serve.

A killed worker is replaced and requests keep working; SIGHUP reaches every
worker; SIGTERM lets a running download finish, refuses new connections, then
the parent exits 0; workers whose parent died stop by themselves.
"""
import hashlib
import os
import re
import signal
import socket
import time

import pytest
import requests

from glance.cmd.control import child_pids
from servers import wait_for, write_conf

MiB = 1024 * 1024


def workers_of(server, count=2):
    """The worker pids of ``server`` once it has exactly ``count`` children (the crash
    check's short-lived process has ended)."""
    assert wait_for(lambda: len(child_pids(server.proc.pid)) == count, timeout=20)
    return child_pids(server.proc.pid)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def fresh_gets(url, count):
    """Status codes of ``count`` GETs, each on a new connection (so any worker may take it)."""
    return [requests.get(url, timeout=10, headers={"Connection": "close"}).status_code
            for _ in range(count)]


@pytest.fixture(scope="module")
def api(start_api):
    server = start_api(workers=2, verbose="true")
    assert wait_for(lambda: "2 workers serving" in server.logtext())
    return server


def test_a_killed_worker_is_replaced_and_requests_keep_working(api):
    first, second = workers_of(api)
    assert fresh_gets(api.url + "/v1/images", 6) == [200] * 6
    os.kill(first, signal.SIGKILL)
    # the other worker serves on: nothing queued on the shared socket is lost
    assert fresh_gets(api.url + "/v1/images", 6) == [200] * 6
    assert wait_for(lambda: re.search(rf"Worker \d \(pid {first}\) was killed by signal 9 "
                                      r"\(SIGKILL\) after [\d.]+ s; starting another",
                                      api.logtext()))
    replaced = [pid for pid in workers_of(api) if pid != second]
    assert len(replaced) == 1 and replaced[0] != first and not alive(first)
    # the replacement serves alone once the other is gone too
    os.kill(second, signal.SIGKILL)
    assert fresh_gets(api.url + "/v1/images", 6) == [200] * 6
    assert api.proc.poll() is None


def test_sighup_reloads_every_worker(api, tmp_path):
    flag = tmp_path / "drain"
    flag.write_text("")
    pids = workers_of(api)
    before = len(api.logtext())
    api.options["disable_by_file_path"] = str(flag)
    write_conf(api.conf, api.options)
    api.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: f"Reloaded configuration from {api.conf} (2 workers)"
                    in api.logtext()[before:])
    said = api.logtext()[before:]
    for pid in pids:
        assert re.search(rf"Reloaded configuration from \S+ in worker \d \(pid {pid}\)", said)
    assert "Reload failed" not in said
    # whichever worker takes the connection, it applies the new file
    assert fresh_gets(api.url + "/healthcheck", 8) == [503] * 8
    assert workers_of(api) == pids                 # reloaded in place, not restarted


def test_sigterm_drains_a_running_download_then_exits(start_api, api_for):
    server = start_api(workers=2, shutdown_timeout=20, verbose="true")
    client = api_for(server)
    data = os.urandom(8 * MiB)
    made = client.create(data, name="drained", disk_format="raw", container_format="bare")
    assert made.status_code == 201, made.text
    image_id = made.json()["image"]["id"]
    workers = workers_of(server)

    download = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    download.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    download.sendall(f"GET /v1/images/{image_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = download.recv(65536)                     # the headers and the first bytes
    server.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "Stopping: the workers finish" in server.logtext())
    # new clients are refused while the download drains
    assert wait_for(lambda: refused(server.port), timeout=10)
    while chunk := download.recv(MiB):
        got += chunk
        time.sleep(0.01)                           # a slow reader
    download.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert hashlib.md5(body).hexdigest() == hashlib.md5(data).hexdigest()
    assert server.proc.wait(30) == 0
    assert not any(alive(pid) for pid in workers)


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_workers_stop_when_their_parent_is_killed(start_api):
    server = start_api(workers=2, verbose="true")
    pids = workers_of(server)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    assert wait_for(lambda: not any(alive(pid) for pid in pids), timeout=10)
    assert "The parent process is gone: stopping" in server.logtext()
    assert refused(server.port)


def test_downloads_are_not_capped_by_server_threads(start_api, api_for):
    """Each held download pins a thread; the pool grows past server_threads for them."""
    server = start_api(workers=1, server_threads=2)
    client = api_for(server)
    made = client.create(os.urandom(8 * MiB), name="held", disk_format="raw",
                         container_format="bare")
    assert made.status_code == 201, made.text
    image_id = made.json()["image"]["id"]
    held = []
    try:
        for _ in range(8):           # clients that read nothing: each download blocks its thread
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", server.port))
            sock.settimeout(10)
            sock.sendall(f"GET /v1/images/{image_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            held.append(sock)
        began = time.monotonic()
        for sock in held:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200"), "a download waited for a thread"
        assert time.monotonic() - began < 5, "the pool grew late"
        began = time.monotonic()
        assert client.head(image_id).status_code == 200
        assert time.monotonic() - began < 2
    finally:
        for sock in held:
            sock.close()
