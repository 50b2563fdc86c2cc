"""One image, two APIs: round trips v1 -> v2 and v2 -> v1 through one glance-api.

Used on SQLite (tests/functional/test_api_v2.py) and on MariaDB and PostgreSQL
(tests/integration/registry/test_cross_api_databases.py).
"""
import hashlib
import os
import uuid

import requests

DATA = os.urandom(150 * 1024 + 11)
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
OWNER = {"X-Tenant-Id": "crossowner", "X-User-Id": "crossowner-user"}
STRANGER = {"X-Tenant-Id": "crossstranger", "X-User-Id": "crossstranger-user"}


def _get(url, **kw):
    return requests.get(url, timeout=30, **kw)


def v1_to_v2(base):
    """Created, uploaded and described through v1; read, patched, downloaded, deleted via v2."""
    name = f"v1-{uuid.uuid4().hex[:8]}"
    created = requests.post(f"{base}/v1/images", data=DATA, timeout=30, headers={
        **OWNER, "Content-Type": "application/octet-stream", "x-image-meta-name": name,
        "x-image-meta-disk_format": "qcow2", "x-image-meta-container_format": "bare",
        "x-image-meta-is_public": "false", "x-image-meta-property-distro": "debian"})
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]

    shown = _get(f"{base}/v2/images/{image_id}", headers=OWNER).json()
    assert shown["name"] == name and shown["distro"] == "debian"
    assert shown["visibility"] in ("private", "shared") and shown["owner"] == "crossowner"
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest() and shown["size"] == len(DATA)
    assert _get(f"{base}/v2/images/{image_id}/file", headers=OWNER).content == DATA
    assert _get(f"{base}/v2/images/{image_id}", headers=STRANGER).status_code == 404

    patched = requests.patch(f"{base}/v2/images/{image_id}", timeout=30, json=[
        {"op": "add", "path": "/arch", "value": "x86_64"},
        {"op": "remove", "path": "/distro"},
        {"op": "add", "path": "/tags", "value": ["cross"]}],
        headers={**OWNER, "Content-Type": PATCH_TYPE})
    assert patched.status_code == 200, patched.text
    # publishing is an admin's (noauth: a caller without identity headers)
    publish = [{"op": "replace", "path": "/visibility", "value": "public"}]
    refused = requests.patch(f"{base}/v2/images/{image_id}", timeout=30, json=publish,
                             headers={**OWNER, "Content-Type": PATCH_TYPE})
    assert refused.status_code == 403, refused.text
    published = requests.patch(f"{base}/v2/images/{image_id}", timeout=30, json=publish,
                               headers={"Content-Type": PATCH_TYPE})
    assert published.status_code == 200, published.text
    head = requests.head(f"{base}/v1/images/{image_id}", headers=OWNER, timeout=30).headers
    assert head["x-image-meta-property-arch"] == "x86_64"
    assert "x-image-meta-property-distro" not in head
    assert head["x-image-meta-is_public"] == "True"
    assert _get(f"{base}/v1/images/{image_id}", headers=STRANGER).content == DATA

    assert requests.delete(f"{base}/v2/images/{image_id}", headers=OWNER,
                           timeout=30).status_code == 204
    assert requests.head(f"{base}/v1/images/{image_id}", headers=OWNER,
                         timeout=30).status_code == 404
    assert requests.head(f"{base}/v1/images/{image_id}",     # the admin sees the record
                         timeout=30).headers["x-image-meta-deleted"] == "True"
    return image_id


def v2_to_v1(base):
    """Created and uploaded through v2; read, updated, shared, downloaded, deleted via v1."""
    created = requests.post(f"{base}/v2/images", timeout=30, headers=OWNER, json={
        "name": f"v2-{uuid.uuid4().hex[:8]}", "disk_format": "raw", "container_format": "bare",
        "release": "12", "min_ram": 64, "tags": ["t"]})
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    uploaded = requests.put(f"{base}/v2/images/{image_id}/file", data=DATA, timeout=30,
                            headers={**OWNER, "Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 204, uploaded.text

    head = requests.head(f"{base}/v1/images/{image_id}", headers=OWNER, timeout=30).headers
    assert head["x-image-meta-status"] == "active"
    assert head["x-image-meta-property-release"] == "12"
    assert head["x-image-meta-min_ram"] == "64"
    assert head["x-image-meta-is_public"] == "False"
    assert head["x-image-meta-checksum"] == hashlib.md5(DATA).hexdigest()
    assert _get(f"{base}/v1/images/{image_id}", headers=OWNER).content == DATA
    assert requests.head(f"{base}/v1/images/{image_id}", headers=STRANGER,
                         timeout=30).status_code == 404

    updated = requests.put(f"{base}/v1/images/{image_id}", timeout=30, headers={
        **OWNER, "x-image-meta-property-release": "13", "x-image-meta-property-arch": "arm64"})
    assert updated.status_code == 200, updated.text
    added = requests.put(f"{base}/v1/images/{image_id}/members/crossstranger", headers=OWNER,
                         timeout=30)
    assert added.status_code == 204
    shown = _get(f"{base}/v2/images/{image_id}", headers=OWNER).json()
    assert shown["release"] == "13" and shown["arch"] == "arm64" and shown["tags"] == ["t"]
    # a v1 member starts pending: the stranger reads it, and lists it in v2 once it accepts
    assert _get(f"{base}/v2/images/{image_id}/file", headers=STRANGER).content == DATA
    members = _get(f"{base}/v2/images/{image_id}/members", headers=OWNER).json()["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [("crossstranger", "pending")]
    listed = _get(f"{base}/v2/images", headers=STRANGER).json()["images"]
    assert image_id not in [i["id"] for i in listed]
    assert requests.put(f"{base}/v2/images/{image_id}/members/crossstranger", headers=STRANGER,
                        json={"status": "accepted"}, timeout=30).status_code == 200
    listed = _get(f"{base}/v2/images", headers=STRANGER).json()["images"]
    assert image_id in [i["id"] for i in listed]

    assert requests.delete(f"{base}/v1/images/{image_id}", headers=OWNER,
                           timeout=30).status_code == 200
    assert _get(f"{base}/v2/images/{image_id}", headers=OWNER).status_code == 404
    return image_id
