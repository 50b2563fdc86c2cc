"""The request body of an upload, read straight from the WSGI server.

Flask's ``request.stream`` is not used: it hides chunked bodies on some
Werkzeug versions and adds a copy.  ``Body`` reads ``wsgi.input`` in a
helper thread, 1 MiB at a time, so receiving from the socket overlaps with
hashing and writing in the store.  It turns an early end of the body (the
client went away) into ``ClientDisconnected``.
"""
import queue
import threading

from glance.store.base import CHUNK_SIZE, ClientDisconnected

DEPTH = 4               # chunks read ahead: at most ~4 MiB per upload
CHUNKED_READ = 65536    # cheroot's chunked reader copies on every read; keep them small
DISCARD_LIMIT = 16 * CHUNK_SIZE
_END = object()


def has_body(environ):
    """True when the request carries a body: a length > 0, or a chunked body with data.

    An empty chunked body counts as none: python-glanceclient sends one when
    its standard input is not a terminal (scripts, cron), and a metadata
    update must not become an upload, nor an empty image become active.
    """
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        if "glance.body_prefix" in environ:
            return bool(environ["glance.body_prefix"])
        try:
            first = environ["wsgi.input"].read(1)
        except Exception:
            return True          # broken framing: the upload path reports it
        environ["glance.body_prefix"] = first
        return bool(first)
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


def content_length(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return None if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() else length


class Body:
    """A ``read(n)`` view of the request body, filled by a reader thread.

    ``read(n)`` returns at most ``n`` bytes of whatever arrived next (so it
    may return fewer), and ``b""`` only at the true end of the body.
    """

    def __init__(self, environ):
        self.environ = environ
        self.input = environ["wsgi.input"]
        self.length = content_length(environ)
        # The server's direct socket reader, when it offers one (glance.api.server).
        self.direct = environ.get("glance.socket_body") if self.length is not None else None
        self.received = 0
        self.chunks = queue.Queue(DEPTH)
        self.stopped = threading.Event()
        self.finished = False
        self.failed = False
        self.pending = b""       # the rest of a chunk larger than a read asked for
        self.thread = threading.Thread(target=self._pump, daemon=True, name="body-reader")
        self.thread.start()

    def _read_once(self):
        if self.length is None:
            # Gather small chunked reads into one piece of about 1 MiB.
            parts, size = [], 0
            while size < CHUNK_SIZE:
                part = self.input.read(CHUNKED_READ)
                if not part:
                    break
                parts.append(part)
                size += len(part)
            return b"".join(parts)
        want = min(CHUNK_SIZE, self.length - self.received)
        if want <= 0:
            return b""
        if self.direct is not None:
            return self.direct.read(want)      # whatever arrived, up to 1 MiB
        return self.input.read(want)

    def _pump(self):
        try:
            prefix = self.environ.pop("glance.body_prefix", b"")
            if prefix:                       # the byte has_body() looked at
                self.received += len(prefix)
                self._put(prefix)
            while not self.stopped.is_set():
                chunk = self._read_once()
                if not chunk:
                    if self.length is not None and self.received < self.length:
                        raise ClientDisconnected(
                            f"Client disconnected after sending {self.received} of "
                            f"{self.length} bytes")
                    self._put(_END)
                    return
                self.received += len(chunk)
                self._put(chunk)
        except ClientDisconnected as exc:
            self._put(exc)
        except Exception as exc:   # socket timeouts, bad chunk framing, resets
            self._put(ClientDisconnected(f"Error reading the request body: {exc}"))

    def _put(self, item):
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def read(self, size=CHUNK_SIZE):
        """Return up to ``size`` bytes, ``b""`` at the end.

        :raises ClientDisconnected: the body ended early or could not be read.
        """
        if self.pending:
            item, self.pending = self.pending, b""
        elif self.finished:
            return b""
        else:
            item = self.chunks.get()
            if item is _END:
                self.finished = True
                return b""
            if isinstance(item, Exception):
                self.finished = self.failed = True
                raise item
        if size is not None and 0 <= size < len(item):
            item, self.pending = item[:size], item[size:]
        return item

    def close(self):
        """Stop the reader thread (the store stopped reading)."""
        self.stopped.set()
        self.thread.join(timeout=1)

    @property
    def complete(self):
        """The whole body was received (whether or not the store read all of it)."""
        return self.finished and not self.failed and (
            self.length is None or self.received >= self.length)


def discard(environ, body=None):
    """Read and drop what is left of a body the API will not use (up to 16 MiB).

    :returns: True if the whole body has been read, so the connection can
        serve another request; False if the caller must answer with
        ``Connection: close`` (the WSGI server then drops the rest).
    """
    if body is not None:
        body.close()
        if body.complete:
            return True
        if body.thread.is_alive() or body.finished:
            return False
    if environ.get("glance.body_discarded"):
        return False
    environ["glance.body_discarded"] = True
    stream = environ["wsgi.input"]
    known = content_length(environ) is not None
    left = DISCARD_LIMIT
    try:
        while left > 0:
            chunk = stream.read(min(CHUNK_SIZE, left) if known else CHUNKED_READ)
            if not chunk:
                return True
            left -= len(chunk)
    except Exception:
        pass
    return False
