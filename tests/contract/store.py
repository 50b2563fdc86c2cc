"""The contract every store follows, run against each real backend.

Not collected by itself (no ``test_`` prefix).  A backend opts in with::

    class TestFilesystemStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path): ...

``ReadOnlyStoreContract`` is the same for stores that only read (http); it
also needs ``location``, ``content`` and ``missing_location`` fixtures.
"""
import hashlib
import inspect
import io
import os
import threading
import time
import uuid

import pytest

from glance.store import base

MiB = 1024 * 1024


def new_id():
    return str(uuid.uuid4())


def md5(data):
    return hashlib.md5(data).hexdigest()


class Trickle:
    """A request body that hands out small pieces, like a socket does."""

    def __init__(self, data, piece=65536, fail_after=None, greedy=False):
        self.data = memoryview(data)
        self.piece = piece
        self.pos = 0
        self.fail_after = fail_after
        self.greedy = greedy    # hand out ``piece`` bytes whatever was asked, as some WSGI inputs do

    def read(self, size=-1):
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise base.ClientDisconnected("The client went away")
        if self.greedy or size is None or size < 0:
            size = self.piece
        size = min(size, self.piece)
        chunk = bytes(self.data[self.pos:self.pos + size])
        self.pos += len(chunk)
        return chunk


class Paused:
    """A request body that stops after ``pause_at`` bytes: ``paused`` is set, and once
    ``release`` is set the client goes away (ClientDisconnected)."""

    def __init__(self, data, pause_at):
        self.body = Trickle(data)
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.release = threading.Event()

    def read(self, size=-1):
        left = self.pause_at - self.body.pos
        if left <= 0:
            self.paused.set()
            self.release.wait(60)
            raise base.ClientDisconnected("The client went away")
        return self.body.read(left if size is None or size < 0 else min(size, left))


def mine(store, image_id, cutoff=None):
    """The leftovers of ``image_id`` last changed before ``cutoff`` (default: a minute
    from now, i.e. all of them)."""
    cutoff = time.time() + 60 if cutoff is None else cutoff
    return [item for item in store.leftovers(cutoff) if item.image_id == image_id]


def check_protocol(store):
    """The store has every attribute and method of ``base.Store``, same signatures."""
    assert isinstance(store.name, str) and store.name
    assert isinstance(store.description, str) and store.description
    assert store.schemes and all(isinstance(s, str) for s in store.schemes)
    assert isinstance(store.read_only, bool)
    methods = [name for name, value in vars(base.Store).items()
               if callable(value) and not name.startswith("_")]
    assert set(methods) == {"add", "get", "get_size", "delete", "owns", "holds",
                            "check_location", "leftovers"}
    for method in methods:
        want = list(inspect.signature(getattr(base.Store, method)).parameters)[1:]
        got = list(inspect.signature(getattr(store, method)).parameters)
        assert got == want, f"{type(store).__name__}.{method}{got} differs from Store.{method}{want}"
    assert callable(getattr(type(store), "from_config", None))


class StoreContract:
    """Writable stores: what the API and glance-scrubber rely on."""

    large_size = 3 * MiB + 123    # subclasses raise it above their segment/part threshold
    registers_locations = True    # may a client register a location this store wrote?

    def test_follows_the_store_protocol(self, store):
        check_protocol(store)
        assert store.read_only is False

    def test_add_then_get_returns_the_same_bytes(self, store):
        data = os.urandom(100_000)
        stored = store.add(new_id(), io.BytesIO(data), len(data))
        assert stored.size == len(data)
        assert stored.checksum == md5(data)
        assert stored.uri.split("://")[0] in store.schemes
        chunks, size = store.get(stored.uri)
        assert size == len(data)
        assert b"".join(chunks) == data
        assert store.get_size(stored.uri) == len(data)

    @pytest.mark.parametrize("known_size", [True, False], ids=["sized", "chunked"])
    def test_large_image_round_trip(self, store, known_size):
        data = os.urandom(self.large_size)
        stored = store.add(new_id(), Trickle(data), len(data) if known_size else None)
        assert (stored.size, stored.checksum) == (len(data), md5(data))
        chunks, size = store.get(stored.uri)
        assert size == len(data)
        assert md5(b"".join(chunks)) == md5(data)
        store.delete(stored.uri)
        with pytest.raises(base.NotFound):
            store.get_size(stored.uri)

    @pytest.mark.parametrize("known_size", [True, False], ids=["sized", "chunked"])
    def test_body_that_hands_out_more_than_asked(self, store, known_size):
        data = os.urandom(self.large_size)
        body = Trickle(data, piece=3 * MiB // 2 + 1, greedy=True)
        stored = store.add(new_id(), body, len(data) if known_size else None)
        assert (stored.size, stored.checksum) == (len(data), md5(data))
        chunks, size = store.get(stored.uri)
        assert md5(b"".join(chunks)) == md5(data)

    def test_unknown_size_counts_the_bytes(self, store):
        data = os.urandom(70_000)
        stored = store.add(new_id(), Trickle(data, piece=4096))
        assert (stored.size, stored.checksum) == (len(data), md5(data))

    def test_empty_image(self, store):
        stored = store.add(new_id(), io.BytesIO(b""), 0)
        assert (stored.size, stored.checksum) == (0, md5(b""))
        chunks, size = store.get(stored.uri)
        assert size == 0 and b"".join(chunks) == b""

    def test_get_a_range(self, store):
        data = os.urandom(50_000)
        stored = store.add(new_id(), io.BytesIO(data), len(data))
        chunks, size = store.get(stored.uri, offset=1000, length=2000)
        assert size == 2000
        assert b"".join(chunks) == data[1000:3000]
        chunks, size = store.get(stored.uri, offset=49_000)
        assert (size, b"".join(chunks)) == (1000, data[49_000:])

    def test_checksum_given_by_the_client_is_accepted_in_any_case(self, store):
        data = b"checked" * 1000
        stored = store.add(new_id(), io.BytesIO(data), len(data), md5(data).upper())
        assert stored.checksum == md5(data)

    def test_wrong_checksum_is_refused_and_leaves_nothing(self, store):
        image_id, data = new_id(), os.urandom(10_000)
        with pytest.raises(base.ChecksumMismatch):
            store.add(image_id, io.BytesIO(data), len(data), md5(b"other"))
        assert store.add(image_id, io.BytesIO(data), len(data)).size == len(data)

    def test_body_shorter_than_declared_is_refused_and_leaves_nothing(self, store):
        image_id, data = new_id(), os.urandom(10_000)
        with pytest.raises(base.SizeMismatch):
            store.add(image_id, io.BytesIO(data), len(data) + 10)
        assert store.add(image_id, io.BytesIO(data), len(data)).size == len(data)

    def test_body_longer_than_declared_is_refused_and_leaves_nothing(self, store):
        image_id, data = new_id(), os.urandom(10_000)
        with pytest.raises(base.SizeMismatch):
            store.add(image_id, io.BytesIO(data), len(data) - 10)
        assert store.add(image_id, io.BytesIO(data), len(data)).size == len(data)

    def test_large_wrong_checksum_leaves_nothing(self, store):
        image_id, data = new_id(), os.urandom(self.large_size)
        with pytest.raises(base.ChecksumMismatch):
            store.add(image_id, Trickle(data), len(data), md5(b"other"))
        assert store.add(image_id, Trickle(data), len(data)).size == len(data)

    def test_client_disconnect_mid_upload_leaves_nothing(self, store):
        image_id, data = new_id(), os.urandom(self.large_size)
        with pytest.raises(base.ClientDisconnected):
            store.add(image_id, Trickle(data, fail_after=len(data) // 2), len(data))
        assert store.add(image_id, Trickle(data), len(data)).size == len(data)

    def test_second_add_for_the_same_image_is_a_duplicate(self, store):
        image_id = new_id()
        first = store.add(image_id, io.BytesIO(b"first"), 5)
        with pytest.raises(base.Duplicate):
            store.add(image_id, io.BytesIO(b"second"), 6)
        chunks, _ = store.get(first.uri)
        assert b"".join(chunks) == b"first"

    def test_delete_removes_the_data(self, store):
        stored = store.add(new_id(), io.BytesIO(b"gone soon"), 9)
        store.delete(stored.uri)
        with pytest.raises(base.NotFound):
            store.get(stored.uri)
        with pytest.raises(base.NotFound):
            store.get_size(stored.uri)
        with pytest.raises(base.NotFound):
            store.delete(stored.uri)

    def test_location_of_another_scheme_is_refused(self, store):
        with pytest.raises((base.BadLocation, base.UnknownScheme)):
            store.get("gopher://example.invalid/images/1")

    def test_owns_exactly_what_add_writes(self, store):
        image_id = new_id()
        stored = store.add(image_id, io.BytesIO(b"mine"), 4)
        assert store.owns(stored.uri, image_id) is True
        assert store.owns(stored.uri, new_id()) is False       # another image's data
        other = stored.uri[:-len(image_id)] + new_id()
        assert store.owns(other, image_id) is False
        assert store.owns("gopher://example.invalid/images/" + image_id, image_id) is False
        store.delete(stored.uri)

    def test_holds_its_own_locations_only(self, store):
        # of two stores of one kind (multiple stores), the one a location lies in reads it
        stored = store.add(new_id(), io.BytesIO(b"held"), 4)
        assert store.holds(stored.uri) is True
        prefix, _place, name = stored.uri.rsplit("/", 2)
        assert store.holds(stored.uri[:-len(name)] + new_id()) is True
        assert store.holds(f"{prefix}/another-place/{name}") is False
        store.delete(stored.uri)

    def test_check_location_of_stored_data(self, store):
        stored = store.add(new_id(), io.BytesIO(b"registered"), 10)
        if self.registers_locations:
            assert store.check_location(stored.uri) is None
        else:
            with pytest.raises(base.BadLocation):
                store.check_location(stored.uri)
        with_credentials = stored.uri.replace("://", "://someone:secret@", 1)
        with pytest.raises(base.BadLocation):
            store.check_location(with_credentials)
        assert store.get_size(stored.uri) == 10

    @pytest.mark.parametrize("uri", ["gopher://example.invalid/images/1",
                                     "http://example.com/images/1"])
    def test_check_location_refuses_other_kinds_of_location(self, store, uri):
        with pytest.raises(base.BadLocation):
            store.check_location(uri)

    def test_leftovers_list_stored_data_by_image_until_removed(self, store):
        image_id, data = new_id(), os.urandom(self.large_size)
        stored = store.add(image_id, Trickle(data), len(data))
        found = mine(store, image_id)
        assert found and not any(item.partial for item in found)   # the image's own data
        assert mine(store, image_id, cutoff=time.time() - 3600) == []   # none that old
        for item in found:
            item.remove()
        for item in found:
            item.remove()                # already gone: no error
        assert mine(store, image_id) == []
        with pytest.raises(base.NotFound):
            store.get_size(stored.uri)

    def test_leftovers_of_an_upload_in_progress(self, store):
        """What an upload has written so far (what its crash would leave) is listed under
        its image, and removing it leaves nothing, whatever the upload does next."""
        image_id, data = new_id(), os.urandom(self.large_size)
        body = Paused(data, self.large_size // 2)
        outcome = []

        def upload():
            try:
                outcome.append(store.add(image_id, body, len(data)))
            except base.StoreError as exc:
                outcome.append(type(exc))     # not the traceback: it holds the upload's threads

        worker = threading.Thread(target=upload)
        worker.start()
        try:
            assert body.paused.wait(60), "the upload never reached the pause"
            found = mine(store, image_id)
            assert found, "an upload in progress left nothing to list"
            for item in found:
                item.remove()
        finally:
            body.release.set()
            worker.join(120)
        assert outcome and issubclass(outcome[0], base.StoreError)
        assert mine(store, image_id) == []
        assert store.add(image_id, io.BytesIO(data), len(data)).size == len(data)


class ReadOnlyStoreContract:
    """Stores that serve existing data and refuse writes (http)."""

    def test_follows_the_store_protocol(self, store):
        check_protocol(store)
        assert store.read_only is True

    def test_get_returns_the_bytes_and_their_size(self, store, location, content):
        chunks, size = store.get(location)
        assert size == len(content)
        assert b"".join(chunks) == content
        assert store.get_size(location) == len(content)

    def test_get_a_range(self, store, location, content):
        chunks, size = store.get(location, offset=10, length=100)
        assert size == 100
        assert b"".join(chunks) == content[10:110]

    def test_missing_data_is_not_found(self, store, missing_location):
        with pytest.raises(base.NotFound):
            store.get(missing_location)
        with pytest.raises(base.NotFound):
            store.get_size(missing_location)

    def test_add_is_refused(self, store):
        with pytest.raises(base.ReadOnly):
            store.add(new_id(), io.BytesIO(b"data"), 4)

    def test_owns_nothing(self, store, location):
        assert store.owns(location, new_id()) is False

    def test_check_location_accepts_its_locations(self, store, location):
        assert store.check_location(location) is None

    def test_check_location_refuses_other_kinds_of_location(self, store):
        with pytest.raises(base.BadLocation):
            store.check_location("gopher://example.invalid/images/1")

    def test_leftovers_are_none(self, store):
        assert list(store.leftovers(time.time() + 60)) == []

    def test_delete_is_refused_and_the_data_stays(self, store, location, content):
        with pytest.raises(base.ReadOnly):
            store.delete(location)
        assert store.get_size(location) == len(content)
