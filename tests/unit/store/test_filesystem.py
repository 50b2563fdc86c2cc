"""Filesystem-store specifics: temp file then link, cleanup, faults, paths.

The shared behaviour is in tests/contract/store.py (test_filesystem_contract.py).
"""
import ctypes
import hashlib
import io
import mmap
import os
import threading
import uuid

import pytest

from glance.config import load_config
from glance.store import base
from glance.store.filesystem import FilesystemStore


def make(path, **options):
    conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(path),
                                                **options})
    return FilesystemStore.from_config(conf)


def cached_pages(path):
    """How many of the file's pages are in the page cache (mincore(2) on a mapping)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = os.path.getsize(path)
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    with open(path, "rb") as handle:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, handle.fileno(), 0)
        assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            vector = ctypes.create_string_buffer(pages)
            assert libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
            return sum(byte & 1 for byte in vector.raw)
        finally:
            libc.munmap(address, size)


@pytest.fixture
def store(tmp_path):
    return make(tmp_path / "images")


class Gate:
    """A body that stops after the first chunk until released."""

    def __init__(self, first, rest):
        self.parts = [first, rest]
        self.first_sent = threading.Event()
        self.release = threading.Event()

    def read(self, size=-1):
        if not self.parts:
            return b""
        if len(self.parts) == 1:
            self.first_sent.set()
            self.release.wait(5)
        return self.parts.pop(0)


class Broken:
    def __init__(self, good):
        self.good = good

    def read(self, size=-1):
        if self.good:
            chunk, self.good = self.good, b""
            return chunk
        raise base.ClientDisconnected("gone")


@pytest.mark.parametrize("direct_io", ["true", "false"])
def test_direct_io_uploads_leave_the_page_cache_alone(tmp_path, direct_io):
    store = make(tmp_path / "images", filesystem_store_direct_io=direct_io)
    data = os.urandom(8 * base.CHUNK_SIZE + 12345)      # whole pages and an odd tail
    stored = store.add("img-1", io.BytesIO(data), size=len(data))
    path = store.path_of(stored.uri)
    pages = (len(data) + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    # Looked at before anything reads the file: with O_DIRECT only the odd tail (written
    # buffered) went through the page cache; buffered, every page is there.
    assert cached_pages(path) == (1 if direct_io == "true" else pages)
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert stored.size == len(data) and stored.checksum == hashlib.md5(data).hexdigest()


def test_from_config_creates_a_missing_datadir(tmp_path):
    target = tmp_path / "a" / "b" / "images"
    store = make(target)
    assert target.is_dir()
    assert store.datadir == str(target)


def test_unusable_datadir_is_not_configured(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(base.NotConfigured):
        make(tmp_path / "file" / "images")


def test_uri_names_the_file(store):
    image_id = str(uuid.uuid4())
    stored = store.add(image_id, io.BytesIO(b"abc"))
    assert stored.uri == f"file://{store.datadir}/{image_id}"
    assert stored.size == 3 and stored.checksum == hashlib.md5(b"abc").hexdigest()


def test_data_appears_under_its_name_only_when_complete(store):
    image_id = str(uuid.uuid4())
    body = Gate(b"a" * 1000, b"b" * 1000)
    result = {}
    worker = threading.Thread(target=lambda: result.update(s=store.add(image_id, body)))
    worker.start()
    assert body.first_sent.wait(5)
    names = os.listdir(store.datadir)
    assert image_id not in names
    assert len(names) == 1 and names[0].startswith(f".{image_id}.")
    body.release.set()
    worker.join(5)
    assert os.listdir(store.datadir) == [image_id]
    assert result["s"].size == 2000


@pytest.mark.parametrize("kwargs, error", [
    ({"checksum": "0" * 32}, base.ChecksumMismatch),
    ({"size": 10}, base.SizeMismatch),
    ({"size": 10 ** 6}, base.SizeMismatch),
])
def test_verification_failures_leave_nothing(store, kwargs, error):
    with pytest.raises(error):
        store.add(str(uuid.uuid4()), io.BytesIO(b"x" * 5000), **kwargs)
    assert os.listdir(store.datadir) == []


def test_a_body_that_breaks_leaves_nothing(store):
    with pytest.raises(base.ClientDisconnected):
        store.add(str(uuid.uuid4()), Broken(b"y" * 100))
    assert os.listdir(store.datadir) == []


def test_existing_file_is_duplicate_and_untouched(store):
    image_id = str(uuid.uuid4())
    store.add(image_id, io.BytesIO(b"first"))
    with pytest.raises(base.Duplicate):
        store.add(image_id, io.BytesIO(b"second"))
    chunks, size = store.get(store.uri_for(image_id))
    assert b"".join(chunks) == b"first"
    assert os.listdir(store.datadir) == [image_id]


@pytest.mark.parametrize("image_id", ["../escape", ".hidden"])
def test_ids_that_are_not_file_names_are_refused(store, image_id):
    with pytest.raises(base.BadLocation):
        store.add(image_id, io.BytesIO(b"z"))


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "file://{d}/../secret", "swift://x/y"])
def test_locations_outside_the_datadir_are_refused(store, uri):
    with pytest.raises(base.BadLocation):
        store.get(uri.format(d=store.datadir))


def test_missing_file(store):
    uri = store.uri_for(str(uuid.uuid4()))
    for call in (store.get, store.get_size, store.delete):
        with pytest.raises(base.NotFound) as info:
            call(uri)
        assert "not found" in str(info.value)


def test_get_range_and_short_file(store):
    image_id = str(uuid.uuid4())
    store.add(image_id, io.BytesIO(b"0123456789"))
    uri = store.uri_for(image_id)
    chunks, size = store.get(uri, offset=2, length=5)
    assert (b"".join(chunks), size) == (b"23456", 5)
    chunks, size = store.get(uri)
    os.truncate(os.path.join(store.datadir, image_id), 4)
    with pytest.raises(base.StoreError):
        b"".join(chunks)


def test_filesystem_scheme_alias_reads(store):
    image_id = str(uuid.uuid4())
    store.add(image_id, io.BytesIO(b"alias"))
    assert store.get_size(f"filesystem://{store.datadir}/{image_id}") == 5

# Full-disk and read-only faults are produced for real (tmpfs mounts) in
# tests/functional/test_api_store_faults.py.
