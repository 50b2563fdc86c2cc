"""glance.client.Client against real glance-api and glance-registry processes."""
import hashlib
import io
import uuid

import pytest

from glance import client as glance_client


@pytest.fixture(scope="module")
def client(api_server):
    return glance_client.Client("127.0.0.1", api_server.port)


def test_add_from_file_get_meta_and_stream_data(client, tmp_path):
    data = bytes(range(256)) * 5000
    path = tmp_path / "f.img"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        image = client.add_image({"name": "from-file", "disk_format": "raw",
                                  "container_format": "bare", "is_public": True,
                                  "properties": {"distro": "debian"}}, handle)
    assert image["status"] == "active"
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    meta = client.get_image_meta(image["id"])
    assert meta["size"] == len(data)
    assert meta["is_public"] is True
    assert meta["disk_format"] == "raw"
    assert meta["properties"] == {"distro": "debian"}
    meta, chunks = client.get_image(image["id"])
    assert b"".join(chunks) == data


def test_add_from_an_iterator_goes_chunked(client):
    parts = [b"a" * 100000, b"b" * 50000, b"c"]
    image = client.add_image({"name": "from-iter"}, iter(parts))
    assert image["size"] == 150001
    assert b"".join(client.get_image(image["id"])[1]) == b"".join(parts)


def test_queued_then_update_with_data(client):
    image = client.add_image({"name": "later", "is_public": True})
    assert image["status"] == "queued"
    done = client.update_image(image["id"], image_data=io.BytesIO(b"payload"))
    assert done["status"] == "active" and done["size"] == 7
    with pytest.raises(glance_client.Duplicate) as info:
        client.update_image(image["id"], image_data=b"again")
    assert "unqueued" in info.value.message


def test_update_metadata_and_purge(client):
    image = client.add_image({"name": "meta", "properties": {"a": "1", "b": "2"}}, b"x")
    kept = client.update_image(image["id"], {"properties": {"c": "3"}}, purge_props=False)
    assert kept["properties"] == {"a": "1", "b": "2", "c": "3"}
    purged = client.update_image(image["id"], {"name": "renamed", "properties": {"c": "3"}})
    assert purged["name"] == "renamed" and purged["properties"] == {"c": "3"}


def test_lists_with_filters_sorting_and_paging(client):
    tag = uuid.uuid4().hex[:8]
    ids = [client.add_image({"name": f"{tag}-{n}", "is_public": True}, b"z" * (n + 1))["id"]
           for n in range(3)]
    brief = client.get_images(filters={"name": f"{tag}-1"})
    assert [i["id"] for i in brief] == [ids[1]]
    assert set(brief[0]) == {"id", "uri", "name", "disk_format", "container_format", "checksum",
                             "size"}
    assert brief[0]["uri"].endswith(f"/v1/images/{ids[1]}")
    detailed = client.get_images_detailed(filters={"size_max": 3}, sort_key="size",
                                          sort_dir="asc")
    ours = [i["id"] for i in detailed if i["name"].startswith(tag)]
    assert ours == ids
    first = client.get_images_detailed(sort_key="name", sort_dir="asc", limit=1,
                                       filters={"name": f"{tag}-0"})
    assert [i["id"] for i in first] == [ids[0]]


def test_delete_and_typed_errors(client):
    image = client.add_image({"name": "bye"}, b"data")
    client.delete_image(image["id"])
    with pytest.raises(glance_client.NotFound) as info:
        client.get_image(image["id"])
    assert info.value.status == 404 and info.value.message
    with pytest.raises(glance_client.BadRequest) as info:
        client.add_image({"name": "bad", "disk_format": "floppy"})
    assert "disk format" in info.value.message.lower()
    with pytest.raises(glance_client.BadRequest):
        client.add_image({"name": "badsum", "checksum": "0" * 32}, b"data")


def _as(api_server, tenant):
    identity = {"X-Identity-Status": "Confirmed", "X-Tenant": tenant, "X-User": tenant}
    return glance_client.Client("127.0.0.1", api_server.port, auth_token=f"tok-{tenant}",
                                headers=identity)


def test_members(api_server):
    owner, friend = _as(api_server, "t-owner"), _as(api_server, "t-friend")
    image = owner.add_image({"name": "shared"}, b"s")
    with pytest.raises(glance_client.NotFound):
        friend.get_image_meta(image["id"])
    owner.add_member(image["id"], "t-friend")
    assert owner.get_image_members(image["id"]) == [{"member_id": "t-friend",
                                                      "can_share": False}]
    assert friend.get_image_meta(image["id"])["name"] == "shared"
    assert {"image_id": image["id"], "can_share": False} in friend.get_member_images("t-friend")
    owner.replace_members(image["id"], [{"member_id": "t-other", "can_share": True}])
    assert owner.get_image_members(image["id"]) == [{"member_id": "t-other", "can_share": True}]
    owner.delete_member(image["id"], "t-other")
    assert owner.get_image_members(image["id"]) == []
    owner.add_member(image["id"], "t-friend", can_share=True)
    assert owner.get_image_members(image["id"])[0]["can_share"] is True
