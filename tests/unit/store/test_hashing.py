"""Hashes on their own threads: same digests as hashlib, flat memory, no thread left behind."""
import gc
import hashlib
import io
import threading

from glance.store import hashing
from glance.store.base import HashingReader


def test_hash_thread_matches_hashlib_for_every_chunk_size():
    data = bytes(range(256)) * 40000
    for algorithm in ("md5", "sha512", "sha256"):
        hasher = hashing.HashThread(algorithm)
        for start in range(0, len(data), 1000 + 7):       # small and odd chunks too
            hasher.update(memoryview(data)[start:start + 1007])
        assert hasher.hexdigest() == hashlib.new(algorithm, data).hexdigest()
        assert hasher.hexdigest() == hashlib.new(algorithm, data).hexdigest()   # repeatable


def test_multihash_reader_hashes_what_the_store_read():
    data = b"x" * 3_000_001
    reader = HashingReader(hashing.MultihashReader(io.BytesIO(data), "sha512"), len(data))
    while reader.read(65536):
        pass
    stored = reader.result("file:///x")
    assert stored.checksum == hashlib.md5(data).hexdigest()
    assert reader.data.hexdigest() == hashlib.sha512(data).hexdigest()


def _hash_threads():
    return [t for t in threading.enumerate() if t.name.startswith("hash-")]


def test_an_abandoned_upload_leaves_no_thread():
    before = len(_hash_threads())
    for _ in range(5):
        reader = hashing.MultihashReader(io.BytesIO(b"y" * 10_000_000), "sha512")
        for _ in range(hashing.DEPTH + 3):
            reader.read(1 << 20)
        del reader                  # the store failed: nobody asks for the digest
    gc.collect()
    for thread in _hash_threads()[before:]:
        thread.join(timeout=10)
    assert len(_hash_threads()) == before
