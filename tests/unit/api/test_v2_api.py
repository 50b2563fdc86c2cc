"""The v2 image API in process: Flask's test client, the real registry on SQLite, the
filesystem store (no sockets).  Tests that need real processes are in
tests/functional/test_api_v2.py.

Callers are told apart by noauth's trusted identity headers: tenants
"alpha" (owner), "beta" (member), "gamma" (a stranger), anonymous, and admin.
"""
import hashlib
import os
import uuid

import pytest

from glance.api import create_app
from glance.store import build_stores
from v2client import ADMIN, ANONYMOUS, PATCH_TYPE, V2, InProcess, tenant

DATA = os.urandom(200 * 1024 + 7)
ALPHA, BETA, GAMMA = tenant("alpha"), tenant("beta"), tenant("gamma")


@pytest.fixture
def v2(conf, registry):
    app = create_app(conf, registry=registry, stores=build_stores(conf))
    return V2("", ADMIN, InProcess(app))


@pytest.fixture
def alpha(v2):
    return v2.as_(ALPHA)


# --- versions and discovery -------------------------------------------------------

def test_unversioned_paths_follow_the_accept_header(v2, alpha):
    image = v2.uploaded(DATA, visibility="public")        # publishing is an admin's
    as_v2 = v2.request("GET", "/images", headers={
        "Accept": "application/vnd.openstack.images-v2"})
    assert as_v2.status_code == 200
    assert as_v2.json()["schema"] == "/v2/schemas/images"
    as_v1 = v2.request("GET", "/images")     # no header: v1
    assert "schema" not in as_v1.json()
    assert image["id"] in [i["id"] for i in as_v1.json()["images"]]
    pinned = v2.request("GET", f"/v2.6/images/{image['id']}")
    assert pinned.status_code == 200 and pinned.json()["id"] == image["id"]


def test_trailing_slash_is_not_found_under_v2(v2, alpha):
    image = alpha.uploaded(DATA)
    for method, path in (("GET", "/v2/images/"), ("DELETE", "/v2/images/"),
                         ("POST", "/v2/images/"), ("GET", f"/v2/images/{image['id']}/"),
                         ("DELETE", f"/v2/images/{image['id']}/")):
        answer = alpha.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == 404
    assert alpha.show(image["id"]).json()["status"] == "active"
    assert v2.request("GET", "/images/").status_code == 200      # v1 still takes it


def test_schemas_describe_what_the_api_answers(v2, alpha):
    jsonschema = pytest.importorskip("jsonschema")
    schema = v2.request("GET", "/v2/schemas/image").json()
    assert schema["name"] == "image"
    assert schema["additionalProperties"] == {"type": "string"}
    assert "qcow2" in schema["properties"]["disk_format"]["enum"]
    assert None in schema["properties"]["disk_format"]["enum"]
    image = alpha.uploaded(DATA, release="12", tags=["x"])
    jsonschema.validate(image, schema)
    listing = v2.request("GET", "/v2/schemas/images").json()
    assert listing["properties"]["images"]["items"]["name"] == "image"
    member = v2.request("GET", "/v2/schemas/member").json()
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    assert v2.request("GET", "/v2/schemas/members").json()["name"] == "members"


def test_info_import_and_stores(v2):
    methods = v2.request("GET", "/v2/info/import").json()["import-methods"]["value"]
    assert methods == ["glance-direct", "web-download"]
    # one store: no store list (Glance lists stores only with multiple stores), so
    # clients neither name stores nor wait for an image's "stores"
    stores = v2.request("GET", "/v2/info/stores")
    assert stores.status_code == 404 and stores.json()["error"]["code"] == 404


# --- create, show, PATCH, delete --------------------------------------------------

def test_create_show_patch_delete(alpha):
    image = alpha.new(name="one", min_ram=512, release="12", tags=["a", "b"])
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == "alpha" and image["size"] is None
    assert image["release"] == "12" and sorted(image["tags"]) == ["a", "b"]
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["created_at"].endswith("Z")

    shown = alpha.show(image["id"]).json()
    assert shown == {**image, "updated_at": shown["updated_at"]}

    patched = alpha.patch(image["id"], [
        {"op": "replace", "path": "/name", "value": "two"},
        {"op": "add", "path": "/arch", "value": "arm64"},
        {"op": "remove", "path": "/release"},
        {"op": "replace", "path": "/tags", "value": ["c"]},
        {"op": "replace", "path": "/min_disk", "value": 3},
    ])
    assert patched.status_code == 200, patched.text
    doc = patched.json()
    assert doc["name"] == "two" and doc["arch"] == "arm64" and "release" not in doc
    assert doc["tags"] == ["c"] and doc["min_disk"] == 3 and doc["min_ram"] == 512
    assert alpha.show(image["id"]).json() == doc

    assert alpha.delete(image["id"]).status_code == 204
    assert alpha.show(image["id"]).status_code == 404


def test_patch_refusals_change_nothing(alpha):
    image = alpha.new(name="keep", release="12")
    before = alpha.show(image["id"]).json()
    cases = [
        ("application/json", [{"op": "replace", "path": "/name", "value": "x"}], 415),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "replace", "path": "/status", "value": "active"}], 403),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "replace", "path": "/checksum", "value": "0" * 32}], 403),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "add", "path": "/os_glance_x", "value": "1"}], 403),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "remove", "path": "/name"}], 403),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "replace", "path": "/nothere", "value": "1"}], 409),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "remove", "path": "/nothere"}], 409),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "move", "from": "/name", "path": "/x"}], 400),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "replace", "path": "/visibility", "value": "everyone"}], 400),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "replace", "path": "/min_ram", "value": "lots"}], 400),
        ("application/openstack-images-v2.1-json-patch",
         [{"op": "add", "path": "/n", "value": 5}], 400),
    ]
    for kind, ops, status in cases:
        response = alpha.patch(image["id"], ops, content_type=kind)
        assert response.status_code == status, (ops, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == status
    assert alpha.show(image["id"]).json() == before


V2_0_PATCH = "application/openstack-images-v2.0-json-patch"


def test_v2_0_patch_media_type_takes_the_operation_as_the_key(alpha):
    image = alpha.new(name="old-patch", release="12")
    response = alpha.patch(image["id"], [
        {"replace": "/name", "value": "new"},
        {"add": "/arch", "value": "arm64"},
        {"remove": "/release"},
        {"replace": "/protected", "value": True},
    ], content_type=V2_0_PATCH)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["name"] == "new" and doc["arch"] == "arm64" and "release" not in doc
    assert doc["protected"] is True and alpha.show(image["id"]).json() == doc
    # the same rules as v2.1; each form only under its own media type
    cases = [([{"add": "/os_glance_foo", "value": "1"}], V2_0_PATCH, 403),
             ([{"replace": "/nothere", "value": "1"}], V2_0_PATCH, 409),
             ([{"op": "replace", "path": "/name", "value": "x"}], V2_0_PATCH, 400),
             ([{"replace": "/name", "remove": "/arch", "value": "x"}], V2_0_PATCH, 400),
             ([{"replace": "/name"}], V2_0_PATCH, 400),
             ([{"replace": "/name", "value": "x"}], PATCH_TYPE, 400)]
    for ops, kind, status in cases:
        refused = alpha.patch(image["id"], ops, content_type=kind)
        assert refused.status_code == status, (ops, kind, refused.text)
    assert alpha.show(image["id"]).json() == doc
    back = alpha.patch(image["id"], [{"replace": "/protected", "value": False}],
                       content_type=V2_0_PATCH)
    assert back.status_code == 200 and back.json()["protected"] is False
    assert alpha.delete(image["id"]).status_code == 204


def test_create_refusals(alpha):
    assert alpha.create(name="x", status="active").status_code == 403
    assert alpha.create(name="x", checksum="0" * 32).status_code == 403
    assert alpha.create(name="x", disk_format="floppy").status_code == 400
    assert alpha.create(name="x", owner="gamma").status_code == 403
    assert alpha.create(name="x", n=1).status_code == 400
    bad_type = alpha.request("POST", "/v2/images", data="{}",
                             headers={"Content-Type": "text/plain"})
    assert bad_type.status_code == 415
    given = str(uuid.uuid4())
    assert alpha.create(id=given, name="x").status_code == 201
    assert alpha.create(id=given, name="x").status_code == 409
    assert alpha.as_(ANONYMOUS).create(name="x").status_code == 401


def test_amazon_formats_need_not_match_in_v2(v2, alpha):
    mixed = alpha.create(name="mixed", disk_format="ami", container_format="bare")
    assert mixed.status_code == 201, mixed.text
    image = mixed.json()
    assert (image["disk_format"], image["container_format"]) == ("ami", "bare")
    switched = alpha.patch(image["id"], [{"op": "replace", "path": "/container_format",
                                          "value": "ovf"},
                                         {"op": "replace", "path": "/disk_format",
                                          "value": "aki"}])
    assert switched.status_code == 200, switched.text
    assert alpha.upload(image["id"], DATA).status_code == 204
    shown = alpha.show(image["id"]).json()
    assert (shown["status"], shown["disk_format"], shown["container_format"]) == \
        ("active", "aki", "ovf")
    # v1 keeps its rule for what it writes, and still updates the image v2 made
    v1 = {"x-image-meta-name": "v1-mixed", "x-image-meta-disk_format": "ami",
          "x-image-meta-container_format": "bare"}
    assert v2.request("POST", "/v1/images", headers=v1).status_code == 400
    # an active image keeps its formats: refused before the ami rule is looked at
    assert v2.request("PUT", f"/v1/images/{image['id']}",
                      headers={"x-image-meta-container_format": "bare"}).status_code == 403
    renamed = v2.request("PUT", f"/v1/images/{image['id']}",
                         headers={"x-image-meta-name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    after = alpha.show(image["id"]).json()
    assert (after["name"], after["disk_format"], after["container_format"]) == \
        ("renamed", "aki", "ovf")


def test_protected_image_cannot_be_deleted(alpha):
    image = alpha.new(name="guarded", protected=True)
    assert alpha.delete(image["id"]).status_code == 403
    assert alpha.show(image["id"]).json()["protected"] is True
    alpha.patch(image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert alpha.delete(image["id"]).status_code == 204


# --- data -------------------------------------------------------------------------

def test_upload_download_range_and_no_data(alpha):
    image = alpha.new(name="data")
    assert alpha.download(image["id"]).status_code == 204          # no data yet
    assert alpha.upload(image["id"], DATA).status_code == 204
    shown = alpha.show(image["id"]).json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()

    whole = alpha.download(image["id"])
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["Content-MD5"] == shown["checksum"]
    part = alpha.download(image["id"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == DATA[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    tail = alpha.download(image["id"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == DATA[-10:]
    beyond = alpha.download(image["id"], headers={"Range": f"bytes={len(DATA)}-"})
    assert beyond.status_code == 416

    again = alpha.upload(image["id"], b"other")                  # not queued any more
    assert again.status_code == 409
    assert alpha.download(image["id"]).content == DATA


def test_upload_needs_octet_stream_and_the_owner(alpha):
    image = alpha.new(name="typed")
    wrong = alpha.request("PUT", f"/v2/images/{image['id']}/file", data=b"abc",
                          headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    stranger = alpha.as_(GAMMA).upload(image["id"], b"abc")
    assert stranger.status_code == 404           # a shared image without members: unseen
    assert alpha.show(image["id"]).json()["status"] == "queued"


def test_zero_size_upload_is_an_active_empty_image(alpha):
    image = alpha.new(name="snapshot")
    assert alpha.upload(image["id"], b"").status_code == 204
    shown = alpha.show(image["id"]).json()
    assert shown["status"] == "active" and shown["size"] == 0
    assert shown["checksum"] == hashlib.md5(b"").hexdigest()


def test_deactivate_and_reactivate(v2, alpha):
    image = alpha.uploaded(DATA, visibility="community")     # gamma sees it
    path = f"/v2/images/{image['id']}/actions"
    gamma, anonymous = alpha.as_(GAMMA), alpha.as_(ANONYMOUS)
    assert gamma.request("POST", f"{path}/deactivate").status_code == 403     # not its own
    assert anonymous.request("POST", f"{path}/deactivate").status_code == 401
    assert alpha.show(image["id"]).json()["status"] == "active"
    assert alpha.request("POST", f"{path}/deactivate").status_code == 204     # the owner
    assert alpha.show(image["id"]).json()["status"] == "deactivated"
    assert alpha.download(image["id"]).status_code == 403
    assert v2.download(image["id"]).content == DATA                           # admin may
    assert gamma.request("POST", f"{path}/reactivate").status_code == 403
    assert alpha.show(image["id"]).json()["status"] == "deactivated"
    assert alpha.request("POST", f"{path}/reactivate").status_code == 204
    assert alpha.download(image["id"]).content == DATA
    assert v2.request("POST", f"{path}/deactivate").status_code == 204        # and an admin
    assert v2.request("POST", f"{path}/reactivate").status_code == 204
    assert alpha.show(image["id"]).json()["status"] == "active"
    queued = alpha.new(name="nodata")
    assert alpha.request("POST", f"/v2/images/{queued['id']}/actions/deactivate"
                         ).status_code == 403
    private = alpha.uploaded(DATA, visibility="private")
    assert gamma.request("POST", f"/v2/images/{private['id']}/actions/deactivate"
                         ).status_code == 404                                 # unseen
    assert alpha.show(private["id"]).json()["status"] == "active"


# --- tags and lists ---------------------------------------------------------------

def test_tags(alpha):
    image = alpha.new(name="tagged")
    base = f"/v2/images/{image['id']}/tags"
    assert alpha.request("PUT", f"{base}/blue").status_code == 204
    assert alpha.request("PUT", f"{base}/blue").status_code == 204       # idempotent
    assert alpha.request("PUT", f"{base}/green").status_code == 204
    assert sorted(alpha.show(image["id"]).json()["tags"]) == ["blue", "green"]
    assert alpha.as_(GAMMA).request("PUT", f"{base}/red").status_code == 404
    assert alpha.request("DELETE", f"{base}/blue").status_code == 204
    assert alpha.request("DELETE", f"{base}/blue").status_code == 404
    assert alpha.show(image["id"]).json()["tags"] == ["green"]


def test_list_filters_sort_and_paging(v2):
    owner = v2.as_(tenant(f"lister-{uuid.uuid4().hex[:6]}"))
    mark = uuid.uuid4().hex[:8]
    made = [owner.new(name=f"{mark}-{n}", tags=[mark] + (["odd"] if n % 2 else []),
                      min_ram=n) for n in range(5)]
    ids = [image["id"] for image in made]
    assert sorted(owner.ids(tag=mark)) == sorted(ids)
    assert sorted(owner.ids(tag=[mark, "odd"])) == sorted(ids[1::2])
    assert owner.ids(tag=mark, sort="name:asc") == ids
    assert owner.ids(tag=mark, sort_key="name", sort_dir="desc") == ids[::-1]
    picked = owner.ids(tag=mark, id=f"in:{ids[0]},{ids[3]}", sort="name:asc")
    assert picked == [ids[0], ids[3]]
    assert owner.ids(tag=mark, name=f"in:{mark}-1,{mark}-2", sort="name:asc") == ids[1:3]
    created = made[2]["created_at"]
    later = owner.ids(tag=mark, created_at=f"gte:{created}", sort="name:asc")
    assert set(ids[2:]) <= set(later)
    assert set(owner.ids(tag=mark, visibility="shared")) == set(ids)
    assert owner.ids(tag=mark, visibility="public") == []

    # Paging: first and next links, each page full until the last.
    seen, url = [], f"/v2/images?tag={mark}&sort=name:asc&limit=2"
    first = owner.request("GET", url).json()
    assert first["first"].startswith("/v2/images?") and "marker" not in first["first"]
    while url:
        page = owner.request("GET", url).json()
        seen += [image["id"] for image in page["images"]]
        url = page.get("next")
    assert seen == ids
    assert owner.list(sort="nope:asc").status_code == 400
    assert owner.list(limit="x").status_code == 400


def test_hidden_images_listed_only_when_asked(alpha):
    mark = uuid.uuid4().hex[:8]
    image = alpha.new(name=mark, os_hidden=True)
    assert image["os_hidden"] is True
    assert image["id"] not in alpha.ids(name=mark)
    assert alpha.ids(name=mark, os_hidden="true") == [image["id"]]
    assert alpha.show(image["id"]).status_code == 200


# --- visibility and members -------------------------------------------------------

def test_private_image_is_unseen_by_others(v2, alpha):
    image = alpha.uploaded(DATA, visibility="private")
    for caller in (GAMMA, ANONYMOUS):
        other = alpha.as_(caller)
        assert other.show(image["id"]).status_code == 404
        assert other.download(image["id"]).status_code == 404
        assert image["id"] not in other.ids()
    assert v2.show(image["id"]).status_code == 200                # admin sees all
    members = alpha.request("POST", f"/v2/images/{image['id']}/members", json={"member": "beta"})
    assert members.status_code == 403                              # private: no members


def publish(owner, image):
    """An admin makes the owner's image public (admin-only by default)."""
    made_public = owner.as_(ADMIN).patch(image["id"], [
        {"op": "replace", "path": "/visibility", "value": "public"}])
    assert made_public.status_code == 200, made_public.text
    return made_public.json()


def test_public_and_community_images(alpha):
    mark = uuid.uuid4().hex[:8]
    assert alpha.create(name="p", visibility="public").status_code == 403
    public = alpha.uploaded(DATA, tags=[mark])
    refused = alpha.patch(public["id"], [{"op": "replace", "path": "/visibility",
                                          "value": "public"}])
    assert refused.status_code == 403, refused.text
    assert alpha.show(public["id"]).json()["visibility"] == "shared"
    public = publish(alpha, public)
    community = alpha.uploaded(DATA, visibility="community", tags=[mark])
    gamma = alpha.as_(GAMMA)
    assert gamma.download(public["id"]).content == DATA
    assert gamma.download(community["id"]).content == DATA
    assert gamma.ids(tag=mark) == [public["id"]]
    assert gamma.ids(tag=mark, visibility="community") == [community["id"]]
    anonymous = alpha.as_(ANONYMOUS)
    assert anonymous.show(public["id"]).status_code == 200
    assert anonymous.patch(public["id"], [{"op": "replace", "path": "/name",
                                           "value": "x"}]).status_code == 401
    assert gamma.patch(public["id"], [{"op": "replace", "path": "/name",
                                       "value": "x"}]).status_code == 403
    assert gamma.delete(public["id"]).status_code == 403
    assert alpha.show(public["id"]).json()["name"] == public["name"]


def test_members_pending_accepted_rejected(alpha):
    image = alpha.uploaded(DATA)                                       # shared by default
    base = f"/v2/images/{image['id']}/members"
    beta, gamma = alpha.as_(BETA), alpha.as_(GAMMA)
    assert beta.show(image["id"]).status_code == 404

    added = alpha.request("POST", base, json={"member": "beta"})
    assert added.status_code == 200, added.text
    assert added.json()["status"] == "pending" and added.json()["member_id"] == "beta"
    assert added.json()["schema"] == "/v2/schemas/member"
    assert alpha.request("POST", base, json={"member": "beta"}).status_code == 409

    # pending: readable by id, not in beta's default list
    assert beta.show(image["id"]).status_code == 200
    assert image["id"] not in beta.ids()
    assert image["id"] in beta.ids(member_status="pending")

    # only beta itself sets beta's status; only the owner adds members
    assert gamma.request("PUT", f"{base}/beta", json={"status": "accepted"}).status_code == 404
    assert alpha.request("PUT", f"{base}/beta", json={"status": "accepted"}).status_code == 403
    assert beta.request("POST", base, json={"member": "gamma"}).status_code == 403
    assert alpha.request("GET", f"{base}/beta").json()["status"] == "pending"
    assert gamma.show(image["id"]).status_code == 404

    accepted = beta.request("PUT", f"{base}/beta", json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert image["id"] in beta.ids()
    assert beta.download(image["id"]).content == DATA
    assert beta.request("PUT", f"{base}/beta", json={"status": "maybe"}).status_code == 400

    listed = alpha.request("GET", base).json()
    assert listed["schema"] == "/v2/schemas/members"
    assert [m["member_id"] for m in listed["members"]] == ["beta"]
    assert [m["member_id"] for m in beta.request("GET", base).json()["members"]] == ["beta"]

    rejected = beta.request("PUT", f"{base}/beta", json={"status": "rejected"})
    assert rejected.json()["status"] == "rejected"
    assert image["id"] not in beta.ids()

    # a member may not change the image nor remove members
    assert beta.patch(image["id"], [{"op": "replace", "path": "/name",
                                     "value": "x"}]).status_code == 403
    assert beta.request("DELETE", f"{base}/beta").status_code == 403
    assert alpha.show(image["id"]).json()["name"] == image["name"]

    assert alpha.request("DELETE", f"{base}/beta").status_code == 204
    assert beta.show(image["id"]).status_code == 404
    assert alpha.request("GET", base).json()["members"] == []


# --- interoperable import ---------------------------------------------------------

def test_glance_direct_import(alpha):
    image = alpha.new(name="staged")
    assert alpha.upload(image["id"], DATA, path="stage").status_code == 204
    assert alpha.show(image["id"]).json()["status"] == "uploading"
    assert alpha.download(image["id"]).status_code == 204
    go = alpha.request("POST", f"/v2/images/{image['id']}/import",
                       json={"method": {"name": "glance-direct"}})
    assert go.status_code == 202, go.text
    shown = alpha.show(image["id"]).json()
    assert shown["status"] == "active" and shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert alpha.download(image["id"]).content == DATA


def test_import_with_one_store_ignores_stores_and_all_stores(alpha):
    for extra in ({"all_stores": True}, {"stores": ["file"]},
                  {"stores": ["elsewhere"], "all_stores_must_succeed": True}):
        image = alpha.new(name="staged")
        assert alpha.upload(image["id"], DATA, path="stage").status_code == 204
        go = alpha.request("POST", f"/v2/images/{image['id']}/import",
                           json={"method": {"name": "glance-direct"}, **extra})
        assert go.status_code == 202, (extra, go.text)
        shown = alpha.show(image["id"]).json()
        assert shown["status"] == "active" and alpha.download(image["id"]).content == DATA
    image = alpha.new(name="nowhere")
    refused = alpha.request("POST", f"/v2/images/{image['id']}/import", json={
        "method": {"name": "web-download", "uri": "http://does-not.exist/no/possible/way"},
        "stores": ["file"]})
    assert refused.status_code == 400 and "does-not.exist" in refused.text, refused.text
    assert alpha.show(image["id"]).json()["status"] == "queued"


def test_import_refusals(alpha):
    image = alpha.new(name="no-stage")
    path = f"/v2/images/{image['id']}/import"
    assert alpha.request("POST", path, json={"method": {"name": "glance-direct"}}
                         ).status_code == 409
    assert alpha.request("POST", path, json={"method": {"name": "copy-image"}}
                         ).status_code == 400
    # the HTTP store's address guard: no loopback or private addresses
    for uri in ("http://127.0.0.1:1/x", "http://169.254.169.254/latest/meta-data",
                "file:///etc/passwd", "http://[::1", "http://[64:ff9b::a9fe:a9fe]/latest",
                "http://[2002:7f00:1::1]/x"):
        refused = alpha.request("POST", path, json={"method": {"name": "web-download",
                                                               "uri": uri}})
        assert refused.status_code == 400, (uri, refused.text)
    assert alpha.as_(GAMMA).request("POST", path, json={
        "method": {"name": "web-download", "uri": "http://example.com/x"}}).status_code == 404
    assert alpha.show(image["id"]).json()["status"] == "queued"


# --- who may do what, and nothing changes when refused -----------------------------

KINDS = ("public", "community", "private", "shared")
CALLERS = {"owner": tenant("mxowner"), "other": tenant("mxother"),
           "member": tenant("mxmember"), "admin": ADMIN, "anonymous": ANONYMOUS}
# GET /v2/images/<id> and its file, per kind in KINDS order
READ = {"owner": (200, 200, 200, 200), "other": (200, 200, 404, 404),
        "member": (200, 200, 404, 200), "admin": (200, 200, 200, 200),
        "anonymous": (200, 200, 404, 404)}
# PATCH and DELETE by a caller that is neither owner nor admin
WRITE = {"other": (403, 403, 404, 404), "member": (403, 403, 404, 403),
         "anonymous": (401, 401, 401, 401)}


@pytest.fixture
def matrix_images(v2):
    owner = v2.as_(CALLERS["owner"])
    images = {}
    for kind in KINDS:
        if kind == "public":
            images[kind] = publish(owner, owner.uploaded(DATA))
        else:
            images[kind] = owner.uploaded(DATA, visibility=kind)
    base = f"/v2/images/{images['shared']['id']}/members"
    assert owner.request("POST", base, json={"member": "mxmember"}).status_code == 200
    member = v2.as_(CALLERS["member"])
    assert member.request("PUT", f"{base}/mxmember",
                          json={"status": "accepted"}).status_code == 200
    return images


@pytest.mark.parametrize("caller", list(CALLERS))
def test_matrix_reads(v2, matrix_images, caller):
    client = v2.as_(CALLERS[caller])
    for kind, status in zip(KINDS, READ[caller]):
        image_id = matrix_images[kind]["id"]
        assert client.show(image_id).status_code == status, kind
        data = client.download(image_id)
        assert data.status_code == status, kind
        if status == 200:
            assert data.content == DATA


@pytest.mark.parametrize("caller", list(WRITE))
def test_matrix_refused_writes_change_nothing(v2, matrix_images, caller):
    client = v2.as_(CALLERS[caller])
    owner = v2.as_(CALLERS["owner"])
    for kind, status in zip(KINDS, WRITE[caller]):
        image_id = matrix_images[kind]["id"]
        before = owner.show(image_id).json()
        attempts = [
            client.patch(image_id, [{"op": "replace", "path": "/name", "value": "taken"}]),
            client.patch(image_id, [{"op": "add", "path": "/evil", "value": "1"}]),
            client.delete(image_id),
            client.request("PUT", f"/v2/images/{image_id}/tags/evil"),
            client.request("POST", f"/v2/images/{image_id}/actions/deactivate"),
        ]
        for response in attempts:
            assert response.status_code == status, (kind, response.request.method,
                                                    response.request.url, response.text)
        members = client.request("POST", f"/v2/images/{image_id}/members",
                                 json={"member": "mxother"})
        assert members.status_code == status, (kind, members.text)
        removed = client.request("DELETE", f"/v2/images/{image_id}/members/mxmember")
        assert removed.status_code == status, (kind, removed.text)
        assert owner.show(image_id).json() == before
        assert owner.download(image_id).content == DATA
    shared = matrix_images["shared"]["id"]
    listed = owner.request("GET", f"/v2/images/{shared}/members").json()["members"]
    assert [(m["member_id"], m["status"]) for m in listed] == [("mxmember", "accepted")]


def test_json_bodies_over_the_limit_are_413(alpha):
    image = alpha.new(name="small")
    big = [{"op": "add", "path": "/p", "value": "x" * (2 * 1024 * 1024)}]
    response = alpha.patch(image["id"], big)
    assert response.status_code == 413
    assert alpha.create(name="x" * 10, junk="y" * (2 * 1024 * 1024)).status_code == 413
    assert "p" not in alpha.show(image["id"]).json()


def test_members_are_read_and_written_with_the_callers_identity(v2, registry):
    """No invented identities: the owner writes as itself, a member reads its own
    membership as itself, and noauth's identity-less admin writes as glance."""
    alpha, beta = v2.as_(ALPHA), v2.as_(BETA)
    image = alpha.uploaded(DATA)
    base = f"/v2/images/{image['id']}/members"
    registry.calls.clear()
    assert alpha.request("POST", base, json={"member": "beta"}).status_code == 200
    writes = [kw["headers"] for name, _, kw in registry.calls if name == "add_member"]
    assert writes == [ALPHA]
    registry.calls.clear()
    seen = beta.request("GET", base).json()["members"]
    assert [(m["member_id"], m["status"]) for m in seen] == [("beta", "pending")]
    assert {name: kw["headers"] for name, _, kw in registry.calls} == \
        {"get": BETA, "get_member": BETA}
    registry.calls.clear()
    assert v2.request("POST", base, json={"member": "gamma"}).status_code == 200
    (_, _, kw), = [call for call in registry.calls if call[0] == "add_member"]
    assert kw["headers"]["X-User-Id"] == "glance" and kw["headers"]["X-Project-Id"] == "service"
    listed = alpha.request("GET", base).json()["members"]
    assert sorted(m["member_id"] for m in listed) == ["beta", "gamma"]
    gamma = v2.as_(GAMMA)
    assert gamma.request("GET", f"{base}/beta").status_code == 404
    assert gamma.request("DELETE", f"{base}/beta").status_code == 403
    assert beta.request("DELETE", f"{base}/gamma").status_code == 403
    assert sorted(m["member_id"] for m in alpha.request("GET", base).json()["members"]) == \
        ["beta", "gamma"]


@pytest.mark.parametrize("path", ["/v2/images/detail", "/v2/images/detail/file",
                                  "/v2/images/detail/members"])
def test_an_id_that_names_a_registry_list_is_404(alpha, path):
    """Found by the v2 fuzzer: the registry's /images/detail is a list, not an image (500)."""
    answer = alpha.request("GET", path)
    assert answer.status_code == 404, answer.text
