"""The interface every store follows, and the pieces they share.

A store keeps image data.  Writes pick a store by name (``x-image-meta-store``
or ``default_store``); reads and deletes pick it by the scheme of the image's
location URI.  Every ``add`` streams, counts and hashes while it writes, and
commits the data only when the size and checksum the client announced match;
on any failure it removes what it wrote.
"""
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, Optional, Protocol, Tuple

from glance.errors import StatusError
from glance.store.hashing import HashThread, fast_value, new_fast

CHUNK_SIZE = 1024 * 1024


class StoreError(StatusError):
    """Base of every store error; the message is safe to show to a client.

    Each class carries the HTTP status an upload or download answers with.
    """


class NotFound(StoreError):
    """No data at that location."""

    status = 404


class Duplicate(StoreError):
    """Data already exists for that image."""

    status = 409


class StorageFull(StoreError):
    """The backend is out of space."""

    status = 413


class WriteDenied(StoreError):
    """The backend refused the write: permissions."""

    status = 503


class ReadOnly(StoreError):
    """The store cannot write or delete."""

    status = 400


class BadLocation(StoreError):
    """A location URI this store cannot use."""

    status = 400


class UnknownScheme(BadLocation):
    """No store owns the URI's scheme."""


class NotConfigured(StoreError):
    """The store's configuration is incomplete; the message names what is missing."""

    status = 400


class BackendError(StoreError):
    """The backend failed: unreachable, 5xx, auth refused."""

    status = 502


class SizeMismatch(StoreError):
    """The bytes received differ from the size the client announced."""

    status = 400


class ChecksumMismatch(StoreError):
    """The MD5 of the bytes received differs from the client's checksum."""

    status = 400


class Corrupt(StoreError):
    """The stored data no longer matches the image's recorded MD5 or size."""


class ClientDisconnected(StoreError):
    """The request body ended before the announced length."""

    status = 400


@dataclass(frozen=True)
class Stored:
    """What ``add`` reports: where the data went, how big it is, its MD5.

    The upload path adds the multihash (``hash_algo``, ``hash_value``) it
    computed over the bytes the store read.  ``fast_checksum``
    (``xxh3:<hex>`` or ``crc32:<hex>``) is what downloads verify by default.
    """
    uri: str
    size: int
    checksum: str
    fast_checksum: Optional[str] = None
    hash_algo: Optional[str] = None
    hash_value: Optional[str] = None


@dataclass(frozen=True)
class Leftover:
    """Data a store holds for an image, as ``leftovers`` reports it.

    ``partial`` data (a ``.part`` file, an incomplete multipart upload) is
    never an image's data: only an interrupted upload leaves it.  Other items
    (whole files, objects, segments) may be an image's data, so glance-scrubber
    removes those only for images that are killed or deleted.
    """
    image_id: str
    what: str                   # for the log: "file /var/lib/...", "S3 object b/k"
    partial: bool
    remove: Callable[[], None]  # removes it; already gone is no error


class Store(Protocol):
    """One storage backend, built from the configuration by ``from_config(conf)``."""

    name: str                  # "file", "swift", "s3", "http"
    description: str           # for /v2/info/stores
    schemes: Tuple[str, ...]   # URI schemes this store reads and deletes
    read_only: bool

    def add(self, image_id: str, data: BinaryIO, size: Optional[int] = None,
            checksum: Optional[str] = None) -> Stored:
        """Stream ``data`` (anything with ``read(n)``) into the store.

        :param size: size the client announced; mismatch raises SizeMismatch.
        :param checksum: MD5 the client announced; mismatch raises ChecksumMismatch.
        :raises StoreError: and leaves no data behind.
        """

    def get(self, uri: str, offset: int = 0,
            length: Optional[int] = None) -> Tuple[Iterator[bytes], int]:
        """Return ``(chunks, size)``; the iterator raises if the data ends short."""

    def get_size(self, uri: str) -> int:
        """Size of the data at ``uri``."""

    def delete(self, uri: str) -> None:
        """Remove the data at ``uri``; NotFound if there is none."""

    def owns(self, uri: str, image_id: str) -> bool:
        """True iff ``uri`` is exactly what ``add(image_id)`` writes: only then may
        deleting image ``image_id`` delete the data at ``uri``."""

    def holds(self, uri: str) -> bool:
        """Is ``uri`` (of one of ``schemes``) in this store: its directory, endpoint and
        container?  With several stores of one kind, it picks the store that reads it."""

    def check_location(self, uri: str) -> None:
        """Accept ``uri`` as a location a client registers for an image.

        :raises BadLocation: this store must not read ``uri`` for a client.
        """

    def leftovers(self, cutoff: float) -> Iterator[Leftover]:
        """Everything the store holds, per image, last changed before ``cutoff``
        (a POSIX timestamp): what glance-scrubber may remove once the image's
        status allows.  Read-only stores hold nothing.
        """


class HashingReader:
    """Wrap a request body: count and MD5 every byte read, then check both.

    Stores read through it so that every store verifies the same way.  The
    MD5 runs on its own thread (:mod:`glance.store.hashing`); the fast checksum
    that downloads check is cheap enough to run inline.
    """

    def __init__(self, data, expected_size=None, expected_checksum=None):
        self.data = data
        self.expected_size = expected_size
        self.expected_checksum = expected_checksum.lower() if expected_checksum else None
        self.md5 = HashThread("md5")
        self.fast = new_fast()
        self.bytes_read = 0

    def read(self, size=CHUNK_SIZE):
        chunk = self.data.read(size)
        if chunk:
            self.md5.update(chunk)
            self.fast.update(chunk)
            self.bytes_read += len(chunk)
            if self.expected_size is not None and self.bytes_read > self.expected_size:
                raise SizeMismatch(
                    f"Image size exceeds the declared size of {self.expected_size} bytes")
        return chunk

    @property
    def checksum(self):
        return self.md5.hexdigest()

    def verify(self):
        """Raise unless the bytes read match the announced size and checksum."""
        if self.expected_size is not None and self.bytes_read != self.expected_size:
            raise SizeMismatch(
                f"Declared image size ({self.expected_size}) and the size of the uploaded "
                f"data ({self.bytes_read}) did not match.")
        if self.expected_checksum and self.expected_checksum != self.checksum:
            raise ChecksumMismatch(
                f"Supplied checksum ({self.expected_checksum}) and checksum generated from "
                f"uploaded image ({self.checksum}) did not match.")

    def result(self, uri):
        self.verify()
        return Stored(uri=uri, size=self.bytes_read, checksum=self.checksum,
                      fast_checksum=fast_value(self.fast))
