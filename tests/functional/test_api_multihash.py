"""Multihash: every upload stores os_hash_algo/os_hash_value beside the MD5;
downloads verify both with verify_download_hashes (by default the fast checksum);
v1's answers do not change."""
import hashlib
import os

import pytest
import requests

from functional.stores import download
from glance.registry.client import RegistryClient
from v2client import V2, tenant

MiB = 1024 * 1024


def registry_of(server):
    return RegistryClient("127.0.0.1", server.port)


@pytest.fixture(scope="module")
def hashes_server(start_api, api_server):
    """A glance-api with verify_download_hashes on, on ``api_server``'s data directory."""
    return start_api(verify_download_hashes="true", filesystem_store_datadir=api_server.datadir)


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


def test_a_multihash_mismatch_fails_the_download_like_an_md5_one(api, hashes_server, api_for,
                                                                 registry_server):
    """With verify_download_hashes; without it the data (its CRC-32) is right, and served."""
    default, api = api, api_for(hashes_server)
    data = os.urandom(2 * MiB + 11)
    image = upload(api, data)
    registry = registry_of(registry_server)
    registry.update(image["id"], {"os_hash_value": hashlib.sha512(b"other").hexdigest()})
    assert download(default, image["id"]) == (data, True)
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


def _v2_image(api_server, path, data):
    client = V2(api_server.url, tenant("hasher"))
    image = client.new(name=f"v2-{path}")
    assert client.upload(image["id"], data, path=path).status_code == 204
    if path == "stage":
        go = client.request("POST", f"/v2/images/{image['id']}/import",
                            json={"method": {"name": "glance-direct"}})
        assert go.status_code == 202, go.text
    return client, client.show(image["id"]).json()


@pytest.mark.parametrize("path", ["file", "stage"])
def test_v2_uploads_and_imports_show_and_verify_the_multihash(hashes_server, registry_server,
                                                             path):
    api_server = hashes_server
    data = os.urandom(MiB + 17)
    client, shown = _v2_image(api_server, path, data)
    assert shown["status"] == "active"
    assert (shown["checksum"], shown["os_hash_algo"], shown["os_hash_value"]) == (
        hashlib.md5(data).hexdigest(), "sha512", hashlib.sha512(data).hexdigest())
    assert client.download(shown["id"]).content == data
    registry_of(registry_server).update(shown["id"], {"os_hash_value": "0" * 128})
    cut = requests.get(f"{api_server.url}/v2/images/{shown['id']}/file", stream=True,
                       headers=tenant("hasher"), timeout=60)
    received, complete = b"", True
    try:
        for piece in cut.iter_content(MiB):
            received += piece
    except requests.RequestException:
        complete = False
    assert not complete or len(received) < len(data)
    assert f"Image {shown['id']} is corrupt" in api_server.logtext()


def _peak_rss_mib(server):
    with open(f"/proc/{server.proc.pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM")


def test_hashing_threads_keep_memory_flat(api, registry_server):
    """Both hash queues are bounded: a 192 MiB upload does not grow glance-api by its size."""
    upload(api, os.urandom(MiB))                       # warm up: imports, pools, threads
    before = _peak_rss_mib(api.server)
    block = os.urandom(MiB)
    body = (block for _ in range(192))
    created = api.request("POST", "/v1/images", data=body, timeout=300,
                          headers={"Content-Type": "application/octet-stream",
                                   "x-image-meta-name": "big", "x-image-meta-disk_format": "raw",
                                   "x-image-meta-container_format": "bare"})
    assert created.status_code == 201, created.text
    record = registry_of(registry_server).get(created.json()["image"]["id"])
    expected = hashlib.sha512()
    for _ in range(192):
        expected.update(block)
    assert record["os_hash_value"] == expected.hexdigest()
    grown = _peak_rss_mib(api.server) - before
    assert grown < 48, f"glance-api grew by {grown} MiB"
