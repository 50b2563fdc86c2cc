"""Tenant isolation under attack, in keystone mode with a real Keystone.

Callers are Keystone users: ``owner`` (project owner), ``other``, ``member`` and
``admin`` (see tests/keystone_tools.py).  Every refusal is checked twice: its status,
and that nothing changed (visibility, members, data, what the attacker can read).
"""
import http.server
import threading
import uuid

import pytest
import requests

from v2client import V2

DATA = b"private data of the owner " * 64


@pytest.fixture(scope="module")
def callers(keystone_glance):
    url = keystone_glance.api.url
    return {name: V2(url, {"X-Auth-Token": keystone_glance.token(name)})
            for name in ("owner", "other", "member", "admin")}


@pytest.fixture(scope="module")
def projects(keystone_server):
    return {name: account["project_id"] for name, account in keystone_server.accounts.items()}


def v1(client, method, image_id="", **kw):
    path = "/v1/images" + (f"/{image_id}" if image_id else "")
    return client.request(method, path, **kw)


def visibility(callers, image_id):
    return callers["admin"].show(image_id).json()["visibility"]


# --- item 4: publishing is admin-only by default -----------------------------------

def test_a_non_admin_owner_cannot_publish(callers):
    owner, other = callers["owner"], callers["other"]
    assert owner.create(name="pub", visibility="public").status_code == 403
    made = v1(owner, "POST", headers={"x-image-meta-name": "pub1", "x-image-meta-is_public": "true",
                                      "Content-Type": "application/octet-stream"}, data=DATA)
    assert made.status_code == 403, made.text
    assert "pub" not in [i["name"] for i in callers["admin"].list().json()["images"]]

    image = owner.uploaded(DATA)
    patched = owner.patch(image["id"], [{"op": "replace", "path": "/visibility",
                                         "value": "public"}])
    assert patched.status_code == 403, patched.text
    put = v1(owner, "PUT", image["id"], headers={"x-image-meta-is_public": "true"})
    assert put.status_code == 403, put.text
    assert visibility(callers, image["id"]) == "shared"
    assert other.show(image["id"]).status_code == 404
    assert other.download(image["id"]).status_code == 404
    assert image["id"] not in other.ids()


def test_community_stays_the_owners_and_an_admin_publishes(callers):
    owner, other = callers["owner"], callers["other"]
    image = owner.uploaded(DATA)
    community = owner.patch(image["id"], [{"op": "replace", "path": "/visibility",
                                           "value": "community"}])
    assert community.status_code == 200 and community.json()["visibility"] == "community"
    assert other.download(image["id"]).content == DATA
    published = callers["admin"].patch(image["id"], [{"op": "replace", "path": "/visibility",
                                                      "value": "public"}])
    assert published.status_code == 200 and published.json()["visibility"] == "public"
    assert image["id"] in other.ids()
    # an owner's update that echoes is_public of a public image is no publishing
    echoed = v1(owner, "PUT", image["id"], headers={"x-image-meta-is_public": "True",
                                                      "x-image-meta-name": "renamed"})
    assert echoed.status_code == 200, echoed.text


# --- item 6: a member's rejection is not overridden --------------------------------

def test_a_rejection_survives_removal_and_re_adding_through_v1(callers, projects):
    owner, member = callers["owner"], callers["member"]
    pm = projects["member"]
    image = owner.uploaded(DATA)
    base = f"/v2/images/{image['id']}/members"
    assert owner.request("POST", base, json={"member": pm}).status_code == 200
    rejected = member.request("PUT", f"{base}/{pm}", json={"status": "rejected"})
    assert rejected.status_code == 200, rejected.text
    # the owner may not set the member's status
    assert owner.request("PUT", f"{base}/{pm}", json={"status": "accepted"}).status_code == 403
    # remove and re-add through v1, one member and the whole list
    v1_members = f"/v1/images/{image['id']}/members"
    assert owner.request("DELETE", f"{v1_members}/{pm}").status_code == 204
    assert owner.request("PUT", f"{v1_members}/{pm}").status_code == 204
    status = owner.request("GET", f"{base}/{pm}").json()["status"]
    assert status == "pending"
    assert owner.request("PUT", v1_members, json={"memberships": []}).status_code == 204
    assert owner.request("PUT", v1_members, json={"memberships": [
        {"member_id": pm, "can_share": False}]}).status_code == 204
    assert owner.request("GET", f"{base}/{pm}").json()["status"] == "pending"
    assert image["id"] not in member.ids()          # v2 lists only what it accepted


# --- item 1 (regression): an import never reads a store's own locations ------------

class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):        # noqa: N802 -- http.server's name
        Recorder.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"data")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _import(client, image_id, uri):
    return client.request("POST", f"/v2/images/{image_id}/import",
                          json={"method": {"name": "web-download", "uri": uri}})


def test_web_download_refuses_store_locations_and_reads_nothing(callers, keystone_glance,
                                                                recorder):
    owner, other = callers["owner"], callers["other"]
    victim = owner.uploaded(DATA)
    thief = other.new(name="thief")
    Recorder.seen.clear()
    uris = [f"s3+http://127.0.0.1:{recorder}/glance/{victim['id']}",
            f"s3://127.0.0.1:{recorder}/glance/{victim['id']}",
            f"swift+http://glance:key@127.0.0.1:{recorder}/v1/glance/{victim['id']}",
            f"swift://127.0.0.1:{recorder}/glance/{victim['id']}",
            f"file://{keystone_glance.datadir}/{victim['id']}",
            f"file:///etc/passwd"]
    for uri in uris:
        refused = _import(other, thief["id"], uri)
        assert refused.status_code == 400, (uri, refused.text)
    assert Recorder.seen == []
    shown = other.show(thief["id"]).json()
    assert (shown["status"], shown["size"]) == ("queued", None)
    assert other.download(thief["id"]).status_code == 204         # still no data


# --- item 10 (regression): the address guard judges embedded IPv4 -----------------

@pytest.mark.parametrize("host", [
    "[64:ff9b::7f00:1]",            # NAT64 of 127.0.0.1
    "[64:ff9b:1::a00:1]",           # NAT64 local use
    "[::127.0.0.1]",                # IPv4-compatible
    "[::ffff:127.0.0.1]",           # IPv4-mapped
    "[::ffff:0:127.0.0.1]",         # IPv4-translated
    "[2002:7f00:1::]",              # 6to4 of 127.0.0.1
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",   # Teredo
    "[fec0::1]",                    # site-local
    "[fc00::1]", "[fe80::1]", "[::1]", "127.0.0.1", "0.0.0.0", "169.254.169.254", "10.0.0.1",
    "2130706433",                   # 127.0.0.1 as one number
    "0x7f.1", "127.1",
])
def test_web_download_refuses_non_global_addresses(callers, recorder, host):
    owner = callers["owner"]
    image = owner.new(name=f"ssrf-{uuid.uuid4().hex[:6]}")
    Recorder.seen.clear()
    refused = _import(owner, image["id"], f"http://{host}:{recorder}/x")
    assert refused.status_code == 400, (host, refused.text)
    assert Recorder.seen == []
    assert owner.show(image["id"]).json()["status"] == "queued"


def test_forged_identity_headers_are_ignored_by_both_servers(callers, keystone_glance):
    """Keystone mode: identity headers a client sends itself are ignored (anonymous)."""
    private = callers["owner"].new(name="private", visibility="private")
    forged = {"X-Identity-Status": "Confirmed", "X-Roles": "admin", "X-Project-Id": "x",
              "X-User-Id": "x", "X-Tenant": "owner"}
    api, registry = keystone_glance.api.url, keystone_glance.registry.url
    assert requests.post(api + "/v2/images", json={"name": "forged"}, headers=forged,
                         timeout=30).status_code == 401
    assert requests.get(f"{api}/v2/images/{private['id']}", headers=forged,
                        timeout=30).status_code == 404
    assert requests.get(f"{registry}/images/{private['id']}", headers=forged,
                        timeout=30).status_code == 404
    assert requests.put(f"{registry}/images/{private['id']}", headers=forged, timeout=30,
                        json={"image": {"visibility": "public"}}).status_code == 401
    assert visibility(callers, private["id"]) == "private"


def test_a_10_tb_upload_is_refused_before_a_byte_is_read(callers, keystone_glance):
    """The default image_size_cap (1 TiB) refuses a huge Content-Length at once."""
    import socket
    owner = callers["owner"]
    image = owner.new(name="huge")
    head = (f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: x\r\n"
            f"X-Auth-Token: {keystone_glance.token('owner')}\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: 10000000000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", keystone_glance.api.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert owner.show(image["id"]).json()["status"] == "queued"
