"""The image cache in keystone mode: tokens decide, and the cache commands use glance's
own service token towards the registry."""
import os
from types import SimpleNamespace

import pytest
import requests

import keystone_tools
from functional.test_api_cache import run
from servers import wait_for

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def glance(keystone_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ks-cache")
    glance = keystone_tools.KeystoneGlance(
        keystone_server, workdir, image_cache_enabled="true",
        image_cache_datadir=f"{workdir}/image-cache")
    glance.cachedir = f"{workdir}/image-cache"
    yield glance.start()
    glance.stop()


def call(glance, method, path, user=None, **kw):
    headers = {"X-Auth-Token": glance.token(user)} if user else {}
    return requests.request(method, glance.api.url + path, headers={**headers,
                            **kw.pop("headers", {})}, timeout=30, **kw)


def test_keystone_cache(glance):
    data = os.urandom(MiB + 3)
    created = call(glance, "POST", "/v1/images", "owner", data=data, headers={
        "Content-Type": "application/octet-stream", "x-image-meta-name": "private",
        "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare"})
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]
    path = os.path.join(glance.cachedir, image_id)

    assert call(glance, "GET", f"/v1/images/{image_id}", "owner").content == data
    assert wait_for(lambda: os.path.isfile(path), 5)
    # Another project and anonymous callers still get nothing, and empty nothing.
    assert call(glance, "GET", f"/v1/images/{image_id}", "other").status_code == 404
    assert call(glance, "GET", f"/v1/images/{image_id}").status_code == 404
    assert os.path.isfile(path)

    for user, status in ((None, 401), ("owner", 403), ("other", 403)):
        for method, route in (("GET", "/v1/cached_images"),
                              ("DELETE", f"/v1/cached_images/{image_id}"),
                              ("PUT", f"/v1/cached_images/{image_id}")):
            got = call(glance, method, route, user)
            assert got.status_code == status, (user, method, route, got.text)
    assert os.path.isfile(path)
    listed = call(glance, "GET", "/v1/cached_images", "admin")
    assert listed.status_code == 200 and [e["image_id"] for e in
                                          listed.json()["cached_images"]] == [image_id]

    # The commands reach the registry as glance (service token from [keystone_authtoken]).
    assert call(glance, "DELETE", f"/v1/cached_images/{image_id}", "admin").status_code == 200
    assert call(glance, "PUT", f"/v1/cached_images/{image_id}", "admin").status_code == 200
    node = SimpleNamespace(server=glance.api)      # what run() needs: the api's conf
    fetched = run("cache_prefetcher", node)
    assert fetched.returncode == 0, fetched.stderr
    assert os.path.isfile(path)
    # Deleted behind this node's back: the reaper, as glance, finds out.
    gone = requests.delete(f"{glance.registry.url}/images/{image_id}", timeout=30,
                           headers={"X-Auth-Token": glance.token("owner")})
    assert gone.status_code == 200, gone.text
    reaped = run("cache_reaper", node)
    assert reaped.returncode == 0, reaped.stderr
    assert not os.path.exists(path)
    for text in (fetched.stderr, reaped.stderr):
        assert keystone_tools.GLANCE_PASSWORD not in text
