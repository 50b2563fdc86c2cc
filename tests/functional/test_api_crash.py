"""glance-api SIGKILLed mid-upload: the image does not stay 'saving', its partial data goes.

A live upload touches its image every ``upload_heartbeat_interval`` seconds.
An image 'saving' and untouched for ``saving_stale_time`` seconds is killed by
the next glance-api start and by glance-scrubber, which also removes what the
upload left in the store (``.part`` file, Swift object and segments, S3
multipart upload) and nothing of a live upload or an active image.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from functional.stores import STORES, store_options
from functional.test_api_races import OCTETS, HeldBody, _queued
from servers import APP, wait_for, write_conf

MiB = 1024 * 1024
STALE = 3
FAST = {"upload_heartbeat_interval": 1, "saving_stale_time": STALE}


def _held_upload(api, first=6 * MiB):
    """Start a chunked upload that stops after ``first`` bytes; ``(image_id, body, thread)``."""
    image_id = _queued(api)
    body = HeldBody(os.urandom(first + MiB), first=first)

    def run():
        try:
            body.answer = requests.put(f"{api.url}/v1/images/{image_id}", data=body,
                                       headers=OCTETS, timeout=120)
        except requests.RequestException as exc:
            body.answer = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert body.sent_first.wait(30)
    assert wait_for(lambda: api.status(image_id) == "saving")
    return image_id, body, thread


def _scrubber(tmp_path, registry_server, options, *args):
    stores = {k: v for k, v in options.items()
              if k.startswith(("filesystem_store", "swift_store", "s3_store"))}
    conf = write_conf(tmp_path / "glance-scrubber.conf", {
        "sql_connection": registry_server.options["sql_connection"],
        "saving_stale_time": STALE, "scrub_time": 3600, "verbose": "true", **stores})
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf), *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_upload_keeps_updated_at_fresh(start_api, api_for):
    api = api_for(start_api(**FAST))
    image_id, body, thread = _held_upload(api, first=MiB)
    try:
        first = api.head(image_id).headers["x-image-meta-updated_at"]
        assert wait_for(lambda: api.head(image_id).headers["x-image-meta-updated_at"] > first,
                        timeout=5), "no heartbeat while the upload waited for its client"
    finally:
        body.release.set()
        thread.join(60)
    assert body.answer.status_code == 200


def test_glance_api_start_kills_a_crashed_upload(start_api, api_for, tmp_path):
    crashing = api_for(start_api(**FAST))
    image_id, body, _thread = _held_upload(crashing, first=MiB)
    crashing.server.stop(sig=signal.SIGKILL)
    body.release.set()
    time.sleep(STALE + 1)
    restarted = api_for(start_api(**FAST))
    assert wait_for(lambda: restarted.status(image_id) == "killed", timeout=10)
    assert wait_for(lambda: "died): set to 'killed'" in restarted.server.logtext())


@pytest.mark.parametrize("store", STORES)
def test_scrubber_kills_crashed_upload_and_removes_only_its_data(
        store, request, start_api, api_for, registry_server, tmp_path):
    datadir = str(tmp_path / "images")
    options, helpers = store_options(request, store, filesystem_store_datadir=datadir, **FAST)
    live, crashing = api_for(start_api(**options)), api_for(start_api(**options))
    if helpers is None:
        live.backend_objects = lambda image_id: [n for n in live.files() if image_id in n]
    else:
        live.backend_objects = helpers[0]

    kept = live.create(data=os.urandom(MiB + 3), name="kept", disk_format="raw",
                       container_format="bare")
    assert kept.status_code == 201, kept.text
    kept = kept.json()["image"]
    dead_id, dead_body, _ = _held_upload(crashing)
    assert wait_for(lambda: live.backend_objects(dead_id) != [], timeout=10)
    crashing.server.stop(sig=signal.SIGKILL)
    dead_body.release.set()
    alive_id, alive_body, alive_thread = _held_upload(live)
    try:
        time.sleep(STALE + 1.5)
        left = live.backend_objects(dead_id)
        alive_left = live.backend_objects(alive_id)

        dry = _scrubber(tmp_path, registry_server, options, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert f"Would kill image {dead_id}" in dry.stdout
        assert alive_id not in dry.stdout and kept["id"] not in dry.stdout
        assert live.status(dead_id) == "saving" and live.backend_objects(dead_id) == left

        done = _scrubber(tmp_path, registry_server, options)
        assert done.returncode == 0, done.stderr
        assert f"Killed image {dead_id}" in done.stderr
        assert live.status(dead_id) == "killed"
        assert live.backend_objects(dead_id) == [], done.stderr
        assert live.status(alive_id) == "saving"
        assert live.backend_objects(alive_id) == alive_left, "a live upload lost its data"
    finally:
        alive_body.release.set()
        alive_thread.join(60)
    assert alive_body.answer.status_code == 200, alive_body.answer
    got = live.request("GET", f"/v1/images/{kept['id']}")
    assert got.status_code == 200 and len(got.content) == kept["size"]
    assert live.request("GET", f"/v1/images/{alive_id}").status_code == 200
