"""Glance's multiple stores under v2, in process: two filesystem stores named in
``enabled_backends``, each with its own ``[name]`` section, the real registry on SQLite.
"""
import hashlib
import os
import textwrap

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
    assert "v2.8" in versions


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
    for body, status in (({"all_stores": True}, 409), ({"stores": ["cheap", "fast"]}, 409),
                         ({"stores": ["elsewhere"]}, 409), ({"stores": "cheap"}, 400)):
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
