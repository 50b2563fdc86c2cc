"""The v2 image API over HTTP, against real glance-registry and glance-api processes:
what needs real servers (a web-download from one, both APIs over HTTP).  The API's
logic is tested in process in tests/unit/api/test_v2_api.py.
"""
import hashlib
import http.server
import json
import os
import threading
import time

import pytest

import cross_api
from servers import wait_for
from v2client import ADMIN, V2, tenant

DATA = os.urandom(200 * 1024 + 7)
ALPHA = tenant("alpha")


@pytest.fixture(scope="module")
def v2(api_server):
    return V2(api_server.url, ADMIN)


@pytest.fixture(scope="module")
def web_api(start_api):
    """A glance-api that may read private addresses, and reads nothing for over 3 s."""
    return start_api(http_store_allow_private="true", http_store_transfer_timeout=3,
                     enabled_import_methods="glance-direct,web-download,glance-download")


@pytest.fixture
def trickling():
    """``(url, hung_up)``: a server announcing 10 MiB and sending 4 KiB every 0.1 s (it would
    take four minutes); ``hung_up`` is set when its client goes away."""
    hung_up, done = threading.Event(), threading.Event()

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            try:
                while not done.wait(0.1):
                    self.wfile.write(b"x" * 4096)
                    self.wfile.flush()
            except OSError:
                hung_up.set()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow.img", hung_up
    done.set()
    server.shutdown()
    server.server_close()


def test_web_download_from_a_trickling_server_is_cut(web_api, trickling):
    """No web-download holds a thread for longer than http_store_transfer_timeout."""
    url, hung_up = trickling
    client = V2(web_api.url, ALPHA)
    image = client.new(name="slow source")
    began = time.monotonic()
    go = client.request("POST", f"/v2/images/{image['id']}/import",
                        json={"method": {"name": "web-download", "uri": url}})
    assert go.status_code == 202, go.text
    assert wait_for(lambda: client.show(image["id"]).json()["status"] == "killed", 30)
    assert time.monotonic() - began < 3 + 10
    assert hung_up.wait(10), "glance-api still reads from the server"
    assert client.download(image["id"]).status_code == 204


def test_web_download_import(web_api, v2):
    """With private addresses allowed, an image is imported from another image's URL."""
    server = web_api
    client = V2(server.url, ALPHA)
    source = client.as_(ADMIN).uploaded(DATA, visibility="public")   # publishing: admins
    image = client.new(name="downloaded")
    uri = f"{server.url}/v2/images/{source['id']}/file"
    go = client.request("POST", f"/v2/images/{image['id']}/import",
                        json={"method": {"name": "web-download", "uri": uri}})
    assert go.status_code == 202, go.text
    deadline = time.time() + 30
    while client.show(image["id"]).json()["status"] != "active" and time.time() < deadline:
        time.sleep(0.2)
    shown = client.show(image["id"]).json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert client.download(image["id"]).content == DATA


def _catalog(url, region="RegionTwo"):
    """A service catalog in the form keystonemiddleware sends (Keystone v2's)."""
    return json.dumps([{"type": "image", "name": "glance", "endpoints": [
        {"region": region, "publicURL": url, "internalURL": url}]}])


def _task_of(client, image_id):
    deadline = time.time() + 30
    while time.time() < deadline:
        tasks = client.request("GET", f"/v2/images/{image_id}/tasks").json()["tasks"]
        if tasks and tasks[0]["status"] in ("success", "failure"):
            return tasks[0]
        time.sleep(0.2)
    raise AssertionError(f"the import of {image_id} never ended")


def test_glance_download_import(web_api, v2):
    """glance-download: the other glance (api_server, found in the caller's catalog) is
    read as the caller; the image takes its formats, data and the chosen properties."""
    alpha, remote = V2(web_api.url, ALPHA), V2(v2.url, ALPHA)
    source = remote.uploaded(DATA)
    assert remote.patch(source["id"], [
        {"op": "add", "path": "/hw_cpu_cores", "value": "5"},
        {"op": "add", "path": "/os_distro", "value": "rhel"},
        {"op": "add", "path": "/speed", "value": "88mph"}]).status_code == 200
    image = alpha.new(name="from afar", disk_format="iso", container_format="ovf",
                      hw_cpu_cores="1", os_distro="windows")
    headers = {"X-Service-Catalog": _catalog(v2.url)}
    path = f"/v2/images/{image['id']}/import"

    def start(**params):
        return alpha.request("POST", path, headers=headers, json={"method": {
            "name": "glance-download", "glance_region": "RegionTwo",
            "glance_image_id": source["id"], **params}})

    bad = start(glance_image_id="foo")
    assert bad.status_code == 400 and "image id does not look like a UUID" in bad.text
    for params in ({"glance_region": "nowhere"},
                   {"glance_image_id": "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c"}):
        other = alpha.new(name="fails", hw_cpu_cores="1")
        go = alpha.request("POST", f"/v2/images/{other['id']}/import", headers=headers,
                           json={"method": {"name": "glance-download",
                                            "glance_region": "RegionTwo",
                                            "glance_image_id": source["id"], **params}})
        assert go.status_code == 202, go.text
        assert _task_of(alpha, other["id"])["status"] == "failure"
        shown = alpha.show(other["id"]).json()
        assert (shown["status"], shown["hw_cpu_cores"]) == ("queued", "1")
    # another tenant's private image is not theirs to read there either
    hidden = V2(v2.url, tenant("beta")).uploaded(DATA)
    other = alpha.new(name="not yours")
    go = alpha.request("POST", f"/v2/images/{other['id']}/import", headers=headers,
                       json={"method": {"name": "glance-download", "glance_region": "RegionTwo",
                                        "glance_image_id": hidden["id"]}})
    assert go.status_code == 202
    assert _task_of(alpha, other["id"])["status"] == "failure"
    assert alpha.show(other["id"]).json()["status"] == "queued"

    go = start()
    assert go.status_code == 202, go.text
    assert _task_of(alpha, image["id"])["status"] == "success"
    shown = alpha.show(image["id"]).json()
    assert (shown["status"], shown["disk_format"], shown["container_format"]) == (
        "active", source["disk_format"], source["container_format"])
    assert (shown["hw_cpu_cores"], shown["os_distro"]) == ("5", "rhel")
    assert "speed" not in shown
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert alpha.download(image["id"]).content == DATA


# --- one image, two APIs ----------------------------------------------------------

def test_v1_image_through_v2(v2):
    cross_api.v1_to_v2(v2.url)


def test_v2_image_through_v1(v2):
    cross_api.v2_to_v1(v2.url)
