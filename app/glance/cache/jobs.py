"""What the cache commands do: prune (LRU), reap (invalid, stalled, deleted), prefetch."""
import logging
import os
import queue
import threading
import time

from glance.cache import stream
from glance.cache.entries import INCOMPLETE, INVALID
from glance.errors import NotFound, StatusError
from glance.rules import ACTIVE, GONE
from glance.store.base import StoreError

LOG = logging.getLogger("glance.cache")


def prune(cache):
    """Remove least recently used images until the cache fits ``max_size``, freeing
    ``extra_to_free`` of it more (Diablo's rule).  :returns: ``(removed, bytes freed)``."""
    entries = cache.entries()            # least recently accessed first
    total = sum(e["size"] for e in entries)
    if total <= cache.max_size:
        LOG.info("Cache holds %d bytes, within %d: nothing to prune", total, cache.max_size)
        return 0, 0
    to_free = total - cache.max_size + int(cache.max_size * cache.extra_to_free)
    removed = freed = 0
    for entry in entries:
        if freed >= to_free:
            break
        if cache.remove(entry["image_id"]):
            removed += 1
            freed += entry["size"]
            LOG.info("Pruned image %s (%d bytes, last accessed %s)", entry["image_id"],
                     entry["size"], time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                  time.gmtime(entry["last_accessed"])))
    LOG.info("Pruned %d images, %d bytes; the cache holds %d bytes", removed, freed,
             total - freed)
    return removed, freed


def reap(cache, registry=None, headers=dict):
    """Remove invalid copies, stalled incomplete ones, and images deleted since they were
    cached (when ``registry`` is given).  :returns: ``(removed, failed)``."""
    removed = failed = 0
    for entry in cache.entries(INVALID):
        removed += _remove(cache, INVALID, entry["image_id"], "invalid")
    now = time.time()
    for entry in cache.entries(INCOMPLETE):
        if now - entry["last_modified"] > cache.stall_timeout:
            removed += _remove(cache, INCOMPLETE, entry["image_id"], "stalled")
    if registry is not None:
        ids = {e["image_id"] for e in cache.entries()} | set(cache.queued())
        for image_id in sorted(ids):
            try:
                image = registry.get(image_id, headers=headers())
            except NotFound:
                image = None
            except Exception as exc:    # registry down, Keystone down: try next time
                LOG.warning("Cannot check cached image %s: %s", image_id, exc)
                failed += 1
                continue
            if image is None or image.get("deleted") or image.get("status") in GONE:
                cache.remove(image_id)
                removed += 1
                LOG.info("Reaped image %s: deleted", image_id)
    LOG.info("Reaped %d cache entries%s", removed, f", {failed} not checked" if failed else "")
    return removed, failed


def _remove(cache, sub, image_id, why):
    try:
        os.unlink(cache.path(image_id, sub))
    except FileNotFoundError:
        return 0
    except OSError as exc:
        LOG.warning("Cannot remove %s entry %s: %s", why, image_id, exc.strerror)
        return 0
    LOG.info("Reaped %s entry %s", why, image_id)
    return 1


def prefetch(cache, registry, stores, verify, headers=dict):
    """Cache every queued image.  :returns: ``(cached, failed)``.

    An image that is gone or not active leaves the queue; one whose store
    fails stays queued for the next run.
    """
    done = failed = 0
    for image_id in cache.queued():
        outcome = prefetch_one(cache, registry, stores, verify, headers, image_id)
        if outcome is True:
            done += 1
        elif outcome is False:
            failed += 1
    LOG.info("Prefetched %d images, %d failed", done, failed)
    return done, failed


def prefetch_one(cache, registry, stores, verify, headers, image_id):
    """Cache one queued image.  :returns: True (cached), False (failed: it stays queued)
    or None (not an active image with data: dequeued; or cached already)."""
    try:
        image = registry.get(image_id, headers=headers())
    except NotFound:
        image = None
    except StatusError as exc:
        LOG.warning("Cannot prefetch image %s: %s", image_id, exc)
        return False
    if (image is None or image.get("deleted") or image.get("status") != ACTIVE
            or not image.get("location")):
        LOG.info("Not prefetching image %s: not an active image with data", image_id)
        cache.dequeue(image_id)
        return None
    if cache.is_cached(image_id):
        cache.dequeue(image_id)
        return None
    try:
        location = image["location"]
        chunks, _size = stores.for_uri(location).get(location)
        for _chunk in stream.filling(verify(chunks, image), image, cache):
            pass
    except StoreError as exc:
        LOG.error("Prefetching image %s failed: %s: %s", image_id, type(exc).__name__, exc)
        return False
    if not cache.is_cached(image_id):
        return False
    LOG.info("Prefetched image %s", image_id)
    return True


class Prefetcher:
    """One thread of a glance-api that runs prefetches as they are asked for (Glance's
    cache worker): ``PUT /v2/cache/<id>`` caches the image now, not at the next
    glance-cache-prefetcher run.  Jobs run one at a time, in order."""

    def __init__(self):
        self.jobs = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread = None

    def submit(self, job):
        """Run ``job()`` (a callable) on the worker thread, started on first use."""
        self.jobs.put(job)
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="cache-prefetcher")
                self.thread.start()

    def _run(self):
        while True:
            job = self.jobs.get()
            try:
                job()
            except Exception:       # one bad image must not stop the worker
                LOG.exception("Prefetching failed")
