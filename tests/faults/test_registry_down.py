"""glance-registry down: every API call is 503 with a message; all works once it is back."""
import os
import signal
import time

import requests

from faults.deployment import STALE_SECONDS, MiB, RawUpload, md5, new_id


def test_registry_down_then_back(deploy):
    glance = deploy("file")
    kept = os.urandom(MiB)
    kept_id = glance.upload(kept, name="kept", is_public="true").json()["image"]["id"]
    glance.registry.stop(signal.SIGKILL)

    for method, path in [("GET", "/v1/images"), ("GET", "/v1/images/detail"),
                         ("GET", f"/v1/images/{kept_id}"), ("DELETE", f"/v1/images/{kept_id}")]:
        response = requests.request(method, glance.url(path), timeout=60)
        assert response.status_code == 503, (method, path, response.text)
        assert "registry unavailable" in response.text.lower(), response.text
    head = requests.head(glance.url(f"/v1/images/{kept_id}"), timeout=60)
    assert head.status_code == 503
    refused_id = new_id()
    refused = glance.upload(os.urandom(MiB), name="refused", id=refused_id)
    assert refused.status_code == 503 and "registry unavailable" in refused.text.lower()
    assert glance.stored() == [(kept_id, kept_id)], "data written for an image never registered"

    glance.registry.start()
    assert glance.status(refused_id) is None
    assert glance.download(kept_id) == (200, md5(kept))
    glance.scrub_once()
    glance.round_trip()


def test_registry_dies_mid_upload(deploy):
    """The data is stored but cannot be activated: the client gets 503.

    The image stays 'saving' (the registry cannot be told otherwise) and its
    data stays too (glance-api cannot know whether the activation reached the
    database), until one scrubber run finds it stale, kills it and removes it.
    """
    glance = deploy("file")
    image_id, data = new_id(), os.urandom(4 * MiB)
    upload = RawUpload(glance.api.port, image_id, data)
    upload.send(MiB)
    assert glance.wait_status(image_id, "saving") == "saving"
    glance.registry.stop(signal.SIGKILL)
    assert upload.finish() == 503

    glance.registry.start()
    time.sleep(STALE_SECONDS + 1)
    glance.scrub_once()
    assert glance.status(image_id) == "killed"
    assert glance.download(image_id)[0] == 404
    glance.round_trip()
