"""The HTTP server of glance-api: cheroot, with shortcuts for image data.

cheroot rather than waitress: it hands the request body to the application
as it arrives (waitress spools it first) and keeps header names with
underscores, which python-glanceclient sends (``x-image-meta-disk_format``).
"""
import threading

from cheroot import server, wsgi

from glance.api.gate import Gate, Replay

DIRECT_WRITE = 65536
SPARE = 8             # idle threads kept ready, so a HEAD never waits behind downloads
SHRINK_AFTER = 10.0   # seconds without a shortage before idle threads above that end


class SocketBody:
    """glance-api's ``wsgi.input`` for a known-length body: read straight from the socket.

    cheroot's own ``wsgi.input`` goes through the pure-Python ``_pyio``
    buffered reader, which copies every byte three or four times; uploads
    run at about half speed through it.  This reads what cheroot has already
    buffered, then ``recv`` from the socket, and keeps cheroot's count of
    the bytes left (``remaining``) right so keep-alive still works.

    ``read(n)`` has file semantics (n bytes unless the body ends first);
    ``read1(n)`` returns whatever has arrived, up to n bytes (as
    :class:`io.BufferedReader`'s does), which is what an upload wants.
    """

    def __init__(self, req):
        self.buffered = req.conn.rfile
        self.sock = req.conn.socket
        self.counted = req.rfile

    def read1(self, size=-1):
        """Up to ``size`` bytes (fewer if that is what arrived); ``b""`` at the end."""
        left = self.counted.remaining
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        if self.buffered.has_data():
            data = self.buffered.read1(size)
        else:
            data = self.sock.recv(size)
        self.counted.remaining -= len(data)
        return data

    def read(self, size=-1):
        """``size`` bytes, or the rest of the body (all of it when ``size`` is -1)."""
        parts, wanted = [], self.counted.remaining if size is None or size < 0 else size
        while wanted > 0:
            data = self.read1(wanted)
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)

    def readline(self, size=-1):
        return self.counted.readline(None if size is None or size < 0 else size)

    def readlines(self, hint=-1):
        return self.counted.readlines(hint if hint and hint > 0 else 0)

    def __iter__(self):
        return iter(self.readline, b"")


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus three things for image data, and a chunked body's
    trailer read to its end.

    * ``wsgi.input`` of a known-length body is a :class:`SocketBody`: it reads
      from the socket without cheroot's copies, and offers ``read1``; the socket
      itself is ``glance.socket``, whose timeout a JSON body's deadline shortens.
    * Large response chunks go to the socket with ``sendall``: cheroot's
      writer copies each chunk twice more before sending it.
    * ``Connection: close`` from the app closes the connection.  Without it,
      cheroot reads whatever is left of a refused upload (in one read, into
      memory) to keep the connection alive.
    """

    def write(self, chunk):
        req, left = self.req, self.remaining_bytes_out
        if (len(chunk) >= DIRECT_WRITE and req.sent_headers and not req.chunked_write
                and (left is None or len(chunk) <= left)):
            req.conn.socket.sendall(chunk)
            if left is not None:
                self.remaining_bytes_out = left - len(chunk)
            return
        super().write(chunk)

    def respond(self):
        super().respond()
        req = self.req
        if req.chunked_read and req.rfile.closed and not req.close_connection:
            # cheroot stops at a chunked body's last chunk: its trailer (at least a CRLF)
            # would be read as the next request, which holds a thread on an idle connection.
            try:
                for _ in req.rfile.read_trailer_lines():
                    pass
            except (ValueError, OSError):
                req.close_connection = True

    def get_environ(self):
        env = super().get_environ()
        req = self.req
        env["glance.socket"] = req.conn.socket     # for a JSON body's deadline
        if (not req.chunked_read and hasattr(req.rfile, "remaining")
                and hasattr(req.conn.rfile, "has_data")):
            env["wsgi.input"] = SocketBody(req)
        return env

    def start_response(self, status, headers, exc_info=None):
        if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


class Connection(server.HTTPConnection):
    """A cheroot connection that reads through the gate's :class:`~glance.api.gate.Replay`
    and is counted against ``max_connections``."""

    def __init__(self, http_server, sock, makefile=server.MakeFile):
        super().__init__(http_server, sock, makefile)
        self.rfile.close()
        self.replay = Replay(sock)
        self.rfile = makefile(self.replay, "rb", self.rbufsize)
        self.fresh = True
        self.counted = True
        self.admitted = http_server.gate.opened()

    def close(self):
        try:
            super().close()
        finally:
            if self.counted:
                self.counted = False
                self.server.gate.closed()


class Elastic:
    """Grow cheroot's thread pool while its threads are busy, shrink it when they idle.

    A download holds its thread for as long as the client takes to read it, so
    a fixed pool caps the downloads a node serves at once and makes every other
    request wait behind them.  This keeps ``spare`` threads idle (starting more,
    up to the pool's ``max``) and ends those above the pool's ``min`` once no
    shortage was seen for ``SHRINK_AFTER`` seconds.  cheroot's own ``grow`` and
    ``shrink`` do the work, in this thread: ``grow`` waits for its new threads.
    """

    def __init__(self, pool, spare=SPARE):
        self.pool, self.spare = pool, spare
        self.short = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self.run, name="thread-pool", daemon=True)

    def free(self):
        """Idle threads not already claimed by a queued connection."""
        return self.pool.idle - self.pool.qsize

    def wanted(self):
        """Called for each connection handed to the pool."""
        if self.free() < self.spare:
            self.short.set()

    def run(self):
        while not self.stopped:
            shortage = self.short.wait(SHRINK_AFTER)
            self.short.clear()
            if self.stopped:
                return
            free = self.free()
            if free < self.spare:
                self.pool.grow(self.spare - free)
            elif not shortage and free > self.spare:
                self.pool.shrink(free - self.spare)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped = True
        self.short.set()
        self.thread.join(5)


class Server(wsgi.Server):
    """cheroot's WSGI server with the :class:`~glance.api.gate.Gate` in front of its
    workers, an :class:`Elastic` thread pool, on a socket it is given."""

    ConnectionClass = Connection

    def __init__(self, *args, gate_options, listener, **kwargs):
        super().__init__(*args, **kwargs)
        self.listener = listener
        self.gate = Gate(self._queue, **gate_options)
        self.threads = Elastic(self.requests)

    def bind(self, family, type, proto=0):   # noqa: A002 -- cheroot's signature
        """Serve the socket opened before the worker processes were forked."""
        self.socket = self.listener

    def prepare(self):
        super().prepare()
        # Every worker process accepts from this socket: one that loses the race
        # for a connection goes back to its own ones at once instead of waiting.
        self.socket.settimeout(0)
        self.gate.start()
        self.threads.start()

    def process_conn(self, conn):
        fresh, conn.fresh = conn.fresh, False
        self.gate.add(conn, fresh)

    def _queue(self, conn):
        """The gate's hand-off: the request is complete, a thread serves it."""
        super().process_conn(conn)
        self.threads.wanted()

    def stop(self):
        self.gate.stop()
        self.threads.stop()
        super().stop()


def make_server(conf, app, sock, backlog):
    """A cheroot server for ``app`` on the listening socket ``sock``, configured from
    ``conf`` (not started).  ``backlog``: the socket's, as cheroot calls listen() again."""
    gate_options = {"header_timeout": conf.header_timeout, "io_timeout": conf.body_timeout,
                    "max_header_size": conf.max_header_size,
                    "max_connections": conf.max_connections}
    # One thread per connection at most: the gate admits max_connections.
    ceiling = max(conf.max_connections, conf.server_threads) if conf.max_connections > 0 else -1
    http_server = Server((conf.bind_host, conf.bind_port), app,
                         numthreads=conf.server_threads, max=ceiling,
                         timeout=conf.server_timeout, shutdown_timeout=conf.shutdown_timeout,
                         request_queue_size=backlog, server_name="glance-api",
                         gate_options=gate_options, listener=sock)
    http_server.max_request_header_size = conf.max_header_size
    http_server.gateway = Gateway
    return http_server
