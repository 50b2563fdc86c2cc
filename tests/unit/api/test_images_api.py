"""The v1 routes under Flask's test client, with the real registry in process and a real
filesystem store."""
import hashlib
import io
import os

import pytest

from contract.registry import as_user
from glance.api.context import NoAuthService
from glance.store import base

OCTET = {"Content-Type": "application/octet-stream"}


def post(client, data=None, identity=None, **meta):
    sent = {f"x-image-meta-{k}": str(v) for k, v in meta.items()}
    if data is not None:
        sent.update(OCTET)
    return client.post("/v1/images", data=data, headers={**sent, **(identity or {})})


def test_upload_goes_queued_saving_active(client, registry):
    response = post(client, b"hello", name="h")
    assert response.status_code == 201
    image = response.get_json()["image"]
    assert image["status"] == "active"
    assert image["checksum"] == hashlib.md5(b"hello").hexdigest()
    name, args, _ = registry.calls[0]
    assert name == "create" and args[0]["status"] == "queued"
    assert registry.statuses(image["id"]) == ["saving", "active"]
    assert "location" not in image
    assert response.headers["ETag"] == image["checksum"]


class FailingStore:
    name, schemes, read_only = "file", ("file",), False

    def __init__(self, error):
        self.error = error

    def add(self, image_id, data, size=None, checksum=None):
        data.read(1024)
        if self.error is RuntimeError:      # an unexpected error may name a secret
            raise RuntimeError("connect to https://admin:s3cret@10.0.0.5/ failed")
        raise self.error("store said no")


@pytest.mark.parametrize("error, status", [
    (base.StorageFull, 413), (base.WriteDenied, 503), (base.NotConfigured, 400),
    (base.UnknownScheme, 400), (base.BadLocation, 400), (base.ReadOnly, 400),
    (base.SizeMismatch, 400), (base.ChecksumMismatch, 400), (base.ClientDisconnected, 400),
    (base.Duplicate, 409), (base.BackendError, 502),
])
def test_store_errors_map_to_status_and_kill_the_image(make_client, registry, error, status):
    client = make_client(store=FailingStore(error))
    response = post(client, b"x" * 5000, id="11111111-1111-1111-1111-111111111111")
    assert response.status_code == status
    assert response.get_data(as_text=True).strip() == "store said no"
    assert registry.get("11111111-1111-1111-1111-111111111111")["status"] == "killed"


def test_unexpected_store_exception_is_an_upload_error_and_kills(make_client, registry):
    client = make_client(store=FailingStore(RuntimeError))
    response = post(client, b"x", id="22222222-2222-2222-2222-222222222222")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "Error uploading image: RuntimeError (see the glance-api log)" in text
    assert "s3cret" not in text and "10.0.0.5" not in text
    assert registry.get("22222222-2222-2222-2222-222222222222")["status"] == "killed"


def test_wrong_content_type_creates_nothing(client, registry):
    response = client.post("/v1/images", data=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert registry.list(detail=True, params={"is_public": "none"}) == []


def test_registry_errors_pass_through_verbatim(client):
    response = post(client, name="x", disk_format="floppy")
    assert response.status_code == 400
    assert response.get_data(as_text=True).strip() == "Invalid disk format 'floppy' for image."


def test_put_purges_by_default_honours_the_header_and_never_purges_on_upload(client, registry):
    image_id = post(client, name="p").get_json()["image"]["id"]
    client.put(f"/v1/images/{image_id}", headers={"x-image-meta-name": "q",
                                                  "x-image-meta-property-a": "1"})
    client.put(f"/v1/images/{image_id}", headers={"x-image-meta-name": "r"})
    assert registry.get(image_id)["properties"] == {}            # purged by default
    client.put(f"/v1/images/{image_id}", headers={"x-image-meta-property-b": "2"})
    client.put(f"/v1/images/{image_id}", headers={"x-image-meta-name": "s",
                                                  "x-glance-registry-purge-props": "false"})
    assert registry.get(image_id)["properties"] == {"b": "2"}
    client.put(f"/v1/images/{image_id}", data=b"data",
               headers={**OCTET, "x-image-meta-property-a": "1"})
    assert registry.get(image_id)["properties"] == {"a": "1", "b": "2"}


def test_put_data_on_active_image_is_409(client):
    image_id = post(client, b"one").get_json()["image"]["id"]
    response = client.put(f"/v1/images/{image_id}", data=b"two", headers=OCTET)
    assert response.status_code == 409


def test_location_registration_skips_saving(client, registry):
    from glance.config import load_config
    from glance.store import StoreMap
    from glance.store.http import HTTPStore

    class Remote(HTTPStore):
        """The real HTTP store (its checks), with a web server that answers 42 bytes."""

        def get_size(self, uri):
            return 42

    remote = Remote.from_config(load_config("glance-api",
                                            overrides={"http_store_allow_private": True}))
    client.application.extensions["glance"]["stores"] = StoreMap(
        {"file": client.application.extensions["glance"]["stores"].stores["file"],
         "http": remote}, "file", {"file": "file", "http": "http", "https": "http"})
    response = post(client, name="remote", location="http://example.com/img")
    assert response.status_code == 201
    image = response.get_json()["image"]
    assert (image["status"], image["size"]) == ("active", 42)
    assert registry.statuses(image["id"]) == ["active"]
    assert registry.get(image["id"])["location"] == "http://example.com/img"
    assert "location" not in image


@pytest.mark.parametrize("location", ["file:///etc/shadow", "ftp://x/y", "/etc/passwd",
                                      "http://[::1", "http://[64:ff9b::7f00:1]/x"])
def test_local_invalid_or_unknown_locations_are_400(client, location):
    assert post(client, name="x", location=location).status_code == 400


def test_get_data_and_not_active(client, registry, fs_store):
    image_id = post(client, b"payload").get_json()["image"]["id"]
    response = client.get(f"/v1/images/{image_id}")
    assert response.data == b"payload"
    assert response.headers["Content-Length"] == "7"
    assert response.headers["Content-Type"] == "application/octet-stream"
    queued = post(client, name="q").get_json()["image"]["id"]
    response = client.get(f"/v1/images/{queued}")
    assert response.status_code == 404
    assert response.get_data(as_text=True).strip() == f"Image {queued} is not active"
    os.unlink(os.path.join(fs_store.datadir, image_id))
    assert client.get(f"/v1/images/{image_id}").status_code == 404
    assert client.head(f"/v1/images/{image_id}").status_code == 200


def test_delete_protected_is_403(client, registry):
    image_id = post(client, b"x", protected="true").get_json()["image"]["id"]
    response = client.delete(f"/v1/images/{image_id}")
    assert response.status_code == 403
    assert "protected" in response.get_data(as_text=True)


def test_delete_with_delayed_delete_keeps_data(make_client, registry, fs_store):
    client = make_client(delayed_delete=True)
    image_id = post(client, b"x").get_json()["image"]["id"]
    assert client.delete(f"/v1/images/{image_id}").status_code == 200
    assert registry.get(image_id)["status"] == "pending_delete"
    assert os.path.exists(os.path.join(fs_store.datadir, image_id))


def test_lists_strip_location_and_pass_parameters(client, registry):
    post(client, b"x", name="listed", is_public="true", **{"property-a": "b"})
    post(client, b"y", name="listed", is_public="true")
    response = client.get("/v1/images/detail?name=listed&property-a=b&limit=5")
    listed = response.get_json()["images"]
    assert len(listed) == 1 and "location" not in listed[0]
    _, kwargs = registry.last("list")
    assert dict(kwargs["params"]) == {"name": "listed", "property-a": "b", "limit": "5"}


def test_noauth_forwards_identity_headers_but_not_a_bare_token(client, registry):
    client.get("/v1/images", headers={"X-Auth-Token": "anything"})
    assert registry.last("list")[1]["headers"] == {}
    identity = {"X-Identity-Status": "Confirmed", "X-Project-Id": "ten", "X-Roles": "member"}
    client.get("/v1/images", headers={"X-Auth-Token": "t", **identity})
    assert registry.last("list")[1]["headers"] == identity


def test_keystone_forwards_only_the_token(make_client, registry):
    # No keystonemiddleware here (no Keystone): the headers stand for what it set.
    client = make_client(auth_strategy="keystone", service_auth=NoAuthService("admin"),
                         auth_token=lambda app, conf: app)
    client.get("/v1/images", headers={"X-Auth-Token": "tok", "X-Identity-Status": "Confirmed",
                                      "X-Roles": "admin", "X-Project-Id": "p"})
    assert registry.last("list")[1]["headers"] == {"X-Auth-Token": "tok"}


@pytest.mark.parametrize("path, status", [("/", 300), ("/versions", 300), ("/v3/images", 300),
                                          ("/v2", 300), ("/v2.99/images", 300),
                                          ("/v1.0/images", 200), ("/images", 200),
                                          ("/v1/images", 200), ("/imagesX", 404)])
def test_version_negotiation(client, path, status):
    assert client.get(path).status_code == status


def test_root_with_the_v1_media_type_lists_images(client):
    response = client.get("/", headers={"Accept": "application/vnd.openstack.images-v1"})
    assert response.status_code == 200
    assert "images" in response.get_json()


def test_unknown_routes_and_methods_answer_text(client):
    response = client.get("/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    response = client.patch("/v1/images/abc")
    assert response.status_code == 405


def members(registry, image_id):
    return [(m["member_id"], m["can_share"]) for m in registry.get_members(image_id)]


def test_members_body_validation(client, registry):
    owner = as_user("owner")
    image_id = post(client, b"x", owner).get_json()["image"]["id"]
    bad = client.put(f"/v1/images/{image_id}/members", data=b"[1]",
                     content_type="application/json", headers=owner)
    assert bad.status_code == 400
    ok = client.put(f"/v1/images/{image_id}/members", headers=owner,
                    json={"memberships": [{"member_id": "m", "can_share": "true"}]})
    assert ok.status_code == 204
    assert members(registry, image_id) == [("m", True)]
    assert client.put(f"/v1/images/{image_id}/members/m2", headers=owner,
                      json={"member": {"can_share": False}}).status_code == 204
    assert members(registry, image_id) == [("m", True), ("m2", False)]


def test_chunked_body_in_test_client(client):
    response = client.post("/v1/images", input_stream=io.BytesIO(b"z" * 100000),
                           headers={**OCTET, "Transfer-Encoding": "chunked"})
    assert response.status_code == 201, response.data
    assert response.get_json()["image"]["size"] == 100000


def test_body_read_honours_the_size_asked_for():
    from glance.api.body import RequestBody
    body = RequestBody(io.BytesIO(b"a" * 3000), 3000)
    assert len(body.read(1000)) == 1000
    assert len(body.read(5000)) == 2000
    assert body.read(10) == b""
    assert body.complete
    body.close()


def test_body_that_ends_early_raises_client_disconnected():
    from glance.api.body import RequestBody
    body = RequestBody(io.BytesIO(b"a" * 10), 100)
    assert body.read() == b"a" * 10
    with pytest.raises(base.ClientDisconnected):
        body.read()
    assert not body.complete
    body.close()


def test_empty_chunked_body_is_no_body(client, registry):
    empty = {**OCTET, "Transfer-Encoding": "chunked"}
    created = client.post("/v1/images", input_stream=io.BytesIO(b""), headers=empty)
    assert created.status_code == 201
    image = created.get_json()["image"]
    assert image["status"] == "queued"
    uploaded = client.put(f"/v1/images/{image['id']}", input_stream=io.BytesIO(b"data"),
                          headers=empty)
    assert uploaded.get_json()["image"]["status"] == "active"
    renamed = client.put(f"/v1/images/{image['id']}", input_stream=io.BytesIO(b""),
                         headers={**empty, "x-image-meta-name": "renamed"})
    assert renamed.status_code == 200
    assert renamed.get_json()["image"]["name"] == "renamed"


@pytest.mark.parametrize("path", ["/v1/images/{id}/members", "/v1/images/{id}/members/m2"])
def test_v1_member_bodies_are_read_like_v2_ones(make_client, registry, path):
    """One JSON reader: a body over max_json_body is 413 under v1 as under v2."""
    client = make_client(max_json_body=1024)
    image_id = post(client, b"x").get_json()["image"]["id"]
    members = [{"member_id": f"member-{n:04d}", "can_share": False} for n in range(40)]
    body = {"memberships": members} if path.endswith("members") else \
        {"member": {"can_share": False}, "padding": "p" * 2000}
    # sharing needs an identity, checked before the body is read: an admin with one
    sharer = {"X-Identity-Status": "Confirmed", "X-Tenant": "ops", "X-User": "ops",
              "X-Roles": "admin"}
    response = client.put(path.format(id=image_id), json=body, headers=sharer)
    assert response.status_code == 413
    assert response.get_data(as_text=True).strip() == "Request body is larger than 1024 bytes"
    assert registry.get_members(image_id) == []


def test_another_tenant_neither_reads_nor_changes_a_private_image(client, registry, fs_store):
    owner, other = as_user("owner"), as_user("other")
    image_id = post(client, b"private data", owner, name="mine").get_json()["image"]["id"]
    before = registry.get(image_id)
    for method in ("GET", "HEAD"):
        assert client.open(f"/v1/images/{image_id}", method=method,
                           headers=other).status_code == 404
    assert client.get("/v1/images/detail", headers=other).get_json()["images"] == []
    renamed = client.put(f"/v1/images/{image_id}", headers={**other, "x-image-meta-name": "x"})
    assert renamed.status_code == 404
    assert client.delete(f"/v1/images/{image_id}", headers=other).status_code == 404
    # An unconfirmed identity is anonymous, whatever roles and tenant it claims.
    forged = {"X-Identity-Status": "Invalid", "X-Tenant": "owner", "X-Role": "admin"}
    assert client.delete(f"/v1/images/{image_id}", headers=forged).status_code == 401
    assert client.put(f"/v1/images/{image_id}", headers={**forged, "x-image-meta-name": "x"}
                      ).status_code == 401
    assert registry.get(image_id) == before
    assert client.get(f"/v1/images/{image_id}", headers=owner).data == b"private data"


class DownKeystone:
    """glance's service identity while Keystone is down (as keystone.ServiceToken raises)."""

    def headers(self):
        from glance.keystone import ServiceAuthError
        raise ServiceAuthError("glance cannot authenticate to Keystone: Unable to connect")


def test_keystone_down_is_503_and_the_image_stays_queued(make_client, registry, fs_store):
    client = make_client(service_auth=DownKeystone())
    image_id = "33333333-3333-3333-3333-333333333333"
    response = post(client, b"x" * 5000, id=image_id)
    assert response.status_code == 503
    assert "cannot authenticate to Keystone" in response.get_data(as_text=True)
    put = client.put(f"/v2/images/{image_id}/file", data=b"y" * 5000, headers=OCTET)
    assert put.status_code == 503
    assert registry.get(image_id)["status"] == "queued"
    assert os.listdir(fs_store.datadir) == []
