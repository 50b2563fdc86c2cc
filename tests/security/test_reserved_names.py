"""Reserved names: no path that writes properties stores one glance itself sets.

v2 shows properties beside its fields, so a v1 property ``direct_url`` or
``os_hash_value`` would pass for glance's own to Nova and Cinder.  One list
(``glance.rules.RESERVED_NAMES`` and ``RESERVED_PREFIXES``), refused with 403
through v1 (POST and PUT headers), v2 (create and PATCH) and the registry.
"""
import sqlite3

import pytest
import requests

from v2client import V2, tenant

ALICE = tenant("alice")
RESERVED = ["direct_url", "locations", "stores", "os_glance_import_task", "os_glance_x",
            "os_hash_algo", "os_hash_value", "os_hash_other", "checksum", "owner", "status",
            "size", "virtual_size", "location", "id", "visibility", "self", "file", "schema",
            "deleted", "created_at", "is_public", "name", "tags", "protected"]
SPOOF = "rbd://fsid/pool/forged/snap"


@pytest.fixture(scope="module")
def v2(api_server):  # noqa: F811
    return V2(api_server.url, ALICE)


def v1(server, method, path, **headers):
    return requests.request(method, server.url + path, timeout=30,
                            headers={**ALICE, **headers})


def state(v2, image_id):
    """What a reader sees of the image: its v2 document and its v1 headers."""
    document = v2.show(image_id).json()
    shown = requests.head(f"{v2.url}/v1/images/{image_id}", headers=ALICE, timeout=30)
    return document, {k.lower(): v for k, v in shown.headers.items()
                      if k.lower().startswith("x-image-meta-")}


@pytest.mark.parametrize("name", RESERVED)
def test_v1_post_refuses_a_reserved_property(api_server, v2, name):  # noqa: F811
    before = v2.ids()
    response = v1(api_server, "POST", "/v1/images", **{
        "x-image-meta-name": "spoof", "x-image-meta-disk_format": "raw",
        "x-image-meta-container_format": "bare",
        f"x-image-meta-property-{name.replace('_', '-')}": SPOOF})
    assert response.status_code == 403, response.text
    assert v2.ids() == before


@pytest.mark.parametrize("name", RESERVED)
def test_v1_put_refuses_a_reserved_property(api_server, v2, name):  # noqa: F811
    image = v2.new(name="kept", note="n")
    before = state(v2, image["id"])
    response = v1(api_server, "PUT", f"/v1/images/{image['id']}",
                  **{f"x-image-meta-property-{name}": SPOOF, "x-image-meta-property-note": "n"})
    assert response.status_code == 403, response.text
    assert state(v2, image["id"]) == before
    assert SPOOF not in str(before)


@pytest.mark.parametrize("name", ["direct_url", "locations", "stores", "os_glance_x",
                                  "os_hash_other", "checksum", "size"])
def test_v2_refuses_a_reserved_name(v2, name):
    before = v2.ids()
    response = v2.create(name="spoof", disk_format="raw", container_format="bare",
                         **{name: SPOOF})
    assert response.status_code == 403, response.text
    assert v2.ids() == before
    image = v2.new(name="kept")
    response = v2.patch(image["id"], [{"op": "add", "path": f"/{name}", "value": SPOOF}])
    assert response.status_code == 403, response.text
    assert v2.show(image["id"]).json() == image


@pytest.mark.parametrize("name", RESERVED)
def test_registry_refuses_a_reserved_property(registry_server, v2, name):  # noqa: F811
    image = v2.new(name="kept", note="n")
    before = state(v2, image["id"])
    url = f"{registry_server.url}/images"
    count = len(v2.ids())
    response = requests.post(url, json={"image": {
        "name": "direct", "disk_format": "raw", "container_format": "bare",
        "properties": {name: SPOOF}}}, headers=ALICE, timeout=30)
    assert response.status_code == 403, response.text
    assert len(v2.ids()) == count
    response = requests.put(f"{url}/{image['id']}", headers=ALICE, timeout=30,
                            json={"image": {"properties": {name: SPOOF}}})
    assert response.status_code == 403, response.text
    assert state(v2, image["id"]) == before


def test_a_reserved_property_an_older_glance_stored_passes_for_nothing(
        registry_server, api_server, v2):  # noqa: F811
    """A row written before the rule: v2 does not show it as a field, and the image can
    still be changed (v2 PATCH sends every property back)."""
    image = v2.new(name="old")
    with sqlite3.connect(f"{registry_server.workdir}/registry.sqlite") as db:
        db.execute("INSERT INTO image_properties (image_id, name, value, created_at, deleted) "
                   "VALUES (?, 'direct_url', ?, CURRENT_TIMESTAMP, 0)", (image["id"], SPOOF))
    shown = v2.show(image["id"]).json()
    assert "direct_url" not in shown
    response = v2.patch(image["id"], [{"op": "add", "path": "/note", "value": "n"}])
    assert response.status_code == 200, response.text
    assert response.json()["note"] == "n" and "direct_url" not in response.json()
