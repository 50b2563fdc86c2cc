"""Leaks: what a caller learns that it should not.

* glance-registry, reached directly, shows ``location`` (a store path, container or
  external URL) to admins only; glance-api still downloads and deletes as itself.
* With the registry down, a 503 says so and nothing more (its address goes to the log).
* ``/v1/shared-images/<project>`` lists only images the project can still see.
"""
import os
import tempfile

import pytest
import requests

from servers import glance_pair
from v2client import V2, tenant

DATA = os.urandom(64 * 1024 + 1)


@pytest.fixture(scope="module")
def glance(keystone_glance):
    return keystone_glance


def token(glance, user):
    return {"X-Auth-Token": glance.token(user)}


@pytest.fixture(scope="module")
def stored(glance):
    """A public and a private image of ``owner``, each with data, made through v1
    (an admin publishes: owners may not)."""
    made = {}
    for name in ("public", "private"):
        response = requests.post(glance.api.url + "/v1/images", data=DATA, timeout=30, headers={
            **token(glance, "owner"), "Content-Type": "application/octet-stream",
            "x-image-meta-name": name, "x-image-meta-disk_format": "raw",
            "x-image-meta-container_format": "bare"})
        assert response.status_code == 201, response.text
        made[name] = response.json()["image"]["id"]
    published = requests.put(f"{glance.api.url}/v1/images/{made['public']}", timeout=30,
                             headers={**token(glance, "admin"), "x-image-meta-is_public": "True"})
    assert published.status_code == 200, published.text
    return made


def registry_records(glance, headers, image_id):
    """Every registry answer that carries the image: show, both lists, the v2 list."""
    url = glance.registry.url
    records = []
    shown = requests.get(f"{url}/images/{image_id}", headers=headers, timeout=30)
    if shown.status_code == 200:
        records.append(shown.json()["image"])
    for path in ("/images/detail?is_public=none", "/v2/images"):
        listed = requests.get(url + path, headers=headers, timeout=30)
        assert listed.status_code == 200, listed.text
        records += [i for i in listed.json()["images"] if i["id"] == image_id]
    return records


@pytest.mark.parametrize("caller", [None, "forged-token", "other", "owner"])
def test_registry_shows_no_location_to_anonymous_or_non_admin_callers(glance, stored, caller):
    headers = {} if caller is None else (
        {"X-Auth-Token": caller} if caller == "forged-token" else token(glance, caller))
    records = registry_records(glance, headers, stored["public"])
    if caller == "owner":
        records += registry_records(glance, headers, stored["private"])
    assert records, "the caller must see the image, or the test proves nothing"
    for record in records:
        assert record.get("location") is None, record
    # an update answer does not show it either
    if caller == "owner":
        answer = requests.put(f"{glance.registry.url}/images/{stored['private']}",
                              headers=headers, json={"image": {"min_ram": 1}}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["image"]["location"] is None


def test_registry_shows_the_location_to_an_admin(glance, stored):
    for record in registry_records(glance, token(glance, "admin"), stored["private"]):
        assert record["location"].startswith("file://")


def test_owner_still_downloads_and_deletes_through_glance_api(glance, stored):
    v2 = V2(glance.api.url, token(glance, "owner"))
    for image_id in stored.values():
        assert requests.get(f"{glance.api.url}/v1/images/{image_id}", timeout=30,
                            headers=token(glance, "owner")).content == DATA
        assert v2.download(image_id).content == DATA
    other = V2(glance.api.url, token(glance, "other"))
    assert other.download(stored["public"]).content == DATA
    image = v2.uploaded(DATA)
    path = f"{glance.datadir}/{image['id']}"
    assert os.path.exists(path)
    assert v2.delete(image["id"]).status_code == 204
    assert not os.path.exists(path), "the owner's delete must remove the data"


def test_registry_down_answers_503_without_its_address():
    workdir = tempfile.mkdtemp(prefix="glance-leak-")
    with glance_pair(workdir) as (api, registry):
        image = V2(api.url).new(name="x")
        registry.stop()
        port = str(registry.port)
        answers = [requests.get(f"{api.url}/v1/images/{image['id']}", timeout=30),
                   requests.head(f"{api.url}/v1/images/{image['id']}", timeout=30),
                   requests.get(f"{api.url}/v1/images/detail", timeout=30),
                   requests.get(f"{api.url}/v2/images", timeout=30),
                   requests.get(f"{api.url}/v2/images/{image['id']}", timeout=30)]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            body = answer.text
            assert port not in body and "127.0.0.1" not in body and "Errno" not in body, body
            assert "Registry unavailable" in body or answer.request.method == "HEAD"
        assert port in api.logtext(), "the log must say which registry failed"


def test_shared_images_lists_only_what_the_member_can_see(tmp_path):
    with glance_pair(str(tmp_path)) as (api, _registry):
        alice, bob = tenant("pa"), tenant("pb")
        v2 = V2(api.url, alice)
        shared, kept = v2.new(name="made-private"), v2.new(name="still-shared")
        for image in (shared, kept):
            response = requests.put(f"{api.url}/v1/images/{image['id']}/members/pb",
                                    headers=alice, timeout=30)
            assert response.status_code == 204, response.text

        def listed():
            response = requests.get(f"{api.url}/v1/shared-images/pb", headers=bob, timeout=30)
            assert response.status_code == 200, response.text
            return sorted(i["image_id"] for i in response.json()["shared_images"])

        assert listed() == sorted([shared["id"], kept["id"]])
        response = v2.patch(shared["id"], [{"op": "replace", "path": "/visibility",
                                            "value": "private"}])
        assert response.status_code == 200, response.text
        assert V2(api.url, bob).show(shared["id"]).status_code == 404
        assert listed() == [kept["id"]]
        # the membership itself is kept (the owner may share the image again)
        members = requests.get(f"{api.url}/v1/images/{shared['id']}/members", headers=alice,
                               timeout=30).json()["members"]
        assert [m["member_id"] for m in members] == ["pb"]
