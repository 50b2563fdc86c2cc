"""Sharing images through glance-api (identity headers as an auth proxy would set them)."""
import pytest


def who(tenant, roles=""):
    return {"X-Auth-Token": f"token-{tenant}", "X-Identity-Status": "Confirmed",
            "X-User": f"user-{tenant}", "X-Tenant": tenant, "X-Role": roles}


@pytest.fixture(scope="module")
def private(api):
    response = api.request("POST", "/v1/images", data=b"secret",
                           headers={**who("owner1"), "Content-Type": "application/octet-stream",
                                    "x-image-meta-name": "private-one"})
    assert response.status_code == 201, response.text
    image = response.json()["image"]
    assert image["owner"] == "owner1"
    return image


def test_private_image_is_hidden_from_other_tenants(api, private):
    assert api.request("HEAD", f"/v1/images/{private['id']}",
                       headers=who("stranger")).status_code == 404
    assert api.request("HEAD", f"/v1/images/{private['id']}",
                       headers=who("owner1")).status_code == 200


def test_share_list_and_unshare(api, private):
    image = private["id"]
    added = api.request("PUT", f"/v1/images/{image}/members/friend", headers=who("owner1"))
    assert added.status_code == 204
    members = api.request("GET", f"/v1/images/{image}/members", headers=who("owner1"))
    assert members.json() == {"members": [{"member_id": "friend", "can_share": False}]}
    one = api.request("GET", f"/v1/images/{image}/members/friend", headers=who("owner1"))
    assert one.status_code == 200 and one.json()["member"]["member_id"] == "friend"
    shared = api.request("GET", "/v1/shared-images/friend", headers=who("friend"))
    assert {"image_id": image, "can_share": False} in shared.json()["shared_images"]
    assert api.request("GET", f"/v1/images/{image}", headers=who("friend")).content == b"secret"
    # can_share through the body
    api.request("PUT", f"/v1/images/{image}/members/friend", headers=who("owner1"),
                json={"member": {"can_share": True}})
    members = api.request("GET", f"/v1/images/{image}/members", headers=who("owner1")).json()
    assert members["members"] == [{"member_id": "friend", "can_share": True}]
    removed = api.request("DELETE", f"/v1/images/{image}/members/friend", headers=who("owner1"))
    assert removed.status_code == 204
    assert api.request("HEAD", f"/v1/images/{image}", headers=who("friend")).status_code == 404


def test_replace_members(api, private):
    image = private["id"]
    body = {"memberships": [{"member_id": "a"}, {"member_id": "b", "can_share": True}]}
    response = api.request("PUT", f"/v1/images/{image}/members", headers=who("owner1"),
                           json=body)
    assert response.status_code == 204
    members = api.request("GET", f"/v1/images/{image}/members", headers=who("owner1")).json()
    assert sorted((m["member_id"], m["can_share"]) for m in members["members"]) == [
        ("a", False), ("b", True)]
    response = api.request("PUT", f"/v1/images/{image}/members", headers=who("owner1"),
                           json={"memberships": []})
    assert response.status_code == 204
    assert api.request("GET", f"/v1/images/{image}/members",
                       headers=who("owner1")).json() == {"members": []}


@pytest.mark.parametrize("body", [b"not json", b'{"wrong": 1}', b'{"memberships": [{"x": 1}]}'])
def test_bad_membership_bodies_are_400(api, private, body):
    response = api.request("PUT", f"/v1/images/{private['id']}/members", data=body,
                           headers={**who("owner1"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.text.strip()


def test_member_calls_on_unknown_image_are_404(api):
    missing = "00000000-0000-0000-0000-000000000000"
    assert api.request("GET", f"/v1/images/{missing}/members").status_code == 404


def test_strangers_cannot_share(api, private):
    response = api.request("PUT", f"/v1/images/{private['id']}/members/me",
                           headers=who("stranger"))
    assert response.status_code == 404          # invisible: existence not revealed


@pytest.mark.parametrize("is_public, refused", [("true", 403), ("false", 404)])
def test_another_tenants_delete_leaves_the_owners_image_and_data(api, is_public, refused):
    """The refusal comes before any data is removed (the shape of OSSA-2012-017).

    Before the fix glance-api deleted the file, then the registry said 403:
    the owner's image stayed ``active`` with no data.
    """
    data = b"the owner's bytes " * 64
    created = api.request("POST", "/v1/images", data=data,
                          headers={**who("owner1"), "Content-Type": "application/octet-stream",
                                   "x-image-meta-name": "not yours"})
    image_id = created.json()["image"]["id"]
    # publishing is an admin's (noauth: no identity headers)
    assert api.request("PUT", f"/v1/images/{image_id}", headers={
        "x-image-meta-is_public": is_public,
        "x-glance-registry-purge-props": "false"}).status_code == 200
    answer = api.request("DELETE", f"/v1/images/{image_id}", headers=who("stranger"))
    assert answer.status_code == refused
    assert image_id in api.files()
    got = api.request("GET", f"/v1/images/{image_id}", headers=who("owner1"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["x-image-meta-status"] == "active"
    assert got.headers["x-image-meta-deleted"] == "False"


@pytest.mark.parametrize("header, value, message", [
    ("x-image-meta-location", "http://8.8.8.8/other-tenants.img",
     "Only an admin may set the location of an image"),
    ("x-image-meta-owner", "someone-else", "Only an admin may set the owner of an image"),
    ("x-image-meta-owner", "", "Only an admin may set the owner of an image")])
def test_only_admins_set_location_or_owner_on_update(api, header, value, message):
    created = api.request("POST", "/v1/images",
                          headers={**who("owner1"), "x-image-meta-name": "queued one"})
    image_id = created.json()["image"]["id"]
    before = api.head(image_id).headers                      # as the noauth admin
    answer = api.request("PUT", f"/v1/images/{image_id}",
                         headers={**who("owner1"), header: value,
                                  "x-image-meta-name": "renamed"})
    assert answer.status_code == 403 and answer.text.strip() == message
    after = api.head(image_id).headers
    assert after["x-image-meta-status"] == "queued" and after["x-image-meta-owner"] == "owner1"
    assert after["x-image-meta-name"] == "queued one"
    assert after["x-image-meta-updated_at"] == before["x-image-meta-updated_at"]
    admin = api.request("PUT", f"/v1/images/{image_id}",
                        headers={**who("ops", "admin"), "x-image-meta-owner": "owner2"})
    assert admin.status_code == 200 and admin.json()["image"]["owner"] == "owner2"
