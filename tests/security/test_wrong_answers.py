"""Answers that were wrong: formats of an active image changed through v1, v2 list filters
that did not filter, a 401 without ``WWW-Authenticate``, an unchanged owner refused."""
import hashlib
import os

import pytest
import requests

from v2client import V2

DATA = os.urandom(4096 + 3)


@pytest.fixture(scope="module")
def glance(keystone_glance):
    return keystone_glance


def as_user(glance, name):
    return {"X-Auth-Token": glance.token(name)}


@pytest.fixture(scope="module")
def owner(glance):
    return V2(glance.api.url, as_user(glance, "owner"))


def v1(glance, user, method, path, **kw):
    headers = {**(as_user(glance, user) if user else {}), **kw.pop("headers", {})}
    return requests.request(method, glance.api.url + path, headers=headers, timeout=30, **kw)


def v1_create(glance, user, data=DATA, **meta):
    headers = {f"x-image-meta-{k}": str(v) for k, v in meta.items()}
    headers["Content-Type"] = "application/octet-stream"
    response = v1(glance, user, "POST", "/v1/images", data=data, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["image"]


def meta(glance, user, image_id):
    response = v1(glance, user, "HEAD", f"/v1/images/{image_id}")
    assert response.status_code == 200
    return {k.lower(): v for k, v in response.headers.items()
            if k.lower().startswith("x-image-meta-")}


# --- 12: an unchanged owner on a v1 update ------------------------------------------

def test_v1_update_echoing_the_unchanged_owner_is_accepted(glance):
    """python-glanceclient (Diablo) sends back every x-image-meta-* it read, owner included."""
    image = v1_create(glance, "owner", name="echo", disk_format="raw", container_format="bare")
    echoed = meta(glance, "owner", image["id"])
    headers = {**echoed, "x-image-meta-name": "renamed"}
    response = v1(glance, "owner", "PUT", f"/v1/images/{image['id']}", headers=headers)
    assert response.status_code == 200, response.text
    after = meta(glance, "owner", image["id"])
    assert after["x-image-meta-name"] == "renamed"
    assert after["x-image-meta-owner"] == echoed["x-image-meta-owner"] \
        == glance.keystone.accounts["owner"]["project_id"]


def test_v1_update_changing_the_owner_is_refused(glance):
    image = v1_create(glance, "owner", name="mine", disk_format="raw", container_format="bare")
    before = meta(glance, "owner", image["id"])
    other = glance.keystone.accounts["other"]["project_id"]
    for owner in (other, before["x-image-meta-owner"].upper(), ""):
        response = v1(glance, "owner", "PUT", f"/v1/images/{image['id']}",
                      headers={"x-image-meta-owner": owner, "x-image-meta-name": "taken"})
        assert response.status_code == 403, (owner, response.text)
    assert meta(glance, "owner", image["id"]) == before


# --- 11: formats of an image with data ------------------------------------------------

@pytest.mark.parametrize("field,value", [("disk_format", "qcow2"), ("container_format", "ovf")])
def test_v1_update_refuses_new_formats_for_an_active_image(glance, owner, field, value):
    image = v1_create(glance, "owner", name="formats", disk_format="raw",
                      container_format="bare")
    before = meta(glance, "owner", image["id"])
    assert before["x-image-meta-status"] == "active"
    response = v1(glance, "owner", "PUT", f"/v1/images/{image['id']}",
                  headers={f"x-image-meta-{field}": value})
    assert response.status_code == 403, response.text
    assert meta(glance, "owner", image["id"]) == before
    # the same formats again (clients echo them) are no change
    response = v1(glance, "owner", "PUT", f"/v1/images/{image['id']}",
                  headers={"x-image-meta-disk_format": "raw",
                           "x-image-meta-container_format": "bare"})
    assert response.status_code == 200, response.text


def test_v1_update_sets_formats_of_a_queued_image(glance):
    response = v1(glance, "owner", "POST", "/v1/images", headers={"x-image-meta-name": "q"})
    assert response.status_code == 201, response.text
    image_id = response.json()["image"]["id"]
    response = v1(glance, "owner", "PUT", f"/v1/images/{image_id}",
                  headers={"x-image-meta-disk_format": "qcow2",
                           "x-image-meta-container_format": "bare"})
    assert response.status_code == 200, response.text
    assert meta(glance, "owner", image_id)["x-image-meta-disk_format"] == "qcow2"


# --- 11: v2 list filters ----------------------------------------------------------------

@pytest.fixture(scope="module")
def sized(owner):
    """Three images of the owner with data of 10, 20 and 30 bytes, and one queued."""
    tag = os.urandom(4).hex()
    images = [owner.uploaded(bytes([n]) * size, tags=[tag]) for n, size in
              enumerate((10, 20, 30))]
    owner.new(name="queued", tags=[tag])
    return tag, images


def listed(owner, tag, **params):
    response = owner.list(tag=tag, **params)
    assert response.status_code == 200, response.text
    return sorted(image["size"] or 0 for image in response.json()["images"])


def test_v2_list_filters_by_size(owner, sized):
    tag, _ = sized
    assert listed(owner, tag, size=20) == [20]
    assert listed(owner, tag, size_min=20) == [20, 30]
    assert listed(owner, tag, size_max=20) == [10, 20]
    assert listed(owner, tag, size_min=15, size_max=25) == [20]
    assert listed(owner, tag, size=21) == []


def test_v2_list_filters_by_checksum_and_hash(owner, sized):
    tag, images = sized
    second = images[1]
    assert second["checksum"] == hashlib.md5(bytes([1]) * 20).hexdigest()
    assert listed(owner, tag, checksum=second["checksum"]) == [20]
    assert listed(owner, tag, os_hash_value=second["os_hash_value"]) == [20]
    assert listed(owner, tag, checksum="0" * 32) == []
    assert listed(owner, tag, os_hash_value="0" * 128) == []


@pytest.mark.parametrize("params", [{"size": "x"}, {"size_min": "-1"}, {"size_max": "1e3"}])
def test_v2_list_refuses_a_size_that_is_no_number(owner, sized, params):
    assert owner.list(**params).status_code == 400


# --- 11: where to authenticate --------------------------------------------------------

@pytest.mark.parametrize("method,path", [("POST", "/v1/images"), ("POST", "/v2/images"),
                                         ("GET", "/v2/info/usage"),
                                         ("DELETE", "/v1/images/x")])
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_401_says_where_to_authenticate(glance, method, path, token):
    headers = {"X-Auth-Token": token} if token else {}
    response = requests.request(method, glance.api.url + path, headers=headers, timeout=30,
                                json={} if path == "/v2/images" else None)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == \
        f'Keystone uri="{glance.keystone.url}"'
