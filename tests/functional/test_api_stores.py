"""Uploads and downloads through a real glance-api into Swift, S3 and HTTP stores."""
import hashlib
import http.server
import os
import threading
import time

import pytest

from integration.store.backends import s3_client

MiB = 1024 * 1024
SECRETS = ("testing", "glance/test+secret")



def swift_options(saio, **extra):
    return {"default_store": "swift", "swift_store_auth_address": saio.auth_url,
            "swift_store_user": saio.user, "swift_store_key": saio.key,
            "swift_store_container": "glance-api-test",
            "swift_store_create_container_on_put": "true",
            "swift_store_large_object_size": 1, "swift_store_large_object_chunk_size": 1, **extra}


def s3_options(url, access, secret, **extra):
    return {"default_store": "s3", "s3_store_host": url, "s3_store_access_key": access,
            "s3_store_secret_key": secret, "s3_store_bucket": "glance-api-test",
            "s3_store_create_bucket_on_put": "true", "s3_store_large_object_size": 6,
            "s3_store_large_object_chunk_size": 5, **extra}


@pytest.fixture(scope="module", params=[
    pytest.param("swift", marks=pytest.mark.swift),
    pytest.param("s3-swift", marks=[pytest.mark.s3, pytest.mark.swift]),
    pytest.param("s3-rclone", marks=pytest.mark.s3)])
def store_api(request, start_api, api_for):
    """A glance-api whose default store is the parameter, and a way to list the backend."""
    if request.param == "swift":
        saio = request.getfixturevalue("saio")
        api = api_for(start_api(**swift_options(saio)))

        def backend_objects(image_id):
            conn = saio.swift()
            return [o["name"] for o in conn.get_container("glance-api-test", prefix=image_id)[1]]
    else:
        server = request.getfixturevalue("saio" if request.param == "s3-swift" else "rclone")
        access, secret = server.s3_keys
        api = api_for(start_api(**s3_options(server.url, access, secret)))

        def backend_objects(image_id):
            client = s3_client(server.url, access, secret)
            listing = client.list_objects_v2(Bucket="glance-api-test", Prefix=image_id)
            return [o["Key"] for o in listing.get("Contents", [])]
    api.backend_objects = backend_objects
    api.large = 11 * MiB + 7      # segmented (Swift, 1 MiB) or multipart (S3, 5 MiB parts)
    return api


def no_secret_in(*texts):
    joined = "\n".join(texts)
    return not any(secret in joined for secret in SECRETS)


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_upload_download_delete(store_api, chunked):
    data = os.urandom(store_api.large)
    answer = store_api.create(data=data, chunked=chunked, name="big", disk_format="raw",
                              container_format="bare")
    assert answer.status_code == 201, answer.text
    image = answer.json()["image"]
    assert (image["status"], image["size"]) == ("active", len(data))
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert "location" not in image
    assert store_api.backend_objects(image["id"])

    got = store_api.request("GET", f"/v1/images/{image['id']}")
    assert got.status_code == 200
    assert int(got.headers["Content-Length"]) == len(data)
    assert got.headers["ETag"].strip('"') == image["checksum"]
    assert got.content == data
    assert "x-image-meta-location" not in {name.lower() for name in got.headers}
    assert got.headers["Location"] == f"{store_api.url}/v1/images/{image['id']}"   # not the data
    assert no_secret_in(answer.text, str(answer.headers), str(got.headers))

    assert store_api.request("DELETE", f"/v1/images/{image['id']}").status_code == 200
    assert store_api.backend_objects(image["id"]) == []
    assert no_secret_in(store_api.server.logtext())


@pytest.mark.swift
def test_unconfigured_store_refuses_uploads_with_the_missing_options(api):
    answer = api.request("POST", "/v1/images", data=b"data",
                         headers={"x-image-meta-name": "x", "x-image-meta-store": "swift",
                                  "x-image-meta-disk_format": "raw",
                                  "x-image-meta-container_format": "bare",
                                  "Content-Type": "application/octet-stream"})
    assert answer.status_code == 400
    assert "swift_store_auth_address" in answer.text and "swift_store_key" in answer.text


@pytest.mark.swift
def test_refused_credentials_kill_the_image_and_stay_secret(saio, start_api, api_for):
    api = api_for(start_api(**swift_options(saio, swift_store_key="wrong-key-value")))
    queued = api.create(name="doomed", disk_format="raw", container_format="bare")
    assert queued.status_code == 201
    image_id = queued.json()["image"]["id"]
    answer = api.request("PUT", f"/v1/images/{image_id}", data=os.urandom(1000),
                         headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 502
    assert api.status(image_id) == "killed"
    log = api.server.logtext()
    assert "wrong-key-value" not in answer.text + str(answer.headers) + log


class Handler(http.server.BaseHTTPRequestHandler):
    content = os.urandom(2 * MiB + 1)

    def do_GET(self, body=True):
        self.send_response(200 if self.path == "/image" else 404)
        self.send_header("Content-Length", str(len(self.content)) if self.path == "/image" else "0")
        self.end_headers()
        if body and self.path == "/image":
            self.wfile.write(self.content)

    def do_HEAD(self):
        self.do_GET(body=False)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_location_is_streamed_from_its_server(web, start_api, api_for):
    api = api_for(start_api(http_store_allow_private="true"))
    answer = api.create(name="remote", disk_format="raw", container_format="bare",
                        location=web + "/image")
    assert answer.status_code == 201, answer.text
    image = answer.json()["image"]
    assert (image["status"], image["size"]) == ("active", len(Handler.content))
    got = api.request("GET", f"/v1/images/{image['id']}")
    assert got.status_code == 200 and got.content == Handler.content
    assert api.request("DELETE", f"/v1/images/{image['id']}").status_code == 200
    assert api.request("PUT", "/v1/images/x", data=b"x", headers={
        "x-image-meta-store": "http", "Content-Type": "application/octet-stream"}).status_code == 404


def test_http_location_on_a_private_address_is_refused(web, api):
    answer = api.create(name="sneaky", disk_format="raw", container_format="bare",
                        location=web + "/image")
    assert answer.status_code == 400
    assert "not allowed" in answer.text


@pytest.mark.swift
def test_multiple_stores_file_and_swift(saio, start_api, tmp_path):
    """enabled_backends with a [name] section each: uploads go where X-Image-Meta-Store
    says (or to default_backend), each image says which store holds it, and reads and
    deletes find the data there."""
    from v2client import V2
    objects = {k: v for k, v in swift_options(saio, swift_store_container="glance-multi")
               .items() if k != "default_store"}
    server = start_api(enabled_backends="local:file, objects:swift",
                       enabled_import_methods="glance-direct,copy-image,web-download",
                       http_store_allow_private="true", sections={
        "glance_store": {"default_backend": "local"},
        "local": {"filesystem_store_datadir": str(tmp_path / "local"),
                  "store_description": "Local disks"},
        "objects": objects})
    v2 = V2(server.url)
    stores = v2.request("GET", "/v2/info/stores")
    assert stores.status_code == 200, stores.text
    assert stores.json()["stores"] == [
        {"id": "local", "description": "Local disks", "default": "true"},
        {"id": "objects", "description": "OpenStack Swift"}]
    data = os.urandom(MiB + 5)
    local = v2.uploaded(data)
    assert local["stores"] == "local" and os.listdir(tmp_path / "local") == [local["id"]]
    image = v2.new(name="in swift")
    put = v2.request("PUT", f"/v2/images/{image['id']}/file", data=data,
                     headers={"Content-Type": "application/octet-stream",
                              "X-Image-Meta-Store": "objects"})
    assert put.status_code == 204, put.text
    shown = v2.show(image["id"]).json()
    assert (shown["stores"], shown["checksum"]) == ("objects", hashlib.md5(data).hexdigest())
    swift = saio.swift()
    names = [o["name"] for o in swift.get_container("glance-multi")[1]]    # segmented
    assert image["id"] in names and all(n.startswith(image["id"]) for n in names)
    assert v2.download(image["id"]).content == data
    assert v2.download(local["id"]).content == data
    assert v2.delete(image["id"]).status_code == 204
    assert swift.get_container("glance-multi")[1] == []
    assert os.listdir(tmp_path / "local") == [local["id"]]

    # copy-image (on glance-api's own thread) puts the local image in swift too
    go = v2.request("POST", f"/v2/images/{local['id']}/import",
                    json={"method": {"name": "copy-image"}, "all_stores": True})
    assert go.status_code == 202, go.text
    for _ in range(300):
        shown = v2.show(local["id"]).json()
        if shown.get("os_glance_importing_to_stores") == "":
            break
        time.sleep(0.1)
    assert (shown["stores"], shown["os_glance_failed_import"]) == ("local,objects", "")
    assert any(n.startswith(local["id"]) for n in
               (o["name"] for o in swift.get_container("glance-multi")[1]))
    # deleting it from the store it was first written to leaves the swift copy
    gone = v2.request("DELETE", f"/v2/stores/local/{local['id']}")
    assert gone.status_code == 204, gone.text
    assert os.listdir(tmp_path / "local") == []
    assert v2.show(local["id"]).json()["stores"] == "objects"
    assert v2.download(local["id"]).content == data

    # glance-direct into every store at once; deleting the image deletes both copies
    both = v2.new(name="everywhere")
    assert v2.upload(both["id"], data, path="stage").status_code == 204
    go = v2.request("POST", f"/v2/images/{both['id']}/import",
                    json={"method": {"name": "glance-direct"}, "all_stores": True})
    assert go.status_code == 202, go.text
    assert v2.show(both["id"]).json()["stores"] == "local,objects"
    assert os.listdir(tmp_path / "local") == [both["id"]]
    for image_id in (local["id"], both["id"]):
        assert v2.delete(image_id).status_code == 204
    assert swift.get_container("glance-multi")[1] == []
    assert os.listdir(tmp_path / "local") == []
    # a failed import names the stores it did not reach, as Glance's progress does
    lost = v2.new(name="nowhere")
    go = v2.request("POST", f"/v2/images/{lost['id']}/import",
                    json={"method": {"name": "web-download",
                                     "uri": "http://does-not.exist/no/way"},
                          "stores": ["local"]})
    assert go.status_code == 202, go.text
    for _ in range(300):
        shown = v2.show(lost["id"]).json()
        if shown.get("os_glance_failed_import"):
            break
        time.sleep(0.1)
    assert (shown["os_glance_failed_import"], shown["os_glance_importing_to_stores"]) == (
        "local", "")
    with open(server.log) as handle:
        log = handle.read()
    assert saio.key not in log
