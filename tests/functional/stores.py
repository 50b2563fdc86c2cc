"""A glance-api on each store (file, Swift, S3 on Swift's s3api, S3 on rclone), for tests
that must hold on every store.

Use: ``from functional.stores import every_store`` in a test module, then
take ``every_store`` (an :class:`Api` with ``backend_objects(image_id)``, ``corrupt(image_id,
data)`` and ``store`` set).
"""
import os

import pytest
import requests

from functional.test_api_stores import s3_options, swift_options
from integration.store.backends import s3_client



def _file_api(api):
    def backend_objects(image_id):
        return [name for name in api.files() if image_id in name]

    def corrupt(image_id, data):
        with open(os.path.join(api.server.datadir, image_id), "wb") as handle:
            handle.write(data)
    return backend_objects, corrupt


def _swift_api(saio, container):
    def backend_objects(image_id):
        from swiftclient.exceptions import ClientException
        try:
            listing = saio.swift().get_container(container, prefix=image_id)[1]
        except ClientException as exc:      # no container before the first upload
            if exc.http_status != 404:
                raise
            return []
        return [o["name"] for o in listing]

    def corrupt(image_id, data):
        saio.swift().put_object(container, image_id, data)
    return backend_objects, corrupt


def _s3_api(server, bucket):
    access, secret = server.s3_keys

    def backend_objects(image_id):
        from botocore.exceptions import ClientError
        client = s3_client(server.url, access, secret)
        try:
            listing = client.list_objects_v2(Bucket=bucket, Prefix=image_id)
        except client.exceptions.NoSuchBucket:
            return []
        try:
            uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=image_id)
        except ClientError as exc:     # rclone, for a bucket that never had one
            assert exc.response["Error"]["Code"] == "NoSuchUpload", exc
            uploads = {}
        return ([o["Key"] for o in listing.get("Contents", [])]
                + [f"multipart:{u['Key']}" for u in uploads.get("Uploads", [])])

    def corrupt(image_id, data):
        s3_client(server.url, access, secret).put_object(Bucket=bucket, Key=image_id, Body=data)
    return backend_objects, corrupt


def store_options(request, name, **extra):
    """glance-api options for store ``name``, and its (backend_objects, corrupt) helpers."""
    if name == "file":
        return dict(extra), None
    if name == "swift":
        saio = request.getfixturevalue("saio")
        return swift_options(saio, **extra), _swift_api(saio, "glance-api-test")
    server = request.getfixturevalue("saio" if name == "s3-swift" else "rclone")
    access, secret = server.s3_keys
    return s3_options(server.url, access, secret, **extra), _s3_api(server, "glance-api-test")


STORES = [pytest.param("file"),
          pytest.param("swift", marks=pytest.mark.swift),
          pytest.param("s3-swift", marks=[pytest.mark.s3, pytest.mark.swift]),
          pytest.param("s3-rclone", marks=pytest.mark.s3)]


@pytest.fixture(scope="module", params=STORES)
def every_store(request, start_api, api_for):
    """A glance-api whose default store is the parameter."""
    options, helpers = store_options(request, request.param)
    api = api_for(start_api(**options))
    api.backend_objects, api.corrupt = helpers or _file_api(api)
    api.store = request.param
    api.large = 11 * 1024 * 1024 + 7     # segmented on Swift, multipart on S3
    return api


def download(api, image_id, after_first=None):
    """GET the image's data: ``(bytes received, complete)``.

    ``complete`` is False when the response was cut: an error while reading, or
    fewer bytes than Content-Length (urllib3 1.26, bookworm's, does not raise then).
    :param after_first: called once the first MiB has arrived.
    """
    got = requests.get(f"{api.url}/v1/images/{image_id}", stream=True, timeout=60)
    assert got.status_code == 200, got.text
    received = b""
    try:
        for piece in got.iter_content(1024 * 1024):
            received += piece
            if after_first is not None:
                after_first, call = None, after_first
                call()
    except requests.RequestException:
        return received, False
    return received, len(received) == int(got.headers["Content-Length"])
