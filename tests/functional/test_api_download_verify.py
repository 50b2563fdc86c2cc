"""Downloads verify themselves on every store: data changed in the store is never served whole.

The stored data is corrupted for real (the file rewritten, the Swift or S3
object overwritten behind Glance's back).  glance-api computes the image's
fast checksum (XXH3-64, or a CRC-32 recorded without xxhash; the MD5 for images without one, and the MD5 and the
multihash too with verify_download_hashes) while streaming and holds the last
chunk back: on a mismatch the connection is cut before the last byte, and the
image is logged as corrupt.
"""
import hashlib
import os
import sqlite3
import zlib

import xxhash

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


@pytest.fixture(scope="module")
def api_hashes(start_api, api_for):
    """A glance-api that verifies the MD5 and the multihash of every download too."""
    return api_for(start_api(verify_download_hashes="true"))


def _registry_db(registry_server):
    return sqlite3.connect(os.path.join(registry_server.workdir, "registry.sqlite"))


def _corrupt_same_size(api, data):
    """Upload ``data``, then rewrite its file with other bytes of the same size."""
    created = api.create(data=data, name="verify", disk_format="raw", container_format="bare")
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]
    assert _download(api, image_id) == (data, True)
    with open(os.path.join(api.server.datadir, image_id), "r+b") as handle:
        handle.seek(len(data) // 2)
        handle.write(bytes(b ^ 0xFF for b in data[len(data) // 2:len(data) // 2 + 16]))
    return image_id


@pytest.mark.parametrize("hashes", [False, True], ids=["fast-checksum", "verify-hashes"])
def test_changed_file_is_cut_before_its_last_chunk(request, hashes):
    """16 bytes changed in the middle of the file, the size unchanged: the fast
    checksum (default), or the MD5 and SHA-512 (verify_download_hashes), stop the download
    before its last chunk."""
    api = request.getfixturevalue("api_hashes" if hashes else "api")
    data = os.urandom(3 * MiB + 5)
    image_id = _corrupt_same_size(api, data)
    received, complete = _download(api, image_id)
    assert not complete and len(received) <= 3 * MiB
    log = api.server.logtext()
    line = [x for x in log.splitlines() if f"Image {image_id} is corrupt:" in x]
    assert line, log[-2000:]
    expected = "MD5, sha512" if hashes else "XXH3-64"
    assert line[-1].endswith(f"mismatched: {expected}"), line[-1]
    assert api.head(image_id).headers["x-image-meta-status"] == "active"


@pytest.mark.parametrize("recorded, mismatched", [
    (lambda data: None, "MD5"),
    (lambda data: f"crc32:{zlib.crc32(data):08x}", "CRC-32")], ids=["none", "crc32"])
def test_older_images_are_verified_with_what_they_recorded(api, registry_server, recorded,
                                                            mismatched):
    """An image stored before the fast checksum existed (NULL, as migration 0006 leaves
    it) is verified with its MD5; one stored by a glance without python3-xxhash has a
    CRC-32, which downloads check.  Served whole while right, cut before its last chunk
    once changed."""
    data = os.urandom(2 * MiB + 3)
    created = api.create(data=data, name="old", disk_format="raw", container_format="bare")
    image_id = created.json()["image"]["id"]
    with _registry_db(registry_server) as db:
        assert db.execute("SELECT fast_checksum FROM images WHERE id = ?",
                          (image_id,)).fetchone()[0] == f"xxh3:{xxhash.xxh3_64_hexdigest(data)}"
        db.execute("UPDATE images SET fast_checksum = ? WHERE id = ?", (recorded(data), image_id))
    assert _download(api, image_id) == (data, True)
    with open(os.path.join(api.server.datadir, image_id), "r+b") as handle:
        handle.seek(MiB)
        handle.write(b"\0" * 8)
    received, complete = _download(api, image_id)
    assert not complete and len(received) <= 2 * MiB
    lines = [x for x in api.server.logtext().splitlines()
             if f"Image {image_id} is corrupt:" in x]
    assert lines and lines[-1].endswith(f"mismatched: {mismatched}"), lines


def test_fast_checksum_is_not_an_api_field(api):
    """The fast checksum is glance's own: not in v1 headers, v1 lists or v2 records,
    and a v2 client cannot set it."""
    data = os.urandom(1000)
    image_id = api.create(data=data, name="hidden", disk_format="raw", container_format="bare",
                          is_public=True).json()["image"]["id"]
    assert not [h for h in api.head(image_id).headers if "fast" in h.lower()]
    listed = api.request("GET", "/v1/images/detail").json()["images"]
    assert image_id in [i["id"] for i in listed]
    assert all("fast_checksum" not in image for image in listed)
    shown = api.request("GET", f"/v2/images/{image_id}").json()
    assert "fast_checksum" not in shown and shown["checksum"] == hashlib.md5(data).hexdigest()
    refused = api.request("POST", "/v2/images", json={"name": "x", "fast_checksum": "crc32:0"})
    assert refused.status_code == 403, refused.text
    names = [i["name"] for i in api.request("GET", "/v2/images").json()["images"]]
    assert "x" not in names
