"""Downloads verify themselves on every store: data changed in the store is never served whole.

The stored data is corrupted for real (the file rewritten, the Swift or S3
object overwritten behind Glance's back).  glance-api computes the MD5 while
streaming and holds the last chunk back: on a mismatch the connection is cut
before the last byte, and the image is logged as corrupt.
"""
import hashlib
import os

import pytest

from functional.stores import download as _download
from functional.stores import every_store  # noqa: F401  (a fixture)

MiB = 1024 * 1024


@pytest.mark.parametrize("change", ["same-size", "shorter", "longer"])
def test_corrupted_data_is_never_served_whole(every_store, change):
    api = every_store
    data = os.urandom(2 * MiB + 11)
    created = api.create(data=data, name="verify", disk_format="raw", container_format="bare")
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]
    assert _download(api, image_id) == (data, True)

    bad = {"same-size": os.urandom(len(data)), "shorter": data[:MiB],
           "longer": data + b"extra"}[change]
    api.corrupt(image_id, bad)
    received, complete = _download(api, image_id)
    assert not complete, "a corrupt image was served as a complete response"
    assert received != bad and len(received) < len(bad)
    assert f"Image {image_id} is corrupt" in api.server.logtext()
    # The image itself is unchanged, and the next request is answered normally.
    head = api.head(image_id)
    assert head.headers["x-image-meta-status"] == "active"
    assert head.headers["x-image-meta-checksum"] == hashlib.md5(data).hexdigest()
    assert api.request("DELETE", f"/v1/images/{image_id}").status_code == 200
