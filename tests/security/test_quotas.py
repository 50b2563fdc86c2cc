"""Quotas against resource exhaustion (issue 18, item 7): members, tags, image size and
locations, each an option, enforced on v1 and v2 with 413 and a message, and nothing
changed by a refused request.  Real processes (noauth; tenants as identity headers)."""
import os
import socket

import pytest
import requests

from glance import options
from servers import glance_pair
from v2client import ADMIN, V2, tenant

QUOTAS = {"image_member_quota": "3", "image_tag_quota": "3"}
CAP = 1000
OWNER = tenant("qowner")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("quotas"))
    with glance_pair(workdir, registry_options=QUOTAS, api_options={
            **QUOTAS, "image_size_cap": str(CAP), "image_location_quota": "0"}) as pair:
        yield pair


@pytest.fixture
def owner(servers):
    return V2(servers[0].url, OWNER)


def test_the_defaults_are_upstreams():
    assert options.default("image_member_quota") == 128
    assert options.default("image_tag_quota") == 128
    assert options.default("image_size_cap") == 2 ** 40


def members(owner, image_id):
    answer = owner.request("GET", f"/v2/images/{image_id}/members")
    return sorted(m["member_id"] for m in answer.json()["members"])


def test_members_over_the_quota_are_413_on_v1_and_v2(owner):
    image = owner.new(name="shared")
    v1 = f"/v1/images/{image['id']}/members"
    listed = owner.request("PUT", v1, json={"memberships": [
        {"member_id": f"p{n}"} for n in range(4)]})
    assert listed.status_code == 413 and "at most 3 members" in listed.text
    assert members(owner, image["id"]) == []
    for n in range(3):
        assert owner.request("PUT", f"{v1}/p{n}").status_code == 204
    one_more = owner.request("PUT", f"{v1}/p3")
    assert one_more.status_code == 413 and "at most 3 members" in one_more.text
    v2 = owner.request("POST", f"/v2/images/{image['id']}/members", json={"member": "p4"})
    assert v2.status_code == 413 and "at most 3 members" in v2.json()["error"]["message"]
    assert members(owner, image["id"]) == ["p0", "p1", "p2"]
    # an existing member may be written again; a list at the quota replaces the rest
    assert owner.request("PUT", f"{v1}/p2").status_code == 204
    assert owner.request("PUT", v1, json={"memberships": [
        {"member_id": m} for m in ("p1", "p5", "p6")]}).status_code == 204
    assert members(owner, image["id"]) == ["p1", "p5", "p6"]


def test_a_huge_member_list_is_refused_quickly(owner):
    image = owner.new(name="flood")
    flood = {"memberships": [{"member_id": f"m{n:05}"} for n in range(20000)]}
    answer = owner.request("PUT", f"/v1/images/{image['id']}/members", json=flood)
    assert answer.status_code == 413
    assert answer.elapsed.total_seconds() < 5
    assert members(owner, image["id"]) == []


def test_tags_over_the_quota_are_413(owner):
    assert owner.create(name="t", tags=["a", "b", "c", "d"]).status_code == 413
    image = owner.new(name="tagged", tags=["a", "b", "c"])
    put = owner.request("PUT", f"/v2/images/{image['id']}/tags/d")
    assert put.status_code == 413 and "at most 3 tags" in put.text
    patched = owner.patch(image["id"], [{"op": "replace", "path": "/tags",
                                         "value": ["a", "b", "c", "d"]}])
    assert patched.status_code == 413
    assert sorted(owner.show(image["id"]).json()["tags"]) == ["a", "b", "c"]


def raw_request(port, head):
    """Send a request head only (no body) and return the first line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):     # the answer says Connection: close
            answer += chunk
    return answer.split(b"\r\n", 1)[0], answer


def stored_files(api):
    """Every file in glance-api's image directory (temporary ones included)."""
    datadir = os.path.join(api.workdir, "images")
    return sorted(os.listdir(datadir)) if os.path.isdir(datadir) else []


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_content_length_over_the_cap_is_413_before_any_byte(servers, owner, version):
    api = servers[0]
    image = owner.new(name=f"big-{version}")
    before = len(owner.ids())
    if version == "v1":
        head = "POST /v1/images HTTP/1.1\r\n"
    else:
        head = f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\n"
    head += ("Host: x\r\nX-Tenant-Id: qowner\r\nX-User-Id: u\r\nx-image-meta-name: big\r\n"
             "Content-Type: application/octet-stream\r\n"
             "Content-Length: 10000000000000\r\n\r\n")            # 10 TB, never sent
    line, answer = raw_request(api.port, head)
    assert line.startswith(b"HTTP/1.1 413"), answer
    assert b"exceeds the limit of 1000 bytes" in answer
    assert len(owner.ids()) == before                 # v1 created nothing
    assert owner.show(image["id"]).json()["status"] == "queued"


def test_a_v1_size_header_over_the_cap_is_413(servers, owner):
    answer = owner.request("POST", "/v1/images", data=b"x" * 10, headers={
        "x-image-meta-name": "liar", "x-image-meta-size": str(CAP + 1),
        "Content-Type": "application/octet-stream"})
    assert answer.status_code == 413


def chunks(total):
    sent = 0
    while sent < total:
        yield b"y" * 100
        sent += 100


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_chunked_body_is_stopped_at_the_cap_and_nothing_stays(servers, owner, version):
    api = servers[0]
    before = stored_files(api)
    if version == "v1":
        answer = owner.request("POST", "/v1/images", data=chunks(CAP * 3), headers={
            "x-image-meta-name": "chunked", "Content-Type": "application/octet-stream"})
        assert answer.status_code == 413, answer.text
        killed = [i for i in V2(api.url, ADMIN).list(name="chunked").json()["images"]]
        assert [i["status"] for i in killed] in ([], ["killed"])
    else:
        image = owner.new(name="chunked2")
        answer = owner.request("PUT", f"/v2/images/{image['id']}/file", data=chunks(CAP * 3),
                               headers={"Content-Type": "application/octet-stream"})
        assert answer.status_code == 413, answer.text
        assert owner.show(image["id"]).json()["status"] == "killed"
    assert "exceeds the limit of 1000 bytes" in answer.text
    assert stored_files(api) == before
    # a body at the cap is fine
    fits = owner.new(name="fits")
    assert owner.upload(fits["id"], b"z" * CAP).status_code == 204


def test_a_location_over_the_quota_is_413(servers):
    admin = servers[0].url
    answer = requests.post(admin + "/v1/images", timeout=30, headers={
        "x-image-meta-name": "external", "x-image-meta-location": "http://example.com/x"})
    assert answer.status_code == 413 and "at most 0 locations" in answer.text
