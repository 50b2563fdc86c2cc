"""Reading a request body one segment (Swift) or part (S3) at a time.

The Swift and S3 stores upload a large image as several objects.  Each one
is streamed from the same :class:`~glance.store.base.HashingReader` through a
:class:`SegmentReader` that stops after ``limit`` bytes, so nothing is
buffered and the MD5 still covers the whole image.

Downloads from the HTTP, Swift and S3 stores go through
:func:`checked_stream`, so a short one never looks complete.
"""
import logging

from glance.store.base import CHUNK_SIZE, BackendError, ClientDisconnected, StoreError

LOG = logging.getLogger(__name__)


class SegmentReader:
    """A file-like view of at most ``limit`` bytes of ``source``.

    :param source: anything with ``read(n)`` that never returns more than
        ``n`` bytes: a :class:`Peekable` over the HashingReader.
    :param limit: most bytes to hand out.
    :param exact: the caller announced this length to the backend, so the
        source ending early is an error (raises ClientDisconnected rather
        than let the backend wait for bytes that never come).
    """

    def __init__(self, source, limit, exact=False):
        self.source = source
        self.limit = limit
        self.exact = exact
        self.count = 0        # bytes taken from the source
        self.eof = False      # the source itself ended
        self.error = None     # what the source raised, if anything
        self.buffer = b""     # HTTP clients read 8-16 KiB at a time: serve that from one chunk
        self.offset = 0

    def read(self, size=-1):
        if self.offset >= len(self.buffer):
            self.buffer, self.offset = self._fill(), 0
        if size is None or size < 0:
            size = len(self.buffer)
        chunk = self.buffer[self.offset:self.offset + size]
        self.offset += len(chunk)
        return chunk

    def _fill(self):
        left = self.limit - self.count
        if left <= 0 or self.eof:
            return b""
        try:
            chunk = self.source.read(min(CHUNK_SIZE, left))
        except StoreError as exc:
            self.error = exc     # HTTP clients may wrap it: the store looks here
            raise
        if not chunk:
            self.eof = True
            if self.exact:
                self.error = ClientDisconnected(
                    f"The request body ended after {self.count} of {self.limit} bytes")
                verify = getattr(self.source, "verify", None)
                try:
                    if verify:
                        verify()     # SizeMismatch, with the sizes in its message
                except StoreError as exc:
                    self.error = exc
                raise self.error
            return b""
        self.count += len(chunk)
        return chunk

    def tell(self):
        return self.count - (len(self.buffer) - self.offset)

    def seek(self, position, whence=0):
        """Only a rewind to the start before anything was sent is possible.

        That is enough for an HTTP client to retry a request whose connection
        failed before the body went out; later, retrying is impossible.
        """
        if whence != 0 or position != 0 or self.count:
            raise OSError("A streamed request body cannot be rewound")
        return 0

    @property
    def full(self):
        return self.count >= self.limit


def expect_end(source):
    """After the announced size, the body must end.

    :raises SizeMismatch: more data follows (the HashingReader under ``source``
        raises it as soon as it reads past the announced size).
    """
    source.read(1)


def read_at_most(source, limit):
    """Read up to ``limit`` bytes from ``source`` into memory.

    :returns: the bytes; fewer than ``limit`` only when the source ended.
    """
    parts, got = [], 0
    while got < limit:
        chunk = source.read(min(CHUNK_SIZE, limit - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class Peekable:
    """The request body as segments read it: never more than asked, and peekable.

    A WSGI input may hand out more than ``read(n)`` asked for; the surplus is
    kept here for the next segment instead of being lost between two of them.
    """

    def __init__(self, source):
        self.source = source
        self.pending = b""

    def more(self):
        """True when the source has at least one more byte."""
        if not self.pending:
            self.pending = self.source.read(CHUNK_SIZE)
        return bool(self.pending)

    def read(self, size=CHUNK_SIZE):
        if not self.pending:
            self.pending = self.source.read(size)
        if size is None or size < 0:
            size = len(self.pending)
        chunk, self.pending = self.pending[:size], self.pending[size:]
        return chunk

    def verify(self):
        self.source.verify()


def checked_stream(chunks, size, what, translate):
    """Yield ``chunks``; raise if they fail or end before ``size`` bytes.

    A short download must never look like a complete one: the error reaches
    the WSGI server, which then cuts the response instead of ending it.

    :param translate: turns a client exception into a StoreError.
    :raises BackendError: the backend stream failed or ended early.
    """
    got = 0
    try:
        for chunk in chunks:
            got += len(chunk)
            yield chunk
        if got < size:
            raise BackendError(f"{what} ended after {got} of {size} bytes")
    except Exception as exc:
        error = translate(exc)
        LOG.error("Download of %s failed after %d of %d bytes: %s", what, got, size, error)
        raise error from None
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


def closing(chunks, resource):
    """Yield ``chunks`` and close ``resource`` (the HTTP response) however iteration ends."""
    try:
        yield from chunks
    finally:
        resource.close()
