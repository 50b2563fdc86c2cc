"""glance-api SIGKILLed mid-upload, then restarted (issue 11 items 2 and 4).

Nothing in glance-api runs after SIGKILL: the image is left ``saving`` (v2
stage: ``uploading``) and the store holds a ``.part`` file, Swift segments or
an S3 multipart upload.  Once the image has not been touched for the stale
time, glance-api's start-up marks it ``killed`` and one glance-scrubber run
removes the partial data.  An upload that is alive, however long it runs,
keeps its image and its data whatever glance-scrubber does meanwhile.
"""
import http.server
import os
import threading
import time

import pytest

from faults.deployment import STALE_SECONDS, MiB, RawUpload, md5, new_id
from servers import wait_for
from v2client import V2

STORES = [pytest.param("file"),
          pytest.param("swift", marks=pytest.mark.swift),
          pytest.param("s3", marks=pytest.mark.s3)]


@pytest.mark.parametrize("store", STORES)
def test_sigkill_mid_upload_then_restart(deploy, store):
    glance = deploy(store)
    image_id, data = new_id(), os.urandom(16 * MiB)
    upload = RawUpload(glance.api.port, image_id, data)
    upload.send(12 * MiB)            # Swift: segments stored; S3: parts 1-2 of a multipart upload
    assert glance.wait_status(image_id, "saving") == "saving"
    assert wait_for(lambda: glance.stored(), timeout=30), "no partial data to recover from"
    glance.kill_api()
    upload.close()
    left = [name for name, _ in glance.stored()]
    assert left, "the SIGKILL left no partial data: the fault did not happen"
    assert glance.status(image_id) == "saving"

    time.sleep(STALE_SECONDS + 1)
    glance.api.start()               # start-up kills images stale in 'saving'
    assert glance.wait_status(image_id, "killed", timeout=20) == "killed"

    glance.scrub_once()
    assert glance.status(image_id) == "killed"
    # The next requests: the killed image has no data; a new image works.
    assert glance.download(image_id)[0] == 404
    glance.round_trip()


def test_scrubber_alone_recovers_an_image_left_saving(deploy):
    """Without an api restart, one scrubber run kills the image and removes its .part."""
    glance = deploy("file")
    image_id, data = new_id(), os.urandom(4 * MiB)
    upload = RawUpload(glance.api.port, image_id, data)
    upload.send(2 * MiB)
    assert wait_for(lambda: glance.stored())
    glance.kill_api()
    upload.close()
    dry = glance.scrub("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert glance.stored(), "--dry-run removed data"
    assert glance.status(image_id) == "saving", "--dry-run changed the image"

    time.sleep(STALE_SECONDS + 1)
    glance.scrub_once()
    assert glance.status(image_id) == "killed"
    glance.api.start()
    glance.round_trip()


def multipart_uploads(glance):
    return [name for name, _ in glance.stored() if name.startswith("multipart:")]


def v2_import(glance, image_id, method):
    answer = V2(glance.url()).request("POST", f"/v2/images/{image_id}/import",
                                      json={"method": method})
    assert answer.status_code == 202, answer.text


@pytest.fixture
def held_source():
    """``(url, release)``: a web server that sends 12 of 16 MiB, then waits for ``release``."""
    data, release = os.urandom(16 * MiB), threading.Event()

    class Held(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:12 * MiB])
            self.wfile.flush()
            release.wait(60)
            self.wfile.write(data[12 * MiB:])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Held)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/disk.img", release, data
    release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.s3
@pytest.mark.parametrize("how", ["stage", "web-download"])
def test_scrubber_leaves_a_long_v2_upload_alone(deploy, held_source, how):
    """Its multipart upload outlives saving_stale_time while its heartbeat keeps the image
    fresh: the scrubber kills nothing and aborts nothing; the upload completes."""
    url, release, data = held_source
    glance = deploy("s3", api_options={"http_store_allow_private": "true"})
    image_id = V2(glance.url()).new(name=how)["id"]
    if how == "stage":
        upload = RawUpload(glance.api.port, image_id, data, timeout=120, stage=True)
        upload.send(12 * MiB)
        busy = "uploading"
    else:
        v2_import(glance, image_id, {"name": "web-download", "uri": url})
        busy = "importing"
    assert glance.wait_status(image_id, busy) == busy
    assert wait_for(lambda: multipart_uploads(glance), timeout=30)
    time.sleep(STALE_SECONDS + 1)            # older than saving_stale_time now
    scrub = glance.scrub()
    assert scrub.returncode == 0, scrub.stderr
    assert glance.status(image_id) == busy, scrub.stderr
    assert multipart_uploads(glance), f"the live upload was aborted:\n{scrub.stderr}"

    if how == "stage":
        assert upload.finish() == 204
        v2_import(glance, image_id, {"name": "glance-direct"})
    else:
        release.set()
    assert glance.wait_status(image_id, "active", timeout=60) == "active"
    assert glance.download(image_id) == (200, md5(data))
    glance.scrub_once()


@pytest.mark.s3
def test_sigkill_mid_stage_then_restart_keeps_staged_images(deploy):
    """A stage that died is killed at the next start and its multipart upload removed by
    the scrubber; a completed stage waiting for its import is neither."""
    glance = deploy("s3")
    client = V2(glance.url())
    staged, staged_data = client.new(name="staged")["id"], os.urandom(MiB)
    assert client.upload(staged, staged_data, path="stage").status_code == 204
    image_id, data = client.new(name="stage that dies")["id"], os.urandom(16 * MiB)
    upload = RawUpload(glance.api.port, image_id, data, stage=True)
    upload.send(12 * MiB)
    assert glance.wait_status(image_id, "uploading") == "uploading"
    assert wait_for(lambda: multipart_uploads(glance), timeout=30)
    glance.kill_api()
    upload.close()

    time.sleep(STALE_SECONDS + 1)
    glance.api.start()                   # start-up kills the stale stage
    assert glance.wait_status(image_id, "killed", timeout=20) == "killed"
    scrub = glance.scrub()
    assert scrub.returncode == 0, scrub.stderr
    assert multipart_uploads(glance) == [], scrub.stderr
    assert glance.status(staged) == "uploading"
    v2_import(glance, staged, {"name": "glance-direct"})
    assert glance.wait_status(staged, "active") == "active"
    assert glance.download(staged) == (200, md5(staged_data))
    glance.scrub_once()
