"""Streams through the cache: a download that fills it, and one served from it."""
import logging

from glance.store.base import Corrupt

LOG = logging.getLogger("glance.cache")


def filling(chunks, image, cache):
    """Yield ``chunks`` (already verified upstream) and write them into the cache.

    Upstream holds back the last chunk until the MD5 matched, so a stream
    that ends normally is the whole, right image: only then is the copy kept,
    and before the client gets that last chunk, so a finished download means
    a cached image.  A client that goes away (the generator is closed), a
    store error or a mismatch discards it.  Cache trouble (a full disk) never
    fails the download.
    """
    entry = cache.begin(image["id"], image.get("size")) if image.get("checksum") else None
    if entry is None:
        yield from _closing(chunks)
        return
    held = None
    try:
        for chunk in chunks:
            entry.write(chunk)
            if held is not None:
                yield held
            held = chunk
        entry.commit(image.get("size") if image.get("size") is not None else entry.written)
        if held is not None:
            yield held
    finally:
        entry.discard()         # no-op after commit
        _close(chunks)


def served(chunks, image, cache, verify):
    """Yield the cached copy through ``verify`` (the download check); a copy whose MD5
    is wrong is invalidated, and the download fails as a store's corrupt data does
    (the client gets a short body; its retry is served from the store)."""
    try:
        yield from verify(chunks, image)
    except Corrupt:
        LOG.error("Cached copy of image %s is corrupt: invalidated; the next download "
                  "reads the store", image["id"])
        cache.invalidate(image["id"])
        raise
    finally:
        _close(chunks)


def _closing(chunks):
    try:
        yield from chunks
    finally:
        _close(chunks)


def _close(chunks):
    close = getattr(chunks, "close", None)
    if close:
        close()
