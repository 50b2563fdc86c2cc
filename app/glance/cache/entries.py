"""Entries of the image cache: look up, fill, invalidate, remove, list, queue."""
import errno
import logging
import os
import re
import time

from glance.store import direct
from glance.config import ConfigError
from glance.store.base import CHUNK_SIZE

LOG = logging.getLogger("glance.cache")

INCOMPLETE, INVALID, QUEUE = "incomplete", "invalid", "queue"
# Ids become file names: anything else (a path, a dot-name) is never cached.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def from_config(conf):
    """The :class:`ImageCache` of ``conf``, or None when ``image_cache_enabled`` is off.

    :raises ConfigError: the directory cannot be created, or a bad percentage.
    """
    if not conf.get("image_cache_enabled"):
        return None
    extra = conf.image_cache_percent_extra_to_free
    if not 0 <= extra <= 1:
        raise ConfigError("Invalid value for option image_cache_percent_extra_to_free: "
                          f"{extra} is not between 0 and 1")
    return ImageCache(conf.image_cache_datadir, max_size=conf.image_cache_max_size_bytes,
                      extra_to_free=extra, stall_timeout=conf.image_cache_stall_timeout,
                      direct_io=conf.image_cache_direct_io)


def cacheable_id(image_id):
    return bool(SAFE_ID.match(str(image_id or "")))


class ImageCache:
    def __init__(self, datadir, max_size=1 << 30, extra_to_free=0.2, stall_timeout=86400,
                 direct_io=True):
        self.datadir = datadir
        self.direct_io = direct_io
        self.max_size = max_size
        self.extra_to_free = extra_to_free
        self.stall_timeout = stall_timeout
        try:
            for sub in (INCOMPLETE, INVALID, QUEUE):
                os.makedirs(os.path.join(datadir, sub), mode=0o750, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot create the image cache directory {datadir}: "
                              f"{exc.strerror}") from None

    def path(self, image_id, sub=""):
        if not cacheable_id(image_id):
            raise KeyError(image_id)
        return os.path.join(self.datadir, sub, image_id)

    # --- reading -----------------------------------------------------------------

    def is_cached(self, image_id):
        return cacheable_id(image_id) and os.path.isfile(self.path(image_id))

    def open(self, image_id, size):
        """``(chunks, size)`` of the cached copy, or None when there is none.

        A copy of the wrong size is invalidated here, before a byte is sent,
        so the caller can still serve the store's data instead.  The MD5 is
        checked by the caller as the chunks go out.
        """
        if not cacheable_id(image_id):
            return None
        path = self.path(image_id)
        try:
            handle = open(path, "rb", buffering=0)
        except FileNotFoundError:
            return None
        except OSError as exc:
            LOG.warning("Cannot read cached image %s, serving it from its store: %s",
                        image_id, exc.strerror)
            return None
        found = os.fstat(handle.fileno()).st_size
        if size is not None and found != size:
            handle.close()
            LOG.error("Cached image %s holds %d bytes, the registry says %s: invalidated",
                      image_id, found, size)
            self.invalidate(image_id)
            return None
        self._touch(path)
        return direct.read_chunks(handle, found, CHUNK_SIZE, self.direct_io), found

    def _touch(self, path):
        """Record a hit: atime is "last accessed" (set explicitly: relatime would skip it)."""
        try:
            os.utime(path, (time.time(), os.stat(path).st_mtime))
        except OSError:
            pass

    # --- filling ------------------------------------------------------------------

    def begin(self, image_id, size=None):
        """Start writing ``image_id``'s copy: a :class:`Filling`, or None when it is not
        to be cached now (cached already, being filled by another download, too big)."""
        if not cacheable_id(image_id) or self.is_cached(image_id):
            return None
        if size is not None and size > self.max_size:
            return None
        path = self.path(image_id, INCOMPLETE)
        for _attempt in (1, 2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            except FileExistsError:
                # Another download is filling it, unless that one stalled (crashed).
                if not self._stalled(path):
                    return None
                _unlink(path)
                continue
            except OSError as exc:
                LOG.warning("Cannot cache image %s: %s", image_id, exc.strerror)
                return None
            if size and not _reserve(fd, size, image_id):
                os.close(fd)
                _unlink(path)
                return None
            return Filling(self, image_id, path, fd)
        return None

    def _stalled(self, path, now=None):
        try:
            return (now or time.time()) - os.stat(path).st_mtime > self.stall_timeout
        except FileNotFoundError:
            return True

    # --- removing -----------------------------------------------------------------

    def invalidate(self, image_id):
        """Move a corrupt copy to ``invalid/`` (the reaper deletes it); the next
        download refetches the image from its store."""
        try:
            os.replace(self.path(image_id), self.path(image_id, INVALID))
        except KeyError:
            pass
        except OSError:
            _unlink(self.path(image_id))

    def remove(self, image_id):
        """Forget ``image_id`` altogether (cached copy and queue entry).

        :returns: True when a cached copy was removed.
        """
        if not cacheable_id(image_id):
            return False
        _unlink(self.path(image_id, QUEUE))
        return _unlink(self.path(image_id))

    def remove_all(self):
        """Remove every cached copy; :returns: how many."""
        return sum(self.remove(entry["image_id"]) for entry in self.entries())

    # --- listing ------------------------------------------------------------------

    def entries(self, sub=""):
        """The cached copies (or those of ``incomplete/``, ``invalid/``, ``queue/``)."""
        folder = os.path.join(self.datadir, sub)
        found = []
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return found
        for name in names:
            if not cacheable_id(name):
                continue
            try:
                st = os.stat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            if not os.path.isfile(os.path.join(folder, name)):
                continue
            found.append({"image_id": name, "size": st.st_size,
                          "last_accessed": st.st_atime, "last_modified": st.st_mtime})
        return sorted(found, key=lambda e: (e["last_accessed"], e["image_id"]))

    def entry(self, image_id):
        return next((e for e in self.entries() if e["image_id"] == image_id), None)

    def total_size(self):
        return sum(e["size"] for e in self.entries())

    # --- prefetch queue -------------------------------------------------------------

    def queue(self, image_id):
        """Ask glance-cache-prefetcher to cache ``image_id``. :returns: False when cached."""
        if self.is_cached(image_id):
            return False
        with open(self.path(image_id, QUEUE), "a", encoding="utf-8"):
            pass
        return True

    def queued(self):
        return [e["image_id"] for e in sorted(self.entries(QUEUE),
                                              key=lambda e: e["last_modified"])]

    def dequeue(self, image_id):
        _unlink(self.path(image_id, QUEUE))

    def dequeue_all(self):
        """Empty the prefetch queue; :returns: how many images were in it."""
        return sum(_unlink(self.path(image_id, QUEUE)) for image_id in self.queued())


class Filling:
    """One copy being written into ``incomplete/``; :meth:`commit` or :meth:`discard` ends it.

    The writes run on their own thread (:mod:`glance.store.direct`), so the
    disk's wait overlaps the download's sending.
    """

    def __init__(self, cache, image_id, path, fd):
        self.cache, self.image_id, self.path, self.fd = cache, image_id, path, fd
        self.writer = direct.Writer(fd, cache.direct_io, f"cache-write-{image_id}")
        self.written = 0
        self.done = False

    def write(self, chunk):
        """:returns: False when writing failed (disk full): the entry is then discarded."""
        if self.done:
            return False
        if not self.writer.write(chunk):
            self._stopped(self.writer.error)
            return False
        self.written += len(chunk)
        return True

    def _stopped(self, exc):
        LOG.warning("Stopped caching image %s: %s", self.image_id,
                    getattr(exc, "strerror", None) or exc)
        self.discard()

    def commit(self, size):
        """Keep the copy when all ``size`` bytes arrived (the caller checked the MD5)."""
        if self.done:
            return False
        self.done = True
        try:
            try:
                self.writer.close()
            finally:
                os.close(self.fd)
            if self.written != size:
                raise OSError(0, f"{self.written} bytes written, {size} expected")
            final = self.cache.path(self.image_id)
            os.replace(self.path, final)
            now = time.time()
            os.utime(final, (now, now))
        except OSError as exc:
            LOG.warning("Could not keep image %s in the cache: %s", self.image_id,
                        exc.strerror or exc)
            _unlink(self.path)
            return False
        self.cache.dequeue(self.image_id)
        LOG.info("Cached image %s (%d bytes)", self.image_id, size)
        return True

    def discard(self):
        if self.done:
            return
        self.done = True
        self.writer.abandon()
        try:
            os.close(self.fd)
        except OSError:
            pass
        _unlink(self.path)


def _reserve(fd, size, image_id):
    """Allocate the file's blocks up front: ext4 then spends a third of the CPU on the
    writes that fill it (no delayed allocation per page), and a full disk shows now.

    :returns: False when the disk cannot hold the image.
    """
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            LOG.warning("Not caching image %s: %s", image_id, exc.strerror)
            return False
        # Not supported here (EOPNOTSUPP, EINVAL): the writes allocate as they go.
    return True


def _unlink(path):
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        LOG.warning("Cannot remove %s from the image cache: %s", os.path.basename(path),
                    exc.strerror)
        return False
