"""Glance's multiple stores under v2, in process: two filesystem stores named in
``enabled_backends``, each with its own ``[name]`` section, the real registry on SQLite.
"""
import hashlib
import os
import textwrap
import time

import pytest

from glance.api import create_app
from glance.config import ConfigError, load_config
from glance.store import build_stores
from v2client import ADMIN, V2, InProcess, tenant

DATA = os.urandom(64 * 1024 + 3)
ALPHA = tenant("alpha")


def write_conf(tmp_path, backends="fast:file, cheap:file", default="fast", extra=""):
    path = tmp_path / "glance-api.conf"
    path.write_text(textwrap.dedent(f"""\
        [DEFAULT]
        enabled_backends = {backends}
        enabled_import_methods = glance-direct,web-download,copy-image
        filesystem_store_datadir = {tmp_path / "unused"}
        swift_store_key = not-used
        [glance_store]
        default_backend = {default}
        [fast]
        filesystem_store_datadir = {tmp_path / "fast"}
        store_description = "Fast disks"
        [cheap]
        filesystem_store_datadir = {tmp_path / "cheap"}
        {extra}
        """))
    return load_config("glance-api", str(path))


@pytest.fixture
def conf(tmp_path):
    return write_conf(tmp_path)


@pytest.fixture
def v2(conf, registry):
    app = create_app(conf, registry=registry, stores=build_stores(conf))
    return V2("", ADMIN, InProcess(app))


@pytest.fixture
def alpha(v2):
    return v2.as_(ALPHA)


def files(tmp_path, store):
    folder = tmp_path / store
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.exists() else []


def test_info_stores_lists_the_named_stores(v2, tmp_path):
    answer = v2.request("GET", "/v2/info/stores")
    assert answer.status_code == 200, answer.text
    assert answer.json()["stores"] == [
        {"id": "cheap", "description": "Filesystem store"},
        {"id": "fast", "description": "Fast disks", "default": "true"}]
    assert not (tmp_path / "unused").exists()        # [DEFAULT]'s directory is no store
    versions = [v["id"] for v in v2.request("GET", "/versions").json()["versions"]]
    # the cache off: all up to 2.13 but the cache's 2.14, 2.16 and 2.15; 2.17 has routes only
    assert versions[:8] == ["v2.17", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.7"]


def test_upload_goes_to_the_named_store_and_reads_back(alpha, tmp_path):
    default = alpha.uploaded(DATA)
    assert default["stores"] == "fast" and files(tmp_path, "fast") == [default["id"]]
    image = alpha.new(name="cheap one")
    assert "stores" not in image                       # no data yet
    put = alpha.request("PUT", f"/v2/images/{image['id']}/file", data=DATA,
                        headers={"Content-Type": "application/octet-stream",
                                 "X-Image-Meta-Store": "cheap"})
    assert put.status_code == 204, put.text
    shown = alpha.show(image["id"]).json()
    assert shown["stores"] == "cheap" and shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert files(tmp_path, "cheap") == [image["id"]]
    assert alpha.download(image["id"]).content == DATA
    listed = {i["id"]: i.get("stores") for i in alpha.list().json()["images"]}
    assert listed == {default["id"]: "fast", image["id"]: "cheap"}
    assert alpha.delete(image["id"]).status_code == 204
    assert files(tmp_path, "cheap") == [] and files(tmp_path, "fast") == [default["id"]]


def test_unknown_store_is_refused_and_nothing_is_written(alpha, tmp_path):
    image = alpha.new(name="nowhere")
    put = alpha.request("PUT", f"/v2/images/{image['id']}/file", data=DATA,
                        headers={"Content-Type": "application/octet-stream",
                                 "X-Image-Meta-Store": "elsewhere"})
    assert put.status_code == 400, put.text
    assert alpha.show(image["id"]).json()["status"] == "queued"
    assert files(tmp_path, "fast") == files(tmp_path, "cheap") == []


def test_import_into_one_named_store(alpha, tmp_path):
    image = alpha.new(name="staged")
    assert alpha.upload(image["id"], DATA, path="stage").status_code == 204
    path = f"/v2/images/{image['id']}/import"
    for body, status in (({"stores": ["elsewhere"]}, 409), ({"stores": ["fast", "elsewhere"]}, 409),
                         ({"stores": "cheap"}, 400)):
        refused = alpha.request("POST", path, json={"method": {"name": "glance-direct"},
                                                    **body})
        assert refused.status_code == status, (body, refused.text)
    assert alpha.show(image["id"]).json()["status"] == "uploading"
    go = alpha.request("POST", path, json={"method": {"name": "glance-direct"},
                                           "stores": ["cheap"]})
    assert go.status_code == 202, go.text
    shown = alpha.show(image["id"]).json()
    assert (shown["status"], shown["stores"]) == ("active", "cheap")
    assert files(tmp_path, "cheap") == [image["id"]] and files(tmp_path, "fast") == []
    assert alpha.download(image["id"]).content == DATA

    other = alpha.new(name="staged here")
    assert alpha.upload(other["id"], DATA, path="stage").status_code == 204
    go = alpha.request("POST", f"/v2/images/{other['id']}/import",
                       json={"method": {"name": "glance-direct"}})
    assert go.status_code == 202, go.text
    assert alpha.show(other["id"]).json()["stores"] == "fast"


def test_v1_store_header_names_a_store_too(v2, tmp_path):
    made = v2.request("POST", "/v1/images", data=DATA, headers={
        "x-image-meta-name": "v1", "x-image-meta-store": "cheap",
        "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare",
        "Content-Type": "application/octet-stream"})
    assert made.status_code == 201, made.text
    image_id = made.json()["image"]["id"]
    assert files(tmp_path, "cheap") == [image_id]
    assert v2.show(image_id).json()["stores"] == "cheap"


@pytest.mark.parametrize("backends, default, message", [
    ("fast:file, cheap:tape", "fast", "unknown type 'tape'"),
    ("fast:file, cheap:file", "nowhere", "default_backend"),
    ("fast:file, fast:file", "fast", "named twice"),
    ("fast", "fast", "expected name:type"),
])
def test_bad_store_configuration_is_one_clear_error(tmp_path, backends, default, message):
    with pytest.raises(ConfigError, match=message):
        build_stores(write_conf(tmp_path, backends, default))


def test_secrets_in_store_sections_are_masked(tmp_path):
    conf = write_conf(tmp_path, extra="swift_store_key = hidden")
    assert conf.masked()["cheap.swift_store_key"] == "***"


@pytest.fixture(autouse=True)
def copies_in_the_request(monkeypatch):
    """copy-image copies on a thread; the in-memory registry has one SQLite connection,
    which two threads must not share: here it copies before answering (the thread is
    tested against real processes in tests/functional/test_api_stores.py)."""
    from glance.api.v2 import copies
    monkeypatch.setattr(copies.Copier, "start", copies.Copier.run)


def staged(client, data=DATA):
    image = client.new(name="staged")
    assert client.upload(image["id"], data, path="stage").status_code == 204
    return image


def settled(client, image_id):
    """The image once no copy is under way (copy-image runs on a thread)."""
    for _ in range(200):
        shown = client.show(image_id).json()
        if shown.get("os_glance_importing_to_stores") == "":
            return shown
        time.sleep(0.05)
    raise AssertionError(f"copies of {image_id} never finished: {shown}")


def test_import_into_all_stores_and_delete_removes_every_copy(alpha, tmp_path):
    image = staged(alpha)
    go = alpha.request("POST", f"/v2/images/{image['id']}/import",
                       json={"method": {"name": "glance-direct"}, "all_stores": True})
    assert go.status_code == 202, go.text
    shown = settled(alpha, image["id"])
    assert (shown["status"], shown["stores"]) == ("active", "cheap,fast")
    assert shown["os_glance_failed_import"] == ""
    assert files(tmp_path, "cheap") == files(tmp_path, "fast") == [image["id"]]
    assert (tmp_path / "cheap" / image["id"]).read_bytes() == DATA
    assert alpha.download(image["id"]).content == DATA
    assert alpha.delete(image["id"]).status_code == 204
    assert files(tmp_path, "cheap") == files(tmp_path, "fast") == []


def test_import_into_two_named_stores(alpha, tmp_path):
    image = staged(alpha)
    go = alpha.request("POST", f"/v2/images/{image['id']}/import",
                       json={"method": {"name": "glance-direct"}, "stores": ["cheap", "fast"]})
    assert go.status_code == 202, go.text
    assert settled(alpha, image["id"])["stores"] == "cheap,fast"


def test_copy_image_is_for_admins_and_copies_into_the_other_stores(v2, alpha, tmp_path):
    image = alpha.uploaded(DATA)
    path = f"/v2/images/{image['id']}/import"
    body = {"method": {"name": "copy-image"}, "all_stores": True}
    refused = alpha.request("POST", path, json=body)
    assert refused.status_code == 403, refused.text
    shown = alpha.show(image["id"]).json()
    assert shown["stores"] == "fast" and "os_glance_importing_to_stores" not in shown
    assert files(tmp_path, "cheap") == []
    queued = alpha.new(name="no data")
    assert v2.request("POST", f"/v2/images/{queued['id']}/import",
                      json=body).status_code == 409
    go = v2.request("POST", path, json=body)
    assert go.status_code == 202, go.text
    shown = settled(v2, image["id"])
    assert (shown["stores"], shown["os_glance_failed_import"]) == ("cheap,fast", "")
    assert (tmp_path / "cheap" / image["id"]).read_bytes() == DATA
    assert alpha.show(image["id"]).json()["updated_at"]          # the owner still sees it
    tasks = v2.request("GET", f"/v2/images/{image['id']}/tasks").json()["tasks"]
    assert [t["status"] for t in tasks] == ["success"]
    # copying again into stores that hold it does nothing
    assert v2.request("POST", path, json=body).status_code == 202
    assert settled(v2, image["id"])["stores"] == "cheap,fast"


def test_a_failed_copy_leaves_no_data(v2, tmp_path, monkeypatch):
    from glance.api.v2 import copies
    image = v2.uploaded(DATA)
    recorded = copies.Copier._record

    def deleted_meanwhile(self, uri):
        assert v2.delete(image["id"]).status_code == 204
        return recorded(self, uri)

    monkeypatch.setattr(copies.Copier, "_record", deleted_meanwhile)
    go = v2.request("POST", f"/v2/images/{image['id']}/import",
                    json={"method": {"name": "copy-image"}, "stores": ["cheap"]})
    assert go.status_code == 202, go.text
    assert files(tmp_path, "cheap") == files(tmp_path, "fast") == []
    assert v2.show(image["id"]).status_code == 404


def test_delete_from_one_store(v2, alpha, tmp_path):
    image = staged(alpha)
    alpha.request("POST", f"/v2/images/{image['id']}/import",
                  json={"method": {"name": "glance-direct"}, "all_stores": True})
    assert settled(alpha, image["id"])["stores"] == "cheap,fast"
    refused = alpha.request("DELETE", f"/v2/stores/cheap/{image['id']}")
    assert refused.status_code == 403, refused.text
    assert alpha.show(image["id"]).json()["stores"] == "cheap,fast"
    assert files(tmp_path, "cheap") == [image["id"]]
    assert v2.request("DELETE", f"/v2/stores/elsewhere/{image['id']}").status_code == 404
    # the store it was first written to: the copy takes its place
    assert v2.request("DELETE", f"/v2/stores/fast/{image['id']}").status_code == 204
    assert alpha.show(image["id"]).json()["stores"] == "cheap"
    assert files(tmp_path, "fast") == [] and files(tmp_path, "cheap") == [image["id"]]
    assert alpha.download(image["id"]).content == DATA
    assert v2.request("DELETE", f"/v2/stores/fast/{image['id']}").status_code == 404
    last = v2.request("DELETE", f"/v2/stores/cheap/{image['id']}")
    assert last.status_code == 409, last.text
    assert files(tmp_path, "cheap") == [image["id"]]
    assert alpha.delete(image["id"]).status_code == 204
    assert files(tmp_path, "cheap") == []


def test_store_weights_order_an_images_stores(registry, tmp_path):
    conf = write_conf(tmp_path, extra="weight = -5")
    v2 = V2("", ADMIN, InProcess(create_app(conf, registry=registry,
                                            stores=build_stores(conf))))
    listed = v2.request("GET", "/v2/info/stores").json()["stores"]
    assert [(s["id"], s.get("weight")) for s in listed] == [("cheap", -5), ("fast", None)]
    image = staged(v2)
    v2.request("POST", f"/v2/images/{image['id']}/import",
               json={"method": {"name": "glance-direct"}, "all_stores": True})
    assert settled(v2, image["id"])["stores"] == "fast,cheap"      # the heavier first
    with pytest.raises(ConfigError, match="weight must be an integer"):
        build_stores(write_conf(tmp_path, extra="weight = heavy"))
