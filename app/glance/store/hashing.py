"""Hashes computed on their own threads while an upload streams.

Each hash (the MD5 checksum, the ``hashing_algorithm`` multihash) runs in a
thread fed through a small bounded queue.  hashlib releases the GIL while it
hashes a chunk of more than 2 KiB, so on two cores the MD5, the multihash
and the request thread (reading the socket, writing the store) overlap
instead of queueing behind one another; the queue keeps memory flat.

Chunks are queued as they are (no copy): the callers hand over ``bytes``, or
buffers they never write to again.  Each thread counts what it waited for
(:class:`Waits`), logged at DEBUG when an upload ends, to show which stage
limits it: a hash that waits for data is faster than its producer; a
producer that waits for room is held up by that hash.
"""
import hashlib
import logging
import queue
import threading
import time
import zlib

try:
    import xxhash
except ImportError:     # optional: the fast checksum is then a CRC-32
    xxhash = None

LOG = logging.getLogger("glance.upload")

DEPTH = 4               # chunks queued per hash: a few MiB at most per upload


class Crc32:
    """CRC-32 (zlib) with hashlib's ``update``/``hexdigest``: the fast checksum of
    images stored where python3-xxhash was not installed.

    zlib releases the GIL for chunks above a few KiB, as hashlib does.
    """

    name, label, digits = "crc32", "CRC-32", 8

    def __init__(self):
        self.value = 0

    def update(self, chunk):
        self.value = zlib.crc32(chunk, self.value)

    def hexdigest(self):
        return f"{self.value:08x}"


class Xxh3:
    """XXH3-64 (python3-xxhash): tens of GB/s, so a download verifies every byte
    for almost nothing (CRC-32 runs at 0.5-3 GB/s on this class of machine)."""

    name, label, digits = "xxh3", "XXH3-64", 16

    def __init__(self):
        self.hasher = xxhash.xxh3_64()

    def update(self, chunk):
        self.hasher.update(chunk)

    def hexdigest(self):
        return self.hasher.hexdigest()


FAST = {Crc32.name: Crc32, **({Xxh3.name: Xxh3} if xxhash else {})}


def new_fast():
    """The fast checksum an upload records: XXH3-64 where xxhash is installed."""
    return Xxh3() if xxhash else Crc32()


def fast_value(hasher):
    """The recorded fast checksum of a finished hasher: ``<name>:<hex digits>``."""
    return f"{hasher.name}:{hasher.hexdigest()}"


def fast_check(value):
    """``(fresh hasher, expected hex digest)`` for a recorded ``fast_checksum``, or
    None for one this glance cannot check (unknown algorithm, malformed)."""
    algorithm, _, digest = (value or "").partition(":")
    kind = FAST.get(algorithm)
    digest = digest.lower()
    if kind is None or len(digest) != kind.digits \
            or digest.strip("0123456789abcdef"):
        return None
    return kind(), digest


def available(algorithm):
    """Can this Python compute ``algorithm`` (an image's ``os_hash_algo``)?"""
    return algorithm in hashlib.algorithms_guaranteed


def new_hash(algorithm):
    """A hashlib object; MD5 is flagged as not for security (it is a checksum)."""
    if algorithm == "md5":
        return hashlib.md5(usedforsecurity=False)
    return hashlib.new(algorithm)


def end_queue(chunks):
    """Put the end marker (None) on the queue a thread consumes, dropping queued
    chunks to make room: the thread stops without working through its backlog."""
    while True:
        try:
            chunks.put_nowait(None)
            return
        except queue.Full:
            try:
                chunks.get_nowait()
            except queue.Empty:
                pass


class Waits:
    """What one pipeline stage waited for: data (``idle``) and room (``blocked``)."""

    __slots__ = ("name", "chunks", "bytes", "idle", "blocked", "busy")

    def __init__(self, name):
        self.name = name
        self.chunks = self.bytes = 0
        self.idle = self.blocked = self.busy = 0.0

    def get(self, chunks):
        """``chunks.get()``, timed as idle."""
        began = time.perf_counter()
        item = chunks.get()
        self.idle += time.perf_counter() - began
        return item

    def put(self, chunks, item):
        """``chunks.put(item)``, timed as blocked (the consumer is behind)."""
        began = time.perf_counter()
        chunks.put(item)
        self.blocked += time.perf_counter() - began

    def log(self):
        if self.chunks:
            LOG.debug("%s: %d chunks, %.0f KiB on average; busy %.3f s, idle (no data) "
                      "%.3f s, its queue full %.3f s", self.name,
                      self.chunks, self.bytes / self.chunks / 1024, self.busy, self.idle,
                      self.blocked)


def _consume(chunks, hasher, waits):
    # A function, not a method: the thread must not keep its HashThread alive.
    while True:
        chunk = waits.get(chunks)
        if chunk is None:
            return
        began = time.perf_counter()
        hasher.update(chunk)
        waits.busy += time.perf_counter() - began
        waits.chunks += 1
        waits.bytes += len(chunk)


class HashThread:
    """One hash of a stream: :meth:`update` queues, :meth:`hexdigest` waits for the end."""

    def __init__(self, algorithm):
        self.algorithm = algorithm
        self._hash = new_hash(algorithm)
        self._chunks = queue.Queue(DEPTH)
        self._digest = None
        self.waits = Waits(f"hash-{algorithm}")
        self._thread = threading.Thread(target=_consume,
                                        args=(self._chunks, self._hash, self.waits),
                                        name=f"hash-{algorithm}", daemon=True)
        self._thread.start()

    def update(self, chunk):
        if self._digest is not None:
            raise ValueError("the hash is finished")
        if chunk:
            self.waits.put(self._chunks, chunk)

    def hexdigest(self):
        """The digest of everything queued (ends the thread; later calls repeat it)."""
        if self._digest is None:
            self._chunks.put(None)
            self._thread.join()
            self._digest = self._hash.hexdigest()
            self.waits.log()
        return self._digest

    def abandon(self):
        """End the thread without waiting for what is queued (a failed upload)."""
        if self._digest is not None or not self._thread.is_alive():
            return
        end_queue(self._chunks)

    def __del__(self):
        self.abandon()


class MultihashReader:
    """Wrap a request body: the ``algorithm`` hash of every byte read, on its own thread.

    The store reads through it and reads the body to its end (checking the
    size), so :attr:`hexdigest` is the hash of exactly the data stored.
    """

    def __init__(self, data, algorithm):
        self.data = data
        self.algorithm = algorithm
        self._hash = HashThread(algorithm)

    def read(self, size=-1):
        chunk = self.data.read(size)
        self._hash.update(chunk)
        return chunk

    def hexdigest(self):
        return self._hash.hexdigest()

    def abandon(self):
        self._hash.abandon()
