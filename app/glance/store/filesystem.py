"""The filesystem store: one file per image in ``filesystem_store_datadir``.

Uploads go to a hidden temporary file in the data directory and are linked
to their final name only after the size and checksum have been verified, so a
reader never sees a partial image and a failed upload leaves nothing behind.
Hashing and writing run in separate threads (hashlib and ``os.write`` both
release the GIL), which keeps the MD5 off the disk path; with
``filesystem_store_direct_io`` the writes bypass the page cache
(:mod:`glance.store.direct`).
"""
import errno
import functools
import os
import re
import threading
from urllib.parse import unquote, urlsplit

from glance.store.base import (CHUNK_SIZE, BackendError, BadLocation, Duplicate,
                               HashingReader, Leftover, NotConfigured, NotFound, StorageFull,
                               StoreError, WriteDenied)
from glance.store import direct

FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
PART_FILE = re.compile(r"^\.(.+)\.\d+\.part$")      # see part_file


def part_file(image_id):
    """The hidden name an upload writes to before it is complete."""
    return f".{image_id}.{threading.get_ident()}.part"


def image_of(name):
    """``(image id, partial)`` of a file in the data directory; None for other hidden files."""
    match = PART_FILE.match(name)
    if match:
        return match.group(1), True
    return None if name.startswith(".") else (name, False)


def write_error(exc, what):
    """Translate an OSError raised while writing into a store error."""
    if exc.errno in FULL:
        return StorageFull(f"Image storage media is full: {what}")
    if exc.errno in DENIED:
        return WriteDenied(f"Insufficient permissions on image storage media: {what}")
    return BackendError(f"Error writing image data: {exc.strerror}")


class FilesystemStore:
    """Images as files named by their id under one directory."""

    name = "file"
    description = "Filesystem store"
    schemes = ("file", "filesystem")
    read_only = False

    def __init__(self, datadir, direct_io):
        self.datadir = os.path.abspath(datadir)
        self.direct_io = direct_io

    @classmethod
    def from_config(cls, conf):
        """Build the store; create the data directory if it is missing.

        :raises NotConfigured: the directory is unset or cannot be created.
        """
        datadir = conf.filesystem_store_datadir
        if not datadir:
            raise NotConfigured("The filesystem store needs filesystem_store_datadir")
        try:
            os.makedirs(datadir, exist_ok=True)
        except OSError as exc:
            raise NotConfigured(f"Cannot create filesystem_store_datadir {datadir}: "
                                f"{exc.strerror}") from None
        return cls(datadir, conf.filesystem_store_direct_io)

    def uri_for(self, image_id):
        return "file://" + os.path.join(self.datadir, image_id)

    def path_of(self, uri):
        """The local path of ``uri``; only paths inside the data directory are served.

        :raises BadLocation: another scheme, or a path outside the data directory.
        """
        parts = urlsplit(uri)
        if parts.scheme not in self.schemes:
            raise BadLocation(f"The filesystem store cannot use {parts.scheme}:// locations")
        path = os.path.normpath(unquote(parts.netloc + parts.path))
        if os.path.dirname(path) != self.datadir:
            raise BadLocation("Location is outside the filesystem store's data directory")
        return path

    def holds(self, uri):
        """Is ``uri`` in this store's data directory (of two file stores, which reads it)?"""
        try:
            self.path_of(uri)
        except BadLocation:
            return False
        return True

    def owns(self, uri, image_id):
        """Is ``uri`` exactly the location ``add(image_id)`` writes?"""
        return uri == self.uri_for(image_id)

    def check_location(self, uri):
        """:raises BadLocation: always; a client-named file would expose the API host's files."""
        raise BadLocation("External sources are not supported: 'file'")

    def leftovers(self, cutoff):
        """Image files and ``.part`` files last changed before ``cutoff``.

        :raises BackendError: the data directory cannot be read.
        """
        try:
            with os.scandir(self.datadir) as entries:
                for entry in entries:
                    found = image_of(entry.name)
                    if found and _changed_before(entry, cutoff):
                        image_id, partial = found
                        yield Leftover(image_id, f"file {entry.path}", partial,
                                       functools.partial(_remove_file, entry.path))
        except OSError as exc:
            raise BackendError(f"Cannot list the filesystem store: {exc.strerror}") from None

    def add(self, image_id, data, size=None, checksum=None):
        """Stream ``data`` into ``<datadir>/<image_id>``.

        :raises Duplicate: a file for this image exists.
        :raises StorageFull: out of space. :raises WriteDenied: permission refused.
        :raises SizeMismatch: :raises ChecksumMismatch: and nothing is kept.
        """
        if "/" in image_id or image_id.startswith("."):
            raise BadLocation(f"Invalid image id {image_id!r}")
        final = os.path.join(self.datadir, image_id)
        if os.path.exists(final):
            raise Duplicate(f"Image data for {image_id} already exists in the filesystem store")
        tmp = os.path.join(self.datadir, part_file(image_id))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except OSError as exc:
            raise write_error(exc, "cannot create the image file") from None
        reader = HashingReader(data, size, checksum)
        # One chunk staged and two queued: an upload holds about 3 MiB, and a node
        # takes many at once.
        writer = direct.Writer(fd, self.direct_io, "fs-writer", depth=2, stage=CHUNK_SIZE)
        try:
            try:
                while chunk := reader.read(CHUNK_SIZE):
                    if not writer.write(chunk):
                        break               # the write failed: close() raises why
            except BaseException:
                writer.abandon()            # the body failed: what is queued is not written
                raise
            writer.close()
            stored = reader.result(self.uri_for(image_id))
            os.close(fd)
            fd = None
            os.link(tmp, final)     # fails with EEXIST rather than overwrite
            return stored
        except FileExistsError:
            raise Duplicate(f"Image data for {image_id} already exists in the "
                            "filesystem store") from None
        except OSError as exc:
            raise write_error(exc, "the image could not be written") from None
        finally:
            if fd is not None:
                os.close(fd)
            _unlink_quietly(tmp)

    def _open(self, uri):
        try:
            return open(self.path_of(uri), "rb", buffering=0)
        except FileNotFoundError:
            raise NotFound("Image data not found in the filesystem store") from None
        except OSError as exc:
            raise BackendError(f"Cannot read image data: {exc.strerror}") from None

    def get(self, uri, offset=0, length=None):
        """Return ``(chunks, size)`` for the file at ``uri``.

        :raises NotFound: the file is missing.
        """
        handle = self._open(uri)
        size = os.fstat(handle.fileno()).st_size
        if offset:
            handle.seek(offset)
        want = max(0, size - offset) if length is None else min(length, max(0, size - offset))
        return _chunks(handle, want), want

    def get_size(self, uri):
        """Size of the file at ``uri``. :raises NotFound:"""
        try:
            return os.stat(self.path_of(uri)).st_size
        except FileNotFoundError:
            raise NotFound("Image data not found in the filesystem store") from None
        except OSError as exc:
            raise BackendError(f"Cannot read image data: {exc.strerror}") from None

    def delete(self, uri):
        """Remove the file at ``uri``.

        :raises NotFound: already gone. :raises WriteDenied: not allowed.
        """
        try:
            os.unlink(self.path_of(uri))
        except FileNotFoundError:
            raise NotFound("Image data not found in the filesystem store") from None
        except OSError as exc:
            if exc.errno in DENIED:
                raise WriteDenied(f"Cannot delete image data: {exc.strerror}") from None
            raise BackendError(f"Cannot delete image data: {exc.strerror}") from None


def _chunks(handle, remaining):
    """Yield the file in 1 MiB pieces; raise if it ends before ``remaining`` bytes."""
    with handle:
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                raise StoreError("Image data ended early in the filesystem store")
            remaining -= len(chunk)
            yield chunk


def _changed_before(entry, cutoff):
    """Is ``entry`` a regular file last modified before ``cutoff``?"""
    try:
        return (entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff)
    except FileNotFoundError:       # removed meanwhile
        return False


def _remove_file(path):
    """Remove ``path``; already gone is no error."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
