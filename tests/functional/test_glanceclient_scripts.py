"""python-glanceclient run from a script: an empty body is a metadata-only update.

With standard input not a terminal (cron, Ansible, ``</dev/null``) glanceclient
sends standard input as the image data: an empty chunked body.  On an image
that is not queued that must be a metadata update, never a 409, and the data
must stay as it was.  (glanceclient >= 0.15's CLI refuses that case itself,
before any request, with "Unable to upload image data to an image which is
active": the library, which older CLIs used the same way, is tested for it.)
"""
import hashlib
import http.client
import os
import subprocess
import sys
import uuid

import pytest

glanceclient = pytest.importorskip("glanceclient")

pytestmark = pytest.mark.filterwarnings("ignore:`version` keyword:DeprecationWarning")
DATA = os.urandom(64 * 1024)


def _cli(api_server, *args):
    command = os.path.join(os.path.dirname(sys.executable), "glance")
    if not os.path.exists(command):
        pytest.skip("the glance command of python-glanceclient is not installed")
    return subprocess.run([command, "--os-image-api-version", "1", "--os-image-url",
                           api_server.url, "--os-auth-token", "anything", *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def _active(api):
    made = api.create(DATA, name=f"gc-{uuid.uuid4().hex[:8]}", disk_format="raw",
                      container_format="bare")
    assert made.status_code == 201
    return made.json()["image"]


def test_cli_update_of_a_queued_image_from_a_script(api_server, api):
    made = api.create(name="placeholder", disk_format="raw", container_format="bare")
    image_id = made.json()["image"]["id"]
    done = _cli(api_server, "image-update", "--name", "renamed", image_id)
    assert done.returncode == 0, done.stderr
    head = api.head(image_id)
    assert head.headers["x-image-meta-name"] == "renamed"
    assert head.headers["x-image-meta-status"] == "queued", "an empty stdin became an image"


def test_library_update_with_an_empty_stream_keeps_the_data(api_server, api):
    image = _active(api)
    client = glanceclient.Client(endpoint=f"{api_server.url}/v1", token="anything")
    with open(os.devnull, "rb") as empty:
        updated = client.images.update(image["id"], name="renamed", data=empty)
    assert updated.name == "renamed" and updated.status == "active"
    assert updated.checksum == hashlib.md5(DATA).hexdigest()
    assert b"".join(client.images.data(image["id"])) == DATA


def test_empty_chunked_put_on_an_active_image_is_a_metadata_update(api_server, api):
    image = _active(api)
    conn = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=30)
    conn.putrequest("PUT", f"/v1/images/{image['id']}")
    for name, value in (("Transfer-Encoding", "chunked"),
                        ("Content-Type", "application/octet-stream"),
                        ("x-image-meta-name", "chunked-rename")):
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(b"0\r\n\r\n")
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    assert answer.status == 200, body
    head = api.head(image["id"])
    assert head.headers["x-image-meta-name"] == "chunked-rename"
    assert head.headers["x-image-meta-checksum"] == hashlib.md5(DATA).hexdigest()
    assert api.request("GET", f"/v1/images/{image['id']}").content == DATA
