"""The v2 image API over HTTP, against real glance-registry and glance-api processes:
what needs real servers (a web-download from one, both APIs over HTTP).  The API's
logic is tested in process in tests/unit/api/test_v2_api.py.
"""
import hashlib
import http.server
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
    return start_api(http_store_allow_private="true", http_store_transfer_timeout=3)


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


# --- one image, two APIs ----------------------------------------------------------

def test_v1_image_through_v2(v2):
    cross_api.v1_to_v2(v2.url)


def test_v2_image_through_v1(v2):
    cross_api.v2_to_v1(v2.url)
