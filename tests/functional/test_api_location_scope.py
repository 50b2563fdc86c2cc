"""Registered locations through a real glance-api with Swift and S3 stores.

* A location naming another host, container or bucket is refused with a 400 at
  registration, creates nothing, and sends nothing to that host.
* An image registered with another image's location (in the configured
  container) never deletes that data: not on DELETE, not in glance-scrubber.
"""
import os
import subprocess
import sys
import uuid

import pytest

from functional.test_api_stores import s3_options, swift_options
from integration.store.backends import Listener
from servers import APP, write_conf
from v2client import V2, tenant

CONTAINER = "glance-api-test"           # what swift_options and s3_options configure


@pytest.fixture(scope="module", params=[
    pytest.param("swift", marks=pytest.mark.swift),
    pytest.param("s3", marks=pytest.mark.s3)])
def scoped(request, start_api, api_for):
    """``(api, options, location_of(image_id, host_port))`` for one store kind."""
    if request.param == "swift":
        server = request.getfixturevalue("saio")
        options = swift_options(server, delayed_delete="false")

        def location_of(image_id, where=None):
            host = where or f"127.0.0.1:{server.port}"
            return f"swift+http://{host}/auth/v1.0/{CONTAINER}/{image_id}"
    else:
        server = request.getfixturevalue("rclone")
        options = s3_options(server.url, *server.s3_keys)

        def location_of(image_id, where=None):
            host = where or f"127.0.0.1:{server.port}"
            return f"s3+http://{host}/{CONTAINER}/{image_id}"
    api = api_for(start_api(**options))
    api.options, api.location_of = options, location_of
    return api


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def listed(api):
    return [image["id"] for image in api.request("GET", "/v1/images/detail").json()["images"]]


def test_location_on_another_host_is_400_and_nothing_is_sent(scoped, listener):
    before = listed(scoped)
    image_id = str(uuid.uuid4())
    for location in (scoped.location_of(image_id, f"127.0.0.1:{listener.port}"),
                     scoped.location_of(image_id).replace(CONTAINER, "another-tenant")):
        answer = scoped.create(name="stolen", location=location, disk_format="raw",
                               container_format="bare")
        assert answer.status_code == 400, answer.text
        assert "not in this store" in answer.text
        assert "testing" not in answer.text and "secret" not in answer.text
    assert listener.requests == []
    assert listed(scoped) == before           # no image was created


def test_location_with_credentials_is_400(scoped):
    location = scoped.location_of(str(uuid.uuid4())).replace("://", "://someone:key@")
    answer = scoped.create(name="creds", location=location)
    assert answer.status_code == 400 and "must not carry credentials" in answer.text


def upload(api, data):
    answer = api.create(data=data, name="owner's", disk_format="raw", container_format="bare")
    assert answer.status_code == 201, answer.text
    return answer.json()["image"]["id"]


def test_web_download_of_a_store_location_is_400_and_reads_nothing(scoped):
    """web-download reads web servers only: a store location would be read with glance's
    own credentials, so anyone could copy another tenant's private image."""
    victim = upload(scoped, b"alice's private bytes")
    thief = V2(scoped.url, tenant("thief"))
    image = thief.new(name="copy")
    for uri in (scoped.location_of(victim),
                scoped.location_of(victim).replace("+http://", "://", 1)):
        answer = thief.request("POST", f"/v2/images/{image['id']}/import",
                               json={"method": {"name": "web-download", "uri": uri}})
        assert answer.status_code == 400, answer.text     # today: 202, then a copy
        assert "http:// or https://" in answer.text
    assert thief.show(image["id"]).json()["status"] == "queued"
    assert thief.download(image["id"]).status_code == 204
    assert scoped.request("GET", f"/v1/images/{victim}").content == b"alice's private bytes"


def test_deleting_an_image_registered_on_anothers_data_keeps_that_data(scoped):
    data = os.urandom(4096)
    victim = upload(scoped, data)
    borrower = scoped.create(name="borrower", location=scoped.location_of(victim),
                             disk_format="raw", container_format="bare")
    assert borrower.status_code == 201, borrower.text
    borrower_id = borrower.json()["image"]["id"]
    assert scoped.request("DELETE", f"/v1/images/{borrower_id}").status_code == 200
    got = scoped.request("GET", f"/v1/images/{victim}")
    assert got.status_code == 200 and got.content == data          # today: 404, data gone
    assert scoped.status(victim) == "active"
    # The owner's own delete still removes its data.
    assert scoped.request("DELETE", f"/v1/images/{victim}").status_code == 200
    assert scoped.status(victim) == "deleted"


def test_scrubber_keeps_data_it_did_not_store(scoped, start_api, api_for, registry_server,
                                              tmp_path):
    delayed = api_for(start_api(**{**scoped.options, "delayed_delete": "true"}))
    data = os.urandom(2048)
    victim = upload(delayed, data)
    borrower = delayed.create(name="borrower", location=scoped.location_of(victim),
                              disk_format="raw", container_format="bare").json()["image"]["id"]
    own = upload(delayed, b"scrub me")
    for image_id in (borrower, own):
        assert delayed.request("DELETE", f"/v1/images/{image_id}").status_code == 200
        assert delayed.status(image_id) == "pending_delete"
    conf = write_conf(tmp_path / "glance-scrubber.conf", {
        **{k: v for k, v in scoped.options.items() if k.startswith(("swift_", "s3_"))},
        "sql_connection": registry_server.options["sql_connection"], "scrub_time": 0,
        "verbose": "true"})
    done = subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf)],
                          env=dict(os.environ, PYTHONPATH=APP), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Image {borrower} did not store the data" in done.stderr
    got = delayed.request("GET", f"/v1/images/{victim}")
    assert got.status_code == 200 and got.content == data          # today: gone
    assert delayed.status(borrower) == "deleted" and delayed.status(own) == "deleted"
    delayed_get = delayed.request("GET", f"/v1/images/{own}")
    assert delayed_get.status_code == 404
