"""The image cache of glance-api nodes, on the file store and on a real Swift.

Each node (a glance-api process) has its own cache directory; the commands
(glance-cache-pruner, -reaper, -prefetcher) run as real processes on the
node's glance-api.conf.
"""
import hashlib
import os
import subprocess
import sys
import time

import pytest
import requests

from functional.stores import STORES, download, store_options
from servers import APP, wait_for

MiB = 1024 * 1024
OWNER = {"X-Tenant": "tenant-a", "X-User": "alice", "X-Roles": "member"}
OTHER = {"X-Tenant": "tenant-b", "X-User": "bob", "X-Roles": "member"}
ANONYMOUS = {"X-Identity-Status": "Invalid"}


def cache_options(tmp, **extra):
    return {"image_cache_enabled": "true", "image_cache_datadir": str(tmp),
            "image_cache_max_size_bytes": 64 * MiB, **extra}


@pytest.fixture(scope="module", params=STORES)
def node(request, start_api, api_for, tmp_path_factory):
    """A glance-api with its cache enabled, on the store of the parameter."""
    options, helpers = store_options(request, request.param)
    cachedir = tmp_path_factory.mktemp("cache")
    api = api_for(start_api(**cache_options(cachedir, **options)))
    api.store, api.cachedir = request.param, str(cachedir)
    api.saio = request.getfixturevalue("saio") if "swift" in request.param else None
    api.corrupt = helpers[1] if helpers else None
    return api


def create(api, data, headers=None, **meta):
    meta = {"name": "cached", "disk_format": "raw", "container_format": "bare",
            "is_public": "true", **meta}
    sent = {f"x-image-meta-{k}": str(v) for k, v in meta.items()}
    got = api.request("POST", "/v1/images", data=data,
                      headers={**sent, **(headers or {}),
                               "Content-Type": "application/octet-stream"})
    assert got.status_code == 201, got.text
    return got.json()["image"]["id"]


def get(api, image_id, headers=None):
    got = api.request("GET", f"/v1/images/{image_id}", headers=headers or {})
    return got.status_code, got.content


def cached_file(api, image_id, sub=""):
    return os.path.join(api.cachedir, sub, image_id)


def listing(api, headers=None):
    got = api.request("GET", "/v1/cached_images", headers=headers or {})
    assert got.status_code == 200, got.text
    return {e["image_id"]: e for e in got.json()["cached_images"]}


def run(command, api, *args):
    """Run a cache command on ``api``'s glance-api.conf; its CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", f"glance.cmd.{command}", "--config-file",
                           api.server.conf, "--verbose", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def hide_store_data(api, image_id, data):
    """Make the store unable to serve ``image_id``: Swift's proxy stopped (Swift and
    its S3 API), the object overwritten (rclone's S3), or the file moved away.
    :returns: the function that brings it back."""
    if api.saio is not None:
        api.saio.stop_proxy()
        return api.saio.start_proxy
    if api.corrupt is not None:     # served from the store, this would fail its MD5
        api.corrupt(image_id, os.urandom(len(data)))
        return lambda: api.corrupt(image_id, data)
    path = os.path.join(api.server.datadir, image_id)
    os.rename(path, path + ".away")
    return lambda: os.rename(path + ".away", path)


def test_first_get_fills_the_cache_and_the_second_needs_no_store(node):
    data = os.urandom(3 * MiB + 5)
    image_id = create(node, data)
    assert image_id not in listing(node)
    assert get(node, image_id) == (200, data)
    assert wait_for(lambda: os.path.isfile(cached_file(node, image_id)), 5)
    with open(cached_file(node, image_id), "rb") as handle:
        assert handle.read() == data
    entry = listing(node)[image_id]
    assert entry["size"] == len(data)
    assert os.listdir(os.path.join(node.cachedir, "incomplete")) == []

    uncached = create(node, os.urandom(MiB))
    restore = hide_store_data(node, image_id, data)
    try:
        status, body = get(node, image_id)
        assert (status, hashlib.md5(body).hexdigest()) == (200, hashlib.md5(data).hexdigest())
        if node.saio is not None:   # the store really is down: an uncached image fails
            # boto3 retries a refused endpoint with jittered backoff (up to ~30 s)
            failed = node.request("GET", f"/v1/images/{uncached}", timeout=120)
            assert failed.status_code == 502
    finally:
        restore()
    # A hit is an access: the pruner's order follows it.
    assert listing(node)[image_id]["last_accessed"] >= entry["last_accessed"]
    assert get(node, uncached)[0] == 200


def test_a_corrupted_cache_file_is_detected_and_refetched(node):
    data = os.urandom(2 * MiB + 3)
    image_id = create(node, data)
    assert get(node, image_id) == (200, data)
    path = cached_file(node, image_id)
    assert wait_for(lambda: os.path.isfile(path), 5)

    with open(path, "r+b") as handle:           # same size, other bytes
        handle.seek(MiB)
        handle.write(b"\0" * 100)
    received, complete = download(node, image_id)
    assert not complete and len(received) < len(data), "corrupt cache data was served whole"
    assert not os.path.exists(path)
    assert os.path.exists(cached_file(node, image_id, "invalid"))
    assert "corrupt" in node.server.logtext()
    # The next download comes from the store, whole, and fills the cache again.
    assert get(node, image_id) == (200, data)
    assert wait_for(lambda: os.path.isfile(path), 5)
    with open(path, "rb") as handle:
        assert hashlib.md5(handle.read()).hexdigest() == hashlib.md5(data).hexdigest()

    with open(path, "r+b") as handle:           # cut short: caught before a byte is sent
        handle.truncate(MiB)
    assert download(node, image_id) == (data, True)
    assert wait_for(lambda: os.path.isfile(path) and os.path.getsize(path) == len(data), 5)


def test_a_client_that_goes_away_leaves_no_cache_entry(node):
    data = os.urandom(24 * MiB)
    image_id = create(node, data)
    got = requests.get(f"{node.url}/v1/images/{image_id}", stream=True, timeout=30)
    assert got.status_code == 200
    next(got.iter_content(MiB))
    assert os.path.exists(cached_file(node, image_id, "incomplete"))
    got.close()
    assert wait_for(lambda: not os.path.exists(cached_file(node, image_id, "incomplete")), 15)
    assert not os.path.exists(cached_file(node, image_id))
    assert get(node, image_id) == (200, data)       # and the next one fills it
    assert wait_for(lambda: os.path.isfile(cached_file(node, image_id)), 5)


def test_two_downloads_at_once_both_get_the_image_and_one_entry_is_kept(node):
    data = os.urandom(24 * MiB)
    image_id = create(node, data)
    first = requests.get(f"{node.url}/v1/images/{image_id}", stream=True, timeout=60)
    assert first.status_code == 200
    chunks = first.iter_content(MiB)
    head = next(chunks)
    assert os.path.exists(cached_file(node, image_id, "incomplete"))
    assert get(node, image_id) == (200, data)       # meanwhile: from the store, no second fill
    assert head + b"".join(chunks) == data
    first.close()
    with open(cached_file(node, image_id), "rb") as handle:     # kept before the last byte
        assert hashlib.md5(handle.read()).hexdigest() == hashlib.md5(data).hexdigest()
    assert os.listdir(os.path.join(node.cachedir, "incomplete")) == []
    assert get(node, image_id) == (200, data)


def test_the_cache_never_bypasses_authorisation(node):
    data = os.urandom(MiB + 1)
    image_id = create(node, data, headers=OWNER, is_public="false")
    assert get(node, image_id, OWNER) == (200, data)
    assert wait_for(lambda: os.path.isfile(cached_file(node, image_id)), 5)
    for caller in (OTHER, ANONYMOUS):
        status, body = get(node, image_id, caller)
        assert status == 404 and data not in body
    # Their 404s did not empty the cache: the image still exists.
    assert os.path.isfile(cached_file(node, image_id))
    assert get(node, image_id, OWNER) == (200, data)


def test_the_admin_api_is_for_admins_only(node):
    data = os.urandom(MiB)
    image_id = create(node, data)
    assert get(node, image_id)[0] == 200
    queued_id = create(node, os.urandom(1000))
    before = listing(node)
    assert image_id in before
    for caller, status in ((OTHER, 403), (ANONYMOUS, 401)):
        for method, path in (("GET", "/v1/cached_images"),
                             ("GET", f"/v1/cached_images/{image_id}"),
                             ("DELETE", f"/v1/cached_images/{image_id}"),
                             ("DELETE", "/v1/cached_images"),
                             ("PUT", f"/v1/cached_images/{queued_id}"),
                             ("GET", "/v1/queued_images")):
            got = node.request(method, path, headers=caller)
            assert got.status_code == status, (caller, method, path, got.text)
            assert image_id not in got.text
    assert listing(node) == before
    assert os.path.isfile(cached_file(node, image_id))
    assert node.request("GET", "/v1/queued_images").json() == {"queued_images": []}

    # The admin (noauth without identity headers) may.
    one = node.request("GET", f"/v1/cached_images/{image_id}")
    assert one.status_code == 200 and one.json()["cached_image"]["size"] == MiB
    assert node.request("DELETE", f"/v1/cached_images/{image_id}").status_code == 200
    assert image_id not in listing(node)
    assert node.request("DELETE", f"/v1/cached_images/{image_id}").status_code == 404
    assert get(node, image_id) == (200, data)       # the image itself is untouched


def test_prefetch_queues_and_caches(node):
    data = os.urandom(2 * MiB)
    image_id = create(node, data)
    queued = node.request("PUT", f"/v1/cached_images/{image_id}")
    assert queued.status_code == 200, queued.text
    assert node.request("GET", "/v1/queued_images").json() == {"queued_images": [image_id]}
    assert node.request("PUT", "/v1/cached_images/no-such-image").status_code == 404
    done = run("cache_prefetcher", node)
    assert done.returncode == 0, done.stderr
    assert image_id in listing(node)
    assert node.request("GET", "/v1/queued_images").json() == {"queued_images": []}
    restore = hide_store_data(node, image_id, data)
    try:
        assert get(node, image_id) == (200, data)
    finally:
        restore()


def test_the_pruner_honours_the_cap(node):
    assert node.request("DELETE", "/v1/cached_images").status_code == 200
    ids = [create(node, os.urandom(2 * MiB)) for _ in range(3)]
    for image_id in ids:
        assert get(node, image_id)[0] == 200
        time.sleep(0.05)
    assert get(node, ids[0])[0] == 200          # the first is now the most recent
    assert wait_for(lambda: set(ids) <= set(listing(node)), 5)
    # Cap 5 MiB, 20 % extra: 6 MiB cached, 2 MiB must go: the least recently used.
    pruned = run("cache_pruner", node, "--image-cache-max-size-bytes", str(5 * MiB))
    assert pruned.returncode == 0, pruned.stderr
    left = listing(node)
    assert set(left) == {ids[0], ids[2]}
    assert sum(e["size"] for e in left.values()) <= 5 * MiB
    # Within the cap there is nothing to do.
    assert run("cache_pruner", node, "--image-cache-max-size-bytes",
               str(5 * MiB)).returncode == 0
    assert set(listing(node)) == {ids[0], ids[2]}


def test_the_reaper_removes_invalid_stalled_and_deleted_entries(node):
    stalled, fresh, invalid = (cached_file(node, name, sub) for name, sub in
                               (("stalled-1", "incomplete"), ("fresh-1", "incomplete"),
                                ("broken-1", "invalid")))
    for path in (stalled, fresh, invalid):
        with open(path, "wb") as handle:
            handle.write(b"x" * 1000)
    old = time.time() - 86400 - 60
    os.utime(stalled, (old, old))
    data = os.urandom(MiB)
    deleted_id, kept_id = create(node, data), create(node, data)
    for image_id in (deleted_id, kept_id):
        assert get(node, image_id)[0] == 200
    assert wait_for(lambda: {deleted_id, kept_id} <= set(listing(node)), 5)
    # Deleted behind this node's back (another node, or the registry directly).
    registry = node.server.options["registry_port"]
    assert requests.delete(f"http://127.0.0.1:{registry}/images/{deleted_id}",
                           timeout=10).status_code == 200

    reaped = run("cache_reaper", node)
    assert reaped.returncode == 0, reaped.stderr
    assert not os.path.exists(stalled) and not os.path.exists(invalid)
    assert os.path.exists(fresh)
    assert set(listing(node)) >= {kept_id} and deleted_id not in listing(node)
    os.unlink(fresh)


def test_a_disabled_cache_is_left_alone(start_api, api_for, tmp_path_factory):
    cachedir = tmp_path_factory.mktemp("nocache")
    api = api_for(start_api(image_cache_enabled="false", image_cache_datadir=str(cachedir)))
    image_id = create(api, os.urandom(1000))
    assert get(api, image_id)[0] == 200
    assert os.listdir(cachedir) == []
    assert api.request("GET", "/v1/cached_images").status_code == 404
    api.cachedir = str(cachedir)
    for command in ("cache_pruner", "cache_reaper", "cache_prefetcher"):
        done = run(command, api)
        assert done.returncode == 0 and "not enabled" in done.stderr
    assert os.listdir(cachedir) == []


@pytest.mark.swift
def test_two_nodes_each_with_its_own_cache(request, start_api, api_for, tmp_path_factory):
    saio_ = request.getfixturevalue("saio")
    options, _ = store_options(request, "swift")
    nodes = []
    for _ in range(2):
        cachedir = tmp_path_factory.mktemp("node")
        api = api_for(start_api(**cache_options(cachedir, **options)))
        api.cachedir, api.store, api.saio = str(cachedir), "swift", saio_
        nodes.append(api)
    a, b = nodes
    data = os.urandom(2 * MiB)
    image_id = create(a, data)
    assert get(a, image_id) == (200, data)
    assert image_id in listing(a) and image_id not in listing(b)
    assert get(b, image_id) == (200, data)
    assert image_id in listing(b)
    # Deleted through b: gone from b at once, from a on its next lookup.
    assert b.request("DELETE", f"/v1/images/{image_id}").status_code == 200
    assert image_id not in listing(b)
    assert image_id in listing(a)
    assert get(a, image_id, OTHER)[0] == 404
    assert image_id not in listing(a) and not os.path.exists(cached_file(a, image_id))


def test_v2_downloads_use_the_same_cache(node):
    data = os.urandom(2 * MiB + 9)
    image_id = create(node, data)
    got = node.request("GET", f"/v2/images/{image_id}/file")
    assert (got.status_code, got.content) == (200, data)
    assert wait_for(lambda: os.path.isfile(cached_file(node, image_id)), 5)
    restore = hide_store_data(node, image_id, data)
    try:
        got = node.request("GET", f"/v2/images/{image_id}/file")
        assert (got.status_code, got.content) == (200, data)
        assert get(node, image_id) == (200, data)       # and v1 from the same entry
    finally:
        restore()
    # A range is read from the store (a part cannot be verified, so it is never cached).
    ranged = node.request("GET", f"/v2/images/{image_id}/file", headers={"Range": "bytes=0-9"})
    assert (ranged.status_code, ranged.content) == (206, data[:10])
