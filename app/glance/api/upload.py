"""An upload: the data of one image, from a reader into a store.

The routes (v1 POST/PUT in :mod:`glance.api.image_writes`, v2 PUT /file,
/stage and /import in :mod:`glance.api.v2.image_data`) create or find the
image, then walk one :class:`Upload` through its steps:

* :meth:`Upload.reserve`: queued -> busy (``saving``; v2 stage ``uploading``,
  web-download ``importing``), one compare-and-set in the registry: of two
  uploads to one image only one gets it, and nothing has been written yet.
* :meth:`Upload.write`: stream a reader (the request body) into the store
  with the heartbeat running; on any failure the image is killed and the
  store has removed what it wrote.
* :meth:`Upload.activate`: busy -> active with the data's size, checksums and
  location.  v2 stage calls :meth:`Upload.record_staged` instead (the data is
  recorded and the image stays ``uploading``); the import then calls
  :meth:`Upload.activate_staged`.

So no image is ever active with data other than what the client sent, and
an upload that ends after a DELETE leaves the image deleted.  Status changes
are written with glance's own identity (``service``), never the caller's.
"""
import contextlib
import dataclasses
import logging

from glance.api import context
from glance.api.headers import public
from glance.api.heartbeat import heartbeat
from glance.errors import Conflict, StatusError
from glance.rules import ACTIVE, KILLED, QUEUED, SAVING, UPLOADING, check_image_size
from glance.store.base import BackendError, NotFound, StoreError
from glance.store.hashing import MultihashReader

LOG = logging.getLogger("glance.api")


def data_fields(stored):
    """What the registry records of data a store holds (the multihash when computed)."""
    fields = {"size": stored.size, "checksum": stored.checksum, "location": stored.uri}
    if stored.fast_checksum:
        fields["fast_checksum"] = stored.fast_checksum
    if stored.hash_value:
        fields.update(os_hash_algo=stored.hash_algo, os_hash_value=stored.hash_value)
    return fields


def _reason(exc):
    """Why an upload failed, fit for the image.upload ERROR event.

    Errors with a status (store, registry, Keystone) are written for clients;
    anything else may carry a file path or URL, so only its type goes out (the
    log has the rest).
    """
    if isinstance(exc, StatusError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (see the glance-api log)"


class Capped:
    """A reader that fails once more than ``cap`` bytes came through it: a chunked
    body or a web-download has no size to refuse beforehand."""

    def __init__(self, reader, cap):
        self.reader, self.cap, self.count = reader, cap, 0

    def read(self, size=-1):
        data = self.reader.read(size)
        self.count += len(data)
        check_image_size(self.count, self.cap)
        return data


class ChunkReader:
    """``read()`` over the chunks a store's ``get`` gives, for another store's ``add``."""

    def __init__(self, chunks):
        self.chunks = iter(chunks)
        self.pending = b""

    def read(self, size=-1):
        if not self.pending:
            self.pending = next(self.chunks, b"")
        if size is None or size < 0 or size >= len(self.pending):
            out, self.pending = self.pending, b""
        else:
            out, self.pending = self.pending[:size], self.pending[size:]
        return out


@contextlib.contextmanager
def reading(chunks):
    """A :class:`ChunkReader` over ``chunks`` (a copy, an import); the chunks are
    closed afterwards however the write ends, so the source's connection is freed."""
    try:
        yield ChunkReader(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


@dataclasses.dataclass(frozen=True)
class Upload:
    """One upload of data to one image.

    :param busy: the status the image holds while its data is written
        (``saving``, ``uploading`` or ``importing``).
    :param service: glance-api's own identity (``headers()``), for the status
        changes only glance may write.
    """

    image_id: str
    store: object
    busy: str
    registry: object
    service: object
    notifier: object
    hashing_algorithm: str
    heartbeat_interval: int
    size_cap: int = None

    @classmethod
    def to(cls, image_id, store, busy=SAVING):
        """An upload to ``image_id`` with this glance-api's registry, identity,
        notifier and options (needs an application context)."""
        conf = context.conf()
        return cls(image_id, store, busy, context.registry(), context.service_auth(),
                   context.notifier(), conf.hashing_algorithm, conf.upload_heartbeat_interval,
                   conf.image_size_cap)

    def _move(self, changes, expect_status):
        return self.registry.update(self.image_id, changes, headers=self.service.headers(),
                                    expect_status=expect_status)

    def reserve(self):
        """queued -> busy, as one compare-and-set.

        :raises Conflict: another upload (or a delete) got there first; nothing was written.
        """
        try:
            self._move({"status": self.busy}, QUEUED)
        except Conflict:
            raise Conflict(f"Image {self.image_id} is not queued: another upload to it is in "
                           "progress or done") from None

    def write(self, reader, size=None, checksum=None):
        """Stream ``reader`` into the store while the image is busy, with the heartbeat.

        The multihash (``hashing_algorithm``) of the bytes the store reads is
        computed on its own thread, beside the store's MD5 on another.

        :param size: the size the client announced, if any.
        :param checksum: the MD5 the client announced, if any.
        :returns: the store's ``Stored`` record, with ``hash_algo`` and ``hash_value``.
        :raises StatusError: the image is killed and the store has removed what it wrote;
            :class:`TooLarge` (413) past ``image_size_cap``.
        """
        if self.size_cap is not None:
            reader = Capped(reader, self.size_cap)
        hashed = MultihashReader(reader, self.hashing_algorithm)
        try:
            if self.size_cap is not None:
                check_image_size(size, self.size_cap)
            with heartbeat(self.registry, self.image_id, self.service.headers,
                           self.heartbeat_interval, self.busy):
                stored = self.store.add(self.image_id, hashed, size=size, checksum=checksum)
            return dataclasses.replace(stored, hash_algo=hashed.algorithm,
                                       hash_value=hashed.hexdigest())
        except Exception as exc:
            hashed.abandon()
            self.kill(_reason(exc))
            if isinstance(exc, StatusError):
                raise
            LOG.exception("Upload of image %s failed", self.image_id)
            raise BackendError(f"Error uploading image: {_reason(exc)}") from None

    def activate(self, stored):
        """busy -> active with the data's fields; an image deleted or killed meanwhile stays so.

        :returns: the active image record.
        :raises Conflict: the image left busy during the upload; its data is removed.
        """
        return self._settle(stored, {"status": ACTIVE, **data_fields(stored)})

    def record_staged(self, stored):
        """Record the staged data (v2 stage); the image stays ``uploading`` for its import.

        :raises Conflict: the image left ``uploading`` meanwhile; its data is removed.
        """
        return self._settle(stored, data_fields(stored))

    def activate_staged(self):
        """uploading, with its staged data recorded -> active (v2 import glance-direct).

        :raises Conflict: the image changed status meanwhile.
        """
        try:
            return self._move({"status": ACTIVE}, UPLOADING)
        except Conflict:
            raise Conflict(f"Image {self.image_id} changed status during the import") from None

    def _settle(self, stored, changes):
        """Write ``changes`` if the image is still busy (and send image.upload);
        otherwise remove the data."""
        try:
            image = self._move(changes, self.busy)
        except Conflict:
            self._remove_data(stored)
            raise Conflict(f"Image {self.image_id} was deleted or killed during the upload; "
                           "its data has been removed") from None
        except Exception as exc:
            # The registry may have committed the change and then failed to
            # answer: remove the data only once the image is surely killed.
            # Otherwise it stays busy with its data; glance-scrubber settles it when stale.
            if self.kill(f"could not activate: {exc}"):
                self._remove_data(stored)
            raise
        self.notifier.info("image.upload", public(image))
        return image

    def kill(self, reason):
        """busy -> killed, and image.upload ERROR; never raises.

        Conditional: an image another request deleted or activated meanwhile stays as it is.

        :returns: whether the image is now killed (its data may then go).
        """
        LOG.warning("Setting image %s to status '%s': %s", self.image_id, KILLED, reason)
        self.notifier.error("image.upload", f"Upload of image {self.image_id} failed: {reason}")
        try:
            self._move({"status": KILLED}, self.busy)
        except Exception as exc:     # registry or Keystone down: the original error is reported
            LOG.error("Could not kill image %s: %s", self.image_id, exc)
            return False
        return True

    def _remove_data(self, stored):
        try:
            self.store.delete(stored.uri)
        except NotFound:
            pass
        except StoreError as exc:
            LOG.error("Could not remove data at the image's location: %s", type(exc).__name__)
