"""Ids and member names that try to reach another registry route, and the
``/images/detail`` methods that are not allowed: through a real glance-api
and glance-registry.

cheroot hands the application ``%2F`` undecoded and every other escape
decoded, so an id may hold ``?``, ``#``, ``..``, NUL or a literal ``%2F``.
"""
import http.client
import ipaddress
import uuid
from urllib.parse import unquote

import pytest

from servers import Server

# The owner of the images below: it may share them, but not delete a protected one.
OWNER = {"X-Auth-Token": "token-owner1", "X-Identity-Status": "Confirmed",
         "X-User": "user-owner1", "X-Tenant": "owner1", "X-Role": ""}


def raw(server, method, path, headers=None, body=None):
    """Send ``path`` exactly as written (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={**OWNER, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def image(api):
    """A protected active image with one member: ``(id, data)``."""
    data = uuid.uuid4().bytes * 4
    headers = {**OWNER, "Content-Type": "application/octet-stream", "x-image-meta-name": "victim",
               "x-image-meta-protected": "true", "x-image-meta-disk_format": "raw",
               "x-image-meta-container_format": "bare"}
    image = api.request("POST", "/v1/images", data=data, headers=headers).json()["image"]
    added = api.request("PUT", f"/v1/images/{image['id']}/members/tenant-b", headers=OWNER)
    assert added.status_code == 204
    return image["id"], data


def unchanged(api, image_id, data):
    resp = api.request("GET", f"/v1/images/{image_id}", headers=OWNER)
    assert resp.status_code == 200 and resp.content == data
    assert resp.headers["x-image-meta-status"] == "active"
    assert resp.headers["x-image-meta-name"] == "victim"
    members = api.request("GET", f"/v1/images/{image_id}/members", headers=OWNER).json()["members"]
    assert [m["member_id"] for m in members] == ["tenant-b"]


# An id glance-api receives -> what must not happen to the image it aims at.
IMAGE_PATHS = [
    "{id}%23",                     # '#': today the fragment is dropped -> /images/<id>
    "{id}%3Fx=1",                  # '?': today the rest becomes a query string
    "{id}%2Fmembers%2Ftenant-b",   # a literal %2F reaches the registry as '/'
    "{id}%2F..",
    "x%2F..%2F{id}",
    "{id}%00",
]


@pytest.mark.parametrize("path", IMAGE_PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_crafted_image_ids_reach_no_other_image(api_server, api, image, method, path):
    image_id, data = image
    headers = {"x-image-meta-name": "renamed"} if method == "PUT" else {}
    status, _, body = raw(api_server, method, "/v1/images/" + path.format(id=image_id), headers)
    assert status == 404, (status, body)
    unchanged(api, image_id, data)


@pytest.mark.parametrize("member", ["..", "%2E%2E", ".", "tenant-b%2F..", "tenant-b%23",
                                    "tenant-b%3Fx", "%00"])
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_crafted_member_names_reach_no_other_route(api_server, api, image, method, member):
    """At most a member with exactly the name glance-api received is added or removed."""
    image_id, data = image
    status, _, body = raw(api_server, method, f"/v1/images/{image_id}/members/{member}")
    try:
        assert status < 500, body
        # cheroot decodes every escape but %2F.
        received = unquote(member.replace("%2F", "%252F"))
        members = api.request("GET", f"/v1/images/{image_id}/members",
                              headers=OWNER).json()["members"]
        expected = ["tenant-b", received] if method == "PUT" else ["tenant-b"]
        assert sorted(m["member_id"] for m in members) == sorted(expected)
    finally:
        raw(api_server, "DELETE", f"/v1/images/{image_id}/members/{member}")
    unchanged(api, image_id, data)


@pytest.mark.parametrize("member", ["..", "tenant-b%23", "tenant-b%3Fx", "x%2F..%2F..%2Fimages"])
def test_crafted_shared_images_member_is_one_segment(api_server, api, image, member):
    admin = {"X-Tenant": "operators", "X-User": "operator", "X-Role": "admin"}
    status, _, body = raw(api_server, "GET", f"/v1/shared-images/{member}", admin)
    assert status == 200 and b'"shared_images":[]' in body, body


@pytest.mark.parametrize("prefix", ["/v1", "/v1.1", ""])
@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST"])
def test_changing_images_detail_is_405(api_server, api, image, prefix, method):
    image_id, data = image
    headers = {"x-image-meta-name": "renamed", "Content-Length": "0"}
    status, headers, body = raw(api_server, method, f"{prefix}/images/detail", headers)
    assert status == 405
    assert set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert b"lists images" in body and headers["Content-Type"].startswith("text/plain")
    unchanged(api, image_id, data)
    listed = api.request("GET", "/v1/images/detail", headers=OWNER).json()["images"]
    assert image_id in [i["id"] for i in listed]


def test_registry_listens_on_loopback_only_by_default(tmp_path):
    server = Server("glance-registry", tmp_path,
                    {"sql_connection": f"sqlite:///{tmp_path}/registry.sqlite"})
    del server.options["bind_host"]          # the program's own default
    server.start()
    try:
        listening = _listeners(server.port)
        assert listening == {"127.0.0.1"}, listening
    finally:
        server.stop()


def _listeners(port):
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for name, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(name) as table:
            for line in list(table)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, _, hexport = local.partition(":")
                if state != "0A" or int(hexport, 16) != port:
                    continue
                raw_bytes = bytes.fromhex(address)
                words = [raw_bytes[i:i + 4][::-1] for i in range(0, len(raw_bytes), 4)]
                packed = b"".join(words)
                found.add(str(ipaddress.ip_address(packed)))
    return found
