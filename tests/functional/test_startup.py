"""Starting the servers in any order: glance-api waits for glance-registry.

``make run`` and a package start launch glance-api while glance-registry is
still opening its database.  glance-api then says once that it waits, runs its
check for crashed uploads (images left ``saving`` by a glance-api that died)
as soon as the registry answers, and gives up on the check, with one warning,
after ``registry_wait_timeout`` seconds.  Under systemd both servers say
``READY=1`` once their port answers, so ``After=glance-registry.service`` means
ready, and bracket a reload with ``RELOADING=1`` … ``READY=1``.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from servers import APP, Server, migrate, sqlite_registry, wait_for, write_conf

STALE = 2
FAST = {"upload_heartbeat_interval": 1, "saving_stale_time": STALE}


@pytest.fixture
def registry(tmp_path_factory):
    server = sqlite_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


def api_server(tmp_path, registry, **options):
    return Server("glance-api", tmp_path, {
        "registry_host": "127.0.0.1", "registry_port": registry.port,
        "filesystem_store_datadir": str(tmp_path / "images"), "verbose": "true",
        **FAST, **options})


def saving_image(registry):
    """An image left 'saving' (as by a glance-api killed mid-upload)."""
    made = requests.post(registry.url + "/images", timeout=30, json={
        "image": {"name": "crashed", "disk_format": "raw", "container_format": "bare"}})
    assert made.status_code == 200, made.text
    image_id = made.json()["image"]["id"]
    saving = requests.put(f"{registry.url}/images/{image_id}", timeout=30,
                          json={"image": {"status": "saving"}})
    assert saving.status_code == 200, saving.text
    return image_id


def status(registry, image_id):
    return requests.get(f"{registry.url}/images/{image_id}", timeout=10).json()["image"]["status"]


def lines(text, pattern):
    return [line for line in text.splitlines() if re.search(pattern, line)]


def test_api_started_before_its_registry_waits_then_kills_crashed_uploads(registry, tmp_path):
    image_id = saving_image(registry)
    registry.stop()
    time.sleep(STALE + 0.5)                       # stale by the time the registry is back
    api = api_server(tmp_path, registry, registry_wait_timeout=60).start()
    try:
        assert wait_for(lambda: lines(api.logtext(), "[Ww]aiting .*glance-registry"), timeout=10)
        time.sleep(1.5)                           # it keeps waiting quietly
        registry.start()                          # same port, same database
        assert wait_for(lambda: status(registry, image_id) == "killed", timeout=20)
        assert wait_for(lambda: lines(api.logtext(), "died\\): set to 'killed'"))
        log = api.logtext()
        assert len(lines(log, "[Ww]aiting .*glance-registry")) == 1, log
        # once per node start, not once per worker process
        assert len(lines(log, f"{image_id}.*set to 'killed'")) == 1, log
        assert not lines(log, "ERROR|CRITICAL|Traceback"), log
    finally:
        assert api.stop() == 0


def test_api_gives_up_waiting_for_the_registry_with_one_warning(registry, tmp_path):
    registry.stop()
    api = api_server(tmp_path, registry, registry_wait_timeout=2).start()
    try:
        assert wait_for(lambda: lines(api.logtext(), "WARNING.*glance-registry"), timeout=15)
        time.sleep(1)
        log = api.logtext()
        assert len(lines(log, "WARNING.*glance-registry")) == 1, log
        assert lines(log, "glance-scrubber"), "the warning says who kills crashed uploads now"
        assert not lines(log, "ERROR|CRITICAL|Traceback"), log
        assert api.get("/versions").status_code == 300        # it serves meanwhile
    finally:
        assert api.stop() == 0


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def heard(sock):
    return set(sock.recv(4096).decode().split("\n"))


@pytest.mark.parametrize("program, path", [("glance-registry", "/images"),
                                           ("glance-api", "/versions")])
def test_ready_is_told_to_systemd_once_the_port_answers(program, path, registry, notify_socket,
                                                        tmp_path):
    # (registry before notify_socket: that one must not tell this socket anything)
    options = {"workers": 2, "registry_host": "127.0.0.1", "registry_port": registry.port,
               "sql_connection": f"sqlite:///{tmp_path}/r.sqlite",
               "filesystem_store_datadir": str(tmp_path / "images")}
    server = Server(program, tmp_path, options)
    write_conf(server.conf, server.options)
    if program == "glance-registry":
        migrate(server.conf, str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "glance.cmd." + program.split("-")[1],
                             "--config-file", server.conf], cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=APP))
    try:
        assert "READY=1" in heard(notify_socket)
        # no waiting: it answers now
        # glance-api's /versions is a 300 Multiple Choices; glance-registry's /images a 200
        want = 300 if program == "glance-api" else 200
        assert requests.get(server.url + path, timeout=2).status_code == want
        proc.send_signal(signal.SIGHUP)
        assert "RELOADING=1" in heard(notify_socket)
        assert "READY=1" in heard(notify_socket)     # once every worker has re-read the file
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in heard(notify_socket)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_notify_reaches_an_abstract_socket_and_is_silent_outside_systemd():
    from glance import sdnotify
    name = f"glance-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("READY=1", "STATUS=x", env={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1\nSTATUS=x"
    assert not sdnotify.notify("READY=1", env={})
    assert not sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": "@" + name})   # gone: no error
