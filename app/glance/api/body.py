"""The request body: what an upload reads, and what a refusal leaves unread.

:class:`RequestBody` is built from the WSGI input stream and the length the
request announced (None for a chunked body); glance-api's request class makes
one per request (``request.body``), so every route and the error path share it.

Flask's ``request.stream`` is not used for uploads: it hides chunked bodies on
some Werkzeug versions and adds a copy.  An upload reads through a helper
thread, 1 MiB at a time, so receiving from the socket overlaps with hashing and
writing in the store; an early end of the body (the client went away) becomes
``ClientDisconnected``.  When the stream offers ``read1`` (glance-api's server
does, see :class:`glance.api.server.SocketBody`), a known-length body is read
with it: whatever has arrived, without filling a buffer first.
"""
import queue
import socket
import threading
import time

from glance.errors import RequestTimeout
from glance.store.base import CHUNK_SIZE, ClientDisconnected
from glance.store.hashing import Waits

DEPTH = 4               # chunks read ahead: at most ~4 MiB per upload
CHUNKED_READ = 65536    # cheroot's chunked reader copies on every read; keep them small
DISCARD_LIMIT = 16 * CHUNK_SIZE
_END = object()


def _length(environ):
    """The announced length: None for a chunked body, 0 without one."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class RequestBody:
    """The body of one request.

    :param stream: the WSGI input (``wsgi.input``).
    :param length: the announced length; None for a chunked body (read to its end).
    """

    def __init__(self, stream, length, sock=None):
        self.stream = stream
        self.length = length
        self.sock = sock         # the connection's socket, when the server gives it
        self.received = 0
        self.peeked = b""        # the byte has_data() read from a chunked body
        self.pump = None         # the reader thread, once an upload reads
        self.finished = False    # the end of the body was seen
        self.failed = False      # it could not be read to its end
        self.dropped = False     # discard() gave up on it

    @classmethod
    def from_environ(cls, environ):
        return cls(environ["wsgi.input"], _length(environ), environ.get("glance.socket"))

    def has_data(self):
        """True when the request carries a body: a length > 0, or a chunked body with data.

        An empty chunked body counts as none: python-glanceclient sends one when
        its standard input is not a terminal (scripts, cron), and a metadata
        update must not become an upload, nor an empty image become active.
        """
        if self.length is not None:
            return self.length > 0
        if self.peeked or self.finished or self.pump is not None:
            return bool(self.peeked) or self.received > 0
        try:
            self.peeked = self.stream.read(1)
        except Exception:
            return True          # broken framing: the upload path reports it
        if not self.peeked:
            self.finished = True
        return bool(self.peeked)

    # --- an upload reads it through a thread -------------------------------------

    def read(self, size=CHUNK_SIZE):
        """Up to ``size`` bytes of whatever arrived next, ``b""`` only at the end.

        :raises ClientDisconnected: the body ended early or could not be read.
        """
        if self.pump is None:
            self.pump = _Pump(self)
        return self.pump.read(size)

    def read_all(self, limit, timeout=None):
        """The whole body, read at once, but at most ``limit + 1`` bytes (for JSON).

        :param timeout: seconds the whole body may take (however steadily it
            trickles); each read waits at most what is left of them.
        :raises RequestTimeout: (408, closing the connection) past that deadline,
            or the body stalled (``body_timeout``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        parts, size = [self.peeked], len(self.peeked)
        self.received += size
        self.peeked = b""
        while size <= limit:
            part = self._read_before(deadline, limit + 1 - size)
            if not part:
                self.finished = True
                break
            parts.append(part)
            size += len(part)
            self.received += len(part)
        return b"".join(parts)

    def _read_before(self, deadline, most):
        """:meth:`_read_once`, with the socket's timeout cut to what is left until ``deadline``."""
        original = self.sock.gettimeout() if self.sock is not None else None
        try:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                if self.sock is not None:
                    self.sock.settimeout(left if original is None else min(left, original))
            return self._read_once(most)
        except (socket.timeout, TimeoutError):
            self.failed = True
            raise RequestTimeout("Request body not received in time",
                                 headers=[("Connection", "close")]) from None
        finally:
            if self.sock is not None and deadline is not None:
                try:
                    self.sock.settimeout(original)
                except OSError:
                    pass

    def _read_once(self, most=CHUNK_SIZE):
        """One piece of the body (b"" at its end), about ``most`` bytes at most."""
        if self.length is None:
            # Gather small chunked reads into one piece of about 1 MiB.
            parts, size = [], 0
            while size < most:
                part = self.stream.read(min(CHUNKED_READ, most - size))
                if not part:
                    break
                parts.append(part)
                size += len(part)
            return b"".join(parts)
        want = min(most, self.length - self.received)
        if want <= 0:
            return b""
        read1 = getattr(self.stream, "read1", None)
        return read1(want) if read1 is not None else self.stream.read(want)

    def close(self):
        """Stop the reader thread (the store stopped reading)."""
        if self.pump is not None:
            self.pump.stop()

    @property
    def complete(self):
        """The whole body was received (whether or not the store read all of it)."""
        return self.finished and not self.failed and (
            self.length is None or self.received >= self.length)

    def discard(self, timeout=None):
        """Read and drop what is left of the body (up to 16 MiB, for at most ``timeout``
        seconds), so the connection can serve another request.

        :returns: True if the whole body has been read; False if the answer must
            close the connection (the WSGI server then drops the rest).
        """
        self.close()
        if self.complete or (self.length == 0 and not self.received):
            return True
        if self.dropped or self.failed or (self.pump is not None and self.pump.alive):
            return False
        self.dropped = True
        left = DISCARD_LIMIT
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while left > 0:
                chunk = self._read_before(deadline, min(CHUNK_SIZE, left))
                if not chunk:
                    self.finished = True
                    return True
                self.received += len(chunk)
                left -= len(chunk)
        except Exception:
            pass
        return False


class _Pump:
    """The thread that reads an upload's body ahead of the store."""

    def __init__(self, body):
        self.body = body
        self.chunks = queue.Queue(DEPTH)
        self.stopped = threading.Event()
        self.pending = b""       # the rest of a chunk larger than a read asked for
        self.done = False
        self.waits = Waits("body-reader")     # busy: reading the socket; blocked: the store is behind
        self.consumer_idle = 0.0              # the request thread waiting for the socket
        self.thread = threading.Thread(target=self._run, daemon=True, name="body-reader")
        self.thread.start()

    @property
    def alive(self):
        return self.thread.is_alive()

    def _run(self):
        body = self.body
        try:
            if body.peeked:
                body.received += len(body.peeked)
                self._put(body.peeked)
                body.peeked = b""
            waits = self.waits
            while not self.stopped.is_set():
                began = time.perf_counter()
                chunk = body._read_once()
                waits.busy += time.perf_counter() - began
                if not chunk:
                    if body.length is not None and body.received < body.length:
                        raise ClientDisconnected(
                            f"Client disconnected after sending {body.received} of "
                            f"{body.length} bytes")
                    self._put(_END)
                    return
                body.received += len(chunk)
                waits.chunks += 1
                waits.bytes += len(chunk)
                self._put(chunk)
        except ClientDisconnected as exc:
            self._put(exc)
        except Exception as exc:   # socket timeouts, bad chunk framing, resets
            self._put(ClientDisconnected(f"Error reading the request body: {exc}"))

    def _put(self, item):
        began = time.perf_counter()
        try:
            while not self.stopped.is_set():
                try:
                    self.chunks.put(item, timeout=0.5)
                    return
                except queue.Full:
                    continue
        finally:
            self.waits.blocked += time.perf_counter() - began

    def read(self, size):
        if self.pending:
            item, self.pending = self.pending, b""
        elif self.done:
            return b""
        else:
            began = time.perf_counter()
            item = self.chunks.get()
            self.consumer_idle += time.perf_counter() - began
            if item is _END:
                self.done = self.body.finished = True
                self.waits.idle = self.consumer_idle    # the store, waiting for the client
                self.waits.log()
                return b""
            if isinstance(item, Exception):
                self.done = self.body.finished = self.body.failed = True
                raise item
        if size is not None and 0 <= size < len(item):
            item, self.pending = item[:size], item[size:]
        return item

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=1)
