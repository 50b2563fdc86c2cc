"""Reading, listing, updating and deleting images through real glance-api and glance-registry."""
import hashlib
import os
import uuid

import pytest

DATA = b"*" * 5120
DATA_MD5 = "c2e5db72bd7fd153f53ede5da5a06de3"


@pytest.fixture(scope="module")
def active(api):
    response = api.create(DATA, name="simple", disk_format="raw", container_format="bare",
                          is_public="True", properties={"Distro": "Ubuntu", "arch": "x86_64"})
    assert response.status_code == 201, response.text
    return response.json()["image"]


def test_post_answers_201_with_json_location_and_etag(active, api):
    assert active["status"] == "active"
    assert active["size"] == 5120
    assert active["checksum"] == DATA_MD5
    assert active["properties"] == {"distro": "Ubuntu", "arch": "x86_64"}
    assert "location" not in active
    head = api.head(active["id"])
    assert head.headers["Location"] == f"{api.url}/v1/images/{active['id']}"
    assert head.headers["ETag"] == DATA_MD5


def test_head_gives_every_attribute_with_its_own_name(active, api):
    response = api.head(active["id"])
    assert response.status_code == 200
    assert response.content == b""
    h = response.headers
    assert h["x-image-meta-id"] == active["id"]
    assert h["x-image-meta-name"] == "simple"
    assert h["x-image-meta-status"] == "active"
    assert h["x-image-meta-size"] == "5120"
    assert h["x-image-meta-checksum"] == DATA_MD5
    assert h["x-image-meta-disk_format"] == "raw"
    assert h["x-image-meta-container_format"] == "bare"
    assert h["x-image-meta-is_public"] == "True"
    assert h["x-image-meta-min_ram"] == "0"
    assert h["x-image-meta-deleted"] == "False"
    assert h["x-image-meta-property-distro"] == "Ubuntu"
    assert "x-image-meta-location" not in h
    # The raw header names keep their underscores on the wire.
    raw = {name for name in response.raw.headers.keys()}
    assert "x-image-meta-disk_format" in raw


def test_get_streams_the_data_with_length_and_type(active, api):
    response = api.request("GET", f"/v1/images/{active['id']}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["Content-Length"] == "5120"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["x-image-meta-name"] == "simple"
    assert response.headers["ETag"] == DATA_MD5


@pytest.mark.parametrize("prefix", ["", "/v1", "/v1.0", "/v1.1"])
def test_versioned_and_unversioned_paths_are_served(active, api, prefix):
    assert api.request("HEAD", f"{prefix}/images/{active['id']}").status_code == 200
    listing = api.request("GET", f"{prefix}/images")
    assert listing.status_code == 200
    assert active["id"] in [i["id"] for i in listing.json()["images"]]


@pytest.mark.parametrize("path", ["/", "/versions", "/v2", "/v2.99/images", "/v1.2/images",
                                  "/v3"])
def test_version_list_answers_300(api, path):
    response = api.request("GET", path)
    assert response.status_code == 300
    versions = {v["id"]: v for v in response.json()["versions"]}
    assert versions["v2.17"]["status"] == "CURRENT"   # the location API
    assert versions["v2.0"]["links"][0]["href"] == f"{api.url}/v2/"
    assert versions["v1.1"]["status"] == "SUPPORTED"
    assert versions["v1.0"]["links"][0]["href"] == f"{api.url}/v1/"
    assert [v for v in versions.values() if v["status"] == "CURRENT"] == [versions["v2.17"]]


def test_unknown_image_is_404_with_a_message(api):
    missing = str(uuid.uuid4())
    assert api.head(missing).status_code == 404
    for method in ("GET", "DELETE", "PUT"):
        response = api.request(method, f"/v1/images/{missing}")
        assert response.status_code == 404, method
        assert response.text.strip()


def test_index_and_detail(active, api):
    index = api.request("GET", "/v1/images").json()["images"]
    item = next(i for i in index if i["id"] == active["id"])
    assert set(item) == {"id", "uri", "name", "disk_format", "container_format", "checksum",
                         "size"}
    detail = api.request("GET", "/v1/images/detail").json()["images"]
    item = next(i for i in detail if i["id"] == active["id"])
    assert item["properties"]["distro"] == "Ubuntu"
    assert item["status"] == "active"
    assert "location" not in item


@pytest.mark.parametrize("path", ["/v1/images", "/v1/images/detail", "/images"])
def test_every_list_entry_carries_its_absolute_uri(active, api, path):
    """The seed's API documentation: list entries carry ``uri``, as ``Location`` names it."""
    for item in api.request("GET", path).json()["images"]:
        assert item["uri"] == f"{api.url}/v1/images/{item['id']}"
    # Built from the Host the client used, as Location is.
    listed = api.request("GET", path, headers={"Host": "glance.example.com:9292"}).json()
    item = next(i for i in listed["images"] if i["id"] == active["id"])
    assert item["uri"] == f"http://glance.example.com:9292/v1/images/{active['id']}"


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_head_and_get_send_x_image_meta_uri(active, api, method):
    response = api.request(method, f"/v1/images/{active['id']}")
    assert response.status_code == 200
    assert response.headers["x-image-meta-uri"] == response.headers["Location"] \
        == f"{api.url}/v1/images/{active['id']}"


@pytest.mark.parametrize("accept", ["application/vnd.openstack.images-v3",
                                    "application/vnd.openstack.compute-v1"])
def test_an_unversioned_request_for_a_version_not_served_gets_the_list(active, api, accept):
    """Diablo's test_version_variations: the version list, and nothing listed or changed."""
    for method, path in (("GET", "/images"), ("GET", "/images/detail"),
                         ("DELETE", f"/images/{active['id']}")):
        response = api.request(method, path, headers={"Accept": accept})
        assert response.status_code == 300, (method, path)
        assert "v2.0" in {v["id"] for v in response.json()["versions"]}
    assert api.head(active["id"]).headers["x-image-meta-status"] == "active"


def test_filters_sorting_and_paging_pass_through(api):
    tag = uuid.uuid4().hex[:8]
    ids = []
    for n, size in enumerate((10, 20, 30)):
        response = api.create(b"x" * size, name=f"{tag}-{n}", disk_format="qcow2",
                              container_format="bare", is_public="true",
                              properties={"pants": "on" if n else "off"})
        ids.append(response.json()["image"]["id"])
    get = lambda q: api.request("GET", "/v1/images/detail?" + q)   # noqa: E731
    assert [i["id"] for i in get(f"name={tag}-1").json()["images"]] == [ids[1]]
    assert {i["id"] for i in get("property-pants=on").json()["images"]} >= {ids[1], ids[2]}
    assert ids[0] not in {i["id"] for i in get("property-pants=on").json()["images"]}
    found = get(f"size_min=15&size_max=25&name={tag}-1").json()["images"]
    assert [i["id"] for i in found] == [ids[1]]
    ordered = get("sort_key=name&sort_dir=asc&property-pants=on").json()["images"]
    names = [i["name"] for i in ordered if i["name"].startswith(tag)]
    assert names == [f"{tag}-1", f"{tag}-2"]
    page = get("sort_key=size&sort_dir=desc&limit=1&disk_format=qcow2").json()["images"]
    assert len(page) == 1
    after = get(f"sort_key=size&sort_dir=desc&limit=1&disk_format=qcow2"
                f"&marker={page[0]['id']}").json()["images"]
    assert len(after) == 1 and after[0]["id"] != page[0]["id"]


@pytest.mark.parametrize("query", ["sort_key=bogus", "limit=abc", "sort_dir=sideways",
                                   "marker=0f8b3c9e-5b1d-4d6a-9a7e-3c2b1a0d9e8f"])
def test_bad_list_parameters_answer_400(api, query):
    response = api.request("GET", "/v1/images/detail?" + query)
    assert response.status_code == 400
    assert response.text.strip()


def test_put_updates_metadata_and_purges_properties_by_default(api):
    image = api.create(b"abc", name="before", properties={"distro": "x", "arch": "y"}).json()
    image_id = image["image"]["id"]
    response = api.request("PUT", f"/v1/images/{image_id}",
                           headers={"x-image-meta-name": "after",
                                    "x-image-meta-property-arch": "z"})
    assert response.status_code == 200
    body = response.json()["image"]
    assert body["name"] == "after"
    assert body["properties"] == {"arch": "z"}          # distro purged (Diablo)
    assert response.headers["Location"] == f"{api.url}/v1/images/{image_id}"
    kept = api.request("PUT", f"/v1/images/{image_id}",
                       headers={"x-image-meta-property-distro": "w",
                                "x-glance-registry-purge-props": "false"}).json()["image"]
    assert kept["properties"] == {"arch": "z", "distro": "w"}


def test_invalid_formats_are_refused_by_the_registry_with_its_message(api):
    response = api.create(name="bad", disk_format="floppy")
    assert response.status_code == 400
    assert "disk format" in response.text.lower()


def test_non_integer_size_is_400(api):
    response = api.create(name="bad", size="big")
    assert response.status_code == 400
    assert "size" in response.text


def test_get_of_a_queued_image_is_404_not_active(api):
    image_id = api.create(name="queued").json()["image"]["id"]
    response = api.request("GET", f"/v1/images/{image_id}")
    assert response.status_code == 404
    assert response.text.strip() == f"Image {image_id} is not active"


def test_delete_removes_the_file_and_hides_the_image(api):
    data = b"delete me"
    image_id = api.create(data, name="gone").json()["image"]["id"]
    assert image_id in api.files()
    response = api.request("DELETE", f"/v1/images/{image_id}")
    assert response.status_code == 200
    assert image_id not in api.files()
    listed = api.request("GET", "/v1/images").json()["images"]
    assert image_id not in [i["id"] for i in listed]
    assert api.request("GET", f"/v1/images/{image_id}").status_code == 404
    assert api.status(image_id) == "deleted"                 # admins still see it


def test_a_deleted_image_cannot_be_changed_or_deleted_again(api):
    image_id = api.create(b"once", name="once").json()["image"]["id"]
    assert api.request("DELETE", f"/v1/images/{image_id}").status_code == 200
    again = api.request("DELETE", f"/v1/images/{image_id}")
    assert again.status_code == 404 and image_id in again.text
    update = api.request("PUT", f"/v1/images/{image_id}", headers={"x-image-meta-name": "new"})
    assert update.status_code == 403
    assert update.text.strip() == "Forbidden to update deleted image."
    assert api.head(image_id).headers["x-image-meta-name"] == "once"


def test_missing_data_gives_404_on_get_while_head_still_works(api):
    image_id = api.create(b"soon missing", name="lost").json()["image"]["id"]
    os.unlink(os.path.join(api.server.datadir, image_id))
    assert api.head(image_id).status_code == 200
    response = api.request("GET", f"/v1/images/{image_id}")
    assert response.status_code == 404
    assert "missing" in response.text


def test_delayed_delete_leaves_data_for_the_scrubber(start_api, api_for):
    delayed = api_for(start_api(delayed_delete="true"))
    image_id = delayed.create(b"later", name="scrub-me").json()["image"]["id"]
    assert delayed.request("DELETE", f"/v1/images/{image_id}").status_code == 200
    assert image_id in delayed.files()
    assert delayed.status(image_id) == "pending_delete"       # admins still see it
    again = delayed.request("DELETE", f"/v1/images/{image_id}")
    assert again.status_code == 403
    assert again.text.strip() == "Forbidden to delete a pending_delete image."
    assert image_id in delayed.files()


def test_md5_of_download_matches_checksum(api):
    data = bytes(range(256)) * 4096
    image = api.create(data, name="md5").json()["image"]
    body = api.request("GET", f"/v1/images/{image['id']}").content
    assert hashlib.md5(body).hexdigest() == image["checksum"] == hashlib.md5(data).hexdigest()


def test_location_is_absolute_from_the_request_host(api):
    """Diablo's WebOb made Location absolute; its clients followed it."""
    created = api.create(b"abc", name="where")
    assert created.status_code == 201
    image_id = created.json()["image"]["id"]
    assert created.headers["Location"] == f"{api.url}/v1/images/{image_id}"
    followed = api.session.head(created.headers["Location"], timeout=30)
    assert followed.headers["x-image-meta-id"] == image_id
    other = api.request("HEAD", f"/v1/images/{image_id}",
                        headers={"Host": "glance.example.com:9292"})
    assert other.headers["Location"] == f"http://glance.example.com:9292/v1/images/{image_id}"
