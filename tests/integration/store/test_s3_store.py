"""The S3 store against two real S3 servers: Swift's s3api and ``rclone serve s3``."""
import http.server
import io
import os
import threading
import time
import uuid

import pytest

from contract.store import MiB, StoreContract, Trickle, md5, new_id
from glance.config import load_config
from glance.store import base
from glance.store.s3 import S3Store
from integration.store.backends import DyingAt, Outage, failed_add, not_configured

pytestmark = pytest.mark.s3
BUCKET = "glance-s3-test"
BACKENDS = ["swift-s3api", "rclone"]


@pytest.fixture(params=BACKENDS)
def backend(request, s3_backends):
    return s3_backends(request.param)


def make_store(backend, **options):
    server, access, secret = backend
    values = {"s3_store_host": server.url, "s3_store_access_key": access,
              "s3_store_secret_key": secret, "s3_store_bucket": BUCKET,
              "s3_store_create_bucket_on_put": True,
              # Multipart from 6 MiB in 5 MiB parts (the smallest S3 allows).
              "s3_store_large_object_size": 6, "s3_store_large_object_chunk_size": 5,
              **options}
    return S3Store.from_config(load_config("glance-api", overrides=values))


def leftovers(backend, s3_check, key):
    """Objects and unfinished multipart uploads under ``key``."""
    server, access, secret = backend
    client = s3_check(server.url, access, secret)
    found = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents", [])]
    try:
        uploads = client.list_multipart_uploads(Bucket=BUCKET, Prefix=key).get("Uploads", [])
    except client.exceptions.NoSuchUpload:       # rclone's answer when there are none
        uploads = []
    return found + [f"multipart:{u['Key']}" for u in uploads]


class TestS3Store(StoreContract):
    large_size = 11 * MiB + 123      # three parts

    @pytest.fixture
    def store(self, backend):
        return make_store(backend)


def test_large_image_uses_multipart_upload(backend, s3_check):
    store, image_id, data = make_store(backend), new_id(), os.urandom(11 * MiB)
    stored = store.add(image_id, Trickle(data), len(data))
    server, access, secret = backend
    head = s3_check(server.url, access, secret).head_object(Bucket=BUCKET, Key=image_id)
    if server is not None and hasattr(server, "auth_url"):   # rclone gives multipart objects a plain MD5
        assert head["ETag"].strip('"').endswith("-3")       # three parts
    assert stored.checksum == md5(data)                  # MD5 of the whole image nonetheless
    store.delete(stored.uri)
    assert leftovers(backend, s3_check, image_id) == []


def test_chunked_upload_keeps_one_part_in_memory_and_stores_it_whole(backend):
    store, image_id, data = make_store(backend), new_id(), os.urandom(12 * MiB + 1)
    stored = store.add(image_id, Trickle(data))
    chunks, size = store.get(stored.uri)
    assert (stored.size, size) == (len(data), len(data))
    assert md5(b"".join(chunks)) == md5(data)


def test_location_holds_no_credentials(backend):
    server, access, secret = backend
    stored = make_store(backend).add(new_id(), io.BytesIO(b"x"), 1)
    assert stored.uri == f"s3+http://127.0.0.1:{server.port}/{BUCKET}/{stored.uri.rsplit('/', 1)[1]}"
    assert secret not in stored.uri and access not in stored.uri


def test_seed_location_with_credentials_is_read_with_the_configured_ones(backend, s3_check):
    """Seed-era ``access:secret@`` locations came from our own writes: read, owned and
    deleted with the configured keys; the embedded ones are never used."""
    server, access, secret = backend
    store, image_id = make_store(backend), new_id()
    store.add(image_id, io.BytesIO(b"old style"), 9)
    uri = f"s3+http://{access}:not/the+secret@127.0.0.1:{server.port}/{BUCKET}/{image_id}"
    assert b"".join(store.get(uri)[0]) == b"old style"
    assert store.owns(uri, image_id)
    with pytest.raises(base.BadLocation, match="must not carry credentials"):
        store.check_location(uri)
    store.delete(uri)
    assert leftovers(backend, s3_check, image_id) == []


def test_wrong_secret_is_refused_without_showing_it(backend, caplog):
    error = failed_add(make_store(backend, s3_store_secret_key="wrong/secret+key"))
    assert isinstance(error, (base.BackendError, base.WriteDenied))
    assert "wrong/secret+key" not in str(error) + caplog.text


def test_missing_bucket_is_not_created_unless_configured(backend):
    store = make_store(backend, s3_store_bucket=f"absent-{uuid.uuid4().hex[:8]}",
                       s3_store_create_bucket_on_put=False)
    failed_add(store, base.BackendError, match="does not exist")


class Unavailable(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that answers every request 503, and counts them."""

    protocol_version = "HTTP/1.1"
    count = 0

    def answer(self):
        type(self).count += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = do_PUT = do_POST = answer

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("retries", [0, 2])
def test_requests_are_retried_s3_store_max_retries_times(retries):
    handler = type("Counting", (Unavailable,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = make_store((type("Endpoint", (), {"url": f"http://127.0.0.1:{server.server_port}"}),
                            "access", "secret"), s3_store_max_retries=retries)
        failed_add(store, base.BackendError, match="503")
    finally:
        server.shutdown()
        server.server_close()
    assert handler.count == retries + 1           # HEAD bucket: first try plus retries


def test_stopped_endpoint_fails_within_the_retry_budget():
    """Nothing listens: with the default retries the upload fails in seconds, not 30."""
    store = make_store((type("Endpoint", (), {"url": "http://127.0.0.1:1"}), "a", "s"))
    began = time.monotonic()
    failed_add(store, base.BackendError)
    assert time.monotonic() - began < 8        # 3 retries, pauses of at most 1, 2, 4 s


def test_missing_options_are_named():
    assert not_configured(S3Store, s3_store_host="http://127.0.0.1:1") == (
        "S3 store is not configured: s3_store_access_key, "
        "s3_store_secret_key, s3_store_bucket are required")


@pytest.mark.parametrize("known_size", [True, False], ids=["sized", "chunked"])
def test_rclone_dying_mid_upload_leaves_no_object_or_upload(rclone, s3_check, known_size):
    backend = (rclone, *rclone.s3_keys)
    store, image_id, data = make_store(backend), new_id(), os.urandom(16 * MiB)
    outage = Outage(rclone.stop, rclone.start, delay=0.5)
    body = DyingAt(data, 7 * MiB, outage)      # part 1 is uploaded, part 2 in flight
    try:
        with pytest.raises(base.BackendError):
            store.add(image_id, body, len(data) if known_size else None)
    finally:
        assert outage.restarted.wait(30)
    assert leftovers(backend, s3_check, image_id) == []


def test_swift_proxy_dying_mid_multipart_upload_aborts_it(saio, s3_check):
    backend = (saio, *saio.s3_keys)
    # Retries keep the abort going while the proxy restarts.
    store, image_id, data = make_store(backend, s3_store_max_retries=12), new_id(), os.urandom(16 * MiB)
    outage = Outage(saio.stop_proxy, saio.start_proxy)
    try:
        with pytest.raises(base.BackendError):
            store.add(image_id, DyingAt(data, 7 * MiB, outage), len(data))
    finally:
        assert outage.restarted.wait(60)
    assert leftovers(backend, s3_check, image_id) == []
    segments = saio.swift().get_container(BUCKET + "+segments", prefix=image_id)[1]
    assert segments == []
