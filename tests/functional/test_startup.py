"""Starting the servers in any order: glance-api waits for glance-registry.

``make run`` and a package start launch glance-api while glance-registry is
still opening its database.  glance-api then says once that it waits, runs its
check for crashed uploads (images left ``saving`` by a glance-api that died)
as soon as the registry answers, and gives up on the check, with one warning,
after ``registry_wait_timeout`` seconds.
"""
import re
import time

import pytest
import requests

from servers import Server, sqlite_registry, wait_for

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
        "image": {"name": "crashed", "status": "saving", "disk_format": "raw",
                  "container_format": "bare"}})
    assert made.status_code == 200, made.text
    return made.json()["image"]["id"]


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
