"""The Swift and S3 stores use their configured credentials only with the configured
endpoint and container (bucket), against a real Swift (tempauth + s3api, with a
second account standing for another tenant) and ``rclone serve s3``.

A location naming anything else is a BadLocation for every operation, and no
request leaves: a fake "other host" records whether anything reached it.
"""
import io
import uuid

import pytest

from contract.store import new_id
from glance.store import base
from integration.store import test_s3_store as s3_tests
from integration.store import test_swift_store as swift_tests
from integration.store.backends import Listener, s3_client

OPERATIONS = {
    "check_location": lambda store, uri: store.check_location(uri),
    "get": lambda store, uri: store.get(uri),
    "get_size": lambda store, uri: store.get_size(uri),
    "delete": lambda store, uri: store.delete(uri),
}


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def foreign_credentials_ignored(store, uri):
    """``uri`` carries another account's credentials and names an object only that
    account has: registering it is refused, reading and deleting find nothing."""
    with pytest.raises(base.BadLocation, match="must not carry credentials"):
        store.check_location(uri)
    with pytest.raises(base.NotFound):
        store.get(uri)                   # today: the other account's bytes
    with pytest.raises(base.NotFound):
        store.delete(uri)


def refused_everywhere(store, uri):
    for name, operation in OPERATIONS.items():
        with pytest.raises(base.BadLocation) as error:
            operation(store, uri)
        assert "testing" not in str(error.value) and "secret" not in str(error.value), name


# -- Swift -----------------------------------------------------------------------

@pytest.mark.swift
@pytest.mark.parametrize("form", [
    "swift+http://127.0.0.1:{port}/auth/v1.0/{container}/{id}",
    "swift://127.0.0.1:{port}/auth/v1.0/{container}/{id}",
    "swift+https://127.0.0.1:{port}/auth/v1.0/{container}/{id}",
    "swift+http://test:tester:testing@127.0.0.1:{port}/auth/v1.0/{container}/{id}",
])
def test_swift_location_on_another_host_gets_no_request(saio, listener, form):
    store = swift_tests.make_store(saio)
    uri = form.format(port=listener.port, container=swift_tests.CONTAINER, id=new_id())
    refused_everywhere(store, uri)
    assert listener.requests == []       # today: an auth request with X-Auth-Key: testing
    assert store.owns(uri, uri.rsplit("/", 1)[1]) is False


@pytest.mark.swift
def test_swift_location_in_another_container_or_auth_path_is_refused(saio):
    store, name = swift_tests.make_store(saio), new_id()
    container = f"another-tenant-{uuid.uuid4().hex[:8]}"
    conn = saio.swift()
    conn.put_container(container)
    conn.put_object(container, name, b"not yours")
    for uri in (f"swift+http://127.0.0.1:{saio.port}/auth/v1.0/{container}/{name}",
                f"swift+http://127.0.0.1:{saio.port}/auth/v2.0/{swift_tests.CONTAINER}/{name}"):
        refused_everywhere(store, uri)
    assert conn.get_object(container, name)[1] == b"not yours"


@pytest.mark.swift
def test_swift_credentials_in_a_location_are_never_used(saio):
    """A location carrying another account's credentials reads our account, not theirs."""
    other = saio.swift(saio.other_user, saio.other_key)
    name = new_id()
    other.put_container(swift_tests.CONTAINER)
    other.put_object(swift_tests.CONTAINER, name, b"tenant2 data")
    store = swift_tests.make_store(saio)
    store.add(new_id(), io.BytesIO(b"ours"), 4)        # our container exists
    uri = (f"swift+http://{saio.other_user}:{saio.other_key}@127.0.0.1:{saio.port}/auth/v1.0/"
           f"{swift_tests.CONTAINER}/{name}")
    foreign_credentials_ignored(store, uri)
    assert other.get_object(swift_tests.CONTAINER, name)[1] == b"tenant2 data"


@pytest.mark.swift
def test_swift_registering_the_configured_container_is_accepted(saio):
    store = swift_tests.make_store(saio)
    stored = store.add(new_id(), io.BytesIO(b"x"), 1)
    store.check_location(stored.uri)
    https_form = stored.uri.replace("swift+http://", "swift+https://")
    with pytest.raises(base.BadLocation):
        store.check_location(https_form)   # another endpoint: https on the same port
    store.delete(stored.uri)


# -- S3 --------------------------------------------------------------------------

@pytest.fixture(params=s3_tests.BACKENDS)
def backend(request, s3_backends):
    return s3_backends(request.param)


@pytest.mark.s3
@pytest.mark.parametrize("form", [
    "s3+http://127.0.0.1:{port}/{bucket}/{id}",
    "s3://127.0.0.1:{port}/{bucket}/{id}",
    "s3+http://{access}:{secret}@127.0.0.1:{port}/{bucket}/{id}",
])
def test_s3_location_on_another_host_gets_no_request(backend, listener, form):
    server, access, secret = backend
    store = s3_tests.make_store(backend)
    uri = form.format(port=listener.port, bucket=s3_tests.BUCKET, id=new_id(), access=access,
                      secret=secret)
    refused_everywhere(store, uri)
    assert listener.requests == []       # today: signed requests with our access key
    assert store.owns(uri, uri.rsplit("/", 1)[1]) is False


@pytest.mark.s3
def test_s3_location_in_another_bucket_is_refused(backend):
    server, access, secret = backend
    store, name = s3_tests.make_store(backend), new_id()
    bucket = f"another-tenant-{uuid.uuid4().hex[:8]}"
    client = s3_client(server.url, access, secret)
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key=name, Body=b"not yours")
    refused_everywhere(store, f"s3+http://127.0.0.1:{server.port}/{bucket}/{name}")
    assert client.get_object(Bucket=bucket, Key=name)["Body"].read() == b"not yours"


@pytest.mark.s3
@pytest.mark.swift
def test_s3_credentials_in_a_location_are_never_used(saio):
    """Keys of another account (Swift's s3api: a second tempauth account) are ignored."""
    other = s3_client(saio.url, saio.other_user, saio.other_key)
    name = new_id()
    other.create_bucket(Bucket=s3_tests.BUCKET)
    other.put_object(Bucket=s3_tests.BUCKET, Key=name, Body=b"tenant2 data")
    store = s3_tests.make_store((saio, *saio.s3_keys))
    store.add(new_id(), io.BytesIO(b"ours"), 4)
    uri = (f"s3+http://{saio.other_user}:{saio.other_key}@127.0.0.1:{saio.port}/"
           f"{s3_tests.BUCKET}/{name}")
    foreign_credentials_ignored(store, uri)
    assert other.get_object(Bucket=s3_tests.BUCKET, Key=name)["Body"].read() == b"tenant2 data"
