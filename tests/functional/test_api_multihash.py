"""Multihash: every upload stores os_hash_algo/os_hash_value beside the MD5, and
every download verifies both; v1's answers do not change."""
import hashlib
import os

from functional.stores import download
from glance.registry.client import RegistryClient

MiB = 1024 * 1024


def registry_of(server):
    return RegistryClient("127.0.0.1", server.port)


def upload(api, data):
    created = api.create(data=data, name="hashed", disk_format="raw", container_format="bare")
    assert created.status_code == 201, created.text
    return created.json()["image"]


def test_upload_stores_md5_and_sha512_and_v1_shows_neither_new_field(api, registry_server):
    data = os.urandom(3 * MiB + 5)
    image = upload(api, data)
    record = registry_of(registry_server).get(image["id"])
    assert record["checksum"] == hashlib.md5(data).hexdigest()
    assert record["os_hash_algo"] == "sha512"
    assert record["os_hash_value"] == hashlib.sha512(data).hexdigest()
    # v1 keeps its contract: no v2 field in its JSON or its headers.
    assert not {"os_hash_algo", "os_hash_value", "visibility", "tags"} & set(image)
    head = api.head(image["id"])
    assert not [h for h in head.headers if h.lower().startswith("x-image-meta-os_")]
    assert "x-image-meta-visibility" not in head.headers
    listed = api.request("GET", "/v1/images/detail?is_public=none").json()["images"]
    assert not {"os_hash_value", "visibility"} & set(listed[0])
    assert download(api, image["id"]) == (data, True)


def test_a_multihash_mismatch_fails_the_download_like_an_md5_one(api, registry_server):
    data = os.urandom(2 * MiB + 11)
    image = upload(api, data)
    registry = registry_of(registry_server)
    registry.update(image["id"], {"os_hash_value": hashlib.sha512(b"other").hexdigest()})
    received, complete = download(api, image["id"])
    assert not complete and len(received) < len(data)
    assert f"Image {image['id']} is corrupt" in api.server.logtext()
    # Nothing changed: the image is still active with its MD5, and its data is intact.
    head = api.head(image["id"])
    assert head.headers["x-image-meta-status"] == "active"
    assert head.headers["x-image-meta-checksum"] == hashlib.md5(data).hexdigest()
    registry.update(image["id"], {"os_hash_value": hashlib.sha512(data).hexdigest()})
    assert download(api, image["id"]) == (data, True)


def test_hashing_algorithm_option(start_api, api_for, registry_server):
    api = api_for(start_api(hashing_algorithm="sha256"))
    data = os.urandom(MiB + 3)
    image = upload(api, data)
    record = registry_of(registry_server).get(image["id"])
    assert (record["os_hash_algo"], record["os_hash_value"]) == \
        ("sha256", hashlib.sha256(data).hexdigest())
    assert download(api, image["id"]) == (data, True)
