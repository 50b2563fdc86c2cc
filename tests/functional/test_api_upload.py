"""The upload path end to end: state machine, checksum and size checks, chunked
bodies, disconnects, and the store's atomicity (no partial or temporary files)."""
import hashlib
import socket
import time
import uuid

import pytest

OCTET = {"Content-Type": "application/octet-stream"}


def test_queued_then_put_data_goes_active(api):
    response = api.create(name="two-step", size=0, is_public="true")
    assert response.status_code == 201
    image = response.json()["image"]
    assert (image["status"], image["size"], image["checksum"]) == ("queued", 0, None)
    listed = api.request("GET", "/v1/images").json()["images"]
    assert image["id"] in [i["id"] for i in listed]
    data = b"0123456789" * 1000
    put = api.request("PUT", f"/v1/images/{image['id']}", data=data, headers=OCTET)
    assert put.status_code == 200, put.text
    done = put.json()["image"]
    assert done["status"] == "active"
    assert done["size"] == len(data)
    assert done["checksum"] == hashlib.md5(data).hexdigest()
    assert api.request("GET", f"/v1/images/{image['id']}").content == data


def test_status_header_on_post_is_ignored(api):
    image = api.create(name="sneaky", status="active").json()["image"]
    assert image["status"] == "queued"


def test_put_data_on_an_active_image_is_409_and_changes_nothing(api):
    image = api.create(b"first", name="once").json()["image"]
    response = api.request("PUT", f"/v1/images/{image['id']}", data=b"second", headers=OCTET)
    assert response.status_code == 409
    assert "Cannot upload to an unqueued image" in response.text
    assert api.request("GET", f"/v1/images/{image['id']}").content == b"first"
    assert api.status(image["id"]) == "active"


def _assert_killed_without_files(api, image_id):
    assert api.status(image_id) == "killed"
    assert image_id not in api.files()
    assert not [f for f in api.files() if f.startswith(".")], api.files()


def test_checksum_mismatch_is_400_and_kills_the_image(api):
    image_id = str(uuid.uuid4())
    response = api.create(b"some data", id=image_id, name="badsum", checksum="0" * 32)
    assert response.status_code == 400
    assert "checksum" in response.text.lower()
    _assert_killed_without_files(api, image_id)


@pytest.mark.parametrize("declared", [5, 50])
def test_size_mismatch_is_400_and_kills_the_image(api, declared):
    image_id = str(uuid.uuid4())
    response = api.create(b"x" * 20, id=image_id, name="badsize", size=declared)
    assert response.status_code == 400
    assert "size" in response.text.lower()
    _assert_killed_without_files(api, image_id)


def test_matching_size_and_checksum_are_accepted(api):
    data = b"y" * 3000
    response = api.create(data, name="exact", size=len(data),
                          checksum=hashlib.md5(data).hexdigest())
    assert response.status_code == 201
    assert response.json()["image"]["status"] == "active"


def test_chunked_upload_without_content_length(api):
    data = bytes(range(256)) * 2000         # 512000 bytes in 64 KiB chunks
    response = api.create(data, chunked=True, name="chunked")
    assert response.status_code == 201, response.text
    image = response.json()["image"]
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert api.request("GET", f"/v1/images/{image['id']}").content == data


def test_chunked_upload_with_wrong_declared_size_is_refused(api):
    image_id = str(uuid.uuid4())
    response = api.create(b"z" * 200000, chunked=True, id=image_id, name="chunksize", size=100)
    assert response.status_code == 400
    _assert_killed_without_files(api, image_id)


def test_body_that_is_not_octet_stream_is_400(api):
    image_id = str(uuid.uuid4())
    response = api.request("POST", "/v1/images", data=b"hello",
                           headers={"Content-Type": "text/plain", "x-image-meta-id": image_id})
    assert response.status_code == 400
    assert response.text.strip() == "Content-Type must be application/octet-stream"
    assert api.head(image_id).status_code == 404       # refused before anything was created


def test_unknown_store_is_400(api):
    image_id = str(uuid.uuid4())
    response = api.create(b"data", id=image_id, name="nostore", store="floppy")
    assert response.status_code == 400
    assert "Requested store floppy not available" in response.text
    assert api.head(image_id).status_code == 404


def test_duplicate_id_is_409(api):
    image_id = str(uuid.uuid4())
    assert api.create(b"one", id=image_id, name="dup").status_code == 201
    again = api.create(b"two", id=image_id, name="dup")
    assert again.status_code == 409
    assert api.request("GET", f"/v1/images/{image_id}").content == b"one"


def test_file_location_is_refused(api):
    response = api.create(name="sneaky", location="file:///etc/passwd")
    assert response.status_code == 400


def test_location_without_body_registers_an_active_image(start_api, api_for):
    api = api_for(start_api(http_store_allow_private="true"))
    response = api.create(name="remote", location="http://127.0.0.1:9/image.img", size=1234)
    assert response.status_code == 201, response.text
    image = response.json()["image"]
    assert image["status"] == "active" and image["size"] == 1234
    assert "location" not in image
    assert "x-image-meta-location" not in api.head(image["id"]).headers
    # Only a queued image may get a location.
    again = api.request("PUT", f"/v1/images/{image['id']}",
                        headers={"x-image-meta-location": "http://127.0.0.1:9/other"})
    assert again.status_code == 400


def _raw_post(api, headers, body_parts, close_after=True):
    host, port = "127.0.0.1", api.server.port
    sock = socket.create_connection((host, port), timeout=10)
    lines = ["POST /v1/images HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    for part in body_parts:
        sock.sendall(part)
    if close_after:
        sock.close()
        return None
    return sock


def test_client_disconnect_mid_upload_kills_the_image_and_leaves_no_file(api):
    image_id = str(uuid.uuid4())
    _raw_post(api, {"Content-Type": "application/octet-stream",
                    "Content-Length": str(10 * 1024 * 1024),
                    "x-image-meta-id": image_id}, [b"d" * (1024 * 1024)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and api.status(image_id) != "killed":
        time.sleep(0.05)
    _assert_killed_without_files(api, image_id)


def test_underscore_and_dash_header_spellings_are_the_same_field(api):
    sock = _raw_post(api, {"Content-Length": "0", "x-image-meta-disk_format": "qcow2",
                           "X-Image-Meta-Container-Format": "bare",
                           "x-image-meta-min_ram": "512",
                           "X-IMAGE-META-PROPERTY-Kernel-ID": "k1",
                           "Connection": "close"}, [], close_after=False)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    image_id = answer.split(b'"id":"')[1].split(b'"')[0].decode()
    h = api.head(image_id).headers
    assert h["x-image-meta-disk_format"] == "qcow2"
    assert h["x-image-meta-container_format"] == "bare"
    assert h["x-image-meta-min_ram"] == "512"
    assert h["x-image-meta-property-kernel_id"] == "k1"


def test_refused_upload_keeps_the_connection_usable(api):
    # The API reads and drops the refused body, so keep-alive still works.
    first = api.request("POST", "/v1/images", data=b"q" * (2 * 1024 * 1024),
                        headers={"Content-Type": "text/plain"})
    assert first.status_code == 400
    second = api.request("GET", "/v1/images")
    assert second.status_code == 200
