"""Swift, and S3 (Swift's s3api), stopped mid-upload and mid-download.

The proxy is down until glance-api has answered, so the store cannot clean
up after itself: the segments or the multipart upload it left are removed
by one glance-scrubber run once the proxy is back.
"""
import hashlib
import os
import time

import pytest
import requests

from faults.deployment import STALE_SECONDS, MiB, RawUpload, md5, new_id
from servers import wait_for

STORES = [pytest.param("swift", marks=pytest.mark.swift),
          pytest.param("s3", marks=pytest.mark.s3)]
# boto3 retries a stopped endpoint with growing pauses (up to 20 s each): one retry is
# enough to show the store gives up cleanly.
QUICK_S3 = {"s3_store_max_retries": 1, "s3_store_connect_timeout": 2,
            "s3_store_read_timeout": 30}


def deploy_quick(deploy, store):
    return deploy(store, api_options=QUICK_S3 if store == "s3" else None)


@pytest.mark.parametrize("store", STORES)
def test_backend_stopped_mid_upload(deploy, saio, store):
    glance = deploy_quick(deploy, store)
    image_id, data = new_id(), os.urandom(16 * MiB)
    upload = RawUpload(glance.api.port, image_id, data, timeout=600)
    upload.send(12 * MiB)
    assert glance.wait_status(image_id, "saving") == "saving"
    assert wait_for(lambda: glance.stored(), timeout=30)
    saio.stop_proxy()
    began = time.monotonic()
    try:
        status = upload.finish()
    finally:
        saio.start_proxy()
    print(f"glance-api answered {status} after {time.monotonic() - began:.1f} s")
    assert status == 502
    assert glance.status(image_id) == "killed"

    time.sleep(STALE_SECONDS + 1)
    glance.scrub_once()
    assert glance.download(image_id)[0] == 404
    glance.round_trip()


@pytest.mark.parametrize("store", STORES)
def test_backend_stopped_mid_download(deploy, saio, store):
    glance = deploy_quick(deploy, store)
    data = os.urandom(32 * MiB)
    created = glance.upload(data, name="read-while-the-store-stops")
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]

    got, digest = 0, hashlib.md5()
    try:
        with requests.get(glance.url(f"/v1/images/{image_id}"), stream=True, timeout=60) as resp:
            assert resp.status_code == 200
            chunks = resp.iter_content(256 * 1024)
            while got < 2 * MiB:
                chunk = next(chunks)
                got += len(chunk)
                digest.update(chunk)
            saio.stop_proxy()
            with pytest.raises(requests.RequestException):
                for chunk in chunks:     # never a clean end with fewer or other bytes
                    got += len(chunk)
                    digest.update(chunk)
    finally:
        saio.start_proxy()
    assert got < len(data)

    assert glance.status(image_id) == "active"
    assert glance.download(image_id) == (200, md5(data))
    glance.scrub_once()
    glance.round_trip()
