"""The Swift store against a real Swift all-in-one (tempauth)."""
import io
import os
import uuid

import pytest

from contract.store import MiB, StoreContract, Trickle, md5, new_id
from glance.config import load_config
from glance.store import base
from glance.store.swift import SwiftStore
from integration.store.backends import DyingAt, Outage, failed_add, not_configured

pytestmark = pytest.mark.swift
CONTAINER = "glance-swift-test"


def make_store(saio, **options):
    values = {"swift_store_auth_address": saio.auth_url, "swift_store_user": saio.user,
              "swift_store_key": saio.key, "swift_store_container": CONTAINER,
              "swift_store_create_container_on_put": True,
              "swift_store_large_object_size": 1, "swift_store_large_object_chunk_size": 1,
              **options}
    return SwiftStore.from_config(load_config("glance-api", overrides=values))


def objects(saio, prefix, container=CONTAINER):
    return [o["name"] for o in saio.swift().get_container(container, prefix=prefix)[1]]


class TestSwiftStore(StoreContract):
    """Segments of 1 MiB from 1 MiB on, so the large cases are segmented."""

    @pytest.fixture
    def store(self, saio):
        return make_store(saio)


def test_large_image_is_segments_plus_manifest_and_delete_removes_all(saio):
    store, image_id, data = make_store(saio), new_id(), os.urandom(3 * MiB + 5)
    stored = store.add(image_id, Trickle(data), len(data))
    assert objects(saio, image_id) == [image_id] + [f"{image_id}-0000{n}" for n in (1, 2, 3, 4)]
    head = saio.swift().head_object(CONTAINER, image_id)
    assert head["x-static-large-object"].lower() == "true"
    assert int(head["content-length"]) == len(data)
    store.delete(stored.uri)
    assert objects(saio, image_id) == []


def test_chunked_upload_below_the_large_size_is_one_plain_object(saio):
    store, image_id = make_store(saio, swift_store_large_object_size=2), new_id()
    data = os.urandom(MiB + 77)
    stored = store.add(image_id, Trickle(data))
    assert (stored.size, stored.checksum) == (len(data), md5(data))
    assert objects(saio, image_id) == [image_id]
    assert "x-static-large-object" not in saio.swift().head_object(CONTAINER, image_id)


def test_chunked_upload_that_grows_large_becomes_segments(saio):
    store, image_id = make_store(saio, swift_store_large_object_size=2), new_id()
    data = os.urandom(4 * MiB + 3)
    stored = store.add(image_id, Trickle(data))
    assert (stored.size, stored.checksum) == (len(data), md5(data))
    # The first 2 MiB became segment 1; 1 MiB segments follow.
    assert objects(saio, image_id) == [image_id] + [f"{image_id}-0000{n}" for n in (1, 2, 3, 4)]
    chunks, size = store.get(stored.uri)
    assert size == len(data) and md5(b"".join(chunks)) == md5(data)
    store.delete(stored.uri)
    assert objects(saio, image_id) == []


def test_another_node_reads_and_deletes_with_its_own_credentials(saio):
    stored = make_store(saio).add(new_id(), io.BytesIO(b"shared"), 6)
    other = make_store(saio)       # a second glance-api: fresh store, no shared state
    assert b"".join(other.get(stored.uri)[0]) == b"shared"
    other.delete(stored.uri)
    with pytest.raises(base.NotFound):
        other.get_size(stored.uri)


def test_location_holds_no_credentials(saio):
    stored = make_store(saio).add(new_id(), io.BytesIO(b"x"), 1)
    assert stored.uri.startswith(f"swift+http://127.0.0.1:{saio.port}/auth/v1.0/{CONTAINER}/")
    assert saio.key not in stored.uri and "tester" not in stored.uri


def test_seed_location_with_credentials_is_read_with_the_configured_ones(saio):
    """Seed-era ``user:key@`` locations came from our own writes: read, owned and
    deleted with the configured credentials; the embedded ones are never sent."""
    store, image_id = make_store(saio), new_id()
    store.add(image_id, io.BytesIO(b"old style"), 9)
    seed_uri = (f"swift+http://test:tester:not-the-key@127.0.0.1:{saio.port}/auth/v1.0/"
                f"{CONTAINER}/{image_id}")
    assert b"".join(store.get(seed_uri)[0]) == b"old style"
    assert store.owns(seed_uri, image_id)
    with pytest.raises(base.BadLocation, match="must not carry credentials"):
        store.check_location(seed_uri)         # nobody registers a new one
    store.delete(seed_uri)
    assert objects(saio, image_id) == []


def test_wrong_key_is_refused_without_showing_it(saio, caplog):
    error = failed_add(make_store(saio, swift_store_key="wrong-secret-key"), base.BackendError)
    assert "credentials" in str(error)
    assert "wrong-secret-key" not in str(error) + caplog.text


def test_missing_container_is_not_created_unless_configured(saio):
    store = make_store(saio, swift_store_container=f"absent-{uuid.uuid4().hex[:8]}",
                       swift_store_create_container_on_put=False)
    failed_add(store, base.BackendError, match="does not exist")


def test_missing_options_are_named_and_nothing_is_contacted():
    assert not_configured(SwiftStore, swift_store_user="someone") == (
        "Swift store is not configured: swift_store_auth_address, "
        "swift_store_key are required")
    down = load_config("glance-api", overrides={
        "swift_store_auth_address": "http://127.0.0.1:1/auth/v1.0",
        "swift_store_user": "a:b", "swift_store_key": "k"})
    assert SwiftStore.from_config(down).name == "swift"      # a backend down does not matter


def test_missing_segment_fails_the_download_instead_of_shortening_it(saio):
    store, image_id, data = make_store(saio), new_id(), os.urandom(3 * MiB)
    stored = store.add(image_id, io.BytesIO(data), len(data))
    saio.swift().delete_object(CONTAINER, f"{image_id}-00002")
    with pytest.raises((base.BackendError, base.NotFound)):
        chunks, size = store.get(stored.uri)
        received = sum(len(chunk) for chunk in chunks)
        assert received == size      # never reached: the iterator raises first


def test_proxy_dying_mid_upload_leaves_no_segment_behind(saio):
    store, image_id = make_store(saio), new_id()
    data = os.urandom(4 * MiB)
    outage = Outage(saio.stop_proxy, saio.start_proxy)
    body = DyingAt(data, int(2.5 * MiB), outage)      # segments 1 and 2 are stored by then
    try:
        with pytest.raises(base.BackendError):
            store.add(image_id, body, len(data))
    finally:
        assert outage.restarted.wait(60), "the Swift proxy did not come back"
    assert objects(saio, image_id) == []
