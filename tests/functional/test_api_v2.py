"""The v2 image API over HTTP, against real glance-registry and glance-api processes:
what needs real servers (a web-download from one, both APIs over HTTP).  The API's
logic is tested in process in tests/unit/api/test_v2_api.py.
"""
import hashlib
import os
import time

import pytest

import cross_api
from v2client import ADMIN, V2, tenant

DATA = os.urandom(200 * 1024 + 7)
ALPHA = tenant("alpha")


@pytest.fixture(scope="module")
def v2(api_server):
    return V2(api_server.url, ADMIN)


def test_web_download_import(start_api, v2):
    """With private addresses allowed, an image is imported from another image's URL."""
    server = start_api(http_store_allow_private="true")
    client = V2(server.url, ALPHA)
    source = client.uploaded(DATA, visibility="public")
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
