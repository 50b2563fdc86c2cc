"""glance-api SIGKILLed mid-upload, then restarted (issue 11 items 2 and 4).

Nothing in glance-api runs after SIGKILL: the image is left ``saving`` and
the store holds a ``.part`` file, Swift segments or an S3 multipart upload.
Once the image has not been touched for the stale time, glance-api's
start-up marks it ``killed`` and one glance-scrubber run removes the
partial data.
"""
import os
import time

import pytest

from faults.deployment import STALE_SECONDS, MiB, RawUpload, new_id
from servers import wait_for

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
