"""The registry's MariaDB really restarted (clean shutdown, then start) under load.

A private server started by the test on a free port; clients keep
uploading, reading and listing through glance-api the whole time.  While
the database is down a request may fail, but only with 503 and a message;
every image the API answered 201 for is active, every active image has
exactly its bytes (even one whose upload was answered 503);
after one scrubber run no image is left saving and no data is orphaned.
"""
import os
import threading
import time

import pytest
import requests

from faults.deployment import STALE_SECONDS, md5, new_id
from faults.mariadb import private_mariadb
from servers import wait_for

pytestmark = pytest.mark.mariadb
WORKERS = 4


class Load:
    """Client threads doing upload + HEAD + GET + list until ``stop``."""

    def __init__(self, glance):
        self.glance = glance
        self.stop = threading.Event()
        self.uploads = {}          # image id -> (status code, md5 of the data sent)
        self.failures = []         # (what, status, text) of every non-2xx answer
        self.served = 0
        self.lock = threading.Lock()

    def worker(self, number):
        session = requests.Session()
        while not self.stop.is_set():
            image_id, data = new_id(), os.urandom(64 * 1024 + number)
            try:
                created = self.glance.upload(data, name="load", id=image_id)
                self.note("POST", created, image_id, md5(data))
                if created.status_code == 201:
                    head = session.head(self.glance.url(f"/v1/images/{image_id}"), timeout=60)
                    self.note("HEAD", head)
                    got = session.get(self.glance.url(f"/v1/images/{image_id}"), timeout=60)
                    self.note("GET", got)
                    if got.status_code == 200 and md5(got.content) != md5(data):
                        self.failures.append(("GET", "wrong bytes", image_id))
                self.note("LIST", session.get(self.glance.url("/v1/images/detail"), timeout=60))
            except requests.RequestException as exc:
                self.failures.append(("connection", type(exc).__name__, str(exc)[:200]))

    def note(self, what, response, image_id=None, checksum=None):
        with self.lock:
            self.served += 1
            if image_id:
                self.uploads[image_id] = (response.status_code, checksum)
            if response.status_code >= 300:
                self.failures.append((what, response.status_code, response.text[:200]))

    def run(self, during):
        threads = [threading.Thread(target=self.worker, args=(n,)) for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        try:
            during()
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(120)


def test_mariadb_restart_under_load(deploy, tmp_path):
    database = private_mariadb(tmp_path)
    try:
        glance = deploy("file", sql_connection=database.url)
        load = Load(glance)

        def restart_twice():
            # Each restart only once the clients are busy: on a loaded machine (parallel
            # test workers) a fixed pause may not be enough for any load to build.
            wait_for(lambda: load.served >= 20, timeout=120)
            database.restart()
            served = load.served
            wait_for(lambda: load.served >= served + 20, timeout=120)
            database.restart(down_for=1.5)
            served = load.served
            wait_for(lambda: load.served >= served + 15, timeout=120)

        load.run(restart_twice)
        assert load.served > 50, "too little load to mean anything"
        # Failures happen only while the database is down, and only as a clean 503.
        bad = [(what, status, text) for what, status, text in load.failures
               if status != 503 or (what != "HEAD" and "unavailable" not in text.lower())]
        assert bad == [], bad[:5]
        assert all(status in (201, 503) for status, _ in load.uploads.values())

        time.sleep(STALE_SECONDS + 1)
        glance.scrub_once()
        for image_id, (status, checksum) in load.uploads.items():
            now = glance.status(image_id)
            if status == 201:
                assert now == "active", (image_id, now)
            # An upload answered 503 may still have committed 'active' before the
            # database went away; what must hold is that an active image has
            # exactly its bytes, and nothing is left saving.
            assert now in (None, "queued", "killed", "active"), (image_id, status, now)
            if now == "active":
                assert glance.download(image_id) == (200, checksum), (image_id, status)
        glance.round_trip()
    finally:
        database.stop()
